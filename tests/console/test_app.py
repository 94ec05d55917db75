"""The console's pages over HTTP: sign-in, who may see what, CSRF, lock-out, flags, records, exports, audit."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from bot.console import audit, sessions
from bot.console.app import CONTENT_SECURITY_POLICY
from bot.records import flags
from tests.console.conftest import FORM_TOKEN, PASSWORD, Console, append_record, csrf, sign_in


def _paths(console: Console) -> list[tuple[str, str]]:
    """Every route of the app with sample path values: (method, path)."""
    found = []
    for route in console.app.routes:
        if isinstance(route, APIRoute):
            path = route.path.replace("{flag_id}", "1").replace("{record_id}", "1").replace("{conversation_id}", "c1")
            found += [(method, path) for method in sorted(route.methods)]
    return found


def test_every_page_and_api_path_refuses_without_sign_in(console: Console) -> None:
    client = console.client()
    open_paths = {"/signin", "/health", "/"}  # no patient data: the form, "ok", a redirect to /flags
    checked = 0
    for method, path in _paths(console):
        if path in open_paths:
            continue
        response = client.request(method, path)
        checked += 1
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path)
        elif method == "GET":
            assert response.status_code == 303 and response.headers["location"].startswith("/signin"), (method, path)
        else:  # a post without a session: sent to sign in, or refused for its missing CSRF token; never done
            assert response.status_code in (303, 403), (method, path)
            assert "patient" not in response.text.lower()
    assert checked >= 12
    assert client.get("/").headers["location"] == "/flags"
    assert client.get("/health").json() == {"ok": True}


def test_sign_in_then_pages_carry_security_headers(console: Console, nurse: Callable[[], TestClient]) -> None:
    client = nurse()
    page = client.get("/flags")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    cookie = next(c for c in client.cookies.jar if c.name == sessions.COOKIE)
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.get_nonstandard_attr("SameSite") == "strict"


def test_session_cookie_is_secure_when_the_console_is_https(
    console: Console, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    from bot.console.app import create_app

    monkeypatch.setenv("CONSOLE_PUBLIC_URL", "https://console.clinic.example")
    app = create_app(database_url)
    console.account("rn.https")
    client = TestClient(app, base_url="https://console.clinic.example", follow_redirects=False)
    sign_in(client, "rn.https")
    assert [c.secure for c in client.cookies.jar if c.name == sessions.COOKIE] == [True]


def test_wrong_password_is_refused_and_logged(console: Console) -> None:
    console.account("rn.kim")
    client = console.client()
    token = FORM_TOKEN.search(client.get("/signin").text)
    assert token
    response = client.post(
        "/signin", data={"name": "rn.kim", "password": "wrong password!", "form_token": token.group(1)}
    )
    assert response.status_code == 401
    assert client.get("/flags").status_code == 303
    assert [e.action for e in audit.entries(console.url)][:1] == ["sign_in_failed"]


def test_sign_in_form_without_its_token_is_refused(console: Console) -> None:
    console.account("rn.kim")
    client = console.client()
    client.get("/signin")
    response = client.post("/signin", data={"name": "rn.kim", "password": PASSWORD, "form_token": "0" * 64})
    assert response.status_code == 403
    assert sessions.COOKIE not in client.cookies


def test_lock_out_after_repeated_failures_even_with_the_right_password(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSOLE_MAX_FAILURES", "3")
    console.account("rn.kim")
    client = console.client()
    for _ in range(3):
        token = FORM_TOKEN.search(client.get("/signin").text)
        assert token
        client.post("/signin", data={"name": "rn.kim", "password": "not it at all", "form_token": token.group(1)})
    token = FORM_TOKEN.search(client.get("/signin").text)
    assert token
    response = client.post("/signin", data={"name": "rn.kim", "password": PASSWORD, "form_token": token.group(1)})
    assert response.status_code == 401 and "locked" in response.text
    assert "sign_in_locked" in [e.action for e in audit.entries(console.url)]


def test_first_sign_in_must_change_the_one_time_password(console: Console) -> None:
    from bot.console import staff

    _made, one_time = staff.add("rn.new", "nurse", console.url)
    client = console.client()
    sign_in(client, "rn.new", one_time)
    assert client.get("/flags").headers["location"] == "/password"
    token = csrf(client, "/password")
    response = client.post(
        "/password", data={"csrf_token": token, "current": one_time, "new": PASSWORD, "again": PASSWORD}
    )
    assert response.status_code == 303
    assert client.get("/flags").status_code == 200


def test_form_posts_without_the_csrf_token_are_refused(console: Console, nurse: Callable[[], TestClient]) -> None:
    flag_id = flags.add("conv-1", "rest", "callback", "please call me", url=console.url)
    client = nurse()
    assert client.post(f"/flags/{flag_id}/resolve", data={"note": "called"}).status_code == 403
    assert client.post(f"/flags/{flag_id}/resolve", data={"note": "called", "csrf_token": "f" * 64}).status_code == 403
    assert [f.id for f in flags.open_flags(console.url)] == [flag_id]


def test_flags_emergencies_first_and_resolve_with_a_note(console: Console, nurse: Callable[[], TestClient]) -> None:
    callback = flags.add("conv-1", "rest", "callback", "please call me", url=console.url)
    emergency = flags.add("conv-2", "sms", "emergency", "cant breathe", detail="breathing", url=console.url)
    client = nurse()
    page = client.get("/flags").text
    assert page.index(f"#{emergency}") < page.index(f"#{callback}")
    rows = client.get("/flags/rows")
    assert rows.headers["x-newest-emergency"] == str(emergency)
    token = csrf(client)
    assert client.post(f"/flags/{emergency}/resolve", data={"csrf_token": token, "note": ""}).status_code == 400
    done = client.post(f"/flags/{emergency}/resolve", data={"csrf_token": token, "note": "Called 911 with patient"})
    assert done.status_code == 303
    assert [f.id for f in flags.open_flags(console.url)] == [callback]
    resolution = [f for f in flags.all_rows(console.url) if f.resolves_id == emergency]
    assert resolution[0].actor == "rn.lee" and resolution[0].message == "Called 911 with patient"
    assert "resolve" in [e.action for e in audit.entries(console.url)]
    resolved = client.get("/flags?status=resolved").text
    assert f"#{emergency}" in resolved and "Called 911 with patient" in resolved and f"#{callback}" not in resolved
    every = client.get("/flags?status=all").text
    assert every.index(f"#{emergency}") < every.index(f"#{callback}")  # newest first
    assert f"#{emergency}" not in client.get("/flags").text
    assert client.get("/flags?kind=nonsense").status_code == 400


def test_records_list_page_print_and_exports(console: Console, nurse: Callable[[], TestClient]) -> None:
    record = append_record(console.url)
    client = nurse()
    listing = client.get("/records")
    assert f"/records/{record.id}" in listing.text
    page = client.get(f"/records/{record.id}")
    assert page.status_code == 200 and "Record chain verified" in page.text
    assert client.get(f"/records/{record.id}/print").text.startswith("<!doctype html>")
    bundle = json.loads(client.get(f"/records/{record.id}/fhir.json").text)
    assert bundle["resourceType"] == "Bundle"
    rows = list(csv.reader(io.StringIO(client.get("/records.csv").text)))
    assert len(rows) == 2
    assert client.get("/records/999").status_code == 404
    actions = [(e.action, e.target) for e in audit.entries(console.url)]
    assert ("export", f"/records/{record.id}/fhir.json") in actions and ("export", "/records.csv") in actions
    assert ("view", f"/records/{record.id}") in actions


def test_admin_pages_are_for_admins(console: Console, nurse: Callable[[], TestClient]) -> None:
    client = nurse()
    assert client.get("/staff").status_code == 403
    assert client.get("/audit").status_code == 403
    console.account("admin.ana", role="admin")
    boss = sign_in(console.client(), "admin.ana")
    token = csrf(boss, "/staff")
    made = boss.post("/staff", data={"csrf_token": token, "name": "rn.sam", "role": "nurse"})
    assert made.status_code == 200 and 'id="one-time"' in made.text
    assert "staff_added" in [e.action for e in audit.entries(console.url)]
    assert "rn.sam" in boss.get("/audit").text or boss.get("/audit").status_code == 200


def test_sign_out_ends_the_session_for_real(console: Console, nurse: Callable[[], TestClient]) -> None:
    client = nurse()
    cookie = client.cookies[sessions.COOKIE]
    token = csrf(client)
    assert client.post("/signout", data={"csrf_token": token}).status_code == 303
    replay = console.client()
    replay.cookies.set(sessions.COOKIE, cookie)
    assert replay.get("/flags").status_code == 303
