"""The access log: rows added for each action, newest first, addresses kept only as digests."""

from __future__ import annotations

import pytest

from bot.console import audit
from tests.console.conftest import Console


def test_entries_newest_first_with_a_digest_of_the_address(console: Console) -> None:
    audit.write("rn.lee", "sign_in", "/signin", "203.0.113.9", console.url)
    audit.write("rn.lee", "view", "/records/1", "203.0.113.9", console.url)
    audit.write("rn.kim", "export", "/records.csv", None, console.url)
    entries = audit.entries(console.url)
    assert [(e.staff, e.action) for e in entries] == [("rn.kim", "export"), ("rn.lee", "view"), ("rn.lee", "sign_in")]
    assert entries[1].source and "203.0.113.9" not in entries[1].source
    assert [e.action for e in audit.entries(console.url, staff_name="rn.lee")] == ["view", "sign_in"]


def test_unknown_actions_are_refused(console: Console) -> None:
    with pytest.raises(ValueError):
        audit.write("rn.lee", "delete", "/records/1", None, console.url)
