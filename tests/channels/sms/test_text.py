"""The SMS channel's pure text rules: keywords, plain text, numbered choices, splitting, ids."""

from __future__ import annotations

import re

import pytest

from bot import content
from bot.channels.sms.text import (
    MAX_SMS_CHARS,
    Choice,
    Keyword,
    bounded_body,
    conversation_id,
    keyword,
    log_excerpt,
    mask_number,
    match_choice,
    normalize_number,
    plain_text,
    render_buttons,
    render_turn,
    sms_length,
    sms_replies,
    sms_reply,
    split_numbered,
    split_text,
)

YES_NO = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("STOP", Keyword.STOP),
        ("stop", Keyword.STOP),
        (" Stop. ", Keyword.STOP),
        ("STOPALL", Keyword.STOP),
        ("Unsubscribe", Keyword.STOP),
        ("cancel", Keyword.STOP),
        ("END", Keyword.STOP),
        ("quit!", Keyword.STOP),
        ("START", Keyword.START),
        ("unstop", Keyword.START),
        ("Help", Keyword.HELP),
        ("help?", None),
        ("please stop", None),
        ("don't stop my medication", None),
        ("stop stop", None),
        ("", None),
        ("helpful", None),
    ],
)
def test_keywords_only_alone_and_in_any_case(body: str, expected: Keyword | None) -> None:
    assert keyword(body) is expected


def test_help_names_clinic_phone_and_how_to_opt_out() -> None:
    text = sms_reply("help")
    assert content.clinic().name in text
    assert content.clinic().phone in text
    assert "STOP" in text
    assert sms_length(text) <= 160 * 2


@pytest.mark.parametrize(
    ("name", "must_say"),
    [
        ("stop", ["{clinic_name}", "START"]),
        ("start", ["{clinic_name}", "STOP"]),
        ("help", ["{clinic_name}", "{clinic_phone}", "STOP", "START"]),
        ("invite", ["{clinic_name}", "HELP", "STOP"]),
        ("rate_limited", ["{emergency_number}"]),
    ],
)
def test_keyword_replies_keep_the_carrier_rules(name: str, must_say: list[str]) -> None:
    """US carriers (CTIA): name the sender, say how to opt out (and in); HELP also how to reach a person."""
    written = content.sms_texts()[name]
    for part in must_say:
        assert part in written, f"content/sms.yml '{name}' lacks {part}"
    shown = sms_reply(name)
    assert "{" not in shown and sms_length(shown) <= 160 * 2


def test_sms_texts_have_no_typographic_characters() -> None:
    """A curly quote in content/sms.yml would switch the whole text to the costly UCS-2 encoding."""
    for name in ("stop", "start", "help", "invite", "error", "no_text", "rate_limited"):
        assert sms_reply(name).isascii(), name


def test_the_channels_own_replies_are_one_message_at_usual_lengths() -> None:
    for name in ("stop", "start", "help", "error", "no_text", "rate_limited"):
        assert sms_replies(name) == [sms_reply(name)], name


def test_an_overlong_body_is_cut_at_a_word_within_the_limit() -> None:
    short = "How long does it take?"
    assert bounded_body(short) == (short, False)
    exact = "x" * MAX_SMS_CHARS
    assert bounded_body(exact) == (exact, False)
    text, cut = bounded_body("help me " * 1000)
    assert cut and sms_length(text) <= MAX_SMS_CHARS and text.endswith("me")
    emoji, cut = bounded_body("\U0001f600" * 1000)
    assert cut and sms_length(emoji) <= MAX_SMS_CHARS, "counted as Twilio counts: an emoji is two"


def test_a_log_excerpt_is_bounded_and_shows_no_phone_number() -> None:
    excerpt = log_excerpt("Call me back at +1 555 010 0123 please, " + "more words " * 500)
    assert len(excerpt) <= 43 and excerpt.endswith("...")
    assert "555" not in excerpt and not any(character.isdigit() for character in excerpt)


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("**Bold** and __strong__", "Bold and strong"),
        (
            "*it* and _it_ but snake_case_name stays",
            "it and it but snake_case_name stays",
        ),
        (
            "See [our page](https://example.org/a_b).",
            "See our page (https://example.org/a_b).",
        ),
        ("[https://example.org](https://example.org)", "https://example.org"),
        ("Mail <mailto:desk@example.org>", "Mail desk@example.org"),
        (
            '<a href="https://example.org/x">the form</a>',
            "the form (https://example.org/x)",
        ),
        ("<b>Note:</b> fast<br>before", "Note: fast\nbefore"),
        ("<ul><li>one</li><li>two</li></ul>", "- one\n- two"),
        ("# Heading\n* item\n+ other", "Heading\n- item\n- other"),
        ("2 < 3 & 4 > 1", "2 < 3 & 4 > 1"),
        ("Fees &amp; costs", "Fees & costs"),
        ("It\u2019s \u201cfine\u201d \u2013 really\u2026", 'It\'s "fine" - really...'),
        ("bell\x07 and nul\x00 gone", "bell and nul gone"),
        ("a\n\n\n\nb", "a\n\nb"),
    ],
)
def test_plain_text_has_no_markup_and_writes_links_out(raw: str, plain: str) -> None:
    assert plain_text(raw) == plain


