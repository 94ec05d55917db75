"""Translations of the information sheet (bot/content/sheets.py): numbered like the English, with a review status."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import ContentError
from bot.content.sheets import SHEET_FILE, english_paragraphs, translated_sheet, translated_sheets
from bot.settings import CONTENT_DIR

ENGLISH = english_paragraphs()


def write(folder: Path, text: str) -> Path:
    (folder / "es").mkdir(exist_ok=True)
    path = folder / "es" / "rhizotomy-injection.txt"
    path.write_text(text, encoding="utf-8")
    return path


def numbered(count: int) -> str:
    return "".join(f"[{number}] Párrafo {number}.\n" for number in range(1, count + 1))


def test_the_shipped_spanish_sheet_matches_the_english_paragraphs_and_awaits_review() -> None:
    sheets = translated_sheets()
    assert set(sheets) == {"es"}
    spanish = sheets["es"]
    assert len(spanish.paragraphs) == len(ENGLISH) == 7 and spanish.title
    assert not spanish.approved  # the clinic's qualified medical translator has not approved it yet


def test_an_approved_translation_names_who_and_when(tmp_path: Path) -> None:
    path = write(tmp_path, f"# status: approved by Ana Ruiz, CMI on 2026-12-20\nTítulo\n{numbered(len(ENGLISH))}")
    sheet = translated_sheet(path, ENGLISH)
    assert sheet.approved and (sheet.approved_by, sheet.approved_on) == ("Ana Ruiz, CMI", "2026-12-20")
    assert sheet.language == "es"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (f"Título\n{numbered(7)}", "needs a line '# status"),
        (f"# status: needs review\nTítulo\n{numbered(6)}", "paragraphs must be [1] to [7]"),
        ("# status: needs review\nTítulo\n[1] a\n[3] b\n[2] c\n[4] d\n[5] e\n[6] f\n[7] g\n", "in order"),
        (f"# status: needs review\n{numbered(7)}", "needs the sheet's title"),
        (f"# status: needs review\nTítulo\n{numbered(3)}una línea suelta\n", "neither the title nor a numbered"),
    ],
)
def test_a_translation_that_cannot_be_traced_is_refused(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(ContentError, match=says.replace("[", r"\[").replace("]", r"\]")):
        translated_sheet(write(tmp_path, text), ENGLISH)


def test_the_english_sheet_is_the_reference() -> None:
    assert SHEET_FILE == CONTENT_DIR / "rhizotomy-injection.txt"
    assert ENGLISH[0].startswith("What Is a Rhizotomy Injection A rhizotomy injection")
