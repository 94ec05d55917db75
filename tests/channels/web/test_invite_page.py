"""The page behind an invitation link, ``/i/<token>``, served by the website channel's real routes over HTTP.

Invitations are stored with ``bot.invitations.store`` on SQLite (and PostgreSQL where
TEST_POSTGRES_URL is set); the pages are fetched as a phone's browser would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import aiohttp
import pytest

from bot import content
from bot.channels.web.channel import SecureSocketIOInput
from bot.channels.web.invite_page import COOKIE_NAME
from bot.content import languages
from bot.content.messages import fill
from bot.invitations import link, store
from devtools.widget_devserver import ScriptedAgent
from tests.helpers.channel_app import serve_channels
from tests.helpers.invitations import use_invitation_env

ORIGIN = "https://clinic.example"
DOB = dt.date(1962, 3, 28)


@pytest.fixture(autouse=True)
def invite_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[str]:
    """Fresh invitation secrets and keys, the test's database, no invitation setting from the shell."""
    use_invitation_env(monkeypatch, ORIGIN, "web-invite-tests-sms-id-secret-0123456789")
    monkeypatch.setenv("DATABASE_URL", database_url)
    yield database_url


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str]
    text: str
    set_cookie: list[str]


def fetch(
    path: str, method: str = "GET", form: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> Reply:
    """One request to the channel's routes on a real server, redirects not followed."""

    async def go() -> Reply:
        channel = SecureSocketIOInput(allowed_origins=[ORIGIN], env={})
        async with (
            serve_channels([channel], ScriptedAgent()) as port,
            aiohttp.ClientSession() as session,
            session.request(
                method, f"http://127.0.0.1:{port}{path}", data=form, headers=headers or {}, allow_redirects=False
            ) as reply,
        ):
            return Reply(reply.status, dict(reply.headers), await reply.text(), reply.headers.getall("Set-Cookie", []))

    return asyncio.run(go())


def invite(
    phone: str = "+15550100123", ref: str = "R1001", dob: dt.date | None = None, language: str = "en"
) -> tuple[store.Invitation, str]:
    return store.create(phone, ref, dob=dob, language=language)


def page_of(token: str) -> str:
    return f"{link.PATH}/{token}"


def script_tag(page: str) -> str:
    found = re.search(r"<script [^>]*>", page)
    return found.group(0) if found else ""


def assert_private(reply: Reply) -> None:
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in reply.headers["X-Robots-Tag"]
    assert "frame-ancestors 'none'" in reply.headers["Content-Security-Policy"]


# --- without a date of birth: the link opens the chat -------------------------------------------


def test_the_link_opens_the_chat_bound_to_the_invitation() -> None:
    invitation, token = invite()
    reply = fetch(page_of(token))
    assert reply.status == 200
    assert_private(reply)
    tag = script_tag(reply.text)
    assert 'src="/widget/widget.js"' in tag and f'data-invite="{token}"' in tag and 'data-open="1"' in tag
    assert "script-src 'self'" in reply.headers["Content-Security-Policy"]
    assert html.escape(content.web_text("invite_page.heading")) in reply.text
    assert invitation.patient_ref not in reply.text, "the page names nobody"
    assert reply.set_cookie == []


def test_opening_the_link_changes_nothing_so_link_previews_are_harmless() -> None:
    invitation, token = invite()
    before = store.get(invitation.invitation_id)
    for _ in range(3):
        assert fetch(page_of(token)).status == 200
    assert store.get(invitation.invitation_id) == before


def test_a_post_without_a_date_of_birth_to_check_goes_back_to_the_page() -> None:
    _, token = invite()
    reply = fetch(page_of(token), "POST", {"dob": "1962-03-28"})
    assert reply.status == 303 and reply.headers["Location"] == page_of(token)
    assert reply.set_cookie == []


# --- links that open nothing ---------------------------------------------------------------------


@pytest.mark.parametrize("token", ["not-a-token", "AAAAAAAAAAAAAAAA.99999999999.AAAAAAAAAAAAAAAAAAAAAA"])
def test_an_altered_or_unknown_link_is_404_and_names_the_clinics_phone(token: str) -> None:
    reply = fetch(page_of(token))
    assert reply.status == 404 and "data-invite" not in reply.text
    assert html.escape(content.clinic().phone) in reply.text
    assert_private(reply)


def test_a_changed_character_opens_nothing() -> None:
    _, token = invite()
    changed = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert fetch(page_of(changed)).status == 404


def test_a_link_of_an_invitation_that_is_not_stored_is_404() -> None:
    token = link.sign("NoSuchInvitation", dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))
    assert fetch(page_of(token)).status == 404


