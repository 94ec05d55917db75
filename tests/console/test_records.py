"""The console's record page and printable page list the re-checks made before the visit."""

from __future__ import annotations

import html
from collections.abc import Callable

import sqlalchemy as sa
from fastapi.testclient import TestClient

from bot.consent.record import RecheckAnswer
from bot.records import db, recheck_store
from tests.console.conftest import Console, append_record

ANSWERS = (
    RecheckAnswer("what_it_does", "In your own words, what does the injection do?", "it blocks the nerve", True),
    RecheckAnswer("wears_off", "In your own words: will the effect last forever?", "yes it lasts forever", False),
)


def test_the_record_page_lists_its_re_check_with_the_words_and_the_hmac(
    console: Console, nurse: Callable[[], TestClient]
) -> None:
    record = append_record(console.url)
    recheck_store.append(record, "reminder:inv1", "conv-9", ANSWERS, "MRN-1001", "invited_number", console.url)
    client = nurse()
    page = html.unescape(client.get(f"/records/{record.id}").text)
    assert "Re-checks before the visit" in page and "1 of 2 points right" in page
    assert "HMAC verified" in page and "it blocks the nerve" in page
    assert "missed; go over at the visit ⚑: yes it lasts forever" in page
    assert page.count("that the effect may wear off") >= 2, "in the list to go over and in the re-check"
    printed = html.unescape(client.get(f"/records/{record.id}/print").text)
    assert "Re-checks before the visit" in printed and "yes it lasts forever" in printed


def test_a_changed_re_check_is_shown_as_failing_its_hmac(console: Console, nurse: Callable[[], TestClient]) -> None:
    record = append_record(console.url)
    stored = recheck_store.append(record, "reminder:inv1", "conv-9", ANSWERS, url=console.url)
    with db.engine(console.url).begin() as connection:
        connection.execute(
            sa.update(recheck_store.RECHECKS).where(recheck_store.RECHECKS.c.id == stored.id).values(missed=0)
        )
    page = html.unescape(nurse().get(f"/records/{record.id}").text)
    assert "FAILS its HMAC" in page


def test_a_record_without_re_checks_has_no_such_part(console: Console, nurse: Callable[[], TestClient]) -> None:
    record = append_record(console.url)
    client = nurse()
    assert "Re-checks before the visit" not in client.get(f"/records/{record.id}").text
    assert "Re-checks before the visit" not in client.get(f"/records/{record.id}/print").text
