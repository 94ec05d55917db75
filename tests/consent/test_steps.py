"""The consent steps alone, without Rasa: what is asked next, what an answer does, what is said, flagged, recorded."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bot import content
from bot.consent import steps
from bot.consent.record import CandidacyAnswer, ConsentPayload, TeachbackResult
from bot.content.consent import parse_content

QUESTIONS = content.consent_content()
TEACHBACK = content.teachback_content()
POINTS = TEACHBACK.points
IDS = [q.id for q in QUESTIONS.questions]


def answered_until(question_id: str) -> dict[str, Any]:
    return {qid: {"answer": "x"} for qid in IDS[: IDS.index(question_id)]}


def names(replies: tuple[steps.Reply, ...]) -> list[str]:
    return [reply.name for reply in replies]


def test_reply_of_a_message_is_named_and_filled_in() -> None:
    reply = steps.message("decision_summary", None, answered=3, flagged=1, understood=2, review=0)
    assert reply == steps.Reply(
        "decision_summary", content.message("decision_summary", answered=3, flagged=1, understood=2, review=0).text
    )
    assert steps.message("welcome_back").buttons == content.message("welcome_back").buttons
    assert steps.message("welcome_back", buttons=[]).buttons == ()


# --- Step 1: candidacy questions ---------------------------------------------------------------


def test_the_next_question_is_numbered_and_has_its_choices_as_buttons() -> None:
    question = QUESTIONS.question("purpose")
    reply = steps.candidacy_question(QUESTIONS, {})
    assert reply == steps.Reply(
        "candidacy:purpose",
        f"(1 of {len(IDS)}) {question.text}",
        tuple({"title": o.title, "payload": o.title} for o in question.options),
    )
    later = steps.candidacy_question(QUESTIONS, answered_until("severity"))
    assert later is not None and later.text.startswith(f"({IDS.index('severity') + 1} of {len(IDS)}) ")
    assert later.buttons == ()  # a number: no buttons
    assert steps.candidacy_question(QUESTIONS, {qid: {} for qid in IDS}) is None


def test_an_answer_is_stored_with_what_was_said() -> None:
    step = steps.answer_candidacy(QUESTIONS, {}, "Muscle spasms")
    assert step is not None and step.accepted and step.structured and not step.done
    assert step.answers == {
        "purpose": {
            "question": QUESTIONS.question("purpose").text,
            "answer": "spasticity",
            "said": "Muscle spasms",
            "flagged": False,
            "flag_note": "",
            "how": "button",
        }
    }
    assert step.outcome == steps.Outcome()
    typed = steps.answer_candidacy(QUESTIONS, {}, "spasms, the muscles are so tight")
    assert typed is not None and typed.answers["purpose"]["how"] == "typed"


def test_a_hedged_answer_is_confirmed_with_the_patients_words_before_anything_is_recorded() -> None:
    answers = answered_until("blood_thinners")
    said = "probably not, though I do take aspirin now and then"
    step = steps.answer_candidacy(QUESTIONS, answers, said)
    assert step is not None and not step.accepted and step.answers == answers
    assert step.pending == {"question": "blood_thinners", "said": said, "reason": "mixed"}
    asked = steps.candidacy_question(QUESTIONS, answers, step.pending)
    assert asked is not None and asked.name == "candidacy:blood_thinners:confirm"
    assert said in asked.text and [b["title"] for b in asked.buttons] == ["Yes", "No", "Not sure"]
    confirmed = steps.answer_candidacy(QUESTIONS, answers, "Yes", step.pending)
    assert confirmed is not None and confirmed.accepted and confirmed.pending is None
    stored = confirmed.answers["blood_thinners"]
    assert (stored["answer"], stored["how"], stored["said"]) == ("yes", "confirmed", f"{said} / Yes")
    assert [flag.kind for flag in confirmed.outcome.flags] == ["candidacy"]


def test_an_answer_still_unclear_after_confirming_is_recorded_as_unclear_for_the_care_team() -> None:
    answers = answered_until("infection")
    pending = {"question": "infection", "said": "I don't think so", "reason": "hedged"}
    step = steps.answer_candidacy(QUESTIONS, answers, "probably not but idk", pending)
    assert step is not None and step.accepted
    stored = step.answers["infection"]
    assert stored["answer"] == "unclear" and stored["flagged"] and stored["how"] == "confirmed"
    assert stored["said"] == "I don't think so / probably not but idk"


def test_a_question_back_while_confirming_keeps_the_answer_waiting() -> None:
    answers = answered_until("allergies")
    pending = {"question": "allergies", "said": "not that I know of", "reason": "hedged"}
    step = steps.answer_candidacy(QUESTIONS, answers, "hmm", pending)
    assert step is not None and not step.accepted and step.pending == pending
    assert names(step.outcome.replies) == ["candidacy:allergies:hint"]


def test_an_unusable_answer_is_asked_again_with_the_question_hint() -> None:
    answers = answered_until("severity")
    step = steps.answer_candidacy(QUESTIONS, answers, "14")
    assert step is not None and not step.accepted and not step.structured
    assert step.answers == answers
    assert step.outcome.replies == (steps.Reply("candidacy:severity:hint", QUESTIONS.question("severity").hint),)


def test_a_flagged_answer_asks_for_a_care_team_flag_and_says_nothing() -> None:
    step = steps.answer_candidacy(QUESTIONS, answered_until("blood_thinners"), "yes, eliquis")
    assert step is not None and step.answers["blood_thinners"]["flagged"]
    assert step.answers["blood_thinners"]["flag_note"] == "takes a blood thinner"
    assert step.outcome == steps.Outcome(
        flags=(steps.FlagRequest("candidacy", "takes a blood thinner: yes, eliquis", "blood_thinners"),)
    )


def test_free_text_is_never_structured_so_a_question_can_be_answered_first() -> None:
    step = steps.answer_candidacy(QUESTIONS, answered_until("condition"), "how long does it take?")
    assert step is not None and step.accepted and not step.structured


def test_the_last_answer_finishes_the_step_and_then_nothing_is_pending() -> None:
    step = steps.answer_candidacy(QUESTIONS, answered_until("other_health"), "no")
    assert step is not None and step.done
    assert steps.answer_candidacy(QUESTIONS, step.answers, "no") is None


# --- Step 2: the understanding check -----------------------------------------------------------


def test_the_current_point_is_the_first_without_a_result() -> None:
    first, second = POINTS[0], POINTS[1]
    assert steps.teachback_point(POINTS, {}) == first
    assert steps.teachback_point(POINTS, {first.id: {"result": None}}) == first
    assert steps.teachback_point(POINTS, {first.id: {"result": "review"}}) == second
    assert steps.teachback_point(POINTS, {p.id: {"result": "understood"} for p in POINTS}) is None


def test_the_teachback_question_is_open_with_only_not_sure_and_explain_again() -> None:
    point = POINTS[1]
    reply = steps.teachback_question(TEACHBACK, {POINTS[0].id: {"result": "understood"}})
    assert reply == steps.Reply(
        f"teachback:{point.id}:question",
        f"(2 of {len(POINTS)}) {point.question}",
        steps.choice_buttons(TEACHBACK.open_buttons),
    )
    assert not set(point.choices) & {b["title"] for b in reply.buttons}, "the answer is never a button at first"


def test_a_right_answer_in_own_words_is_understood() -> None:
    point = POINTS[0]
    step = steps.judge_teachback(TEACHBACK, {}, point, "it blocks the pain signals", understood=True)
    assert step.results == {
        point.id: {
            "summary": point.summary,
            "answers": ["it blocks the pain signals"],
            "attempts": 1,
            "result": "understood",
            "how": "own_words",
        }
    }
    assert names(step.outcome.replies) == ["teachback_right"] and not step.outcome.flags and not step.done


def test_a_miss_is_explained_again_then_the_choices_come_then_the_care_team() -> None:
    point = POINTS[0]
    first = steps.judge_teachback(TEACHBACK, {}, point, "no idea", understood=False)
    assert first.outcome.replies == (steps.Reply(f"teachback:{point.id}:again", point.explain_again),)
    assert first.results[point.id]["result"] is None
    asked = steps.teachback_question(TEACHBACK, first.results)
    assert asked is not None and asked.name == f"teachback:{point.id}:question"
    second = steps.judge_teachback(TEACHBACK, first.results, point, "still not sure", understood=False)
    assert names(second.outcome.replies) == ["teachback_try_choices"] and second.results[point.id]["result"] is None
    choices = steps.teachback_question(TEACHBACK, second.results)
    assert choices is not None and choices.name == f"teachback:{point.id}:choices"
    assert [b["title"] for b in choices.buttons] == list(point.choices)
    wrong = next(choice for choice in point.choices if choice != point.right_choice)
    third = steps.judge_teachback(TEACHBACK, second.results, point, wrong, understood=True)
    assert third.results[point.id] == {
        "summary": point.summary,
        "answers": ["no idea", "still not sure", wrong],
        "attempts": 3,
        "result": "review",
        "how": "missed",
    }
    assert names(third.outcome.replies) == ["teachback_review"]
    assert third.outcome.flags == (
        steps.FlagRequest("teachback", f"go over: {point.summary}", f"no idea / still not sure / {wrong}"),
    )


def test_the_right_choice_after_two_misses_is_understood_as_chosen() -> None:
    point = POINTS[0]
    results = {point.id: {"summary": point.summary, "answers": ["a", "b"], "attempts": 2, "result": None}}
    step = steps.judge_teachback(TEACHBACK, results, point, point.right_choice, understood=False)
    assert (step.results[point.id]["result"], step.results[point.id]["how"]) == ("understood", "chosen")


def test_pressing_im_not_sure_is_never_an_answer_even_if_judged_right() -> None:
    point = POINTS[0]
    step = steps.judge_teachback(TEACHBACK, {}, point, TEACHBACK.open_buttons[0], understood=True)
    assert step.results[point.id]["result"] is None and names(step.outcome.replies) == [f"teachback:{point.id}:again"]


def test_a_point_without_choices_goes_to_the_care_team_after_two_misses() -> None:
    point = dataclasses.replace(POINTS[0], choices=(), right_choice="", choice_question="")
    first = steps.judge_teachback(TEACHBACK, {}, point, "no idea", understood=False)
    second = steps.judge_teachback(TEACHBACK, first.results, point, "hmm", understood=False)
    assert (second.results[point.id]["result"], second.results[point.id]["how"]) == ("review", "missed")


def test_the_saved_summary_counts_what_is_recorded_and_names_the_choice() -> None:
    assert names(steps.saved_summary(QUESTIONS, POINTS, {}, {}, None)) == ["saved_nothing"]
    answers = {"purpose": {"flagged": False}, "blood_thinners": {"flagged": True}}
    so_far = steps.saved_summary(QUESTIONS, POINTS, answers, {}, None)
    assert names(so_far) == ["saved_so_far"] and f"2 of {len(IDS)}" in so_far[0].text
    decided = steps.saved_summary(QUESTIONS, POINTS, answers, {}, QUESTIONS.decisions[0])
    assert names(decided) == ["saved_so_far", "saved_decision"]
    assert QUESTIONS.decisions[0].record_title in decided[1].text


def test_the_last_point_finishes_the_check() -> None:
    results = {
        p.id: {"summary": p.summary, "answers": ["a"], "attempts": 1, "result": "understood"} for p in POINTS[:-1]
    }
    step = steps.judge_teachback(TEACHBACK, results, POINTS[-1], "right", understood=True)
    assert step.done


# --- Step 3: the decision and its record -------------------------------------------------------


def test_the_decision_summary_counts_answers_flags_and_points() -> None:
    answers = {"a": {"flagged": True}, "b": {"flagged": False}}
    results = {"p": {"result": "understood"}, "q": {"result": "review"}}
    assert steps.decision_counts(answers, results) == {"answered": 2, "flagged": 1, "understood": 1, "review": 1}
    summary, ask = steps.decision_question(QUESTIONS.decisions, answers, results)
    assert (summary.name, ask.name) == ("decision_summary", "ask_decision")
    assert ask.buttons == steps.choice_buttons(d.title for d in QUESTIONS.decisions)


def test_the_record_payload_follows_the_clinic_order_and_names_the_topics_asked() -> None:
    answers = {
        "severity": {"question": "s?", "answer": "7", "said": "7", "flagged": False, "flag_note": ""},
        "purpose": {"question": "p?", "answer": "pain", "said": "Pain", "flagged": False, "flag_note": ""},
    }
    results = {
        POINTS[1].id: {"summary": "b", "answers": ["x"], "attempts": 1, "result": "understood"},
        POINTS[0].id: {"summary": "a", "answers": ["y", "z"], "attempts": 2, "result": "review"},
    }
    events = [
        {"event": "user", "parse_data": {"intent": {"name": "ask_cure"}}},
        {"event": "bot", "metadata": {"utter_action": "utter_ask_cure"}},
        {"event": "user", "parse_data": {"intent": {"name": "greet"}}},
        {"event": "bot", "metadata": {"utter_action": "utter_greet"}},
        {"event": "user", "parse_data": {"intent": {"name": "ask_duration"}}},
        {"event": "bot", "metadata": {"utter_action": "utter_ask_duration"}},
    ]
    payload = steps.record_payload(QUESTIONS, POINTS, answers, results, "go_ahead", events, content.topics().titles, 4)
    assert payload == ConsentPayload(
        candidacy=(
            CandidacyAnswer("purpose", "p?", "pain", "Pain", False, ""),
            CandidacyAnswer("severity", "s?", "7", "7", False, ""),
        ),
        teachback=(
            TeachbackResult(POINTS[0].id, "a", ("y", "z"), 2, "review"),
            TeachbackResult(POINTS[1].id, "b", ("x",), 1, "understood"),
        ),
        decision="go_ahead",
        topics_asked=("ask_cure", "ask_duration"),
        supersedes=4,
        language="en",  # the language composed in: a Spanish conversation's record says "es"
    )


def test_what_the_steps_store_in_slots_is_what_the_record_holds() -> None:
    """The slots written by the steps read back into the record without loss."""
    candidacy = steps.answer_candidacy(QUESTIONS, {}, "Pain")
    teachback = steps.judge_teachback(TEACHBACK, {}, POINTS[0], "it blocks pain", understood=True)
    assert candidacy is not None
    payload = steps.record_payload(QUESTIONS, POINTS, candidacy.answers, teachback.results, "decline", [], [], None)
    assert payload.candidacy[0].to_json() == {"id": "purpose", **candidacy.answers["purpose"]}
    assert payload.teachback[0].to_json() == {"id": POINTS[0].id, **teachback.results[POINTS[0].id]}


@pytest.mark.parametrize("decision", QUESTIONS.decisions, ids=[d.value for d in QUESTIONS.decisions])
def test_a_recorded_decision_is_confirmed_and_flagged_as_the_content_says(decision: Any) -> None:
    outcome = steps.recorded(decision, 12)
    assert names(outcome.replies) == [f"recorded_{decision.value}"]
    expected = (steps.FlagRequest("decision", decision.flag_note, "record #12"),) if decision.flag_note else ()
    assert outcome.flags == expected


def test_talking_to_the_doctor_first_is_flagged_for_the_care_team() -> None:
    decision = QUESTIONS.decision("talk_to_doctor")
    assert decision is not None
    assert [(flag.kind, flag.detail) for flag in steps.recorded(decision, 3).flags] == [("decision", "record #3")]


def test_a_clinic_decision_without_a_flag_raises_none() -> None:
    raw = {
        "yes_no": [{"value": "yes", "title": "Yes"}],
        "candidacy": [{"id": "q", "text": "?", "type": "yes_no"}],
        "decisions": [{"value": "go_ahead", "title": "Go ahead", "record_title": "Wants to go ahead"}],
    }
    [decision] = parse_content(raw).decisions
    assert steps.recorded(decision, 1).flags == ()
