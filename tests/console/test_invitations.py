"""Inviting a patient from the console: preview, send through (a fake) Twilio, list, revoke; CSRF and audit."""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from bot import content
from bot.channels.sms.text import plain_text
from bot.console import audit
from bot.content import languages
from bot.content.messages import fill
from bot.invitations import link, store
from tests.console.conftest import Console, csrf
from tests.helpers.invitations import use_invitation_env
from tests.helpers.twilio import ACCOUNT, FROM, TOKEN, FakeTwilio

PHONE = "+15550107788"


@pytest.fixture(autouse=True)
def twilio_env(monkeypatch: pytest.MonkeyPatch, fake_twilio: FakeTwilio) -> None:
    for name, value in {
        "TWILIO_API_BASE": fake_twilio.base,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM_NUMBER": FROM,
    }.items():
        monkeypatch.setenv(name, value)
    use_invitation_env(monkeypatch, "https://chat.example-clinic.org", "console-tests-sms-id-secret-0123456789")


def _form(client: TestClient, **values: str) -> dict[str, str]:
    return {"csrf_token": csrf(client, "/invitations"), "phone": PHONE, "patient": "MRN-1001", **values}


def test_preview_sends_and_stores_nothing(
    console: Console, nurse: Callable[[], TestClient], fake_twilio: FakeTwilio
) -> None:
    client = nurse()
    page = client.post("/invitations", data=_form(client, preview="1"))
    assert page.status_code == 200 and "Preview only" in page.text and "Reply HELP" in page.text
    assert fake_twilio.requests == [] and store.everyone(console.url) == []


def test_sending_texts_the_patient_lists_it_and_audits_it(
    console: Console, nurse: Callable[[], TestClient], fake_twilio: FakeTwilio
) -> None:
    client = nurse()
    page = client.post("/invitations", data=_form(client, procedure_date="2099-01-05"))
    assert page.status_code == 200 and "<strong>Sent</strong>" in page.text, page.text[-3000:]
    (sent,) = fake_twilio.requests
    form = sent["form"]
    assert isinstance(form, dict) and form["To"] == PHONE
    (invitation,) = store.everyone(console.url)
    assert invitation.patient_ref == "MRN-1001" and invitation.created_by == "rn.lee"
    assert link.url("") in str(form["Body"])
    listing = client.get("/invitations").text
    assert "MRN-1001" in listing and PHONE not in listing and "…88" in listing
    assert ("invite", f"invitation {invitation.invitation_id}") in [
        (e.action, e.target) for e in audit.entries(console.url)
    ]
    revoke = client.post(f"/invitations/{invitation.invitation_id}/revoke", data={"csrf_token": csrf(client)})
    assert revoke.status_code == 303
    revoked = store.get(invitation.invitation_id, console.url)
    assert revoked is not None and revoked.revoked_at is not None


def test_bad_input_is_said_and_nothing_is_sent(
    console: Console, nurse: Callable[[], TestClient], fake_twilio: FakeTwilio
) -> None:
    client = nurse()
    for values in ({"phone": "call me"}, {"procedure_date": "next tuesday"}, {"patient": ""}):
        page = client.post("/invitations", data=_form(client, **values))
        assert page.status_code == 400 and 'role="alert"' in page.text, values
    assert fake_twilio.requests == []


def test_twilio_refusing_is_said_and_the_link_revoked(
    console: Console, nurse: Callable[[], TestClient], fake_twilio: FakeTwilio
) -> None:
    fake_twilio.fail_with = (400, {"code": 21211, "message": "The 'To' number is not a valid phone number."})
    client = nurse()
    page = client.post("/invitations", data=_form(client))
    assert page.status_code == 502 and "not sent" in page.text
    assert all(invitation.revoked_at is not None for invitation in store.everyone(console.url))


def test_posts_without_the_csrf_token_are_refused(
    console: Console, nurse: Callable[[], TestClient], fake_twilio: FakeTwilio
) -> None:
    client = nurse()
    assert client.post("/invitations", data={"phone": PHONE, "patient": "MRN-1"}).status_code == 403
    assert fake_twilio.requests == []


def test_a_spanish_invitation_from_the_form_is_texted_in_spanish(
    console: Console, nurse: Callable[[], TestClient], fake_twilio: FakeTwilio
) -> None:
    client = nurse()
    assert '<option value="es" lang="es"' in client.get("/invitations").text
    page = client.post("/invitations", data=_form(client, lang="es"))
    assert page.status_code == 200 and "<strong>Sent</strong>" in page.text
    (invitation,) = store.everyone(console.url)
    assert invitation.language == "es"
    body = str(fake_twilio.requests[0]["form"]["Body"])  # type: ignore[index]
    with languages.use(languages.SPANISH):
        expected = plain_text(fill(content.sms_texts_in("es")["invitation"], link=body.rsplit(" ", 1)[-1]))
    assert body == expected and html.escape(body) in page.text
    assert "Español" in client.get("/invitations").text
    refused = client.post("/invitations", data=_form(client, lang="fr", patient="MRN-1002"))
    assert refused.status_code == 400 and len(store.everyone(console.url)) == 1
