"""Facts about a conversation read from Rasa's event list and parse data (plain dicts, so it tests without Rasa)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bot.language.text import normalise

QUESTION_OPENERS = frozenset(
    {
        "what",
        "whats",
        "what's",
        "how",
        "hows",
        "how's",
        "why",
        "when",
        "where",
        "who",
        "which",
        "is",
        "are",
        "can",
        "could",
        "does",
        "do",
        "will",
        "would",
        "should",
        "may",
        "might",
        "wat",
        "wht",
        "r",
        "am",
        "did",
    }
)
# Spanish question words, accents off ("que" is left out: it opens answers too, "que si", "que no").
SPANISH_QUESTION_WORDS = frozenset(
    {"como", "cuanto", "cuanta", "cuantos", "cuantas", "cuando", "cual", "cuales", "donde", "quien", "quienes"}
)
# "¿cuánto dura?" mostly ends in "?" too; these open a Spanish question without one.
QUESTION_OPENERS = QUESTION_OPENERS | SPANISH_QUESTION_WORDS | {"puedo", "puede", "podria", "debo"}


def looks_like_question(text: str) -> bool:
    """Whether a message asks something ("how long is it?") rather than answers ("MS")."""
    stripped = text.strip().lower()
    if stripped.endswith("?"):
        return True
    words = re.findall(r"[a-z']+", normalise(stripped))
    return bool(words) and words[0] in QUESTION_OPENERS


def topics_asked(events: Iterable[dict[str, Any]], topic_intents: Iterable[str]) -> list[str]:
    """Distinct topics the patient was answered about (a bot message of the response ``utter_<topic>``), in order.

    Answers, not intents: a form answer the classifier took for a topic ("it blocks pain
    signals", an explanation in the teach-back) was never answered as one, so it was not asked.
    """
    wanted = {f"utter_{intent}": intent for intent in topic_intents}
    seen: list[str] = []
    for event in events:
        response = (event.get("metadata") or {}).get("utter_action") if event.get("event") == "bot" else None
        if response in wanted and wanted[response] not in seen:
            seen.append(wanted[response])
    return seen


def last_action_before_user(events: list[dict[str, Any]]) -> str | None:
    """The last action the bot ran before the latest user message (ignoring action_listen)."""
    seen_user = False
    for event in reversed(events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif seen_user and event.get("event") == "action" and event.get("name") != "action_listen":
            return str(event.get("name"))
    return None


def latest_user_text(events: Iterable[dict[str, Any]], intent: str | None = None) -> str | None:
    """Text of the latest user message (of ``intent``, if given)."""
    for event in reversed(list(events)):
        if event.get("event") != "user":
            continue
        if intent is None or event.get("parse_data", {}).get("intent", {}).get("name") == intent:
            return str(event.get("text") or "")
    return None


def likely_intents(ranking: Iterable[Mapping[str, Any]], wanted: Callable[[str | None], bool], limit: int) -> list[str]:
    """The ``wanted`` intents of a message's intent ranking, most likely first, at most ``limit``."""
    return [str(item["name"]) for item in ranking if wanted(item.get("name"))][:limit]


PAUSE_INTENTS = frozenset({"pause"})  # what pauses a step (data/rules/consent.yml)
PAUSED = "paused"
RESUMED = "resumed"


def pauses(events: Iterable[dict[str, Any]]) -> list[tuple[str, str, float]]:
    """Each pause of the consent steps and each resume after it: (PAUSED or RESUMED, the step, the time).

    A pause is a "pause" message while a step's form is active; a resume is the
    next message after it that makes a step's form active again.
    """
    found: list[tuple[str, str, float]] = []
    stage: str | None = None
    loop: str | None = None
    last_user_at = 0.0
    for event in events:
        kind = event.get("event")
        if kind == "slot" and event.get("name") == "consent_stage":
            stage = event.get("value")
        elif kind == "active_loop":
            name = event.get("name")
            if name and not loop and found and found[-1][0] == PAUSED:
                found.append((RESUMED, stage or str(name), last_user_at))
            loop = name
        elif kind == "user":
            intent = str(event.get("parse_data", {}).get("intent", {}).get("name") or "")
            last_user_at = float(event.get("timestamp") or 0.0)
            if loop and stage and intent in PAUSE_INTENTS:
                found.append((PAUSED, stage, last_user_at))
    return found
