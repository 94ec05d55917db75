"""The consent records list as CSV, for the clinic's spreadsheet: one row per record, in the care team's words.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some with a tab or a
line break before them) as a formula, and a record holds text from outside the clinic (the
patient reference comes from the portal; notes can quote an answer), so every text cell goes
through ``spreadsheet_safe`` (OWASP CSV injection: a leading apostrophe makes it plain text) and
every cell is quoted. Excel reads a UTF-8 file as UTF-8 only with a byte order mark: serve the
text encoded as ``CSV_ENCODING``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from bot.consent.record import UNDERSTOOD
from bot.records import printable
from bot.records.consent_store import Record
from bot.records.printable import decision_title, not_verified, verified_by

CSV_ENCODING = "utf-8-sig"  # UTF-8 with a byte order mark, so Excel keeps accents and other scripts
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
HEADER = (
    "Record",
    "Recorded (UTC)",
    "Patient reference",
    "Patient verified by",
    "Channel",
    "Decision",
    "Content version",
    "Answers to review",
    "Understanding points explained back",
    "To go over at the visit",
    "Record hash",
)
# First characters that make a spreadsheet read a cell as a formula (OWASP, ASVS 1.2.10), with the
# full-width forms some spreadsheets in East Asian locales also take as formula signs.
FORMULA_STARTS = frozenset("=+-@\t\r\n＝＋－＠")


def spreadsheet_safe(value: str) -> str:
    """The text as a spreadsheet shows it and never runs it: a leading apostrophe before a formula sign.

    The sign is looked for after leading spaces too, as some spreadsheets trim them. NUL
    characters are dropped (no spreadsheet shows them; some readers stop at them).
    """
    text = value.replace("\x00", "")
    first = text.lstrip(" ")[:1] or text[:1]
    return f"'{text}" if first and first in FORMULA_STARTS else text


def record_row(record: Record) -> tuple[str, ...]:
    """One record's cells in ``HEADER``'s order, before spreadsheet protection."""
    data = record.payload
    flagged = sum(1 for item in data.candidacy if item.flagged)
    understood = sum(1 for item in data.teachback if item.result == UNDERSTOOD)
    return (
        str(record.id),
        record.created_at,
        record.patient_ref or not_verified(),
        verified_by(record),
        record.channel,
        decision_title(record.decision),
        record.content_version,
        str(flagged),
        f"{understood} of {len(data.teachback)}",
        "; ".join(printable.visit_points(record)),
        record.record_hash,
    )


def records_csv(records: Iterable[Record]) -> str:
    """The records as CSV text (RFC 4180: quoted cells, CRLF line ends), a header row first."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(HEADER)
    for record in records:
        writer.writerow(spreadsheet_safe(cell) for cell in record_row(record))
    return out.getvalue()
