"""One conversation across SMS and the web (issue 17), in Chromium against the real assistant.

The clinic invites a patient; the patient answers the health questions by SMS, opens the texted
link on a computer and finds that conversation there, explains the key points back and decides
on the web; the record carries the invited patient's reference and how it was verified, and the
next text continues the same conversation. A link with a date of birth opens nothing until it is
given, and counts wrong tries.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import BrowserContext, expect

from bot import content
from bot.channels.sms.twilio import SmsConfig
from bot.invitations import IDENTITY_LINK, send, store
from bot.records import consent_store
from devtools.launch import Running
from tests.helpers.conversations import CANDIDACY_ANSWERS, RIGHT_TEACHBACK, tracker_events
from tests.helpers.servers import ARTIFACTS
from tests.helpers.sms_thread import Text, screenshot_thread
from tests.helpers.twilio import ACCOUNT, FROM, TOKEN, FakeTwilio, text_the_assistant
from tests.helpers.widget_page import Chat, watch

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
BY_SMS = 2  # health questions answered by SMS before the link is opened; the rest on the web


def _number() -> str:
    return "+1555" + "".join(random.choices("0123456789", k=7))


def _invite(
    assistant: Running, fake: FakeTwilio, ref: str, dob: dt.date | None = None
) -> tuple[send.InviteResult, str]:
    """An invitation sent through the fake Twilio into the running assistant's database; the link on its server."""
    config = SmsConfig.from_env(
        {
            **os.environ,
            "TWILIO_API_BASE": fake.base,
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_FROM_NUMBER": FROM,
        }
    )
    # In a thread of its own: Playwright's sync API keeps this thread's event loop marked as running.
    invite = send.invite(_number(), ref, dob=dob, config=config, url=assistant.database_url)
    with ThreadPoolExecutor(max_workers=1) as worker:
        result = worker.submit(asyncio.run, invite).result(timeout=60)
    token = result.link.rsplit("/i/", 1)[1]
    return result, f"{assistant.base_url}/i/{token}"


def test_sms_then_the_web_is_one_conversation_with_the_patients_reference(
    assistant: Running, fake_twilio: FakeTwilio, new_context: Callable[..., BrowserContext], page_errors: list[str]
) -> None:
    result, link = _invite(assistant, fake_twilio, "MRN-20017")
    (text,) = fake_twilio.requests
    form = text["form"]
    assert isinstance(form, dict) and form["To"] not in link and "MRN-20017" not in link
    assert content.clinic().name in str(form["Body"]) and "STOP" in str(form["Body"])
    phone = str(form["To"])

    # By SMS: the patient starts and answers the first health questions.
    thread = [Text(str(form["Body"]))]
    for answer in ["I consent", *CANDIDACY_ANSWERS[:BY_SMS]]:
        replies = text_the_assistant(assistant.base_url, phone, answer)
        assert replies, answer
        thread += [Text(answer, mine=True), *(Text(reply) for reply in replies)]
    screenshot_thread(
        new_context().new_page(), "invitation-sms-thread", content.clinic().name, str(form["From"]), thread
    )

    # On the web, from the link: the SMS conversation is there, and it goes on.
    page = watch(new_context().new_page(), page_errors)
    page.goto(link)
    chat = Chat(page)
    expect(chat.panel).to_be_visible()
    expect(chat.user_bubbles().first).to_contain_text("I consent")
    expect(chat.log).to_contain_text("back pain")
    chat.wait_idle()
    chat.screenshot("invitation-web-after-sms")
    for answer in [*CANDIDACY_ANSWERS[BY_SMS:], *RIGHT_TEACHBACK, "Go ahead"]:
        chat.ask(answer)

    conversation = result.invitation.conversation_id
    record = consent_store.latest(conversation, assistant.database_url)
    assert record is not None and record.decision == "go_ahead"
    assert record.patient_ref == "MRN-20017" and record.payload.identity == IDENTITY_LINK
    channels = {
        event.get("input_channel") for event in tracker_events(assistant, conversation) if event["event"] == "user"
    }
    assert {"sms", "socketio"} <= channels, channels

    # Back to SMS: the same conversation, already decided.
    saved = " ".join(text_the_assistant(assistant.base_url, phone, "what did you save?")).lower()
    assert "go ahead" in saved or "record" in saved, saved
    assert page_errors == []


def test_a_link_with_a_date_of_birth_opens_nothing_until_it_is_given(
    assistant: Running, fake_twilio: FakeTwilio, new_context: Callable[..., BrowserContext], page_errors: list[str]
) -> None:
    result, link = _invite(assistant, fake_twilio, "MRN-30044", dob=dt.date(1961, 4, 2))
    page = watch(new_context().new_page(), page_errors)
    page.goto(link)
    expect(page.get_by_label("Date of birth")).to_be_visible()
    assert page.locator("script").count() == 0  # no chat, no widget, nothing of the conversation
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "invitation-date-of-birth.png"))
    page.get_by_label("Date of birth").fill("1961-04-03")
    page.get_by_role("button", name="Open the chat").click()
    expect(page.locator("body")).to_contain_text("does not match")
    invitation = store.get(result.invitation.invitation_id, assistant.database_url)
    assert invitation is not None and invitation.dob_failures == 1

    # Another browser holding only the link sees the same form: the right date opens the chat there alone.
    other = watch(new_context().new_page(), page_errors)
    other.goto(link)
    other.get_by_label("Date of birth").fill("1961-04-02")
    other.get_by_role("button", name="Open the chat").click()
    expect(Chat(other).panel).to_be_visible()
    page.goto(link)
    expect(page.get_by_label("Date of birth")).to_be_visible()
    assert page_errors == []
