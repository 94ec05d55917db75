"""The log redactor (bot/logs.py): bounded excerpts of any message, no phone numbers (issue 14, finding 5)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot import logs

NUMBERS = [
    "+15551234567",
    "+1 555 123 4567",
    "(555) 123-4567",
    "555-123-4567",
    "+44 20 7946 0958",
    "From=%2B15551234567&Body=hi",
]
NOT_NUMBERS = [
    "conversation web-3f2a9c1e0b7d4a5e8f6c2b1a0d9e8f7c",
    "sms-8c1f0d2e4b6a5c3e",
    "2026-12-01 18:55:00 took 12 ms",
    "from 192.168.100.200",
    "record #1234 of 5678",
    "patient-MRN12345678901-abc",
]


@pytest.mark.parametrize("text", NUMBERS)
def test_phone_numbers_are_dropped(text: str) -> None:
    redacted = logs.drop_phone_numbers(f"call me at {text} please")
    assert logs.PHONE_MARK in redacted
    assert "4567" not in redacted and "0958" not in redacted


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_ids_dates_and_addresses_stay(text: str) -> None:
    assert logs.drop_phone_numbers(text) == text


def test_an_excerpt_is_bounded_and_says_how_much_was_left_out() -> None:
    text = "a" * 10_000
    cut = logs.excerpt(text, 200)
    assert cut.startswith("a" * 200) and len(cut) < 260 and "9,800 more characters not logged" in cut
    assert logs.excerpt("short", 200) == "short"


def test_a_number_across_the_cut_is_not_left_half_in_the_log() -> None:
    text = "x" * 195 + " +1 555 123 4567 " + "y" * 500
    assert "555" not in logs.excerpt(text, 200)


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    """What a handler added after ``install()`` writes (as Rasa's and Sanic's are added after it)."""
    logs.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logs.uninstall()


def test_a_ten_megabyte_message_is_logged_as_a_short_excerpt(written: io.StringIO) -> None:
    huge = "I can't sleep, call me on 555-123-4567. " + "z" * 10_000_000
    logging.getLogger("tests.logs").info("Received user message %r", huge)
    line = written.getvalue()
    assert len(line) < logs.LINE_CHARS + 100
    assert "Received user message" in line and "more characters not logged" in line
    assert "555-123-4567" not in line and logs.PHONE_MARK in line


def test_a_message_of_many_lines_keeps_each_line_and_the_whole_bounded(written: io.StringIO) -> None:
    table = "\n".join(f"/webhooks/route{number}    POST    handler{number}" for number in range(20))
    logging.getLogger("tests.logs").debug("routes:\n%s", table)
    assert table in written.getvalue()  # short lines, short whole: kept as they are
    pasted = "\n".join("p" * 2000 for _ in range(1000))
    logging.getLogger("tests.logs").info("message %s", pasted)
    last = written.getvalue().split("INFO ", 1)[1]
    assert len(last) < logs.MESSAGE_CHARS + 100
    assert max(len(line) for line in last.splitlines()) < logs.LINE_CHARS + 60


def test_a_structured_line_stays_json_with_each_text_bounded(written: io.StringIO) -> None:
    event = {"event": "processor.message.parse", "parse_data_text": "t" * 50_000, "intent": {"name": "greet"}}
    logging.getLogger("tests.logs").debug(json.dumps(event))
    line = written.getvalue().removeprefix("DEBUG ").strip()
    parsed = json.loads(line)
    assert parsed["intent"] == {"name": "greet"} and parsed["event"] == "processor.message.parse"
    assert len(parsed["parse_data_text"]) < logs.EXCERPT_CHARS + 60


def test_a_traceback_quoting_the_input_is_bounded_line_by_line(written: io.StringIO) -> None:
    try:
        raise ValueError("bad message: " + "q" * 100_000 + " from +15551234567")
    except ValueError:
        logging.getLogger("tests.logs").exception("could not handle a message")
    text = written.getvalue()
    assert "Traceback" in text and "ValueError: bad message" in text
    assert max(len(line) for line in text.splitlines()) < logs.LINE_CHARS + 60
    assert "+15551234567" not in text


def test_an_access_line_keeps_no_link_token_or_query_string() -> None:
    """Sanic's access line (``extra={"request": ...}``, as sanic/http.py logs it) with an invitation link."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(status)s %(request)s"))
    access = logging.getLogger("sanic.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    logs.install()
    try:
        for path in ("/i/AbCdEf012345.1797395180.u6qfBxED", "/webhooks/copy/record/12.1797.sig?x=secret"):
            access.info("", extra={"status": 200, "byte": 10, "host": "h", "request": f"GET http://clinic{path}"})
    finally:
        logs.uninstall()
        access.removeHandler(handler)
    assert stream.getvalue().splitlines() == [
        "200 GET http://clinic/i/[token]",
        "200 GET http://clinic/webhooks/copy/record/[token]",
    ]
    assert not access.filters  # uninstall takes the filter off again


def test_uninstall_puts_the_record_factory_back() -> None:
    before = logging.getLogRecordFactory()
    logs.install()
    logs.install()  # once only
    assert logging.getLogRecordFactory() is not before and logs.installed()
    logs.uninstall()
    assert logging.getLogRecordFactory() is before and not logs.installed()


def test_rasas_own_structured_log_of_a_user_text_is_bounded(caplog: pytest.LogCaptureFixture) -> None:
    """Rasa's ``processor.message.parse`` (structlog through the standard library) carries the whole text."""
    import structlog
    from rasa.utils.log_utils import configure_structlog  # type: ignore[import-untyped]

    caplog.set_level(logging.DEBUG)
    logs.install()
    try:
        configure_structlog(logging.DEBUG)
        text = "please call +1 555 123 4567 " + "w" * 100_000
        structlog.get_logger().debug("processor.message.parse", parse_data_text=text)
    finally:
        logs.uninstall()
        structlog.reset_defaults()
    messages = [record.getMessage() for record in caplog.records if "processor.message.parse" in record.getMessage()]
    assert messages, "Rasa's structured line reached the standard library's logging"
    assert all(len(message) < logs.LINE_CHARS + 100 for message in messages)
    assert not any("123 4567" in message for message in messages)
