"""The re-check before the visit alone, without Rasa: which points, what is said, flagged and kept."""

from __future__ import annotations

import dataclasses

from bot import content
from bot.consent import recheck
from bot.consent.record import CHOSEN, MISSED, OWN_WORDS, REVIEW, UNDERSTOOD, ConsentPayload, TeachbackResult
from bot.content.clinic import clinic

TEACHBACK = content.teachback_content()
POINTS = TEACHBACK.points
IDS = [point.id for point in POINTS]
# The exemption's "concise" (generally 160 characters) after the name, phone and STOP it also asks for:
# the reminder and its question in two concatenated segments of 153 characters at most.
SMS_LIMIT = 2 * 153


def payload(*results: TeachbackResult, decision: str = "go_ahead") -> ConsentPayload:
    return ConsentPayload((), tuple(results), decision, (), None)


def result(point_id: str, outcome: str = UNDERSTOOD, how: str = OWN_WORDS, attempts: int = 1) -> TeachbackResult:
    return TeachbackResult(point_id, point_id, ("said",), attempts, outcome, how)


def state(*answered: str, date: str = "2026-12-24") -> recheck.RecheckState:
    start = recheck.RecheckState("reminder:inv1", date, 7, "a" * 64, (IDS[0], IDS[1]))
    after = start
    for said in answered:
        after, _ = recheck.answer(after, TEACHBACK, said, said == "right")
    return after


def test_points_missed_or_chosen_come_first_then_content_order() -> None:
    record = payload(
        *(result(point_id) for point_id in IDS[:2]),
        result(IDS[3], REVIEW, MISSED, 3),
        result(IDS[2], UNDERSTOOD, CHOSEN, 3),
    )
    assert [point.id for point in recheck.pick_points(record, POINTS)] == [IDS[2], IDS[3]]


def test_points_explained_on_a_second_try_come_before_the_rest() -> None:
    record = payload(*(result(point_id) for point_id in IDS if point_id != IDS[4]), result(IDS[4], attempts=2))
    assert [point.id for point in recheck.pick_points(record, POINTS)] == [IDS[4], IDS[0]]


def test_a_record_with_every_point_right_asks_the_first_two() -> None:
    assert [point.id for point in recheck.pick_points(payload(), POINTS)] == IDS[:2]


def test_the_reminder_and_any_first_question_fit_one_text() -> None:
    reply, asks = recheck.opening("go_ahead", "2026-12-24")
    assert asks and reply.name == "recheck_reminder" and "Thu, Dec 24" in reply.text
    assert clinic().name in reply.text
    for point in POINTS:  # joined as the SMS channel joins one turn's messages (bot/channels/sms/text.py)
        first_text = f"{reply.text}\n\n{recheck.question(point).text}"
        assert len(first_text) <= SMS_LIMIT, (point.id, len(first_text))


def test_no_record_invites_to_finish_and_a_decline_gets_the_phone_without_questions() -> None:
    unfinished, asks = recheck.opening(None, "2026-12-24")
    assert unfinished.name == "recheck_no_record" and not asks
    declined, asks = recheck.opening("decline", "2026-12-24")
    assert declined.name == "recheck_declined" and not asks and clinic().phone in declined.text
    assert recheck.opening("go_ahead", "")[0].text.count(recheck.NO_DATE) == 1


def test_the_question_is_open_with_no_buttons() -> None:
    asked = recheck.question(POINTS[0])
    assert asked.name == f"recheck:{IDS[0]}:question" and asked.buttons == () and asked.text == POINTS[0].question


def test_a_right_answer_is_confirmed_and_not_flagged() -> None:
    entry, outcome = recheck.judge(POINTS[0], "it blocks the nerve signals", True)
    assert entry.understood and entry.answer == "it blocks the nerve signals"
    assert [reply.name for reply in outcome.replies] == ["recheck_right"] and outcome.flags == ()


def test_a_miss_is_explained_again_and_flagged_by_point_without_the_words() -> None:
    entry, outcome = recheck.judge(POINTS[1], "no idea really", False)
    assert not entry.understood and entry.question == POINTS[1].question
    assert [reply.name for reply in outcome.replies] == [f"teachback:{IDS[1]}:again"]
    assert outcome.replies[0].text == POINTS[1].explain_again
    (flag,) = outcome.flags
    assert flag.kind == "teachback" and POINTS[1].summary in flag.message and IDS[1] in flag.detail
    assert "no idea" not in flag.message + flag.detail


def test_answers_fill_the_points_in_order_and_the_state_round_trips() -> None:
    after = state("right")
    assert after.pending_point() == IDS[1] and [entry.point for entry in after.answers] == [IDS[0]]
    assert recheck.read_state(after.to_json()) == after
    assert recheck.read_state(None) is None and recheck.read_state({"reminder": "x"}) is None


def test_thanks_say_what_happens_next() -> None:
    assert [r.name for r in recheck.closing(state("right", "right"), TEACHBACK).replies] == ["recheck_thanks"]
    missed = recheck.closing(state("right", "wrong"), TEACHBACK)
    assert [r.name for r in missed.replies] == ["recheck_thanks_missed"] and missed.flags == ()


def test_a_re_check_stopped_part_way_keeps_the_answer_and_flags_the_point_not_asked() -> None:
    stopped = state("right")
    outcome = recheck.closing(stopped, TEACHBACK)
    assert [r.name for r in outcome.replies] == ["recheck_stopped"]
    assert [flag.detail for flag in outcome.flags] == [f"point {IDS[1]}"]
    kept = recheck.final_answers(stopped, TEACHBACK)
    assert [(entry.point, entry.answer, entry.understood) for entry in kept] == [
        (IDS[0], "right", True),
        (IDS[1], "", False),
    ]
    assert recheck.missed(kept) == 1


def test_a_point_removed_from_the_content_is_left_out() -> None:
    gone = dataclasses.replace(state(), points=(IDS[0], "no_longer_there"))
    assert [point.id for point in recheck.points_of(gone, TEACHBACK)] == [IDS[0]]
