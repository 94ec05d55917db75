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
    assert result.status == candidacy.ASK_AGAIN and "0 to 10" in result.hint


@pytest.mark.parametrize(
    ("text", "value"),
    [("7", "7"), ("about a 7/10", "7"), ("seven", "7"), ("0", "0"), ("8 out of ten", "8"), ("9.", "9")],
)
def test_severity_in_words_or_digits(text: str, value: str) -> None:
    assert (answer("severity", text).status, answer("severity", text).value) == (candidacy.RECORD, value)


@pytest.mark.parametrize("text", ["maybe a 4? it comes and goes", "8am works for me", "lost 10 pounds since march"])
def test_a_guessed_number_or_one_about_something_else_is_not_recorded(text: str) -> None:
    assert answer("severity", text).status != candidacy.RECORD


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
    assert (result.status, result.value, result.flagged) == (candidacy.RECORD, value, flagged)


def test_choices_by_button_title_or_own_words() -> None:
    assert answer("purpose", "Muscle spasms").value == "spasticity"
    assert answer("purpose", "my legs are so stiff").value == "spasticity"
    assert answer("purpose", "both").value == "both"
    assert answer("purpose", "purple").status != candidacy.RECORD
    assert answer("purpose", "hmm").status == candidacy.ASK_AGAIN


def test_a_choice_that_covers_the_others_said_is_that_choice() -> None:
    assert answer("purpose", "both, the pain and the spasms").value == "both"


@pytest.mark.parametrize(
    ("question", "text", "reason"),
    [
        ("blood_thinners", "probably not, though I do take aspirin now and then", "mixed"),
        ("blood_thinners", "not that I know of", "hedged"),
        ("blood_thinners", "I don't think so, I take ibuprofen", "mixed"),
        ("infection", "I don't believe so", "hedged"),
        ("treatments_helped", "they barely helped", "hedged"),
        ("treatments_helped", "none of them helped my spasms", "mixed"),
        ("purpose", "pain mostly but some spasms", "mixed"),
        ("blood_thinners", "I take fish oil and turmeric, does that count?", "question"),
        ("allergies", "no, lidocaine at the dentist never bothered me", "says_more"),
        ("blood_thinners", "Yes I got the prep instructions", "says_more"),
        ("blood_thinners", "only a baby asa", "no_choice"),
    ],
)
def test_hedged_mixed_or_unrelated_answers_are_confirmed_not_recorded(question: str, text: str, reason: str) -> None:
    result = answer(question, text)
    assert (result.status, result.reason) == (candidacy.CONFIRM, reason)


@pytest.mark.parametrize(
    ("question", "text"),
    [
        ("blood_thinners", "Rhizotomy blocks nerve signals that carry pain; it does not repair the spine."),
        ("bleeding", "I have my appointment next week"),
        ("bleeding", "I have a blood draw on Friday for my sugar"),
        ("purpose", "Pain management office rang to move me to Monday"),
    ],
)
def test_a_pasted_or_unrelated_sentence_with_not_in_it_is_never_a_no(question: str, text: str) -> None:
    assert answer(question, text).status != candidacy.RECORD


@pytest.mark.parametrize(
    ("question", "text", "value"),
    [
        ("blood_thinners", "no I dont take any blood thinners", "no"),
        ("allergies", "not allergic to anything", "no"),
        ("infection", "no fever no infection", "no"),
        ("bleeding", "never had a bleeding problem", "no"),
        ("pregnancy", "I'm a man", "not_applicable"),
        ("treatments_helped", "nothing helped", "no"),
        ("treatments_helped", "didn't help at all", "no"),
    ],
)
def test_clear_answers_in_the_patients_words_are_recorded_at_once(question: str, text: str, value: str) -> None:
    result = answer(question, text)
    assert (result.status, result.value, result.flagged) == (candidacy.RECORD, value, False)


def test_a_choice_set_off_first_keeps_its_details() -> None:
    result = answer("purpose", "Spasms - at night they wake me up")
    assert (result.status, result.value) == (candidacy.RECORD, "spasticity")
    assert "night" in result.extra


def test_names_beside_a_clear_answer_are_kept_and_flagged() -> None:
    result = answer("blood_thinners", "yes eliquis 5mg twice a day")
    assert (result.status, result.value, result.flagged) == (candidacy.RECORD, "yes", True)
    assert "5mg" in result.extra


def test_a_button_tap_is_told_from_typing() -> None:
    question = CONTENT.question("infection")
    assert candidacy.how_given(question, "No") == candidacy.BUTTON
    assert candidacy.how_given(question, "no fever") == candidacy.TYPED


def test_free_text_is_kept_and_dont_know_is_flagged() -> None:
    assert answer("condition", "MS for 12 years").value == "MS for 12 years"
    assert answer("condition", "no idea").flagged
    assert answer("other_health", "none").value == "none" and not answer("other_health", "none").flagged
    assert answer("other_health", "diabetes").flagged


def test_decision_words() -> None:
    assert candidacy.read_decision("Talk to my doctor first").value == "talk_to_doctor"
    assert candidacy.read_decision("yes let's go ahead").value == "go_ahead"
    assert candidacy.read_decision("no thanks").value == "decline"
    assert candidacy.read_decision("hmm") == candidacy.DecisionReading(None)


@pytest.mark.parametrize(
    "text",
    [
        "yes I think so, but I'm nervous",
        "go ahead I guess, my husband wants me to",
        "i'm scared but ok",
        "yes... no... i dont know",
        "probably go ahead",
    ],
)
def test_a_hedged_or_fearful_decision_is_never_recorded(text: str) -> None:
    assert candidacy.read_decision(text) == candidacy.DecisionReading(None, doubtful=True)


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
    result = candidacy.parse_answer(parsed.question("new"), "yes", (), parsed.reading)
    assert result.flagged and parsed.question("new").options[0].title == "Yes"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"candidacy": []}, "choices"),
        ({"yes_no": [{"value": "y", "title": "Y"}], "candidacy": [{"id": "x", "text": "?", "type": "essay"}]}, "type"),
        (
            {
                "yes_no": [{"value": "y", "title": "Y", "covers": ["maybe"]}],
                "candidacy": [{"id": "x", "text": "?", "type": "yes_no"}],
            },
            "covers",
        ),
        (
            {
                "yes_no": [{"value": "y", "title": "Y"}],
                "candidacy": [{"id": "x", "text": "?", "type": "yes_no"}],
                "decisions": [{"value": "go_ahead", "title": "Go ahead", "record_title": "Wants to go ahead"}],
                "reading": {"hedges": "probably"},
            },
            "hedges",
        ),
    ],
)
def test_bad_content_says_what_is_wrong(raw: dict, message: str) -> None:
    with pytest.raises(ContentError, match=message):
        parse_content(raw)
