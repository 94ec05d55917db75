"""The re-check before the visit as plain Python: which key points to ask again, what to say, what to record.

A reminder texted before the procedure (``bot.outreach``) asks two teach-back points again
in the patient's own words, so the care team learns before the visit what did not stay
clear. Each answer gets one open try: a right one a short confirmation, a miss the point's
plain re-explanation (as in the teach-back) and a flag to go over it at the visit. The
Rasa side (``actions/recheck.py``) reads the tracker, calls these and sends what they
composed; the answers go into their own record, linked to the consent record
(``bot.records.recheck_store``). The slot ``recheck`` keeps a ``RecheckState``'s JSON.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.consent.record import CHOSEN, REVIEW, ConsentPayload, RecheckAnswer
from bot.consent.steps import FlagRequest, Outcome, Reply, message
from bot.content.teachback import Point, TeachbackContent

RECHECK_POINTS = 2  # two questions keep the reminder to a text and two short replies
DECLINED = "decline"  # the decision value of "Not go ahead" (content/consent.yml): a reminder, no questions
NO_DATE = "the booked day"  # what the texts say when the reminder carried no readable date


@dataclass(frozen=True)
class RecheckState:
    """A re-check under way: which reminder started it, the consent record it checks, the points and answers so far.

    ``patient_ref`` and ``identity`` are what the reminder's turn said (the invitation's reference
    and how the number was proved), kept for the record.
    """

    reminder: str
    date: str  # the procedure date, ISO; "" when the reminder carried none
    record_id: int
    record_hash: str
    points: tuple[str, ...]
    answers: tuple[RecheckAnswer, ...] = ()
    patient_ref: str = ""
    identity: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "reminder": self.reminder,
            "date": self.date,
            "record_id": self.record_id,
            "record_hash": self.record_hash,
            "points": list(self.points),
            "answers": [answer.to_json() for answer in self.answers],
            "patient_ref": self.patient_ref,
            "identity": self.identity,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RecheckState:
        return cls(
            reminder=str(data["reminder"]),
            date=str(data.get("date") or ""),
            record_id=int(data["record_id"]),
            record_hash=str(data["record_hash"]),
            points=tuple(str(point) for point in data["points"]),
            answers=tuple(RecheckAnswer.from_json(item) for item in data.get("answers") or []),
            patient_ref=str(data.get("patient_ref") or ""),
            identity=str(data.get("identity") or ""),
        )

    def pending_point(self) -> str | None:
        """The first point not answered yet; None once each has an answer."""
        answered = {answer.point for answer in self.answers}
        return next((point for point in self.points if point not in answered), None)


def read_state(value: Any) -> RecheckState | None:
    """The ``recheck`` slot as a state; None when no re-check was started (or the slot holds something else)."""
    if not isinstance(value, Mapping):
        return None
    try:
        return RecheckState.from_json(value)
    except (KeyError, TypeError, ValueError):
        return None


def pick_points(payload: ConsentPayload, points: Sequence[Point], n: int = RECHECK_POINTS) -> tuple[Point, ...]:
    """The ``n`` points to ask again: those the consent record shows as weak first, then content order.

    Weak means missed (gone over at the visit), chosen from the options rather than said in the
    patient's words, or explained only after a second try; each group keeps the content's order.
    """
    results = {result.id: result for result in payload.teachback}

    def weakness(point: Point) -> int:
        result = results.get(point.id)
        if result is None:
            return 2
        if result.result == REVIEW or result.how == CHOSEN:
            return 0
        return 1 if result.attempts > 1 else 2

    ranked = sorted(enumerate(points), key=lambda item: (weakness(item[1]), item[0]))
    return tuple(point for _, point in ranked[:n])


def date_text(iso: str) -> str:
    """A procedure date as a short text reads it ("Thu, Dec 24"); ``NO_DATE`` when there is none to read."""
    try:
        day = dt.date.fromisoformat(iso)
    except (TypeError, ValueError):
        return NO_DATE
    return f"{day:%a, %b} {day.day}"


def opening(decision: str | None, iso_date: str) -> tuple[Reply, bool]:
    """How the reminder starts, and whether the questions follow it.

    No consent record yet (``decision`` None): the date and an invitation to finish the consent
    questions. A patient who chose not to go ahead: the date and the clinic's phone, no questions.
    """
    date = date_text(iso_date)
    if decision is None:
        return message("recheck_no_record", date=date), False
    if decision == DECLINED:
        return message("recheck_declined", date=date), False
    return message("recheck_reminder", date=date), True


def question(point: Point) -> Reply:
    """The point asked again in an open way, with no answer to tap: the patient's own words are the point."""
    return Reply(f"recheck:{point.id}:question", point.question)


def judge(point: Point, said: str, understood: bool) -> tuple[RecheckAnswer, Outcome]:
    """One open try at ``point``: a right answer is confirmed; a miss is explained again and flagged for the visit.

    ``understood`` is the teach-back judge's reading of ``said``. The flag names the point, not the
    patient's words (those are in the re-check record).
    """
    entry = RecheckAnswer(point.id, point.question, said, understood)
    if understood:
        return entry, Outcome(replies=(message("recheck_right"),))
    flag = FlagRequest("teachback", f"missed in the re-check before the visit: {point.summary}", f"point {point.id}")
    return entry, Outcome(replies=(Reply(f"teachback:{point.id}:again", point.explain_again),), flags=(flag,))


def answer(
    state: RecheckState, teachback: TeachbackContent, said: str, understood: bool
) -> tuple[RecheckState, Outcome]:
    """Record ``said`` as the answer to the pending point; the state after it and what to say and flag."""
    point_id = state.pending_point()
    if point_id is None:
        return state, Outcome()
    entry, outcome = judge(teachback.point(point_id), said, understood)
    return replace(state, answers=(*state.answers, entry)), outcome


def points_of(state: RecheckState, teachback: TeachbackContent) -> tuple[Point, ...]:
    """The state's points as the content has them now (a point the clinic removed since is left out)."""
    known = {point.id: point for point in teachback.points}
    return tuple(known[point_id] for point_id in state.points if point_id in known)


def final_answers(state: RecheckState, teachback: TeachbackContent) -> tuple[RecheckAnswer, ...]:
    """What the record keeps: each answer given, then each point the re-check stopped before, as not answered."""
    answered = {entry.point for entry in state.answers}
    unanswered = tuple(
        RecheckAnswer(point.id, point.question, "", False)
        for point in points_of(state, teachback)
        if point.id not in answered
    )
    return (*state.answers, *unanswered)


def missed(answers: Sequence[RecheckAnswer]) -> int:
    """How many points the care team goes over at the visit."""
    return sum(1 for entry in answers if not entry.understood)


def closing(state: RecheckState, teachback: TeachbackContent) -> Outcome:
    """The last text: thanks and what happens next; a re-check stopped part way flags the points not asked."""
    date = date_text(state.date)
    if state.pending_point() is not None:
        flags = tuple(
            FlagRequest(
                "teachback", f"not asked in the re-check before the visit: {point.summary}", f"point {point.id}"
            )
            for point in points_of(state, teachback)
            if point.id not in {entry.point for entry in state.answers}
        )
        return Outcome(replies=(message("recheck_stopped", date=date),), flags=flags)
    name = "recheck_thanks_missed" if missed(state.answers) else "recheck_thanks"
    return Outcome(replies=(message(name, date=date),))
