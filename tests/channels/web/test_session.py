"""The website socket's security rules, without Rasa or a server."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from bot import content
from bot.channels.web import session as web_session
from bot.channels.web.session import (
    OriginPolicy,
    PatientTokenVerifier,
    SessionKeys,
    TokenError,
    WidgetConfigError,
    check_message,
    history_from_events,
    normalize_origin,
    page_origin,
)

SECRET = "s" * 64
NOW = 1_800_000_000


# --- origins -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.clinic.org", "https://www.clinic.org"),
        ("HTTPS://WWW.Clinic.org/", "https://www.clinic.org"),
        ("https://www.clinic.org:443", "https://www.clinic.org"),
        ("http://localhost:5005", "http://localhost:5005"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_origins_are_normalized(raw: str, expected: str) -> None:
    assert normalize_origin(raw) == expected


@pytest.mark.parametrize(
    "bad", ["*", "https://*.clinic.org", "null", "file:///tmp/x.html", "https://clinic.org/chat", "clinic.org"]
)
def test_loose_origin_entries_stop_the_server(bad: str) -> None:
    with pytest.raises(WidgetConfigError):
        OriginPolicy.from_lists([bad])


def test_an_empty_origin_list_stops_the_server() -> None:
    with pytest.raises(WidgetConfigError, match="no allowed origins"):
        OriginPolicy.from_lists([], web_session.origins_from_env(""))


def test_only_listed_origins_are_allowed() -> None:
    policy = OriginPolicy.from_lists(["https://www.clinic.org"], web_session.origins_from_env("http://127.0.0.1:9000"))
    assert policy.allows("https://www.clinic.org")
    assert policy.allows("https://WWW.clinic.org:443")
    assert policy.allows("http://127.0.0.1:9000")
    assert not policy.allows("https://evil.example")
    assert not policy.allows("http://www.clinic.org")  # scheme matters
    assert not policy.allows("https://www.clinic.org.evil.example")
    assert not policy.allows("null")
    assert not policy.allows(None)
    assert not policy.allows("")


def test_env_origins_accept_commas_and_spaces() -> None:
    assert web_session.origins_from_env("http://a.test, http://b.test  http://c.test") == [
        "http://a.test",
        "http://b.test",
        "http://c.test",
    ]


def test_page_origin_prefers_the_origin_header() -> None:
    environ = {"HTTP_ORIGIN": "https://evil.example", "HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_HOST": "chat.test"}
    assert page_origin(environ) == "https://evil.example"


def test_same_origin_polling_without_origin_header_uses_the_host() -> None:
    environ = {"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_HOST": "localhost:5005", "wsgi.url_scheme": "http"}
    assert page_origin(environ) == "http://localhost:5005"


def test_no_origin_and_no_same_origin_marker_means_unknown() -> None:
    assert page_origin({"HTTP_HOST": "localhost:5005"}) is None
    assert page_origin({"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_HOST": "localhost:5005"}) is None


# --- patient tokens ------------------------------------------------------------------


def token(subject: object = "patient-a", expires_in: int = 600, key: str = SECRET, **claims: object) -> str:
    payload = {"sub": subject, "exp": int(time.time()) + expires_in, **claims}
    return jwt.encode(payload, key, algorithm="HS256")


def test_a_valid_token_names_its_patient() -> None:
    claims = PatientTokenVerifier(SECRET).verify(token("A123"))
    assert claims.subject == "A123"
    assert claims.expires_at > time.time()


@pytest.mark.parametrize(
    ("bad_token", "reason"),
    [
        (token(key="x" * 40), "invalid_token"),
        (token(expires_in=-3600), "token_expired"),
        (jwt.encode({"sub": "a"}, SECRET, algorithm="HS256"), "invalid_token"),  # no exp
        (jwt.encode({"exp": int(time.time()) + 60}, SECRET, algorithm="HS256"), "invalid_token"),  # no sub
        (token(subject="a b<script>"), "invalid_token"),
        (token(subject=42), "invalid_token"),
        (jwt.encode({"sub": "a", "exp": int(time.time()) + 60}, SECRET, algorithm="HS512"), "invalid_token"),
        ("not-a-jwt", "invalid_token"),
        ("", "invalid_token"),
        (None, "invalid_token"),
    ],
)
def test_bad_tokens_are_refused(bad_token: object, reason: str) -> None:
    with pytest.raises(TokenError) as error:
        PatientTokenVerifier(SECRET).verify(bad_token)
    assert error.value.reason == reason


def test_unsigned_tokens_are_refused() -> None:
    unsigned = jwt.encode({"sub": "a", "exp": int(time.time()) + 60}, None, algorithm="none")  # type: ignore[arg-type]
    with pytest.raises(TokenError):
        PatientTokenVerifier(SECRET).verify(unsigned)


def test_audience_and_issuer_are_checked_when_configured() -> None:
    verifier = PatientTokenVerifier(SECRET, audience="clinic-chat", issuer="portal")
    assert verifier.verify(token(aud="clinic-chat", iss="portal")).subject == "patient-a"
    with pytest.raises(TokenError):
        verifier.verify(token(aud="other", iss="portal"))
    with pytest.raises(TokenError):
        verifier.verify(token(aud="clinic-chat", iss="someone-else"))


def test_short_secrets_are_refused() -> None:
    with pytest.raises(WidgetConfigError, match="at least 32"):
        web_session.check_secret("short", "WIDGET_JWT_SECRET")


# --- session keys -----------------------------------------------------------------------


def test_issued_ids_are_random_and_unguessable() -> None:
    keys = SessionKeys(b"k" * 32)
    first, second = keys.issue(None, NOW), keys.issue(None, NOW)
    assert first.sender_id != second.sender_id
    assert first.sender_id.startswith("web-") and len(first.sender_id) == len("web-") + 32
    assert not first.resumed


def test_a_key_resumes_its_own_conversation() -> None:
    keys = SessionKeys(b"k" * 32)
    issued = keys.issue(None, NOW)
    resumed = keys.resume(issued.key, None, NOW + 60)
    assert resumed is not None and resumed.sender_id == issued.sender_id and resumed.resumed


def test_client_chosen_ids_are_not_accepted() -> None:
    keys = SessionKeys(b"k" * 32)
    issued = keys.issue(None, NOW)
    nonce = issued.sender_id.removeprefix("web-")
    forged = [
        "+15550100199",  # an SMS conversation id
        issued.sender_id,  # the Rasa id without the signature
        nonce,
        f"v1.{nonce}.{NOW}.AAAA",
        f"v1.{'0' * 32}.{NOW}.{issued.key.split('.')[3]}",  # a signature moved to another id
        issued.key.replace(f".{NOW}.", f".{NOW + 1}."),  # a changed issue time
        None,
        123,
        "x" * 500,
    ]
    for key in forged:
        assert keys.resume(key, None, NOW) is None, key


def test_keys_from_another_server_secret_are_not_accepted() -> None:
    issued = SessionKeys(b"a" * 32).issue(None, NOW)
    assert SessionKeys(b"b" * 32).resume(issued.key, None, NOW) is None


def test_a_patients_key_only_works_with_that_patients_token() -> None:
    keys = SessionKeys(b"k" * 32)
    patient_a = keys.issue("A", NOW)
    assert patient_a.sender_id.startswith("patient-A-")
    assert keys.resume(patient_a.key, "A", NOW) is not None
    assert keys.resume(patient_a.key, "B", NOW) is None
    assert keys.resume(patient_a.key, None, NOW) is None
    anonymous = keys.issue(None, NOW)
    assert keys.resume(anonymous.key, "B", NOW) is None


def test_old_keys_expire() -> None:
    keys = SessionKeys(b"k" * 32, max_age=3600)
    issued = keys.issue(None, NOW)
    assert keys.resume(issued.key, None, NOW + 3599) is not None
    assert keys.resume(issued.key, None, NOW + 3601) is None
    future = keys.issue(None, NOW + 7200)
    assert keys.resume(future.key, None, NOW) is None


def test_session_secret_sources() -> None:
    explicit, source = web_session.session_secret({"WIDGET_SESSION_SECRET": "e" * 32})
    assert explicit == b"e" * 32 and source == "WIDGET_SESSION_SECRET"
    derived, source = web_session.session_secret({"WIDGET_JWT_SECRET": SECRET})
    assert derived != SECRET.encode() and "derived" in source
    assert web_session.session_secret({"WIDGET_JWT_SECRET": SECRET})[0] == derived
    random_one, source = web_session.session_secret({})
    assert random_one != web_session.session_secret({})[0] and "random" in source
    with pytest.raises(WidgetConfigError):
        web_session.session_secret({"WIDGET_SESSION_SECRET": "short"})


def test_production_mode_needs_a_real_session_secret() -> None:
    from bot.settings import SettingsError

    for env in ({"ASSISTANT_ENV": "production"}, {"ASSISTANT_ENV": "production", "WIDGET_SESSION_SECRET": "short"}):
        with pytest.raises(SettingsError, match="WIDGET_SESSION_SECRET"):
            web_session.session_secret(env)
    key, source = web_session.session_secret({"ASSISTANT_ENV": "production", "WIDGET_SESSION_SECRET": "e" * 40})
    assert key == b"e" * 40 and source == "WIDGET_SESSION_SECRET"


# --- messages ------------------------------------------------------------------------------


def test_normal_messages_pass() -> None:
    assert check_message("how long does it take") is None
    assert check_message("x" * 2000) is None
    assert check_message("  " + "x" * 2000 + "\n") is None


@pytest.mark.parametrize("empty", ["", "   ", "\n\t"])
def test_empty_messages_get_a_clear_reply(empty: str) -> None:
    assert check_message(empty) == content.web_text("replies.empty")


def test_oversized_messages_get_a_clear_reply() -> None:
    reply = check_message("x" * 2001)
    assert reply == content.web_text("replies.too_long", count="2,001", limit="2,000")
    assert "2,001" in reply and "2,000" in reply


@pytest.mark.parametrize("odd", [None, 42, ["a"], {"text": "a"}])
def test_non_text_messages_get_a_reply(odd: object) -> None:
    assert check_message(odd) == content.web_text("replies.unreadable")


# --- history ---------------------------------------------------------------------------------

BUTTONS = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]


def test_history_shows_turns_and_button_titles() -> None:
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_session_start"},
        {"event": "session_started"},
        {"event": "user", "text": "/greet"},
        {"event": "bot", "text": "Hello!\n\nReady to start?", "data": {"buttons": BUTTONS}},
        {"event": "user", "text": "/affirm"},
        {"event": "bot", "text": "Great."},
        {"event": "user", "text": "how long does it take"},
        {"event": "bot", "text": "Less than an hour.", "data": {"buttons": None}},
    ]
    assert history_from_events(events) == [
        {"sender": "bot", "text": "Hello!"},
        {"sender": "bot", "text": "Ready to start?"},
        {"sender": "user", "text": "Yes"},
        {"sender": "bot", "text": "Great."},
        {"sender": "user", "text": "how long does it take"},
        {"sender": "bot", "text": "Less than an hour."},
    ]


def test_unanswered_buttons_stay_clickable() -> None:
    events: list[dict[str, Any]] = [
        {"event": "user", "text": "hi"},
        {"event": "bot", "text": "Continue?", "data": {"buttons": BUTTONS}},
        {"event": "bot", "text": "Take your time."},
    ]
    history = history_from_events(events)
    assert history[1]["quick_replies"] == BUTTONS
    assert "quick_replies" not in history[2]


def test_restart_clears_history() -> None:
    events = [
        {"event": "user", "text": "old question"},
        {"event": "bot", "text": "old answer"},
        {"event": "restart"},
        {"event": "user", "text": "new question"},
    ]
    assert history_from_events(events) == [{"sender": "user", "text": "new question"}]


def test_history_is_bounded() -> None:
    events = [{"event": "user", "text": f"message {i}"} for i in range(500)]
    history = history_from_events(events, limit=50)
    assert len(history) == 50 and history[-1]["text"] == "message 499"


def test_tokens_are_rechecked_for_expiry_on_each_message() -> None:
    assert not web_session.token_expired(None, NOW)
    assert not web_session.token_expired(NOW + 10, NOW)
    assert not web_session.token_expired(NOW - 10, NOW, leeway_seconds=30)
    assert web_session.token_expired(NOW - 31, NOW, leeway_seconds=30)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_conversation_is_slowed_down_and_others_are_not() -> None:
    clock = Clock()
    limits = web_session.MessageLimits(conversation_messages=15, address_messages=100, window_seconds=30, clock=clock)
    assert all(limits.allow("web-a", "198.51.100.7") for _ in range(15))
    assert not limits.allow("web-a", "198.51.100.7")
    assert limits.allow("web-b", "198.51.100.7"), "another conversation from the same address goes on"
    clock.now = 30
    assert limits.allow("web-a", "198.51.100.7"), "the oldest messages have left the window"


def test_one_address_opening_conversation_after_conversation_is_slowed_down() -> None:
    clock = Clock()
    limits = web_session.MessageLimits(conversation_messages=15, address_messages=20, window_seconds=30, clock=clock)
    # A script that starts a new conversation for every message gets past a per-conversation limit...
    assert all(limits.allow(f"web-{n}", "203.0.113.9") for n in range(20))
    # ... but not past the per-address one; other addresses are not affected.
    assert not limits.allow("web-20", "203.0.113.9")
    assert limits.allow("web-21", "198.51.100.7")


def test_a_conversation_over_its_limit_does_not_use_up_its_address() -> None:
    limits = web_session.MessageLimits(conversation_messages=1, address_messages=3, window_seconds=30, clock=Clock())
    assert limits.allow("web-loop", "203.0.113.9")
    for _ in range(10):
        assert not limits.allow("web-loop", "203.0.113.9")
    assert limits.allow("web-other", "203.0.113.9") and limits.allow("web-third", "203.0.113.9")


def test_the_web_channel_uses_the_projects_one_rate_limiter() -> None:
    from bot.channels.limits import RateLimiter

    limits = web_session.MessageLimits()
    assert isinstance(limits.conversations, RateLimiter) and isinstance(limits.addresses, RateLimiter)
    assert not hasattr(web_session, "within_rate")


@pytest.mark.parametrize(("conversation", "address", "window"), [(0, 10, 30), (10, 0, 30), (10, 10, 0)])
def test_limits_that_would_refuse_everyone_stop_the_server(conversation: int, address: int, window: float) -> None:
    with pytest.raises(WidgetConfigError):
        web_session.MessageLimits(conversation, address, window)


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("198.51.100.7", None, "198.51.100.7"),
        # A client reaching the server directly cannot pick its address with a header.
        ("198.51.100.7", "10.0.0.1", "198.51.100.7"),
        # Through the project's nginx on this machine: the address nginx saw (the last entry).
        ("127.0.0.1", "10.9.9.9, 203.0.113.9", "203.0.113.9"),
        ("::1", "203.0.113.9", "203.0.113.9"),
        # This machine itself (tests, the load benchmark): no address limit, as for REST.
        ("127.0.0.1", None, None),
        ("::ffff:127.0.0.1", "", None),
        (None, None, "unknown"),
    ],
)
def test_the_client_address_for_rate_limits(peer: str | None, forwarded: str | None, expected: str | None) -> None:
    assert web_session.client_address(peer, forwarded) == expected


def test_this_machine_has_no_address_limit_but_its_conversations_do() -> None:
    limits = web_session.MessageLimits(conversation_messages=2, address_messages=1, window_seconds=30, clock=Clock())
    assert all(limits.allow(f"web-{n}", None) for n in range(10))
    assert limits.allow("web-x", None) and limits.allow("web-x", None)
    assert not limits.allow("web-x", None)


# --- frames too large to parse ----------------------------------------------------------------


def test_a_frame_within_the_limit_is_left_alone() -> None:
    frame = '42["user_uttered",{"message":"hi"}]'
    assert web_session.bound_frame(frame, 100, "user_uttered") is frame


def test_an_oversized_message_frame_keeps_its_event_and_ack_and_only_its_length() -> None:
    frame = '4217["user_uttered",{"message":"' + "x" * 100_000 + '","client_id":"abcdefgh12"}]'
    bounded = web_session.bound_frame(frame, 16_384, "user_uttered")
    assert bounded == f'4217["user_uttered",{{"frame_chars":{len(frame)}}}]'
    namespaced = '42/chat,5["user_uttered",{"message":"' + "x" * 20_000 + '"}]'
    assert str(web_session.bound_frame(namespaced, 16_384, "user_uttered")).startswith('42/chat,5["user_uttered",')


@pytest.mark.parametrize(
    "frame",
    [
        '42["session_request",{"session_key":"' + "k" * 20_000 + '"}]',  # another event
        "4" + "x" * 20_000,  # not an event at all
        b"\x00" * 20_000,  # a binary frame
    ],
)
def test_other_oversized_frames_are_dropped_without_closing_the_socket(frame: str | bytes) -> None:
    assert web_session.bound_frame(frame, 16_384, "user_uttered") == "6"  # Engine.IO's no-op


def test_a_polling_body_bounds_each_packet() -> None:
    small = '42["user_uttered",{"message":"hi"}]'
    large = '421["user_uttered",{"message":"' + "x" * 20_000 + '"}]'
    body = f"{small}\x1e{large}".encode()
    packets = web_session.bound_payload(body, 16_384, "user_uttered").decode().split("\x1e")
    assert packets[0] == small
    assert packets[1] == f'421["user_uttered",{{"frame_chars":{len(large)}}}]'


def test_a_bounded_frame_gets_the_over_long_reply() -> None:
    assert check_message(None, 2000, frame_chars=100_026) == content.web_text(
        "replies.too_long", count="100,026", limit="2,000"
    )
    # A client claiming a small frame_chars gets nothing from it.
    assert check_message("hello", 2000, frame_chars=5) is None
