"""The steps of a conversation read from its stored events: one test per kind, on events shaped as Rasa stores them."""

from __future__ import annotations

from typing import Any

from bot import content
from bot.consent import steps
from bot.records import milestones as ms
from bot.records import tracker_events
from bot.records.milestones import Milestone, milestones
from tests.helpers.tracker import Script, write_events

START = 1_790_000_000.0
QUESTIONS = [question.id for question in content.consent_content().questions]
POINTS = [point.id for point in content.teachback_points()]


def clear_candidacy(script: Script, skip: int = 0) -> Script:
    """A clear, unflagged answer to every pending candidacy question after the first ``skip``."""
    for question in content.consent_content().questions[skip:]:
        if question.options:
            value = "no" if any(o.value == "no" for o in question.options) else question.options[0].value
            title = next(o.title for o in question.options if o.value == value)
            script.answer(title, value, how="button")
        else:
            script.answer("7" if question.type == "scale" else "back pain", "7" if question.type == "scale" else "x")
    return script


def understood_all(script: Script) -> Script:
    for _ in POINTS:
        script.explain("in my own words", understood=True)
    return script


def of_kind(found: list[Milestone], kind: str) -> list[Milestone]:
    return [milestone for milestone in found if milestone.kind == kind]


def through_teachback() -> Script:
    return understood_all(
        clear_candidacy(Script(START).topic("how long does it take?", "ask_duration").start_consent())
    )


def test_a_whole_consent_read_back_from_rasas_own_store(database_url: str) -> None:
    script = through_teachback().decide("Go ahead", "go_ahead")
    write_events(database_url, "patient-1", script.events)
    stored = tracker_events.events("patient-1", database_url)
    assert [event.data for event in stored] == script.events  # Rasa stored them as given
    found = milestones(stored)
    kinds = [m.kind for m in found if m.kind != ms.QUESTION_ASKED]
    assert kinds == [
        ms.STARTED,
        ms.TOPIC_ASKED,
        ms.CONSENT_STARTED,
        *[ms.CANDIDACY_ANSWER] * len(QUESTIONS),
        ms.CANDIDACY_DONE,
        *[ms.TEACHBACK_POINT] * len(POINTS),
        ms.TEACHBACK_DONE,
        ms.DECISION,
    ]
    assert [m.at for m in found] == sorted(m.at for m in found)


def test_started_is_the_first_patient_message() -> None:
    script = Script(START).topic("what is it", "ask_what_is").topic("how long", "ask_duration")
    first_user = next(e for e in script.events if e["event"] == "user")
    assert of_kind(milestones(script.events), ms.STARTED) == [Milestone(ms.STARTED, first_user["timestamp"])]
    assert milestones(Script(START).events) == []  # a session started, nothing said


def test_consent_started_and_each_question_asked() -> None:
    found = milestones(through_teachback().events)
    assert len(of_kind(found, ms.CONSENT_STARTED)) == 1
    asked = of_kind(found, ms.QUESTION_ASKED)
    assert [m.question_id for m in asked if m.step == ms.CANDIDACY] == QUESTIONS
    assert [m.point_id for m in asked if m.step == ms.UNDERSTANDING] == POINTS
    assert [m.step for m in asked][-1] == ms.DECIDING


def test_a_candidacy_answer_keeps_its_value_how_it_came_and_its_flag() -> None:
    script = Script(START).start_consent()
    script.answer("Both", "both", how="button")
    script.answer("MS", "MS")
    script.unclear("maybe a 7?")
    script.answer("maybe a 7? / 7", "7", how="confirmed")
    script.answer("physical therapy", "physical therapy")
    script.answer("A little", "a_little", how="button")
    script.answer("Not sure", "dont_know", how="button", flag_note="takes a blood thinner")
    answers = of_kind(milestones(script.events), ms.CANDIDACY_ANSWER)
    assert [(m.question_id, m.answer, m.how) for m in answers] == [
        ("purpose", "both", "button"),
        ("condition", "MS", "typed"),
        ("severity", "7", "confirmed"),
        ("treatments_tried", "physical therapy", "typed"),
        ("treatments_helped", "a_little", "button"),
        ("blood_thinners", "dont_know", "button"),
    ]
    assert answers[2].text == "maybe a 7? / 7"
    assert answers[-1].flagged and answers[-1].detail == "takes a blood thinner"
    assert not any(m.flagged for m in answers[:-1])
    confirm = [m for m in of_kind(milestones(script.events), ms.QUESTION_ASKED) if m.question_id == "severity"]
    assert len(confirm) == 2  # asked, then asked again with the patient's words


