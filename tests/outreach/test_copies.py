"""The patient's copy by SMS (bot/outreach/copies.py): queued only when it should be, sent once, limits as outreach."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import content, settings
from bot.channels.sms.store import SmsStore
from bot.channels.sms.twilio import SmsConfig
from bot.outreach import KIND_COPY, copies, store
from bot.records import copy_link
from tests.helpers.twilio import FakeTwilio
from tests.outreach.conftest import PHONE, Turns, at, invite
from tests.outreach.test_runner import spanish_sms, tick

RECORD = 41


@pytest.fixture
def copies_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATIENT_COPY_SMS", "on")


def tomorrow(hour: int) -> dt.datetime:
    return at(dt.datetime.now(content.clinic().timezone).date() + dt.timedelta(days=1), hour)


def test_off_by_default_nothing_is_queued(database_url: str) -> None:
    invitation = invite(database_url)
    assert not copies.queue_copy(invitation.conversation_id, RECORD, "rest", requested=False, url=database_url)
    assert store.everyone(database_url) == []


@pytest.mark.usefixtures("copies_on")
def test_an_sms_patient_or_an_uninvited_one_gets_no_copy_by_text(database_url: str) -> None:
    invitation = invite(database_url)
    assert not copies.queue_copy(invitation.conversation_id, RECORD, "sms", requested=False, url=database_url)
    assert not copies.queue_copy("web-only-conversation", RECORD, "rest", requested=False, url=database_url)
    assert store.everyone(database_url) == []


@pytest.mark.usefixtures("copies_on")
def test_a_web_decision_texts_one_working_copy_link(
    database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio
) -> None:
    invitation = invite(database_url)
    assert copies.queue_copy(invitation.conversation_id, RECORD, "rest", requested=False, url=database_url)
    assert not copies.queue_copy(invitation.conversation_id, RECORD, "rest", requested=False, url=database_url)
    (sent,) = tick(Turns(), sms_config, tomorrow(10), database_url)
    assert sent.kind == KIND_COPY and sent.status == store.SENT
    assert tick(Turns(), sms_config, tomorrow(11), database_url) == []
    (request,) = fake_twilio.requests
    form = request["form"]
    assert isinstance(form, dict) and form["To"] == PHONE
    address = str(form["Body"]).rsplit(" ", 1)[-1]
    assert address.startswith(f"https://chat.example-clinic.org{copy_link.PATH}/")
    assert copy_link.record_id(address.rsplit("/", 1)[-1]) == RECORD
    assert store.day_taken(invitation.conversation_id, tomorrow(10).date(), database_url)


@pytest.mark.usefixtures("copies_on")
def test_no_copy_after_stop(database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio) -> None:
    invitation = invite(database_url)
    SmsStore(database_url).set_opted_out(invitation.conversation_id, True, "stop")
    assert copies.queue_copy(invitation.conversation_id, RECORD, "rest", requested=True, url=database_url)
    (result,) = tick(Turns(), sms_config, tomorrow(10), database_url)
    assert result.status == store.OPTED_OUT and fake_twilio.requests == []


@pytest.mark.usefixtures("copies_on")
def test_at_22_a_requested_copy_goes_and_one_after_a_decision_waits(
    database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio
) -> None:
    asked = invite(database_url, phone="+15550100111", ref="MRN-ASKED")
    decided = invite(database_url, phone="+15550100112", ref="MRN-DECIDED")
    assert copies.queue_copy(asked.conversation_id, 1, "rest", requested=True, url=database_url)
    assert copies.queue_copy(decided.conversation_id, 2, "rest", requested=False, url=database_url)
    results = {
        result.conversation_id: result.status for result in tick(Turns(), sms_config, tomorrow(22), database_url)
    }
    assert results == {asked.conversation_id: store.SENT, decided.conversation_id: store.DEFERRED}
    assert [request["form"]["To"] for request in fake_twilio.requests] == ["+15550100111"]  # type: ignore[index]
    # A reply is no outreach: the day is still free for the next morning's text.
    assert not store.day_taken(asked.conversation_id, tomorrow(22).date(), database_url)


@pytest.mark.usefixtures("copies_on")
def test_a_held_copy_asked_for_goes_at_once(database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio) -> None:
    invitation = invite(database_url)
    assert copies.queue_copy(invitation.conversation_id, RECORD, "rest", requested=False, url=database_url)
    (held,) = tick(Turns(), sms_config, tomorrow(22), database_url)
    assert held.status == store.DEFERRED
    assert copies.queue_copy(invitation.conversation_id, RECORD, "rest", requested=True, url=database_url)
    (sent,) = tick(Turns(), sms_config, tomorrow(22) + dt.timedelta(minutes=5), database_url)
    assert sent.status == store.SENT and len(fake_twilio.requests) == 1


@pytest.mark.usefixtures("copies_on")
def test_a_spanish_invitations_copy_is_texted_in_spanish(
    database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio
) -> None:
    invitation = invite(database_url, language="es")
    assert copies.queue_copy(invitation.conversation_id, RECORD, "rest", requested=False, url=database_url)
    (sent,) = tick(Turns(), sms_config, tomorrow(10), database_url)
    assert sent.kind == KIND_COPY and sent.status == store.SENT
    body = str(fake_twilio.requests[0]["form"]["Body"])  # type: ignore[index]
    address = body.rsplit(" ", 1)[-1]
    assert body == spanish_sms("own_copy_sms", link=address, hours=settings.copy_link_hours())
