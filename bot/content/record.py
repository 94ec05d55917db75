"""The words of the printable consent record (``content/record.yml``): the patient's own copy and the chart's.

The page is composed in the language of the record (``bot.records.printable``), so the patient
reads their copy in the language they answered in; the care team's pages and exports compose
it in English. The words of each language live in a content file the clinic's translator edits,
checked against the English at start like every other text.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.content import languages
from bot.content.files import load_yaml
from bot.content.messages import fill, named_texts, translated
from bot.settings import CONTENT_DIR

RECORD_FILE = CONTENT_DIR / "record.yml"
# Each text, and the values the page fills in besides the clinic facts.
RECORD_TEXTS: dict[str, tuple[str, ...]] = {
    "page.title": ("number",),
    "page.heading": ("number",),
    "page.prepared_by": (),
    "page.not_signed": (),
    "page.signed_at_visit": (),
    "page.chart_line": ("number", "decision", "language", "version"),
    "page.summary": (),
    "page.recorded": (),
    "page.conversation": (),
    "page.channel": (),
    "page.patient": (),
    "page.decision": ("decision",),
    "page.candidacy": (),
    "page.teachback": (),
    "page.topics": (),
    "page.pauses": (),
    "page.rechecks": (),
    "page.none": (),
    "page.versions": ("version", "hash", "previous"),
    "page.reviewed_by": (),
    "summary.line": ("decision", "review", "understood", "points", "topics"),
    "summary.review": ("flagged", "answers"),
    "summary.no_review": (),
    "summary.topic": ("count",),
    "summary.topics": ("count",),
    "patient.line": ("reference", "how"),
    "patient.not_verified": (),
    "patient.before_kept": (),
    # bot.invitations' IDENTITY_* words (tests/records/test_printable.py checks they are all here).
    "verified_by.invitation_link": (),
    "verified_by.invitation_link_dob": (),
    "verified_by.invited_number": (),
    "verified_by.portal_token": (),
    # bot.consent.candidacy's ways an answer came.
    "how_given.typed": (),
    "how_given.button": (),
    "how_given.confirmed": (),
    "answers.said": ("words",),
    "teachback.understood": (),
    "teachback.review": (),
    "teachback.with_how": ("result", "how"),
    "teachback.attempt": ("count",),
    "teachback.attempts": ("count",),
    "teachback.row": ("result", "attempts", "answers"),
    # bot.consent.record's OWN_WORDS, CHOSEN, MISSED.
    "teachback_how.own_words": (),
    "teachback_how.chosen": (),
    "teachback_how.missed": (),
    "pauses.line": ("kind", "step", "at"),
    # bot.conversation's PAUSED, RESUMED, and the consent_stage slot's values (domain.yml).
    "pause_kinds.paused": (),
    "pause_kinds.resumed": (),
    "steps.candidacy": (),
    "steps.understanding": (),
    "steps.decision": (),
    "steps.decided": (),
    "rechecks.title": ("when", "right", "asked", "signed"),
    "rechecks.intact": (),
    "rechecks.changed": (),
    "rechecks.go_over": (),
    "rechecks.not_asked": ("go_over",),
    "rechecks.right": ("answer",),
    "rechecks.missed": ("go_over", "answer"),
    # The chart line names the record's language (bot.content.languages.LANGUAGES).
    "languages.en": (),
    "languages.es": (),
}


def _parse(raw: Any, source: str) -> dict[str, str]:
    return named_texts(raw, source, RECORD_TEXTS)


@lru_cache(maxsize=1)
def record_texts(path: Path = RECORD_FILE) -> dict[str, str]:
    """The record page's texts as written (``section.name``), checked, read once per process."""
    return _parse(load_yaml(path), str(path))


@lru_cache(maxsize=2 * len(languages.LANGUAGES))
def record_texts_in(language: str, path: Path = RECORD_FILE) -> dict[str, str]:
    """The texts in ``language`` (``content/es/record.yml`` for Spanish), checked against the English."""
    return translated(record_texts(path), path, language, _parse)


def record_text(name: str, **values: Any) -> str:
    """The text ``name`` (e.g. ``page.heading``) with the clinic's facts and ``values`` filled in.

    In the language being composed in.
    """
    return fill(record_texts_in(languages.current())[name], **values)
