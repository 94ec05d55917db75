"""Messages that actions compose (``content/messages.yml``), and the placeholder rules every text file shares.

A text in a content file may name the clinic's facts (``clinic_values``) and the
values its code fills in, in ``{braces}``. ``named_texts`` checks a file of such
texts when it is loaded, so a missing text or a misspelt placeholder stops a server
at start instead of crashing the reply a patient was waiting for.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.content import languages
from bot.content.clinic import clinic
from bot.content.files import ContentError, load_yaml
from bot.settings import CONTENT_DIR

MESSAGES_FILE = CONTENT_DIR / "messages.yml"
# The key a sent message carries its content name under (tests and the stored conversation
# read which message was sent; no channel shows it to a patient).
MESSAGE_NAME = "message_name"
# Likewise the language a message was composed in, so a channel that adds words of its own to it (the SMS
# channel's "Reply 1 for ...") says them in the same language.
MESSAGE_LANGUAGE = "message_language"
# The emergency replies: the safety net names one of these for an emergency (the ``safety_reply``
# entity) and bot/rasa/nlg.py sends it without the action server. Each must give these numbers.
EMERGENCY_MESSAGES: dict[str, tuple[str, ...]] = {
    "emergency": ("{emergency_number}",),
    "emergency_self_harm": ("{crisis_line}", "{emergency_number}"),
    "emergency_possible": ("{emergency_number}", "{clinic_phone}"),
    "emergency_possible_self_harm": ("{crisis_line}", "{emergency_number}", "{clinic_phone}"),
    "emergency_poisoning": ("{poison_control}", "{emergency_number}"),
    "emergency_es": ("{emergency_number}", "{clinic_phone}", "{clinic_hours_es}"),
    "emergency_self_harm_es": ("{crisis_line}", "{emergency_number}", "{clinic_phone}", "{clinic_hours_es}"),
    "emergency_possible_es": ("{emergency_number}", "{clinic_phone}", "{clinic_hours_es}"),
    "emergency_possible_self_harm_es": ("{crisis_line}", "{emergency_number}", "{clinic_phone}", "{clinic_hours_es}"),
    "emergency_poisoning_es": ("{poison_control}", "{emergency_number}", "{clinic_phone}", "{clinic_hours_es}"),
}
# The first text of a reminder the assistant starts itself (bot/consent/recheck.py, texted by bot/outreach/):
# the FCC's health-care exemption wants the provider's name and contact in it, and STOP as the way out.
OUTREACH_OPENINGS: dict[str, tuple[str, ...]] = {
    name: ("{clinic_name}", "{clinic_phone}", "STOP")
    for name in ("recheck_reminder", "recheck_no_record", "recheck_declined")
}
# The Spanish emergency replies of the English file end so (the safety net's choice for a Spanish message).
SPANISH_SUFFIX = "_es"
# Sent by the Rasa server itself when the action server fails or hangs (bot/rasa/resilience.py):
# it must be there and give the clinic's phone.
ACTION_SERVER_DOWN = "action_server_down"
# The values actions fill in, by message (documented in the header of content/messages.yml).
ACTION_VALUES: dict[str, frozenset[str]] = {
    "callback_closed": frozenset({"next_opening"}),
    "clinic_instruction": frozenset({"instruction"}),
    "own_copy": frozenset({"link", "hours"}),
    "decision_summary": frozenset({"answered", "flagged", "understood", "review"}),
    "numbered_question": frozenset({"number", "total", "question"}),
    "choose_one": frozenset({"first", "last"}),
    "confirm_answer": frozenset({"said", "question"}),
    "saved_so_far": frozenset({"answered", "total", "flagged", "understood", "points"}),
    "saved_decision": frozenset({"decision"}),
    "recheck_reminder": frozenset({"date"}),
    "recheck_thanks": frozenset({"date"}),
    "recheck_thanks_missed": frozenset({"date"}),
    "recheck_stopped": frozenset({"date"}),
    "recheck_no_record": frozenset({"date"}),
    "recheck_declined": frozenset({"date"}),
}


@dataclass(frozen=True)
class Message:
    """A text and its buttons (each a ``{"title", "payload"}`` mapping)."""

    text: str
    buttons: tuple[dict[str, str], ...] = field(default_factory=tuple)


def clinic_values() -> dict[str, str]:
    """The clinic facts every text may use; the hours in the language being composed in."""
    facts = clinic()
    return {
        "clinic_name": facts.name,
        "clinic_phone": facts.phone,
        "clinic_hours": facts.hours_text(languages.current()),
        "clinic_hours_es": facts.hours_text("es"),
        "emergency_number": facts.emergency_number,
        "crisis_line": facts.crisis_line,
        "poison_control": facts.poison_control,
    }


def placeholders(text: str) -> set[str]:
    """Names in ``{braces}`` in a text."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def check_placeholders(text: str, allowed: Collection[str], where: str) -> None:
    """Refuse a text with a placeholder nobody fills, or with braces that are not a placeholder."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as error:
        raise ContentError(f"{where}: braces that are not a placeholder ({error}); write {{{{ for a brace") from error
    known = set(clinic_values()) | set(allowed)
    for name in fields:
        if name not in known:
            usable = ", ".join(f"{{{known_name}}}" for known_name in sorted(known))
            raise ContentError(f"{where}: unknown placeholder {{{name}}}; this text may use {usable}")


def named_texts(raw: Any, source: str, expected: Mapping[str, Collection[str]]) -> dict[str, str]:
    """The texts of a content file by name, checked: each expected one there, no other, placeholders known.

    ``expected`` maps each name to the placeholders its code fills in besides the
    clinic facts. A section of the file is a mapping whose texts are named
    ``section.text`` (``replies.empty``).
    """
    if not isinstance(raw, dict):
        raise ContentError(f"{source}: expected a mapping of texts")
    found: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            found.update({f"{key}.{inner}": text for inner, text in value.items()})
        else:
            found[str(key)] = value
    for name in expected:
        if name not in found:
            raise ContentError(f"{source}: '{name}' is missing")
    texts = {}
    for name, value in found.items():
        if name not in expected:
            raise ContentError(f"{source}: '{name}' is not a text this file has; it has {', '.join(expected)}")
        if not isinstance(value, str) or not value.strip():
            raise ContentError(f"{source}: '{name}' needs a text")
        check_placeholders(value, expected[name], f"{source}: '{name}'")
        texts[name] = value.strip()
    return texts


def fill(template: str, **values: Any) -> str:
    """A text with the clinic's facts and ``values`` in its placeholders."""
    return template.format(**clinic_values(), **values)