def test_buttons_become_one_numbered_text_without_payloads() -> None:
    text, choices = render_buttons("Do you agree?", YES_NO)
    assert text == "Do you agree?\nReply 1 for Yes, 2 for No."
    assert "/affirm" not in text and "/deny" not in text
    assert choices == [Choice("Yes", "/affirm"), Choice("No", "/deny")]


def test_link_buttons_are_written_out_not_numbered() -> None:
    text, choices = render_buttons(
        "More:",
        [
            {
                "title": "Read the leaflet",
                "url": "https://example.org/leaflet",
                "type": "web_url",
            },
            {"title": "Done", "payload": "/done"},
        ],
    )
    assert "Read the leaflet (https://example.org/leaflet)" in text
    assert "Reply 1 for Done." in text
    assert choices == [Choice("Done", "/done")]


@pytest.mark.parametrize(
    ("body", "payload"),
    [
        ("1", "/affirm"),
        ("1.", "/affirm"),
        (" 2 ", "/deny"),
        ("2)", "/deny"),
        ("#1", "/affirm"),
        ("yes", "/affirm"),
        ("NO!", "/deny"),
        ("3", None),
        ("0", None),
        ("12", None),
        ("yes please, and when?", None),
        ("1 more question", None),
    ],
)
def test_numbered_or_titled_reply_maps_to_payload(body: str, payload: str | None) -> None:
    picked = match_choice(body, [Choice("Yes", "/affirm"), Choice("No", "/deny")])
    assert (picked.payload if picked else None) == payload


def test_nothing_matches_when_nothing_was_offered() -> None:
    assert match_choice("1", []) is None


def _sentences(count: int) -> str:
    return " ".join(f"Sentence number {i} explains one more thing about the injection." for i in range(count))


def test_short_text_is_one_message() -> None:
    assert split_numbered("Short answer.") == ["Short answer."]
    assert split_numbered("   ") == []


def test_long_text_is_split_at_sentence_ends_within_the_limit() -> None:
    text = _sentences(80)
    pieces = split_text(text)
    assert len(pieces) > 1
    assert all(sms_length(piece) <= MAX_SMS_CHARS for piece in pieces)
    assert all(piece.endswith("injection.") for piece in pieces)
    assert " ".join(pieces) == text


def test_numbered_pieces_stay_within_the_limit_and_say_their_order() -> None:
    pieces = split_numbered(_sentences(80))
    total = len(pieces)
    assert total > 1
    for index, piece in enumerate(pieces, start=1):
        assert sms_length(piece) <= MAX_SMS_CHARS
        assert piece.endswith(f"injection. ({index}/{total})")


def test_paragraph_ends_are_cut_points_too() -> None:
    text = ("Intro line without a full stop\n" + "word " * 30).strip()
    assert split_text(text, limit=60)[0] == "Intro line without a full stop"


def test_a_sentence_longer_than_the_limit_is_cut_between_words() -> None:
    text = "word " * 500
    pieces = split_text(text, limit=100)
    assert all(len(piece) <= 100 for piece in pieces)
    assert all(re.fullmatch(r"(word ?)+", piece) for piece in pieces)


def test_a_word_longer_than_the_limit_is_cut_anyway() -> None:
    pieces = split_text("https://example.org/" + "x" * 250, limit=100)
    assert [len(piece) for piece in pieces] == [100, 100, 70]


def test_emoji_count_double_as_twilio_counts_them() -> None:
    assert sms_length("ok \U0001f600") == 5
    pieces = split_text("\U0001f600" * 1000)
    assert all(sms_length(piece) <= MAX_SMS_CHARS for piece in pieces)


def test_a_turn_joins_responses_and_numbers_all_buttons_once() -> None:
    bodies, choices = render_turn(
        [
            {"recipient_id": "x", "text": "**Hello.**"},
            {"recipient_id": "x", "text": "Agree?", "buttons": YES_NO},
            {
                "recipient_id": "x",
                "text": "Or:",
                "buttons": [{"title": "Call me", "payload": "/call"}],
            },
            {"recipient_id": "x", "image": "https://example.org/map.png"},
            {"recipient_id": "x", "custom": {"widget": "only"}},
        ]
    )
    expected = (
        "Hello.\n\nAgree?\nReply 1 for Yes, 2 for No.\n\nOr:\nReply 3 for Call me.\n\nhttps://example.org/map.png"
    )
    assert bodies == [expected]
    assert [choice.payload for choice in choices] == ["/affirm", "/deny", "/call"]


def test_a_silent_turn_has_no_bodies() -> None:
    assert render_turn([]) == ([], [])


def test_conversation_id_is_stable_secret_and_hides_the_number() -> None:
    first = conversation_id("+15550100123", "secret")
    assert first == conversation_id("+1 (555) 010-0123", "secret")
    assert first != conversation_id("+15550100124", "secret")
    assert first != conversation_id("+15550100123", "other secret")
    assert first != conversation_id("whatsapp:+15550100123", "secret")
    assert first.startswith("sms-") and "5550100123" not in first


@pytest.mark.parametrize("bad", ["5550100", "+0123456789", "call me", "+1555"])
def test_numbers_must_be_international(bad: str) -> None:
    with pytest.raises(ValueError):
        normalize_number(bad)


def test_numbers_are_normalized_and_masked() -> None:
    assert normalize_number(" +1 555-010-0123 ") == "+15550100123"
    assert normalize_number("0044 20 7946 0000") == "+442079460000"
    assert mask_number("+15550100123") == "*********23"
