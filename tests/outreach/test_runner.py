"""One outreach tick (bot/outreach/runner.py) on SQLite and PostgreSQL, with a fake Twilio and a fake turn."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

import pytest

from bot import content
from bot.channels.sms.store import SmsStore
from bot.channels.sms.text import plain_text, sms_reply
from bot.channels.sms.twilio import SmsConfig
from bot.content import languages
from bot.content.dates import spoken_date
from bot.content.messages import fill
from bot.invitations import IDENTITY_NUMBER
from bot.invitations import store as invitations
from bot.outreach import (
    KIND_INVITATION,
    KIND_REMINDER,
    PROCEDURE_DATE_KEY,
    RECHECK_PAYLOAD,
    REMINDER_KEY,
    runner,
    store,
)
from bot.records import flags
from tests.helpers.twilio import FakeTwilio
from tests.outreach.conftest import PHONE, REF, Turns, at, due_of, invite


def tick(turns: Turns, config: SmsConfig, now: dt.datetime, url: str) -> list[runner.Sent]:
    return asyncio.run(runner.send_due(turns, config, now, url))


def test_a_due_reminder_texts_what_its_turn_said(
    database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio
) -> None:
    invitation = invite(database_url)
    turns = Turns()
    due = due_of(invitation)
    assert tick(turns, sms_config, due - dt.timedelta(minutes=1), database_url) == []
    (sent,) = tick(turns, sms_config, due, database_url)
    assert sent.status == store.SENT and sent.kind == KIND_REMINDER and sent.message_sid
    (request,) = fake_twilio.requests
    form = request["form"]
    assert isinstance(form, dict) and form["To"] == PHONE and form["Body"] == turns.said[0]
    ((conversation, text, metadata),) = turns.calls
    assert conversation == invitation.conversation_id and text == RECHECK_PAYLOAD
    assert metadata == {
        REMINDER_KEY: store.reminder_id(invitation.invitation_id),
        PROCEDURE_DATE_KEY: str(invitation.procedure_date),
        "patient_id": REF,
        "identity": IDENTITY_NUMBER,
    }
    row = store.get(sent.outreach_id, database_url)
    assert row is not None and row.status == store.SENT and row.message_sid == sent.message_sid


def test_two_runners_at_once_send_one_text(database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio) -> None:
    invitation = invite(database_url)
    due = due_of(invitation)

    async def both() -> list[list[runner.Sent]]:
        return list(await asyncio.gather(*(runner.send_due(Turns(), sms_config, due, database_url) for _ in range(2))))

    results = asyncio.run(both())
    assert sorted(len(result) for result in results) == [0, 1]
    assert len(fake_twilio.requests) == 1


def test_two_servers_in_threads_send_one_text(
    database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio
) -> None:
    invitation = invite(database_url)
    due = due_of(invitation)
    start = threading.Barrier(3)
    results: list[list[runner.Sent]] = []

    def server() -> None:
        start.wait()
        results.append(tick(Turns(), sms_config, due, database_url))

    threads = [threading.Thread(target=server) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(len(result) for result in results) == 1
    assert len(fake_twilio.requests) == 1


def test_a_restart_does_not_resend_and_a_deferred_reminder_goes_when_due(
    database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio
) -> None:
    invitation = invite(database_url)
    due = due_of(invitation)
    # Staff texted the invitation on the reminder's day: that was the day's one text.
    assert store.record_initiated(
        invitation.conversation_id, KIND_INVITATION, invitation.invitation_id, due, content.clinic(), database_url
    )
    (held,) = tick(Turns(), sms_config, due, database_url)
    assert held.status == store.DEFERRED and fake_twilio.requests == []
    row = store.get(held.outreach_id, database_url)
    next_day = due.date() + dt.timedelta(days=1)
    assert row is not None and row.next_try_at == at(next_day, 8)
    # A new runner (a restarted server) on the same database: nothing before 8, then the text.
    assert tick(Turns(), sms_config, at(next_day, 7, 59), database_url) == []
    (sent,) = tick(Turns(), sms_config, at(next_day, 8), database_url)
    assert sent.status == store.SENT and len(fake_twilio.requests) == 1
    assert tick(Turns(), sms_config, at(next_day, 12), database_url) == []
    assert len(fake_twilio.requests) == 1


@pytest.mark.parametrize(("hour", "minute", "sends"), [(7, 59, False), (21, 0, False), (8, 0, True)])
def test_quiet_hours_hold_a_reminder(
    database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio, hour: int, minute: int, sends: bool
) -> None:
    invitation = invite(database_url)
    day = due_of(invitation).date() + dt.timedelta(days=1)  # overdue by then: planned at once
    (result,) = tick(Turns(), sms_config, at(day, hour, minute), database_url)
    assert (result.status == store.SENT) is sends
    assert len(fake_twilio.requests) == (1 if sends else 0)
    if not sends:
        row = store.get(result.outreach_id, database_url)
        expected = at(day, 8) if hour < 8 else at(day + dt.timedelta(days=1), 8)
        assert row is not None and row.status == store.DEFERRED and row.next_try_at == expected


def test_three_texts_in_seven_days_hold_it_to_the_next_day(
    database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio
) -> None:
    invitation = invite(database_url)
    due = due_of(invitation)
    for days in (1, 3, 5):
        assert store.record_initiated(
            invitation.conversation_id,
            KIND_INVITATION,
            f"old{days}",
            due - dt.timedelta(days=days),
            content.clinic(),
            database_url,
        )
    (held,) = tick(Turns(), sms_config, due, database_url)
    assert held.status == store.DEFERRED and "7 days" in (held.reason or "")
    assert fake_twilio.requests == []


def test_stop_before_the_reminder_sends_nothing(
    database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio
) -> None:
    invitation = invite(database_url)
    SmsStore(database_url).set_opted_out(invitation.conversation_id, True, "stop")
    turns = Turns()
    (result,) = tick(turns, sms_config, due_of(invitation), database_url)
    assert result.status == store.OPTED_OUT and fake_twilio.requests == [] and turns.calls == []


def test_a_reminder_still_held_on_the_procedure_day_expires_and_flags_the_care_team(
    database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio
) -> None:
    invitation = invite(database_url)
    assert invitation.procedure_date is not None
    outreach_id = store.reminder_id(invitation.invitation_id)
    due = due_of(invitation)
    store.create(
        outreach_id, KIND_REMINDER, invitation.conversation_id, invitation.invitation_id, due, url=database_url
    )
    (result,) = tick(Turns(), sms_config, at(invitation.procedure_date, 9), database_url)
    assert result.status == store.EXPIRED and fake_twilio.requests == []
    (flag,) = flags.all_rows(database_url, conversation_id=invitation.conversation_id)
    assert flag.kind == runner.FLAG_KIND and outreach_id in flag.detail


def test_no_reminder_is_planned_for_a_past_procedure_or_a_withdrawn_invitation(
    database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio
) -> None:
    invitation = invite(database_url)
    assert invitation.procedure_date is not None
    assert tick(Turns(), sms_config, at(invitation.procedure_date, 9), database_url) == []
    assert tick(Turns(), sms_config, at(invitation.procedure_date + dt.timedelta(days=3), 9), database_url) == []
    invitations.revoke(invitation.invitation_id, database_url)
    assert tick(Turns(), sms_config, due_of(invitation), database_url) == []
    assert store.everyone(database_url) == [] and fake_twilio.requests == []


def test_a_reinvitation_for_the_same_procedure_gets_no_second_reminder(
    database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio
) -> None:
    first = invite(database_url)
    due = due_of(first)
    assert len(tick(Turns(), sms_config, due, database_url)) == 1
    invite(database_url)  # staff re-invite (the first is revoked)
    assert tick(Turns(), sms_config, due + dt.timedelta(days=1), database_url) == []
    assert len(fake_twilio.requests) == 1


def test_no_reminders_when_days_before_is_zero(
    database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    invitation = invite(database_url)
    monkeypatch.setenv("REMINDER_DAYS_BEFORE", "0")
    assert tick(Turns(), sms_config, due_of(invitation), database_url) == []


def test_an_empty_turn_sends_the_fallback(database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio) -> None:
    invitation = invite(database_url)
    assert invitation.procedure_date is not None
    (sent,) = tick(Turns(said=[]), sms_config, due_of(invitation), database_url)
    assert sent.status == store.SENT
    form = fake_twilio.requests[0]["form"]
    assert isinstance(form, dict)
    assert form["Body"] == sms_reply("reminder_fallback", date=spoken_date(invitation.procedure_date))


def test_a_refused_text_is_failed_with_a_reason_and_no_number(
    database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio
) -> None:
    invitation = invite(database_url)
    fake_twilio.fail_with = (400, {"code": 21211, "message": f"The 'To' number {PHONE} is not a valid phone number."})
    (failed,) = tick(Turns(), sms_config, due_of(invitation), database_url)
    row = store.get(failed.outreach_id, database_url)
    assert row is not None and row.status == store.FAILED
    assert row.reason and "21211" in row.reason and PHONE not in row.reason
    (flag,) = flags.all_rows(database_url, conversation_id=invitation.conversation_id)
    assert flag.kind == runner.FLAG_KIND and flag.message == runner.FAILED_MESSAGE and failed.outreach_id in flag.detail


def test_a_server_that_cannot_send_claims_nothing(database_url: str, fake_twilio: FakeTwilio) -> None:
    invitation = invite(database_url)
    cannot = SmsConfig(auth_token="t", id_secret="s", account_sid=None, from_number=None, api_base=fake_twilio.base)
    assert tick(Turns(), cannot, due_of(invitation), database_url) == []
    assert store.everyone(database_url) == []


def test_a_lapsed_claim_is_never_sent(database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio) -> None:
    invitation = invite(database_url)
    due = due_of(invitation)
    runner.plan_reminders(due, content.clinic(), database_url)
    (claimed,) = store.claim_due("dead-host:1", due, database_url)  # then the server died
    later = due + store.CLAIM_LEASE + dt.timedelta(minutes=1)
    assert tick(Turns(), sms_config, later, database_url) == []
    assert tick(Turns(), sms_config, later + dt.timedelta(days=1), database_url) == []
    row = store.get(claimed.outreach_id, database_url)
    assert row is not None and row.status == store.UNKNOWN and fake_twilio.requests == []


def spanish_sms(name: str, **values: object) -> str:
    """The Spanish text ``name`` (content/es/sms.yml) as a phone gets it, filled as the clinic's Spanish."""
    with languages.use(languages.SPANISH):
        return plain_text(fill(content.sms_texts_in(languages.SPANISH)[name], **values))


def test_a_spanish_invitations_reminder_asks_its_turn_for_spanish(
    database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio
) -> None:
    invitation = invite(database_url, language="es")
    turns = Turns()
    tick(turns, sms_config, due_of(invitation), database_url)
    ((_, _, metadata),) = turns.calls
    assert metadata[languages.METADATA_KEY] == "es"


def test_a_spanish_invitations_fallback_is_in_spanish_with_the_date_said_in_spanish(
    database_url: str, sms_config: SmsConfig, fake_twilio: FakeTwilio
) -> None:
    invitation = invite(database_url, language="es")
    assert invitation.procedure_date is not None
    (sent,) = tick(Turns(said=[]), sms_config, due_of(invitation), database_url)
    assert sent.status == store.SENT
    form = fake_twilio.requests[0]["form"]
    assert isinstance(form, dict)
    assert form["Body"] == spanish_sms("reminder_fallback", date=spoken_date(invitation.procedure_date, "es"))
    assert spoken_date(invitation.procedure_date, "es") in str(form["Body"])
