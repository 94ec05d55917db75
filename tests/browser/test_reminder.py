"""The reminder before the visit (issue 17), end to end: two real Rasa servers, one text, a linked re-check.

A patient invited for a procedure two days from now gives consent by SMS. Both servers run the
outreach tick on one database; exactly one reminder reaches (fake) Twilio, with the first key point
asked again. The patient answers one point right and one wrong by SMS: the wrong one is explained
again, the answers become a record linked to the consent record, and the miss is flagged for the
visit. The exchange is drawn as a phone shows it for the README.

The clinic file gives the clinic a time zone where it is early afternoon now and opens every day,
so the reminder is due and inside the quiet hours whenever the test runs.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import BrowserContext

from bot import content
from bot.content.clinic import clinic
from bot.content.files import clinic_file
from bot.invitations import IDENTITY_NUMBER
from bot.invitations import store as invitations
from bot.records import consent_store, flags, recheck_store
from devtools import launch
from tests.helpers.conversations import CANDIDACY_ANSWERS, RIGHT_TEACHBACK
from tests.helpers.servers import quick_channels
from tests.helpers.sms_thread import Text, screenshot_thread
from tests.helpers.twilio import ACCOUNT, FROM, TOKEN, FakeTwilio, text_the_assistant

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

REF = "MRN-40121"
LOCAL_HOUR = 13  # early afternoon at the clinic: inside 8am-9pm and past the reminder's 10:00
WRONG_ANSWER = "it makes my legs stronger"
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def afternoon_zone(now: dt.datetime) -> str:
    """An IANA zone (``Etc/GMT±N``, sign inverted by POSIX convention) where it is about LOCAL_HOUR now."""
    offset = (LOCAL_HOUR - now.hour + 12) % 24 - 12  # -12 .. +11 hours from UTC
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def clinic_settings(folder: Path, zone: str) -> Path:
    """The project's clinic file with that zone and every day open."""
    settings = yaml.safe_load(clinic_file().read_text(encoding="utf-8"))
    settings["timezone"] = zone
    settings["hours"] = {day: ["08:00", "18:00"] for day in DAYS}
    path = folder / "clinic.yml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


@pytest.fixture
def two_servers(tmp_path: Path, fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch) -> Iterator[launch.Running]:
    """Two Rasa servers and the action server on one database, texting through the fake Twilio."""
    sending = {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,  # also what text_the_assistant signs the patient's texts with
        "TWILIO_FROM_NUMBER": FROM,
        "TWILIO_API_BASE": fake_twilio.base,
        "CLINIC_SETTINGS": str(clinic_settings(tmp_path, afternoon_zone(dt.datetime.now(dt.timezone.utc)))),
        "OUTREACH_CHECK_SECONDS": "5",
    }
    for name, value in sending.items():
        monkeypatch.setenv(name, value)
    clinic.cache_clear()  # this process reads the same clinic file as the servers
    try:
        with launch.assistant(tmp_path / "assistant", servers=2, credentials=quick_channels(tmp_path)) as running:
            yield running
    finally:
        monkeypatch.undo()
        clinic.cache_clear()


def wait_for_texts(fake: FakeTwilio, count: int, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while len(fake.requests) < count and time.monotonic() < deadline:
        time.sleep(0.5)


def test_one_reminder_from_two_servers_rechecks_two_points_into_a_linked_record(
    two_servers: launch.Running, fake_twilio: FakeTwilio, new_context: Callable[..., BrowserContext]
) -> None:
    running, url = two_servers, two_servers.database_url
    facts = content.clinic()
    today = dt.datetime.now(facts.timezone).date()
    phone = "+1555" + "".join(random.choices("0123456789", k=7))
    invitation, _ = invitations.create(phone, REF, today + dt.timedelta(days=2), url=url)

    # Consent by SMS, answered on the second server: the reminder may come from either.
    for answer in ["I consent", *CANDIDACY_ANSWERS, *RIGHT_TEACHBACK, "Go ahead"]:
        assert text_the_assistant(running.base_urls[1], phone, answer), answer
    record = consent_store.latest(invitation.conversation_id, url)
    assert record is not None and record.decision == "go_ahead" and record.patient_ref == REF

    wait_for_texts(fake_twilio, 1)
    time.sleep(12)  # two more ticks of each server: still one text
    (reminder,) = fake_twilio.requests
    form = reminder["form"]
    assert isinstance(form, dict) and form["To"] == phone and form["From"] == FROM
    first, second = content.teachback_points()[:2]  # every point was right at consent: content order
    assert first.question in form["Body"] and len(form["Body"]) <= 2 * 153

    thread = [Text(str(form["Body"]))]
    for answer in (RIGHT_TEACHBACK[0], WRONG_ANSWER):
        replies = text_the_assistant(running.base_url, phone, answer)
        assert replies, answer
        thread += [Text(answer, mine=True), *(Text(reply) for reply in replies)]
    assert second.question in " ".join(text.body for text in thread)
    assert second.explain_again in " ".join(text.body for text in thread)
    screenshot_thread(new_context().new_page(), "reminder-sms-thread", facts.name, FROM, thread)

    (recheck,) = recheck_store.for_record(record.id, url)
    assert recheck.consent_record_hash == record.record_hash and recheck_store.is_intact(recheck)
    assert [(a.point, a.answer, a.understood) for a in recheck.answers] == [
        (first.id, RIGHT_TEACHBACK[0], True),
        (second.id, WRONG_ANSWER, False),
    ]
    assert recheck.patient_ref == REF and recheck.identity == IDENTITY_NUMBER
    missed = [flag for flag in flags.open_flags(url, kind="teachback") if flag.detail == f"point {second.id}"]
    assert len(missed) == 1 and missed[0].conversation_id == invitation.conversation_id
    assert len(fake_twilio.requests) == 1  # the answers were replies in the webhook, not new texts