def test_candidacy_done_once_after_the_last_answer_even_when_a_new_session_carries_the_slots() -> None:
    script = clear_candidacy(Script(START).start_consent())
    done_at = of_kind(milestones(script.events), ms.CANDIDACY_DONE)
    script.new_session().resume()
    found = milestones(script.events)
    assert of_kind(found, ms.CANDIDACY_DONE) == done_at and len(done_at) == 1
    last_answer = of_kind(found, ms.CANDIDACY_ANSWER)[-1]
    assert last_answer.question_id == QUESTIONS[-1]
    assert found.index(done_at[0]) > found.index(last_answer)  # stored in the same instant, read after the answer
    assert len(of_kind(found, ms.CANDIDACY_ANSWER)) == len(QUESTIONS)  # nothing counted twice
    assert len(of_kind(found, ms.CONSENT_STARTED)) == 1


def test_teachback_points_understood_chosen_and_missed() -> None:
    script = clear_candidacy(Script(START).start_consent())
    script.explain("it blocks pain signals from the nerve", understood=True)
    script.explain("I'm not sure", understood=False, intent="dont_know")
    script.explain("Explain again", understood=False, intent="frustration")
    script.explain("Soreness or numbness for a short time", understood=True, chosen=True)
    script.explain("no idea", understood=False)
    script.explain("no idea at all", understood=False)
    script.explain("Nerve damage that lasts", understood=False)
    points = of_kind(milestones(script.events), ms.TEACHBACK_POINT)
    assert [(m.point_id, m.result, m.how, m.attempts) for m in points] == [
        (POINTS[0], "understood", "own_words", 1),
        (POINTS[1], "understood", "chosen", 3),
        (POINTS[2], "review", "missed", 3),
    ]
    assert points[2].text == "no idea / no idea at all / Nerve damage that lasts"
    assert len(points[1].text) <= ms.EXCERPT_CHARS


def test_teachback_done_after_the_last_point() -> None:
    found = milestones(through_teachback().events)
    done = of_kind(found, ms.TEACHBACK_DONE)
    assert len(done) == 1 and found.index(done[0]) > found.index(of_kind(found, ms.TEACHBACK_POINT)[-1])
    half = clear_candidacy(Script(START).start_consent()).explain("it blocks the signals", understood=True)
    assert of_kind(milestones(half.events), ms.TEACHBACK_DONE) == []


def test_a_decision_and_a_change_of_mind_are_each_recorded_with_the_value_not_the_words() -> None:
    script = through_teachback().decide("Not go ahead", "decline").change_decision().decide("Go ahead", "go_ahead")
    decisions = of_kind(milestones(script.events), ms.DECISION)
    assert [m.decision for m in decisions] == ["decline", "go_ahead"]
    script.new_session().topic("is it safe", "ask_safety")  # "decided" carried over: no new decision
    assert len(of_kind(milestones(script.events), ms.DECISION)) == 2


def test_each_topic_answer_is_a_topic_asked() -> None:
    script = Script(START).topic("how long does it take?", "ask_duration").menu().topic("/ask_safety", "ask_safety")
    script.topic("how long again?", "ask_duration")
    assert [m.topic for m in of_kind(milestones(script.events), ms.TOPIC_ASKED)] == [
        "ask_duration",
        "ask_safety",
        "ask_duration",
    ]


def test_a_topic_answered_in_the_middle_of_a_step_counts() -> None:
    script = Script(START).start_consent()
    events: list[dict[str, Any]] = [
        *script.events,
        {**script.events[-2], "event": "bot", "text": "(answer)", "metadata": {"utter_action": "utter_ask_imaging"}},
    ]
    assert [m.topic for m in of_kind(milestones(events), ms.TOPIC_ASKED)] == ["ask_imaging"]


