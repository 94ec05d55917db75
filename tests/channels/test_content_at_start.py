"""A typo in content/ stops the servers at start: both channels and the action server check all content first."""

from __future__ import annotations

import ast
from typing import Any

import pytest

from bot import content
from bot.settings import PROJECT_ROOT


def broken_content() -> str:
    raise content.ContentError("content/sms.yml: 'help' is missing")


@pytest.mark.parametrize("channel", ["web", "sms"])
def test_each_channel_checks_every_content_file_when_rasa_builds_it(
    channel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.channels.sms.channel import SmsInput
    from bot.channels.web.channel import SecureSocketIOInput

    monkeypatch.setattr(content, "check", broken_content)
    channels: dict[str, Any] = {"web": SecureSocketIOInput, "sms": SmsInput}
    build = channels[channel].from_credentials
    with pytest.raises(content.ContentError, match=r"sms\.yml: 'help' is missing"):
        build({})


def test_the_action_server_checks_every_content_file_before_anything_else() -> None:
    tree = ast.parse((PROJECT_ROOT / "actions" / "__init__.py").read_text())
    code = [node for node in tree.body if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    first, second = (ast.unparse(node) for node in code[:2])
    assert (first, second) == ("from bot import content", "content.check()")