def parse_messages(raw: Any, path: Path) -> dict[str, Message]:
    """The ``messages:`` of a file, each checked: a text, buttons with a title and a payload, known placeholders."""
    if not isinstance(raw, dict) or not raw:
        raise ContentError(f"{path}: no messages")
    result = {}
    for name, entry in raw.items():
        where = f"{path}: message '{name}'"
        buttons: list[Any]
        if isinstance(entry, str):
            text, buttons = entry, []
        elif isinstance(entry, dict) and entry.get("text"):
            text, buttons = str(entry["text"]), entry.get("buttons") or []
        else:
            raise ContentError(f"{where} needs a text")
        if not all(isinstance(b, dict) and b.get("title") and b.get("payload") for b in buttons):
            raise ContentError(f"{where}: every button needs a title and a payload")
        check_placeholders(text, ACTION_VALUES.get(str(name), ()), where)
        result[str(name)] = Message(
            text, tuple({"title": str(b["title"]), "payload": str(b["payload"])} for b in buttons)
        )
    return result


def check_numbers(found: Mapping[str, Message], required: Mapping[str, tuple[str, ...]], path: Path) -> None:
    """Refuse a file where a message that must give a number or a word (``required``) does not."""
    for name, parts in required.items():
        if name not in found:
            raise ContentError(f"{path}: message '{name}' is missing")
        missing = [part for part in parts if part not in found[name].text]
        if missing:
            raise ContentError(f"{path}: message '{name}' must give {' and '.join(missing)}")


