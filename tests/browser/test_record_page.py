"""The patient's own copy of their record, opened from the link the real assistant sent, in Chromium.

On a phone it reads without sideways scrolling; printed on Letter paper it fits two pages and
keeps what the care team and the patient rely on (the decision, the content version, the
record hash). Screenshots and the PDF go to tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.records import consent_store
from devtools.launch import Running
from tests.helpers.conversations import decided, own_copy_link
from tests.helpers.servers import ARTIFACTS

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def copy_link_and_record(assistant: Running) -> tuple[str, consent_store.Record]:
    sender = decided(assistant)
    record = consent_store.latest(sender, assistant.database_url)
    assert record is not None
    return own_copy_link(assistant, sender), record


def test_the_copy_reads_on_a_phone_without_sideways_scrolling(
    new_context: Callable[..., Any], copy_link_and_record: tuple[str, consent_store.Record]
) -> None:
    link, _ = copy_link_and_record
    page = new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True).new_page()
    page.goto(link)
    assert page.locator(".decision").inner_text().startswith("Decision:")
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "record-copy-phone.png"), full_page=True)


def test_the_copy_prints_on_two_letter_pages_with_its_hash(
    new_context: Callable[..., Any], copy_link_and_record: tuple[str, consent_store.Record]
) -> None:
    link, record = copy_link_and_record
    page = new_context().new_page()
    page.goto(link)
    page.emulate_media(media="print")
    printed = page.locator("body").inner_text()
    for kept in ("Decision:", record.content_version, record.record_hash, "not the signed consent"):
        assert kept in printed
    pdf = page.pdf(format="Letter", print_background=True)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "record-copy.pdf").write_bytes(pdf)
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert 1 <= pages <= 2, f"the printed copy takes {pages} pages"