def test_an_expired_link_is_410_with_the_clinics_phone() -> None:
    invitation, _ = invite()
    old = link.sign(invitation.invitation_id, dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1))
    reply = fetch(page_of(old))
    assert reply.status == 410 and "data-invite" not in reply.text
    assert html.escape(content.web_text("invite_page.expired")) in reply.text


def test_a_withdrawn_link_is_410() -> None:
    invitation, token = invite()
    store.revoke(invitation.invitation_id)
    reply = fetch(page_of(token))
    assert reply.status == 410 and html.escape(content.web_text("invite_page.revoked")) in reply.text


def test_a_new_invitation_for_the_patient_turns_the_old_link_off() -> None:
    _, old = invite()
    _, new = invite()
    assert fetch(page_of(old)).status == 410
    assert fetch(page_of(new)).status == 200


# --- with a date of birth: a plain form first ----------------------------------------------------


@pytest.fixture
def dob_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVITE_REQUIRE_DOB", "1")


@pytest.mark.usefixtures("dob_required")
def test_the_date_of_birth_is_asked_in_a_plain_form_before_anything_else() -> None:
    invitation, token = invite(dob=DOB)
    reply = fetch(page_of(token))
    assert reply.status == 200
    assert_private(reply)
    assert "<script" not in reply.text and "data-invite" not in reply.text, "no chat before the date of birth"
    assert '<form method="post">' in reply.text and 'name="dob"' in reply.text and 'type="date"' in reply.text
    assert '<label for="dob">' in reply.text
    assert "form-action 'self'" in reply.headers["Content-Security-Policy"]
    assert "script-src" not in reply.headers["Content-Security-Policy"]
    assert store.get(invitation.invitation_id) == invitation, "showing the form counts nothing"


@pytest.mark.usefixtures("dob_required")
def test_a_wrong_date_of_birth_is_403_with_the_tries_left_and_is_counted() -> None:
    invitation, token = invite(dob=DOB)
    reply = fetch(page_of(token), "POST", {"dob": "1962-03-29"})
    assert reply.status == 403 and reply.set_cookie == []
    assert html.escape(content.web_text("invite_page.dob_wrong", number=4)) in reply.text
    assert 'role="alert"' in reply.text and 'aria-invalid="true"' in reply.text
    assert "data-invite" not in reply.text
    found = store.get(invitation.invitation_id)
    assert found is not None and found.dob_failures == 1


@pytest.mark.usefixtures("dob_required")
def test_text_that_is_no_date_is_400_and_not_counted() -> None:
    invitation, token = invite(dob=DOB)
    reply = fetch(page_of(token), "POST", {"dob": "my birthday"})
    assert reply.status == 400
    assert html.escape(content.web_text("invite_page.dob_unreadable")) in reply.text
    found = store.get(invitation.invitation_id)
    assert found is not None and found.dob_failures == 0


