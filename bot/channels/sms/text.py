"""Pure text logic of the SMS channel: keywords, plain text, numbered choices, splitting.

Nothing here imports Rasa, Sanic or a database, so every rule a patient meets by
text message can be tested alone and reused by the invite command. The words the
channel sends by itself are in ``content/sms.yml`` (``bot.content.sms``).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot import content

# Twilio rejects a message body longer than 1,600 characters.
MAX_SMS_CHARS = 1600


class Keyword(enum.Enum):
    """A carrier keyword that the channel answers itself, never the NLU."""

    STOP = "stop"
    START = "start"
    HELP = "help"


# The standard US carrier keywords (CTIA); Twilio uses the same set.
_KEYWORDS: dict[str, Keyword] = {
    **{word: Keyword.STOP for word in ("stop", "stopall", "unsubscribe", "cancel", "end", "quit")},
    **{word: Keyword.START for word in ("start", "unstop")},
    "help": Keyword.HELP,
}
# The same keywords in Spanish, as content/es/sms.yml tells patients to text them; answered in Spanish.
_SPANISH_KEYWORDS: dict[str, Keyword] = {
    **{word: Keyword.STOP for word in ("parar", "alto", "cancelar", "baja")},
    **{word: Keyword.START for word in ("comenzar", "iniciar")},
    "ayuda": Keyword.HELP,
}


def keyword(body: str) -> Keyword | None:
    """The keyword that ``body`` is, alone and in any case ("Stop", " STOP. "), or None.

    Only a message that is nothing but the keyword counts, so "please don't
    stop my medication" still reaches the assistant.
    """
    word = body.strip().strip(".!").strip().lower()
    return _KEYWORDS.get(word) or _SPANISH_KEYWORDS.get(word)


def keyword_language(body: str) -> str:
    """The language to answer a keyword in: Spanish for PARAR, COMENZAR, AYUDA; English for the others."""
    return "es" if body.strip().strip(".!").strip().lower() in _SPANISH_KEYWORDS else "en"


# --- identity -------------------------------------------------------------------------

_PHONE_PUNCTUATION = re.compile(r"[\s().\-]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def normalize_number(number: str) -> str:
    """The E.164 form ("+15550100123") of a number as typed, so ids do not depend on spacing.

    Raises ValueError for anything that is not an international number, which
    is what Twilio sends and needs.
    """
    cleaned = _PHONE_PUNCTUATION.sub("", number.strip())
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if not _E164.match(cleaned):
        raise ValueError("not a phone number in international form like +15550100123")
    return cleaned


def conversation_id(address: str, secret: str) -> str:
    """A stable conversation id for a phone number that does not reveal the number.

    An HMAC rather than a plain hash: phone numbers are few enough that a plain
    hash could be reversed by trying them all. The same number gives the same
    id days later, so a patient who texts again continues the conversation.
    Channel addresses that are not phone numbers (e.g. "whatsapp:+1...") are
    kept distinct by their prefix.
    """
    prefix, _, rest = address.strip().rpartition(":")
    try:
        key = (prefix + ":" if prefix else "") + normalize_number(rest)
    except ValueError:
        key = address.strip()
    digest = hmac.new(secret.encode("utf-8"), key.encode("utf-8"), hashlib.sha256).hexdigest()
    return "sms-" + digest[:32]


def mask_number(number: str) -> str:
    """A number fit for a log line or a terminal: only the last two digits remain."""
    digits = re.sub(r"\D", "", number)
    return "*" * max(len(digits) - 2, 0) + digits[-2:]


# --- plain text -----------------------------------------------------------------------

# Typographic characters that force the UCS-2 encoding (70 instead of 160
# characters a segment) and that some phones show as boxes.
_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u2022": "-",
        "\u200b": "",
    }
)

_HTML_LINK = re.compile(
    r"<a\s[^>]*?href\s*=\s*[\"']([^\"']+)[\"'][^>]*>(.*?)</a\s*>",
    re.IGNORECASE | re.DOTALL,
)
_HTML_BREAK = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6])\s*/?\s*>", re.IGNORECASE)
_HTML_ITEM = re.compile(r"<\s*li\b[^>]*>", re.IGNORECASE)
_HTML_TAG = re.compile(
    r"</?\s*(a|b|i|u|em|strong|small|big|p|div|span|ul|ol|li|h[1-6]|code|pre|br|hr|blockquote)\b[^>]*>",
    re.IGNORECASE,
)
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_MD_AUTOLINK = re.compile(r"<((?:https?|mailto|tel):[^>\s]+)>")
_MD_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", re.DOTALL)
_MD_ITALIC_STAR = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])", re.DOTALL)
_MD_ITALIC_UNDERSCORE = re.compile(r"(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])", re.DOTALL)
_MD_CODE = re.compile(r"`([^`]+)`")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
_MD_BULLET = re.compile(r"^(\s*)[*+]\s+", re.MULTILINE)
_MD_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$", re.MULTILINE)
# Characters XML cannot carry; TwiML with one of them is rejected whole.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]|[\ud800-\udfff]")


def _link(label: str, url: str) -> str:
    """A link written out so it works on any phone: the label, then the address."""
    label = label.strip()
    target = url.strip()
    if target.startswith("mailto:"):
        target = target[len("mailto:") :]
    elif target.startswith("tel:"):
        target = target[len("tel:") :]
    bare = re.sub(r"^(https?://|mailto:|tel:)", "", label)
    if not label or label in (url, target) or bare == re.sub(r"^https?://", "", target):
        return target
    return f"{label} ({target})"


def plain_text(text: str) -> str:
    """The text without markdown or HTML, links written out, as an SMS shows it.

    Responses are written once for the web widget and for SMS; a phone would
    show "**" and "<b>" literally and cannot follow a hidden link.
    """
    out = text.replace("\r\n", "\n").replace("\r", "\n")
    out = _HTML_LINK.sub(lambda m: _link(_HTML_TAG.sub("", m.group(2)), m.group(1)), out)
    out = _HTML_BREAK.sub("\n", out)
    out = _HTML_ITEM.sub("- ", out)
    out = _HTML_TAG.sub("", out)
    out = _MD_IMAGE.sub(lambda m: _link(m.group(1), m.group(2)), out)
    out = _MD_LINK.sub(lambda m: _link(m.group(1), m.group(2)), out)
    out = _MD_AUTOLINK.sub(lambda m: _link("", m.group(1)), out)
    out = _MD_RULE.sub("", out)
    out = _MD_BOLD.sub(r"\2", out)
    out = _MD_ITALIC_STAR.sub(r"\1", out)
    out = _MD_ITALIC_UNDERSCORE.sub(r"\1", out)
    out = _MD_CODE.sub(r"\1", out)
    out = _MD_HEADING.sub("", out)
    out = _MD_BULLET.sub(r"\1- ", out)
    out = html.unescape(out).translate(_TYPOGRAPHY)
    out = _CONTROL.sub("", out)
    out = re.sub(r"[ \t]+\n", "\n", out)
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.strip()


def sms_reply(name: str, **values: Any) -> str:
    """A text of content/sms.yml as a phone gets it: clinic facts filled in, no markup, no typographic characters."""
    return plain_text(content.sms_text(name, **values))


def sms_replies(name: str, **values: Any) -> list[str]:
    """``sms_reply`` as the messages it takes: split like any reply when over Twilio's 1,600 characters.

    Split here rather than refused when the content is loaded: the length depends on the
    clinic's facts (a long name, long hours) filled in from another file, and a STOP or
    HELP answer must go out whatever they are, since carriers require it.
    """
    return split_numbered(sms_reply(name, **values), MAX_SMS_CHARS)


def bounded_body(body: str, limit: int = MAX_SMS_CHARS) -> tuple[str, bool]:
    """The text the assistant gets from an incoming Body, and whether it had to be cut.

    A real text reaches the webhook with at most 1,600 characters (Twilio joins a long
    one up to that); a longer Body is a forged or odd request, cut to its first
    ``limit`` characters at a word end, so the safety net still reads what it can.
    """
    if sms_length(body) <= limit:
        return body, False
    cut = _hard_cut(body, limit)
    space = body.rfind(" ", 0, cut + 1)
    return body[: space if space > limit // 2 else cut].rstrip(), True


def log_excerpt(text: str, limit: int = 40) -> str:
    """A bounded, digit-masked excerpt of a patient's text, fit for a log line (no phone numbers)."""
    short = re.sub(r"\d", "#", text[:limit])
    return short + ("..." if len(text) > limit else "")


