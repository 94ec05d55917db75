"""Logs that never hold a patient's whole message or a phone number.

Rasa logs whole user texts: structlog's ``processor.message.parse`` (debug) carries the parsed
text, ``rest.message.received.failure`` the text of a failed turn, Rasa's debug lines the
tracker's slots and events; Sanic logs URLs, and our channels log the origins and token errors a
caller chooses. A 10 MB message was written whole into the log, and a number a patient typed
("call me at 555 123 4567") would be kept there for as long as the logs are.

``Redactor`` is a ``logging.Filter`` that rewrites a record instead of dropping it: every phone
number becomes ``[phone]``, a plain message is cut to ``LINE_CHARS``, each string inside a
structlog JSON line to ``EXCERPT_CHARS`` (the line stays valid JSON for log shippers), each line
of a traceback to ``LINE_CHARS``; a message of several lines keeps each line to ``LINE_CHARS``
and the whole to ``MESSAGE_CHARS``. ``install()`` applies it to every record the process makes,
through the log record factory, so it also covers the handlers Rasa, Sanic and coloredlogs add
after it (a filter on a handler or logger would miss those). The servers install it explicitly at
start (``python -m bot serve``, the action server's entry); nothing happens at import.

Extra fields a caller passes (``extra=``) are added to a record after the factory and are not
rewritten by it. Sanic's access-log line is one: its ``request`` field is the whole URL, and the
invitation and copy links carry their secret in the path. ``install()`` therefore also puts
``AccessLineRedactor`` on the ``sanic.access`` logger, which logs those lines itself: the query
string and the token of ``/i/<token>`` and ``/record/<token>`` become ``[token]``.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

LINE_CHARS = 500  # each line of a plain log message at most this long
MESSAGE_CHARS = 4000  # a whole plain log message (several lines, such as Rasa's route table) at most this long
TRACEBACK_CHARS = 20_000  # a whole traceback (a deep Rasa stack is about 6,000) at most this long
EXCERPT_CHARS = 200  # a string inside a structured (JSON) log line at most this long
JSON_PARSE_CHARS = 256 * 1024  # longer JSON lines are cut as plain text rather than parsed
PHONE_MARK = "[phone]"

# Ten to fifteen digits (E.164's longest) with at most two spaces, dashes or parentheses between
# any two, optionally after "+", a URL-encoded "+" (Twilio's form bodies) or "(", and not inside a
# word, an id or a longer number. ISO dates with an hour ("2026-12-01 18") are not numbers.
_PHONE = re.compile(r"(?<![\w+%])(?:\+|%2[Bb]|\()?(?!\d{4}-\d{2}-\d{2})\d(?:[ ()\-]{0,2}\d){9,14}(?!\w)")
# The longest text a phone number with its separators can span, so one cut at a limit is whole.
_PHONE_SPAN = 48


def drop_phone_numbers(text: str) -> str:
    """``text`` with every phone number replaced by ``[phone]``."""
    return _PHONE.sub(PHONE_MARK, text)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """At most ``limit`` characters of ``text`` (plus a note of how much was left out), no phone numbers.

    For our own log calls too: ``logger.info("... %s", logs.excerpt(text))``.
    """
    if len(text) <= limit:
        return drop_phone_numbers(text)
    # Redact a little beyond the cut first, so a number across it is not left half in the log.
    head = drop_phone_numbers(text[: limit + _PHONE_SPAN])[:limit]
    return f"{head}… [{len(text) - limit:,} more characters not logged]"


def _bounded(value: Any) -> Any:
    """A JSON value with every string in it cut to an excerpt and without phone numbers."""
    if isinstance(value, str):
        return excerpt(value, EXCERPT_CHARS)
    if isinstance(value, list):
        return [_bounded(item) for item in value]
    if isinstance(value, dict):
        return {key: _bounded(item) for key, item in value.items()}
    return value


def redact_message(message: str) -> str:
    """A log message as it may be written: a JSON object keeps its shape with bounded strings."""
    if message.startswith("{") and message.endswith("}") and len(message) <= JSON_PARSE_CHARS:
        try:
            parsed = json.loads(message)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return excerpt(json.dumps(_bounded(parsed)), JSON_PARSE_CHARS)
    if "\n" not in message:
        return excerpt(message, LINE_CHARS)
    return excerpt("\n".join(excerpt(line, LINE_CHARS) for line in message.split("\n")), MESSAGE_CHARS)


class Redactor(logging.Filter):
    """Bounds a record's message and traceback and drops phone numbers; never filters a record out."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it for the handler to report as usual
            return True
        redacted = redact_message(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            # Rendered now, as every formatter would render it, then bounded line by line: an
            # exception's message may quote the input that caused it.
            text = logging.Formatter().formatException(record.exc_info)
            lines = "\n".join(excerpt(line, LINE_CHARS) for line in text.splitlines())
            record.exc_text = excerpt(lines, TRACEBACK_CHARS)
        return True


# The paths whose last segment is a bearer secret (bot/channels/web/invite_page.py, bot/channels/copy.py).
_TOKEN_PATH = re.compile(r"(/i/|/record/)[^/?#\s]+")


def redact_request_line(line: str) -> str:
    """An access-log request line ("GET http://host/i/<token>?x=y") with no token and no query string."""
    line = re.sub(r"\?\S*", "", line)
    return _TOKEN_PATH.sub(r"\1[token]", line)


class AccessLineRedactor(logging.Filter):
    """Takes link tokens and query strings out of Sanic's access-log lines; never filters a line out."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if isinstance(request, str):
            record.request = redact_request_line(request)
        return True


_ACCESS_LOGGER = "sanic.access"
_access_redactor = AccessLineRedactor()
_previous_factory: Any = None


def install() -> None:
    """Every log record this process makes from now on goes through ``Redactor`` (once; idempotent)."""
    global _previous_factory
    if _previous_factory is not None:
        return
    previous = logging.getLogRecordFactory()
    redactor = Redactor()

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redactor.filter(record)
        return record

    _previous_factory = previous
    logging.setLogRecordFactory(redacting_factory)
    logging.getLogger(_ACCESS_LOGGER).addFilter(_access_redactor)


def installed() -> bool:
    return _previous_factory is not None


def uninstall() -> None:
    """Puts back the record factory ``install()`` found (for tests)."""
    global _previous_factory
    if _previous_factory is not None:
        logging.setLogRecordFactory(_previous_factory)
        logging.getLogger(_ACCESS_LOGGER).removeFilter(_access_redactor)
        _previous_factory = None
