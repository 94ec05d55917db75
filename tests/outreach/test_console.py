"""The console's Invitations page shows what became of each re-check reminder (bot/console/routes/invitations.py).

Kept here beside the outreach tests (tests/console/test_invitations.py belongs to another change); the console
fixtures are imported from tests/console/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from bot.channels.sms.store import SmsStore
from bot.channels.sms.twilio import SmsConfig
from bot.outreach import store
from tests.console.conftest import Console, console, nurse  # noqa: F401 (fixtures)
from tests.helpers.twilio import FakeTwilio
from tests.outreach.conftest import Turns, due_of, invite
from tests.outreach.test_runner import tick


def reminder_cells(client: TestClient) -> str:
    return client.get("/invitations").text


def test_the_reminder_column_follows_the_outreach_rows(
    console: Console,  # noqa: F811
    nurse: Callable[[], TestClient],  # noqa: F811
    sms_config: SmsConfig,
    fake_twilio: FakeTwilio,
) -> None:
    sent = invite(console.url, phone="+15550100101", ref="MRN-SENT")
    held = invite(console.url, phone="+15550100102", ref="MRN-STOP")
    invite(console.url, phone="+15550100103", ref="MRN-LATER", days_ahead=60)
    SmsStore(console.url).set_opted_out(held.conversation_id, True, "stop")
    client = nurse()
    assert "planned" in reminder_cells(client)
    moment = max(due_of(sent), due_of(held))
    results = {result.conversation_id: result.status for result in tick(Turns(), sms_config, moment, console.url)}
    assert results == {sent.conversation_id: store.SENT, held.conversation_id: store.OPTED_OUT}
    page = reminder_cells(client)
    assert "sent " in page and "not sent: opted out" in page and "planned" in page
    assert "+15550100101" not in page  # only the last two digits, as before
