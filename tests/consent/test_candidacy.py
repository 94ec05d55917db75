"""Candidacy answers: validated, "I don't know" allowed and flagged, never judged as eligibility."""

from __future__ import annotations

import pytest

from bot import content
from bot.consent import candidacy
from bot.content import ContentError
from bot.content.consent import parse_content

CONTENT = content.consent_content()


def answer(question_id: str, text: str) -> candidacy.Answer:
    return candidacy.parse_answer(CONTENT.question(question_id), text, CONTENT.dont_know_words)


@pytest.mark.parametrize("text", ["14", "banana", "-3", "between 5 and 7", ""])
def test_severity_out_of_range_or_not_a_number_is_asked_again(text: str) -> None:
    result = answer("severity", text)
    assert not result.valid and "0 to 10" in result.hint


@pytest.mark.parametrize(("text", "value"), [("7", "7"), ("about a 7/10", "7"), ("seven", "7"), ("0", "0")])
def test_severity_in_words_or_digits(text: str, value: str) -> None:
    assert answer("severity", text).value == value


@pytest.mark.parametrize(
    ("text", "value", "flagged"),
    [
        ("yes", "yes", True),
        ("Yep, warfarin", "yes", True),
        ("no", "no", False),
        ("nope", "no", False),
        ("not sure", "dont_know", True),
        ("I don't know", "dont_know", True),
    ],
)
def test_safety_screen_yes_no_and_dont_know(text: str, value: str, flagged: bool) -> None:
    result = answer("blood_thinners", text)
    assert (result.valid, result.value, result.flagged) == (True, value, flagged)


def test_choices_by_button_title_or_own_words() -> None:
    assert answer("purpose", "Muscle spasms").value == "spasticity"
    assert answer("purpose", "my legs are so stiff").value == "spasticity"
    assert answer("purpose", "both").value == "both"
    assert not answer("purpose", "purple").valid


def test_free_text_is_kept_and_dont_know_is_flagged() -> None:
    assert answer("condition", "MS for 12 years").value == "MS for 12 years"
    assert answer("condition", "no idea").flagged
    assert answer("other_health", "none").value == "none" and not answer("other_health", "none").flagged
    assert answer("other_health", "diabetes").flagged


def test_decision_words() -> None:
    assert candidacy.pick_decision("Talk to my doctor first") == "talk_to_doctor"
    assert candidacy.pick_decision("yes let's go ahead") == "go_ahead"
    assert candidacy.pick_decision("no thanks") == "decline"
    assert candidacy.pick_decision("hmm") is None


def test_next_question_follows_the_clinic_order() -> None:
    first = CONTENT.questions[0]
    assert CONTENT.next_question({}) == first
    assert CONTENT.next_question({q.id: {} for q in CONTENT.questions}) is None


def test_a_question_is_added_by_editing_the_content_only() -> None:
    raw = {
        "yes_no": [{"value": "yes", "title": "Yes", "words": ["yes"]}, {"value": "no", "title": "No", "words": ["no"]}],
        "decisions": [{"value": "go_ahead", "title": "Go ahead", "record_title": "Wants to go ahead"}],
        "candidacy": [{"id": "new", "text": "Do you use a wheelchair?", "type": "yes_no", "flag_if": ["yes"]}],
    }
    parsed = parse_content(raw)
    result = candidacy.parse_answer(parsed.question("new"), "yes", ())
    assert result.flagged and parsed.question("new").options[0].title == "Yes"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"candidacy": []}, "choices"),
        ({"yes_no": [{"value": "y", "title": "Y"}], "candidacy": [{"id": "x", "text": "?", "type": "essay"}]}, "type"),
    ],
)
def test_bad_content_says_what_is_wrong(raw: dict, message: str) -> None:
    with pytest.raises(ContentError, match=message):
        parse_content(raw)
