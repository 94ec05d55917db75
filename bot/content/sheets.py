"""The information sheet in other languages (``content/<language>/rhizotomy-injection.txt``), checked.

Every medical statement a patient reads must be traceable to the clinic's sheet. A
translation keeps that by numbering its paragraphs: ``[n]`` translates the English sheet's
paragraph n (the n-th non-empty line after the title), so a reviewer reads them side by side.
Its header says whether the clinic's qualified medical translator has approved it:

    # status: needs review
    # status: approved by <name> on <YYYY-MM-DD>

The check refuses a translation with no status, with paragraphs missing, added or out of
order, or a different count from the English sheet. Whether an unapproved translation may be
shown to patients is for the code that uses it to decide (``TranslatedSheet.approved``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.content.files import ContentError
from bot.settings import CONTENT_DIR

SHEET_NAME = "rhizotomy-injection.txt"
SHEET_FILE = CONTENT_DIR / SHEET_NAME
_STATUS = re.compile(r"^#\s*status:\s*(needs review|approved by (?P<by>.+?) on (?P<on>\d{4}-\d{2}-\d{2}))\s*$")
_PARAGRAPH = re.compile(r"^\[(?P<number>\d+)\]\s+(?P<text>\S.*)$")


@dataclass(frozen=True)
class TranslatedSheet:
    """A translation of the sheet: its title, its paragraphs in the English order, and who approved it."""

    language: str
    title: str
    paragraphs: tuple[str, ...]
    approved_by: str = ""
    approved_on: str = ""

    @property
    def approved(self) -> bool:
        return bool(self.approved_by)


def english_paragraphs(path: Path = SHEET_FILE) -> tuple[str, ...]:
    """The English sheet's paragraphs: every non-empty line after the title."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return tuple(lines[1:])


def translated_sheet(path: Path, english: tuple[str, ...]) -> TranslatedSheet:
    """Read and check one translation against the English sheet's paragraphs."""
    where = str(path)
    status = None
    title = ""
    numbers: list[int] = []
    paragraphs: list[str] = []
    for line in (line.strip() for line in path.read_text(encoding="utf-8").splitlines()):
        if not line:
            continue
        if line.startswith("#"):
            status = _STATUS.match(line) or status
            continue
        found = _PARAGRAPH.match(line)
        if found is None:
            if title or paragraphs:
                raise ContentError(f"{where}: '{line[:40]}' is neither the title nor a numbered paragraph '[n] ...'")
            title = line
            continue
        numbers.append(int(found["number"]))
        paragraphs.append(found["text"])
    if status is None:
        raise ContentError(
            f"{where}: needs a line '# status: needs review' or '# status: approved by <name> on <YYYY-MM-DD>'"
        )
    if not title:
        raise ContentError(f"{where}: needs the sheet's title before the paragraphs")
    if numbers != list(range(1, len(english) + 1)):
        raise ContentError(
            f"{where}: paragraphs must be [1] to [{len(english)}] in order, one for each paragraph of "
            f"{SHEET_NAME}; found {numbers}"
        )
    return TranslatedSheet(
        language=path.parent.name,
        title=title,
        paragraphs=tuple(paragraphs),
        approved_by=(status["by"] or "").strip(),
        approved_on=status["on"] or "",
    )


def translated_sheets(content_dir: Path = CONTENT_DIR) -> dict[str, TranslatedSheet]:
    """Every translation under ``content/<language>/``, checked, by language."""
    english = english_paragraphs(content_dir / SHEET_NAME)
    return {path.parent.name: translated_sheet(path, english) for path in sorted(content_dir.glob(f"*/{SHEET_NAME}"))}
