"""A widget message sent again after a reconnect is answered once: the server-side bookkeeping."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.web.delivery import ReceivedMessages, client_id_of, received_ids_from_events

ID = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"message": "hi", "client_id": ID}, ID),
        ({"message": "hi", "client_id": "a1B2-c3_D4"}, "a1B2-c3_D4"),
        ({"message": "hi"}, None),  # a client without ids (Rasa's webchat, a script)
        ({"message": "hi", "client_id": "short"}, None),
        ({"message": "hi", "client_id": "x" * 65}, None),
        ({"message": "hi", "client_id": "web-../../etc"}, None),
        ({"message": "hi", "client_id": 12345678}, None),
        ("not a dict", None),
        (None, None),
    ],
)
def test_client_ids_are_short_random_tokens_or_ignored(data: Any, expected: str | None) -> None:
    assert client_id_of(data) == expected


def test_a_message_sent_again_is_recognised_while_running_and_after() -> None:
    received = ReceivedMessages()
    assert received.receive("web-a", ID) == "new"
    assert received.receive("web-a", ID) == "in_flight", "resent while the assistant is still answering"
    received.finish("web-a", ID)
    assert received.receive("web-a", ID) == "done", "resent after the answer was lost on the way"


def test_ids_are_per_conversation() -> None:
    received = ReceivedMessages()
    assert received.receive("web-a", ID) == "new"
    # A message that never reached its old conversation may go to a new one (start over, expired key).
    assert received.receive("web-b", ID) == "new"


def test_ids_from_the_tracker_count_as_answered() -> None:
    """After a restart (or on another server) the conversation's history says what it already holds."""
    received = ReceivedMessages()
    received.remember("web-a", [ID, "fedcba9876543210"])
    assert received.receive("web-a", ID) == "done"
    assert received.receive("web-a", "fedcba9876543210") == "done"
    assert received.receive("web-a", "aaaaaaaaaaaaaaaa") == "new"


def test_remembering_does_not_end_a_running_turn_early() -> None:
    received = ReceivedMessages()
    received.receive("web-a", ID)
    received.remember("web-a", [])
    assert received.receive("web-a", ID) == "in_flight"


def test_memory_is_bounded_per_conversation_and_in_conversations() -> None:
    received = ReceivedMessages(per_conversation=3, conversations=2)
    for number in range(5):
        received.receive("web-a", f"message-{number:04d}")
    assert received.receive("web-a", "message-0004") == "in_flight"
    assert received.receive("web-a", "message-0000") == "new", "the oldest ids are forgotten first"
    received.receive("web-b", ID)
    received.receive("web-c", ID)  # a third conversation: the least recently active (web-a) goes
    assert received.receive("web-a", "message-0004") == "new"
    assert received.receive("web-c", ID) == "in_flight"


def test_received_ids_come_from_user_messages_metadata() -> None:
    events: list[dict[str, Any]] = [
        {"event": "user", "text": "/greet", "metadata": {"channel": "web", "client_id": "greet00000000001"}},
        {"event": "bot", "text": "Hello!", "metadata": {"client_id": "not-a-user-event"}},
        {"event": "user", "text": "hi", "metadata": {"channel": "web"}},  # an old message without an id
        {"event": "user", "text": "how long", "metadata": {"client_id": ID}},
        {"event": "user", "text": "odd", "metadata": "not a dict"},
        {"event": "restart"},
        {"event": "user", "text": "after a restart", "metadata": {"client_id": "after0000restart"}},
    ]
    assert received_ids_from_events(events) == ["greet00000000001", ID, "after0000restart"]
    assert received_ids_from_events(events, limit=1) == ["after0000restart"]
