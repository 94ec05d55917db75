"""Outreach tests: invitation keys of their own, a fake Twilio, and an invitation with a procedure date."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot import content
from bot.channels.sms.twilio import SmsConfig
from bot.invitations import store as invitations
from bot.invitations.store import Invitation
from bot.outreach import timing
from tests.helpers.invitations import use_invitation_env
from tests.helpers.twilio import ACCOUNT, FROM, TOKEN, FakeTwilio

SMS_ID_SECRET = "outreach-tests-sms-id-secret-0123456789"
PHONE = "+15550100123"
REF = "MRN-778812"
SETTINGS = ("OUTREACH_ENABLED", "REMINDER_DAYS_BEFORE", "REMINDER_LOCAL_TIME", "PATIENT_COPY_SMS", "PATIENT_COPY_HOURS")


@pytest.fixture(autouse=True)
def outreach_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Development mode, known secrets, and no outreach setting from the shell."""
    use_invitation_env(monkeypatch, "https://chat.example-clinic.org", SMS_ID_SECRET)
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sms_config(fake_twilio: FakeTwilio) -> SmsConfig:
    """A sending configuration that talks to the fake Twilio."""
    return SmsConfig(
        auth_token=TOKEN, id_secret=SMS_ID_SECRET, account_sid=ACCOUNT, from_number=FROM, api_base=fake_twilio.base
    )


def invite(url: str, days_ahead: int = 30, phone: str = PHONE, ref: str = REF, language: str = "en") -> Invitation:
    """An invitation (stored, not texted) for a procedure ``days_ahead`` days from today, in ``language``."""
    today = dt.datetime.now(content.clinic().timezone).date()
    invitation, _ = invitations.create(phone, ref, today + dt.timedelta(days=days_ahead), url=url, language=language)
    return invitation


def due_of(invitation: Invitation) -> dt.datetime:
    """When the default reminder of ``invitation`` is due."""
    assert invitation.procedure_date is not None
    due = timing.reminder_due(invitation.procedure_date, content.clinic())
    assert due is not None
    return due


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """An aware moment at a clinic-local clock time."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=content.clinic().timezone)


class Turns:
    """A stand-in for the channel's ``run_turn``: records each turn and says ``said``."""

    def __init__(self, said: list[str] | None = None) -> None:
        self.said = (
            ["Reminder: your injection is soon. Any new blood thinner? Reply 1 for Yes, 2 for No."]
            if said is None
            else said
        )
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def __call__(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> list[str]:
        self.calls.append((conversation_id, text, dict(metadata)))
        return list(self.said)


RunTurn = Callable[[str, str, dict[str, Any]], Awaitable[list[str]]]


def unique_ref() -> str:
    return f"MRN-{uuid.uuid4().hex[:8]}"
