"""The page behind a patient's own-copy link, served by its real Sanic blueprint over HTTP (bot/channels/copy.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from pathlib import Path

import aiohttp
import pytest

from bot import content
from bot.channels.copy import PatientCopyInput
from bot.records import consent_store, copy_link
from tests.helpers.channel_app import RecordingAssistant, serve_channels
from tests.records.test_consent_store import PAYLOAD


@pytest.fixture
def record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> consent_store.Record:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'assistant.db'}")
    monkeypatch.setenv("CONSENT_CHECKPOINT_FILE", str(tmp_path / "checkpoints.log"))
    payload = dataclasses.replace(PAYLOAD, decision="go_ahead")
    return consent_store.append("conv-1", "sms", payload, "v1")


def fetch(path: str) -> tuple[int, dict[str, str], str]:
    async def go() -> tuple[int, dict[str, str], str]:
        async with (
            serve_channels([PatientCopyInput()], RecordingAssistant()) as port,
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}{path}") as reply,
        ):
            return reply.status, dict(reply.headers), await reply.text()

    return asyncio.run(go())


def test_a_signed_link_opens_the_records_printable_page_privately(record: consent_store.Record) -> None:
    status, headers, page = fetch(f"{copy_link.PATH}/{copy_link.sign(record.id)}")
    assert status == 200
    assert f"pre-consent record #{record.id}" in page and record.record_hash in page and record.content_version in page
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in headers["X-Robots-Tag"] and "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_an_expired_link_says_so_and_gives_the_clinics_phone(record: consent_store.Record) -> None:
    old = copy_link.sign(record.id, hours=1, now=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2))
    status, headers, page = fetch(f"{copy_link.PATH}/{old}")
    assert status == 410 and "pre-consent record" not in page
    assert content.clinic().phone in page and headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("token", ["not-a-token", "1.99999999999.AAAAAAAAAAAAAAAAAAAAAA"])
def test_an_altered_link_opens_nothing(record: consent_store.Record, token: str) -> None:
    status, _, page = fetch(f"{copy_link.PATH}/{token}")
    assert status == 404 and "pre-consent record" not in page


def test_a_link_to_a_record_that_is_not_there_opens_nothing(record: consent_store.Record) -> None:
    status, _, _ = fetch(f"{copy_link.PATH}/{copy_link.sign(record.id + 1)}")
    assert status == 404