# --- numbered choices -----------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One button as offered by text: its number is its place in the offer, from 1."""

    title: str
    payload: str

    def to_json(self) -> dict[str, str]:
        """A form that survives a JSON column."""
        return {"title": self.title, "payload": self.payload}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Choice:
        """The inverse of ``to_json``."""
        return cls(title=str(raw["title"]), payload=str(raw["payload"]))


def render_buttons(text: str, buttons: Iterable[Mapping[str, Any]], first_number: int = 1) -> tuple[str, list[Choice]]:
    """Buttons as one text with numbered choices, and the choices a reply can pick.

    "Do you agree?" with Yes/No becomes "Do you agree?\\nReply 1 for Yes, 2 for No."
    Payloads stay hidden (a patient should never see "/affirm"). A button that is
    a link rather than a payload is written out instead of numbered.
    ``first_number`` lets several button sets in one turn share one numbering.
    """
    choices: list[Choice] = []
    links: list[str] = []
    for button in buttons:
        title = plain_text(str(button.get("title") or "")).replace("\n", " ")
        url = button.get("url")
        payload = button.get("payload")
        if button.get("type") == "web_url" or (url and not payload):
            links.append(_link(title, str(url or payload or "")))
            continue
        if payload is None or payload == "":
            payload = title
        if title:
            choices.append(Choice(title=title, payload=str(payload)))
    lines = [plain_text(text)] if text and text.strip() else []
    lines.extend(links)
    if choices:
        options = [content.sms_text("choice", number=first_number + i, title=c.title) for i, c in enumerate(choices)]
        lines.append(sms_reply("choices", choices=", ".join(options)))
    return "\n".join(lines), choices