def check_translation(english: Mapping[str, str], translated: Mapping[str, str], source: str) -> None:
    """Refuse a translation that lacks a text, has one English does not, or changes a text's placeholders."""
    missing = sorted(name for name in english if name not in translated)
    if missing:
        raise ContentError(f"{source}: no translation of {', '.join(missing[:8])}")
    extra = sorted(name for name in translated if name not in english)
    if extra:
        raise ContentError(f"{source}: {', '.join(extra[:8])} are not texts of the English file")
    for name, text in english.items():
        if placeholders(text) != placeholders(translated[name]):
            used = ", ".join(f"{{{item}}}" for item in sorted(placeholders(text))) or "none"
            raise ContentError(f"{source}: '{name}' must use the placeholders of the English text ({used})")


def translated(
    english: Mapping[str, str], path: Path, language: str, parse: Callable[[Any, str], dict[str, str]]
) -> dict[str, str]:
    """The texts of content file ``path`` (``english``) in ``language``: its translation, parsed by ``parse``
    (the file's own checks) and checked to have the same names and placeholders."""
    if language == languages.ENGLISH:
        return dict(english)
    source = languages.path_in(path, language)
    texts = parse(load_yaml(source), str(source))
    check_translation(english, texts, str(source))
    return texts


def check_buttons(english: Mapping[str, Message], translated: Mapping[str, Message], source: str) -> None:
    """Refuse a translated message whose buttons do something else than the English ones (their payloads)."""
    for name, message in english.items():
        if [b["payload"] for b in message.buttons] != [b["payload"] for b in translated[name].buttons]:
            raise ContentError(f"{source}: message '{name}' must have the English buttons' payloads, in order")


@lru_cache(maxsize=1)
def templates(path: Path = MESSAGES_FILE) -> dict[str, Message]:
    """Every English message, checked (``parse_messages``).

    Each emergency reply must be there and give its numbers (``EMERGENCY_MESSAGES``); each first text of a
    reminder the clinic's name and phone and STOP (``OUTREACH_OPENINGS``).
    """
    result = parse_messages((load_yaml(path) or {}).get("messages"), path)
    check_numbers(result, {**EMERGENCY_MESSAGES, **OUTREACH_OPENINGS}, path)
    if "{clinic_phone}" not in (result[ACTION_SERVER_DOWN].text if ACTION_SERVER_DOWN in result else ""):
        raise ContentError(
            f"{path}: message '{ACTION_SERVER_DOWN}' (sent when the action server fails) must be there "
            "and give {clinic_phone}"
        )
    return result


@lru_cache(maxsize=2 * len(languages.LANGUAGES))
def templates_in(language: str, path: Path = MESSAGES_FILE) -> dict[str, Message]:
    """Every message in ``language``: the English file's, or its translation with the same names and payloads.

    The Spanish emergency replies of the English file (``*_es``, chosen by the safety net for a Spanish
    message in any conversation) are not translated again: a translation holds every other message, and
    its emergency replies and reminder openings give the same numbers and words as the English ones.
    """
    english = templates(path)
    if language == languages.ENGLISH:
        return english
    path = languages.path_in(path, language)
    translated = parse_messages((load_yaml(path) or {}).get("messages"), path)
    own = {name: found for name, found in english.items() if not name.endswith(SPANISH_SUFFIX)}
    check_translation(
        {name: found.text for name, found in own.items()}, {name: m.text for name, m in translated.items()}, str(path)
    )
    check_buttons(own, translated, str(path))
    required = {**EMERGENCY_MESSAGES, **OUTREACH_OPENINGS}
    check_numbers(translated, {name: parts for name, parts in required.items() if name in own}, path)
    return {**english, **translated}


def message(name: str, **values: Any) -> Message:
    """The message ``name`` in the language being composed in, with clinic facts and ``values`` filled in."""
    template = templates_in(languages.current())[name]
    return Message(fill(template.text, **values), template.buttons)
