"""The words of the printable record (``content/record.yml``, ``content/es/record.yml``): checked at start.

Every text in every language, with the English placeholders, and a text for every word a
record stores (a step, a way of answering); a Spanish sentence reads plainly (Fernández Huerta).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from textstat.textstat import textstatistics

from bot import content
from bot.consent import candidacy
from bot.consent.record import CHOSEN, MISSED, OWN_WORDS
from bot.content import ContentError, languages
from bot.content.record import RECORD_TEXTS, record_text, record_texts, record_texts_in
from bot.conversation import PAUSED, RESUMED
from bot.settings import CONTENT_DIR, PROJECT_ROOT

MIN_SPANISH_EASE = 70.0  # Fernández Huerta: 70-80 is "fairly easy"
SPANISH_READER = textstatistics()
SPANISH_READER.set_lang("es")


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of content/ and domain.yml to break."""
    shutil.copytree(CONTENT_DIR, tmp_path / "content")
    shutil.copy(PROJECT_ROOT / "domain.yml", tmp_path / "domain.yml")
    return tmp_path


def edit(path: Path, section: str, name: str, value: str | None) -> None:
    """Set (or, with None, delete) one text of a record file."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    if value is None:
        del data[section][name]
    else:
        data[section][name] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def section(name: str) -> set[str]:
    return {text.split(".", 1)[1] for text in RECORD_TEXTS if text.startswith(f"{name}.")}


def test_every_language_has_every_text() -> None:
    assert set(record_texts()) == set(RECORD_TEXTS)
    for language in languages.LANGUAGES:
        assert set(record_texts_in(language)) == set(RECORD_TEXTS), language


def test_a_text_is_read_in_the_language_in_use() -> None:
    english, spanish = record_texts_in("en")["page.heading"], record_texts_in("es")["page.heading"]
    assert english != spanish
    with languages.use("es"):
        assert record_text("page.heading", number=7) == spanish.format(number=7)
    assert record_text("page.heading", number=7) == english.format(number=7)


def test_every_word_a_record_stores_has_a_text() -> None:
    """A step, a way of answering or of understanding, a language: the page says each in words."""
    stages = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())["slots"]["consent_stage"]["values"]
    assert section("steps") == set(stages)
    assert section("pause_kinds") == {PAUSED, RESUMED}
    assert section("how_given") == {candidacy.TYPED, candidacy.BUTTON, candidacy.CONFIRMED}
    assert section("teachback_how") == {OWN_WORDS, CHOSEN, MISSED}
    assert section("languages") == set(languages.LANGUAGES)


@pytest.mark.parametrize(
    ("file", "name", "value", "error"),
    [
        ("es/record.yml", "heading", None, "'page.heading' is missing"),
        ("es/record.yml", "title", "Registro", "'page.title' must use the placeholders of the English text"),
        ("es/record.yml", "heading", "Registro n.º {numero}", "unknown placeholder {numero}"),
        ("es/record.yml", "firma", "Firma", "'page.firma' is not a text this file has"),
        ("record.yml", "heading", None, "'page.heading' is missing"),
        ("record.yml", "none", "", "'page.none' needs a text"),
    ],
)
def test_a_broken_record_file_is_refused_by_name(
    copy: Path, file: str, name: str, value: str | None, error: str
) -> None:
    edit(copy / "content" / file, "page", name, value)
    with pytest.raises(ContentError) as raised:
        content.check(copy / "content", copy / "domain.yml")
    assert file in str(raised.value) and error in str(raised.value)


def spanish_sentences() -> list[tuple[str, str]]:
    """The Spanish texts that are sentences, as the page shows them (the two halves of its warning as one)."""
    texts = record_texts_in("es")
    warning = f"{texts['page.not_signed']}: {texts['page.signed_at_visit']}"
    found = [(name, text) for name, text in texts.items() if re.search(r"[.!?]$", text)]
    return [*found, ("page.not_signed+signed_at_visit", warning)]


@pytest.mark.parametrize(("name", "text"), spanish_sentences(), ids=[name for name, _ in spanish_sentences()])
def test_every_spanish_sentence_is_plain_spanish(name: str, text: str) -> None:
    ease = SPANISH_READER.fernandez_huerta(re.sub(r"\{[a-z_]+\}", "la clínica", text))
    assert ease >= MIN_SPANISH_EASE, f"{name} reads at {ease} (Fernández Huerta)"


def test_the_spanish_file_says_it_needs_review() -> None:
    header = (CONTENT_DIR / "es" / "record.yml").read_text(encoding="utf-8").splitlines()[0]
    assert header == (
        "# Spanish of content/record.yml. Status: needs review by the clinic's qualified medical translator."
    )
