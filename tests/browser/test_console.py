"""The care-team console in Chromium, against the real assistant: a nurse's whole round, and WCAG 2.1 AA by axe-core.

A REST message raises an emergency; the nurse, already on the flags page, sees it arrive without
reloading, opens its conversation, resolves it, prints and exports a consent record, looks at the
dashboard and signs out. Every step leaves its row in the access log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from bot.console import audit, migrate, staff
from bot.console.app import create_app
from bot.records import consent_store, flags
from devtools.launch import Running
from tests.helpers.conversations import decided, new_sender
from tests.helpers.servers import asgi_server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "a long passphrase for the ward"


@dataclass(frozen=True)
class ConsoleServer:
    url: str
    database_url: str


@pytest.fixture(scope="module")
def console_server(assistant: Running) -> Iterator[ConsoleServer]:
    """The console on a free port, on the running assistant's database and tracker store."""
    migrate.upgrade(assistant.database_url)
    app = create_app(assistant.database_url, tracker_url=f"sqlite:///{assistant.workdir / 'tracker.db'}")
    with asgi_server(app) as url:
        yield ConsoleServer(url, assistant.database_url)


def accessible(page: Page, name: str) -> None:
    """No WCAG 2.0/2.1 A or AA violation on the page (axe-core), and a screenshot for the README."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"), full_page=True)
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run scripts/install-browser.sh (make test does)")
    page.evaluate(AXE.read_text(encoding="utf-8"))  # not a <script> tag: the console's CSP allows none inline
    result = page.evaluate(
        "async () => (await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', "
        "'wcag21aa']}})).violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
    )
    assert result == [], f"{name}: {result}"


def sign_in(page: Page, base: str, name: str, password: str) -> None:
    page.goto(f"{base}/flags")
    expect(page).to_have_url(f"{base}/signin?next=%2Fflags")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_nurses_round(
    assistant: Running, console_server: ConsoleServer, new_context: Callable[..., BrowserContext]
) -> None:
    base, url = console_server.url, console_server.database_url
    account, one_time = staff.add(f"rn.{new_sender()[-6:]}", "nurse", url)
    context = new_context(viewport={"width": 1024, "height": 768})  # a tablet
    page = context.new_page()

    # The sign-in page, then the one-time password changed before anything else.
    page.goto(f"{base}/signin")
    accessible(page, "signin")
    sign_in(page, base, account.name, one_time)
    expect(page).to_have_url(f"{base}/password")
    page.get_by_label("Current password").fill(one_time)
    page.get_by_label("New password (at least").fill(PASSWORD)
    page.get_by_label("New password again").fill(PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page).to_have_url(f"{base}/flags")
    page.get_by_role("button", name="Turn sound on").click()

    # An emergency arrives over REST while the page is open: it appears without a reload.
    sender = new_sender()
    assistant.say(sender, "my husband collapsed and he is not breathing")
    row = page.locator("tr.kind-emergency", has_text=sender[:18])
    expect(row).to_be_visible(timeout=20_000)
    expect(page.locator("#alarm")).to_be_visible()
    accessible(page, "flags")

    # Its conversation as the patient saw it, then the flag resolved with a note.
    row.get_by_role("link", name=sender[:18]).click()
    expect(page.locator(".timeline")).to_contain_text("not breathing")
    accessible(page, "conversation")
    flag_id = next(f.id for f in flags.open_flags(url) if f.conversation_id == sender and f.kind == "emergency")
    page.goto(f"{base}/flags/{flag_id}")
    page.get_by_label("What was done").fill("Called the patient's wife; ambulance on the way")
    page.get_by_role("button", name=f"Resolve flag #{flag_id}").click()
    expect(page).to_have_url(f"{base}/flags")
    assert flag_id not in [f.id for f in flags.open_flags(url)]

    # A consent record: the list, the record with the chain's check, its printable page, FHIR and CSV.
    patient = decided(assistant)
    page.goto(f"{base}/records")
    accessible(page, "records")
    record = consent_store.latest(patient, url)
    assert record is not None
    page.get_by_role("link", name=f"#{record.id}", exact=True).click()
    expect(page.locator("h1")).to_have_text(f"Consent record #{record.id}")
    expect(page.locator("#chain")).to_contain_text("Record chain verified")
    accessible(page, "record")
    with context.expect_page() as printed:
        page.get_by_role("link", name="Printable page").click()
    expect(printed.value.locator("h1")).to_contain_text("pre-consent record")
    with page.expect_download() as fhir_download:
        page.get_by_role("link", name="FHIR R4 (Consent + QuestionnaireResponse)").click()
    bundle = json.loads(Path(fhir_download.value.path()).read_text())
    assert bundle["resourceType"] == "Bundle"
    assert {entry["resource"]["resourceType"] for entry in bundle["entry"]} == {"Consent", "QuestionnaireResponse"}
    page.goto(f"{base}/records")
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Download the list as CSV").click()
    assert Path(csv_download.value.path()).read_text().count("\n") >= 2

    # Inviting a patient (tests/browser/test_invitation.py sends one; here the page itself).
    page.goto(f"{base}/invitations")
    expect(page.get_by_label("Patient reference (from the chart)")).to_be_visible()
    accessible(page, "invitations")

    # The dashboard's charts.
    page.goto(f"{base}/insight")
    expect(page.locator("svg.chart").first).to_be_visible()
    accessible(page, "insight")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base}/signin")
    page.goto(f"{base}/records")
    expect(page).to_have_url(f"{base}/signin?next=%2Frecords")

    actions = [(e.action, e.target) for e in audit.entries(url, staff_name=account.name)]
    done = {action for action, _ in actions}
    assert {"sign_in", "password_changed", "view", "resolve", "export", "sign_out"} <= done
    assert ("resolve", f"flag {flag_id}") in actions
    assert ("view", f"/conversations/{sender}") in actions


def test_the_admin_pages_are_accessible_and_record_what_admins_do(
    console_server: ConsoleServer, new_context: Callable[..., BrowserContext]
) -> None:
    base, url = console_server.url, console_server.database_url
    admin, one_time = staff.add(f"admin.{new_sender()[-6:]}", "admin", url)
    page = new_context().new_page()
    sign_in(page, base, admin.name, one_time)
    accessible(page, "password")
    page.get_by_label("Current password").fill(one_time)
    page.get_by_label("New password (at least").fill(PASSWORD)
    page.get_by_label("New password again").fill(PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.goto(f"{base}/staff")
    page.get_by_label("Name").fill(f"rn.new{new_sender()[-4:]}")
    page.get_by_role("button", name="Add account").click()
    expect(page.locator("#one-time")).to_be_visible()
    accessible(page, "staff")
    page.goto(f"{base}/audit")
    expect(page.locator("tbody")).to_contain_text("staff_added")
    accessible(page, "audit")