_NUMBER_REPLY = re.compile(r"^(?:#\s*|number\s+|option\s+)?(\d{1,2})\s*[.)\]:]?$")
_TRIM = " \t\r\n.!,;:'\"()[]"


def match_choice(body: str, choices: Sequence[Choice]) -> Choice | None:
    """The choice a reply picks: its number ("1", "1.", " 2 ", "#2") or its title, any case.

    None for anything else, which then goes to the NLU as ordinary text.
    """
    if not choices:
        return None
    cleaned = body.strip().lower()
    number = _NUMBER_REPLY.match(cleaned)
    if number:
        index = int(number.group(1)) - 1
        return choices[index] if 0 <= index < len(choices) else None
    words = " ".join(cleaned.strip(_TRIM).split())
    if not words:
        return None
    for choice in choices:
        if " ".join(choice.title.lower().strip(_TRIM).split()) == words:
            return choice
    return None


# --- splitting ------------------------------------------------------------------------


def sms_length(text: str) -> int:
    """Length as Twilio counts it: UTF-16 code units, so an emoji counts as two."""
    return len(text.encode("utf-16-le")) // 2


# A sentence ends at . ! or ? (with closing quotes or brackets) before white space;
# a paragraph at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*(?=\s)|(?=\n)")


def _cut_points(text: str) -> list[int]:
    points = sorted({m.end() for m in _SENTENCE_END.finditer(text)})
    return [p for p in points if 0 < p < len(text)]


def _word_points(text: str) -> list[int]:
    return [m.start() for m in re.finditer(r"\s+", text) if m.start() > 0]


def _fits(text: str, limit: int) -> bool:
    return sms_length(text.strip()) <= limit


def _hard_cut(text: str, limit: int) -> int:
    """The longest prefix within the limit, for a 'sentence' with no spaces at all (a long URL)."""
    cut = min(len(text), limit)
    while cut > 1 and sms_length(text[:cut]) > limit:
        cut -= 1
    return cut


def split_text(text: str, limit: int = MAX_SMS_CHARS) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut between sentences.

    A piece is cut at the last sentence or line end that fits; only a single
    sentence longer than the limit is cut between words (and a word longer than
    the limit, such as a very long link, in the word).
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    rest = text.strip()
    pieces: list[str] = []
    while rest:
        if _fits(rest, limit):
            pieces.append(rest)
            break
        cut = 0
        for candidates in (_cut_points(rest), _word_points(rest)):
            fitting = [p for p in candidates if _fits(rest[:p], limit)]
            if fitting:
                cut = max(fitting)
                break
        if not cut:
            cut = _hard_cut(rest, limit)
        piece = rest[:cut].strip()
        if piece:
            pieces.append(piece)
        rest = rest[cut:].strip()
    return pieces


def split_numbered(text: str, limit: int = MAX_SMS_CHARS) -> list[str]:
    """Pieces of ``text`` within ``limit``, each marked "(1/3)" when there are several.

    Separate messages can reach a phone out of order; the marks let a patient
    read them in the right one. The room for the mark is kept inside the limit.
    """
    if _fits(text, limit):
        stripped = text.strip()
        return [stripped] if stripped else []
    reserve = len(" (99/99)")
    pieces = split_text(text, max(limit - reserve, 1))
    total = len(pieces)
    return [f"{piece} ({i}/{total})" for i, piece in enumerate(pieces, start=1)]


def render_turn(messages: Iterable[Mapping[str, Any]], limit: int = MAX_SMS_CHARS) -> tuple[list[str], list[Choice]]:
    """One turn's responses (as Rasa's collecting channel stores them) as SMS bodies.

    The responses are joined into one text and split only where the limit
    forces it: separate texts can arrive out of order, one long text cannot.
    Buttons of all responses share one numbering, so "1" is never ambiguous.
    Returns the bodies and the choices a numbered reply can pick.
    """
    blocks: list[str] = []
    choices: list[Choice] = []
    for message in messages:
        text = str(message.get("text") or "")
        buttons = message.get("buttons") or []
        if buttons:
            block, offered = render_buttons(text, buttons, first_number=len(choices) + 1)
            choices.extend(offered)
            blocks.append(block)
        elif text.strip():
            blocks.append(plain_text(text))
        for key in ("image", "attachment"):
            if message.get(key):
                blocks.append(_link("", str(message[key])))
        custom = message.get("custom")
        if isinstance(custom, Mapping) and isinstance(custom.get("text"), str):
            # Widget-only custom payloads are skipped; one that carries text is read.
            blocks.append(plain_text(custom["text"]))
    body = "\n\n".join(block for block in blocks if block.strip())
    return split_numbered(body, limit), choices