def cookie_value(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


@pytest.mark.usefixtures("dob_required")
def test_the_right_date_of_birth_gives_a_strict_http_only_cookie_and_the_chat() -> None:
    invitation, token = invite(dob=DOB)
    reply = fetch(page_of(token), "POST", {"dob": "1962-03-28"})
    assert reply.status == 303 and reply.headers["Location"] == page_of(token)
    assert_private(reply)
    [cookie] = reply.set_cookie
    attributes = [part.strip() for part in cookie.split(";")]
    assert attributes[0].startswith(f"{COOKIE_NAME}=b1.")
    assert {"HttpOnly", "SameSite=Strict", f"Path={link.PATH}/", "Max-Age=43200"} <= set(attributes)
    key = cookie_value(cookie)
    assert link.check_browser_key(key) == invitation.invitation_id

    chat = fetch(page_of(token), headers={"Cookie": f"{COOKIE_NAME}={key}"})
    assert chat.status == 200
    tag = script_tag(chat.text)
    assert f'data-invite="{key}"' in tag and 'data-open="1"' in tag
    assert token not in tag, "the chat gets the browser key, not the link alone"


@pytest.mark.usefixtures("dob_required")
def test_the_cookie_is_secure_behind_an_https_proxy() -> None:
    _, token = invite(dob=DOB)
    reply = fetch(page_of(token), "POST", {"dob": "03/28/1962"}, headers={"X-Forwarded-Proto": "https"})
    assert reply.status == 303 and "Secure" in [part.strip() for part in reply.set_cookie[0].split(";")]


@pytest.mark.usefixtures("dob_required")
def test_a_browser_key_of_another_invitation_gets_the_form() -> None:
    first, _ = invite("+15550100123", "R1001", dob=DOB)
    _, second_token = invite("+15550100124", "R1002", dob=DOB)
    key = link.browser_key(first.invitation_id)
    reply = fetch(page_of(second_token), headers={"Cookie": f"{COOKIE_NAME}={key}"})
    assert reply.status == 200 and "data-invite" not in reply.text and '<form method="post">' in reply.text


@pytest.mark.usefixtures("dob_required")
def test_too_many_wrong_dates_lock_the_link(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVITE_DOB_ATTEMPTS", "2")
    _, token = invite(dob=DOB)
    assert fetch(page_of(token), "POST", {"dob": "1970-01-01"}).status == 403
    last = fetch(page_of(token), "POST", {"dob": "1970-01-02"})
    assert last.status == 410 and html.escape(content.web_text("invite_page.locked")) in last.text
    # Locked: even the right date opens nothing now, and the page says why.
    assert fetch(page_of(token), "POST", {"dob": "1962-03-28"}).status == 410
    assert fetch(page_of(token)).status == 410


def test_an_invitation_made_before_dates_of_birth_were_required_opens_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, token = invite()
    monkeypatch.setenv("INVITE_REQUIRE_DOB", "1")
    reply = fetch(page_of(token))
    assert reply.status == 410 and "data-invite" not in reply.text


@pytest.mark.usefixtures("dob_required")
def test_the_token_and_the_date_of_birth_are_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _, token = invite(dob=DOB)
    fetch(page_of(token))
    fetch(page_of(token), "POST", {"dob": "1970-01-01"})
    reply = fetch(page_of(token), "POST", {"dob": "1962-03-28"})
    key = cookie_value(reply.set_cookie[0])
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "date of birth" in logged, "the tries are logged"
    for secret in (token, token.split(".")[-1], key, "1962-03-28", "1970-01-01"):
        assert secret not in logged


# --- in the invitation's language ----------------------------------------------------------------


def spanish(name: str, **values: object) -> str:
    """The Spanish ``invite_page`` text ``name`` (content/es/web.yml) as the page shows it."""
    with languages.use(languages.SPANISH):
        return html.escape(fill(content.web_texts_in(languages.SPANISH)[f"invite_page.{name}"], **values))


def test_a_spanish_invitations_chat_page_is_in_spanish() -> None:
    _, token = invite(language="es")
    reply = fetch(page_of(token))
    assert reply.status == 200 and '<html lang="es">' in reply.text
    for name in ("title", "heading", "intro", "emergency"):
        assert spanish(name) in reply.text, name
    launcher = content.widget_texts_in(languages.SPANISH)["labels.launcher"]
    assert spanish("how_to_open", launcher=launcher) in reply.text
    assert html.escape(content.clinic().hours_text("es")) in reply.text
    tag = script_tag(reply.text)
    assert 'data-lang="es"' in tag and f'data-notice="{spanish("emergency")}"' in tag
    assert html.escape(content.web_text("invite_page.heading")) not in reply.text, "no English left"


def test_an_english_invitations_page_stays_english() -> None:
    _, token = invite()
    reply = fetch(page_of(token))
    assert '<html lang="en">' in reply.text and 'data-lang="en"' in script_tag(reply.text)
    assert html.escape(content.web_text("invite_page.heading")) in reply.text


@pytest.mark.usefixtures("dob_required")
def test_a_spanish_invitations_date_of_birth_form_and_its_answers_are_in_spanish(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INVITE_DOB_ATTEMPTS", "2")
    _, token = invite(dob=DOB, language="es")
    form = fetch(page_of(token))
    assert form.status == 200 and '<html lang="es">' in form.text
    for name in ("dob_heading", "dob_intro", "dob_label", "dob_hint", "dob_submit", "emergency"):
        assert spanish(name) in form.text, name
    unreadable = fetch(page_of(token), "POST", {"dob": "mi cumpleaños"})
    assert unreadable.status == 400 and spanish("dob_unreadable") in unreadable.text
    wrong = fetch(page_of(token), "POST", {"dob": "1970-01-01"})
    assert wrong.status == 403 and spanish("dob_wrong", number=1) in wrong.text
    locked = fetch(page_of(token), "POST", {"dob": "1970-01-02"})
    assert locked.status == 410 and spanish("locked") in locked.text and '<html lang="es">' in locked.text


def test_a_spanish_invitations_closed_link_says_why_in_spanish() -> None:
    invitation, token = invite(language="es")
    expired = link.sign(invitation.invitation_id, dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1))
    reply = fetch(page_of(expired))
    assert reply.status == 410 and spanish("expired") in reply.text and '<html lang="es">' in reply.text
    store.revoke(invitation.invitation_id)
    reply = fetch(page_of(token))
    assert reply.status == 410 and spanish("revoked") in reply.text
    unknown = fetch(page_of("not-a-token"))
    assert unknown.status == 404 and '<html lang="en">' in unknown.text, "a link not ours has no language"
