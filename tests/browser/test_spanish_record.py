"""The patient's own copy of a record they answered in Spanish, opened in Chromium from its signed link.

The record is stored as the Spanish steps write it and served by the real own-copy route
(bot/channels/copy.py, with its private headers); the page is in Spanish, with its line in
English for the chart, and printed on Letter paper it fits two pages and keeps the record's
hash. The PDF goes to tests/artifacts/.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import content
from bot.channels.copy import PatientCopyInput
from bot.content import languages
from bot.records import consent_store, copy_link
from tests.helpers.channel_app import RecordingAssistant, serve_channels
from tests.helpers.servers import ARTIFACTS
from tests.records.test_printable import spanish_record

pytestmark = pytest.mark.browser  # Chromium, with the own-copy route alone (no assistant)


@pytest.fixture
def copy_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The own-copy route on a free port, in a thread of its own (Playwright's sync API holds this one's loop)."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'assistant.db'}")
    monkeypatch.setenv("CONSENT_CHECKPOINT_FILE", str(tmp_path / "checkpoints.log"))
    ports: list[int] = []
    started, stop = threading.Event(), threading.Event()

    async def serve() -> None:
        async with serve_channels([PatientCopyInput()], RecordingAssistant()) as port:
            ports.append(port)
            started.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(30), "the own-copy route did not start"
    yield f"http://127.0.0.1:{ports[0]}"
    stop.set()
    thread.join(10)


def test_the_spanish_copy_renders_in_spanish_and_prints_on_two_letter_pages(
    new_context: Callable[..., Any], copy_server: str
) -> None:
    example = spanish_record()
    record = consent_store.append("conv-es", "sms", example.payload, example.content_version, patient_ref="MRN-1")
    page = new_context(locale="es-MX").new_page()
    page.goto(f"{copy_server}{copy_link.PATH}/{copy_link.sign(record.id)}")
    assert page.locator("html").get_attribute("lang") == "es"
    heading = content.record_texts_in("es")["page.heading"].format(number=record.id)
    assert page.locator("h1").inner_text() == heading
    with languages.use("en"):
        assert page.locator(".chart").inner_text() == content.record_text(
            "page.chart_line",
            number=record.id,
            decision="Wants to go ahead",
            language="Spanish",
            version=record.content_version,
        )
    page.emulate_media(media="print")
    printed = page.locator("body").inner_text()
    spanish = content.record_texts_in("es")
    for kept in (heading, spanish["page.not_signed"], record.content_version, record.record_hash):
        assert kept in printed
    pdf = page.pdf(format="Letter", print_background=True)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "record-copy-es.pdf").write_bytes(pdf)
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert 1 <= pages <= 2, f"the printed Spanish copy takes {pages} pages"