def test_a_message_not_understood_keeps_an_excerpt_and_the_closest_topic() -> None:
    long_text = "blorf " * 30
    script = Script(START).not_understood(
        long_text, [("insult", 0.2), ("ask_side_effects", 0.1), ("ask_imaging", 0.05)]
    )
    script.not_understood("zzz", [("goodbye", 0.3)])
    found = of_kind(milestones(script.events), ms.NOT_UNDERSTOOD)
    assert [m.topic for m in found] == ["ask_side_effects", ""]
    assert len(found[0].text) == ms.EXCERPT_CHARS and found[0].text.endswith("…") and found[0].text.startswith("blorf")
    user_times = [e["timestamp"] for e in script.events if e["event"] == "user"]
    assert [m.at for m in found] == user_times


def test_an_answer_the_classifier_did_not_know_is_not_a_message_not_understood() -> None:
    script = Script(START).start_consent().answer("Pain", "pain", how="button", intent="nlu_fallback")
    assert of_kind(milestones(script.events), ms.NOT_UNDERSTOOD) == []


def test_out_of_scope() -> None:
    found = of_kind(milestones(Script(START).out_of_scope("what's the weather").events), ms.OUT_OF_SCOPE)
    assert [(m.text, m.topic) for m in found] == [("what's the weather", "ask_what_is")]


def test_a_pause_and_its_resume_with_the_step() -> None:
    script = clear_candidacy(Script(START).start_consent()).explain("it blocks the signals", understood=True)
    script.pause().new_session().resume()
    found = milestones(script.events)
    pause, resume = of_kind(found, ms.PAUSE), of_kind(found, ms.RESUME)
    assert [(m.step) for m in pause] == [ms.UNDERSTANDING] and [m.step for m in resume] == [ms.UNDERSTANDING]
    assert resume[0].at - pause[0].at > 3600
    assert found.index(resume[0]) < found.index(of_kind(found, ms.QUESTION_ASKED)[-1])


def test_an_emergency_with_the_safety_nets_reading_and_whether_the_flag_was_written() -> None:
    script = Script(START).start_consent().emergency("I cant breathe", ["breathing"])
    script.emergency("my leg feels numb", ["weakness_numbness"], possible=True)
    events = script.events
    found = of_kind(milestones(events), ms.EMERGENCY)
    assert [(m.text, m.detail, m.flagged) for m in found] == [
        ("I cant breathe", "breathing", True),
        ("my leg feels numb", "possible emergency (unsure): weakness_numbness", True),
    ]
    unlogged = [e for e in events if (e.get("metadata") or {}).get("message_name") != "emergency_logged"]
    assert [m.flagged for m in of_kind(milestones(unlogged), ms.EMERGENCY)] == [False, False]


def test_handoffs_a_callback_and_a_medicine_question_passed_on() -> None:
    script = Script(START).callback("can I talk to a real person").callback("call me", written=False)
    script.medication("can I take my ibuprofen before the shot").medication("and my aspirin?", pass_on=False)
    found = of_kind(milestones(script.events), ms.HANDOFF)
    assert [(m.detail, m.flagged, m.text) for m in found] == [
        (ms.CALLBACK, True, "can I talk to a real person"),
        (ms.CALLBACK, False, "call me"),
        (ms.MEDICATION, True, "can I take my ibuprofen before the shot"),
    ]


def test_every_kind_is_listed_and_the_names_read_are_the_projects() -> None:
    assert ms.FORM_DONE == steps.DONE
    names = content.templates()
    for name in (
        ms.EMERGENCY_LOGGED,
        ms.CALLBACK_FAILED,
        ms.DECISION_ASKED,
        *ms.CALLBACK_WRITTEN,
        *ms.MEDICATION_PASSED_ON,
    ):
        assert name in names, name
    assert len(set(ms.KINDS)) == len(ms.KINDS)


def test_excerpt() -> None:
    assert ms.excerpt("  two\n lines ") == "two lines"
    assert ms.excerpt("x" * 100, 10) == "x" * 9 + "…"
