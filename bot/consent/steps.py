"""The consent steps as plain Python: what to ask next, what an answer means, what to say and flag, what to record.

The Rasa forms in ``actions/consent.py`` read the tracker, call these functions, send
the replies, write the flags and return the slots; nothing here imports Rasa, so every
rule tests alone (``tests/consent/test_steps.py``). The slots keep plain JSON:
``candidacy_answers`` maps a question id to a ``CandidacyAnswer``'s JSON without the id,
``teachback_results`` a point id to a ``TeachbackResult``'s JSON without the id.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot import content, conversation
from bot.consent import candidacy
from bot.consent.record import (
    CHOSEN,
    MISSED,
    OWN_WORDS,
    REVIEW,
    UNDERSTOOD,
    CandidacyAnswer,
    ConsentPayload,
    Pause,
    TeachbackResult,
)
from bot.content import languages
from bot.content.consent import ConsentContent, Decision
from bot.content.teachback import Point, TeachbackContent
from bot.language.teachback import OPEN_ATTEMPTS

DONE = "done"  # a form's requested slot once its step is finished
QUOTE_CHARS = 140  # the most of a patient's answer quoted back to them when confirming it


@dataclass(frozen=True)
class Reply:
    """One message to send. ``name`` says which content it is, so tests check what was said, not the wording.

    Messages of ``content/messages.yml`` go by their name; texts of the consent content by
    where they are written: ``candidacy:<id>`` (a question), ``candidacy:<id>:hint``,
    ``teachback:<id>:question`` and ``teachback:<id>:again``.
    """

    name: str
    text: str
    buttons: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class FlagRequest:
    """A flag for the care team's log that a step asks for (``bot.records.flags.KINDS``)."""

    kind: str
    message: str
    detail: str = ""


@dataclass(frozen=True)
class Outcome:
    """What a step does besides setting its slots: messages to send, then flags to write."""

    replies: tuple[Reply, ...] = ()
    flags: tuple[FlagRequest, ...] = ()


def message(name: str, buttons: Sequence[dict[str, str]] | None = None, **values: Any) -> Reply:
    """Message ``name`` of ``content/messages.yml`` filled in; ``buttons`` replace its own when given."""
    composed = content.message(name, **values)
    return Reply(name, composed.text, tuple(composed.buttons if buttons is None else buttons))


def choice_buttons(titles: Iterable[str]) -> tuple[dict[str, str], ...]:
    """Buttons whose payload is the title itself: pressing one is the same as typing it."""
    return tuple({"title": title, "payload": title} for title in titles)


def numbered(ids: Sequence[str], current: str, text: str) -> str:
    """``text`` with the patient's progress in front: "(3 of 11) ..."."""
    return content.message("numbered_question", number=ids.index(current) + 1, total=len(ids), question=text).text


# --- Step 1: candidacy questions -------------------------------------------------------------


def candidacy_question(
    questions: ConsentContent, answers: Mapping[str, Any], pending: Mapping[str, Any] | None = None
) -> Reply | None:
    """The first unanswered question with its progress and buttons; None when every question is answered.

    When the patient's last answer to it needs confirming (``pending``), the question comes
    with their words quoted first, so they see what they said and choose.
    """
    question = questions.next_question(dict(answers))
    if question is None:
        return None
    text = numbered([q.id for q in questions.questions], question.id, question.text)
    buttons = choice_buttons(option.title for option in question.options)
    if pending and pending.get("question") == question.id:
        said = textwrap.shorten(str(pending.get("said") or ""), QUOTE_CHARS, placeholder="…")
        return Reply(
            f"candidacy:{question.id}:confirm",
            content.message("confirm_answer", said=said, question=text).text,
            buttons,
        )
    return Reply(f"candidacy:{question.id}", text, buttons)


@dataclass(frozen=True)
class CandidacyStep:
    """What one answer to the pending candidacy question did.

    ``structured`` is a recorded choice, yes/no or number: never taken for a question asked
    in the middle of the step. When ``accepted`` is False nothing is recorded: the answer is
    asked again (the hint is in ``outcome``) or, when ``pending`` is set, confirmed first.
    ``pending`` is the ``candidacy_pending`` slot after this answer.
    """

    answers: dict[str, Any]
    accepted: bool
    structured: bool
    done: bool
    outcome: Outcome = field(default_factory=Outcome)
    pending: dict[str, Any] | None = None


def answer_candidacy(
    questions: ConsentContent, answers: Mapping[str, Any], said: str, pending: Mapping[str, Any] | None = None
) -> CandidacyStep | None:
    """Read ``said`` as the answer to the pending question; None when no question is pending.

    A clear answer is recorded, with how it came (typed, a button, or confirmed). An answer
    that needs confirming is kept in ``pending`` and the question asked again with the
    patient's words; a second unclear answer is recorded as unclear, flagged, with both.
    """
    question = questions.next_question(dict(answers))
    if question is None:
        return None
    confirming = bool(pending) and pending.get("question") == question.id  # type: ignore[union-attr]
    earlier = str(pending.get("said") or "") if confirming else ""  # type: ignore[union-attr]
    answer = candidacy.parse_answer(question, said, questions.dont_know_words, questions.reading)
    if answer.status == candidacy.ASK_AGAIN:
        hint = Reply(f"candidacy:{question.id}:hint", answer.hint)
        kept = dict(pending) if confirming else None  # type: ignore[arg-type]
        return CandidacyStep(dict(answers), False, False, False, Outcome(replies=(hint,)), pending=kept)
    if answer.status == candidacy.CONFIRM and not confirming:
        waiting = {"question": question.id, "said": said, "reason": answer.reason}
        return CandidacyStep(dict(answers), False, False, False, pending=waiting)
    words = f"{earlier} / {said}" if confirming else said
    if answer.status == candidacy.CONFIRM:  # still unclear after confirming: the care team asks at the visit
        value, flagged, note = candidacy.UNCLEAR, True, f"{question.flag_note}: answer not clear"
    else:
        value, flagged = answer.value, answer.flagged
        note = question.flag_note if value in question.flag_if or value == candidacy.DONT_KNOW else ""
        if flagged and not note:
            note = f"{question.flag_note}: said more than the answer"
    how = candidacy.CONFIRMED if confirming else candidacy.how_given(question, said)
    stored = CandidacyAnswer(question.id, question.text, value, words, flagged, note if flagged else "", how)
    updated = {**answers, question.id: _slot_entry(stored.to_json())}
    flags = (FlagRequest("candidacy", f"{stored.flag_note}: {words}", question.id),) if flagged else ()
    return CandidacyStep(
        updated,
        accepted=True,
        structured=question.type != "text",
        done=questions.next_question(updated) is None,
        outcome=Outcome(flags=flags),
    )


def _slot_entry(item: Mapping[str, Any]) -> dict[str, Any]:
    """A record item as its slot keeps it: its JSON without the id (the id is the slot's key)."""
    return {key: value for key, value in item.items() if key != "id"}


# --- Step 2: the understanding check (teach-back) ------------------------------------------


def teachback_point(points: Sequence[Point], results: Mapping[str, Any]) -> Point | None:
    """The first point without a result yet."""
    return next((point for point in points if (results.get(point.id) or {}).get("result") is None), None)


def teachback_question(teachback: TeachbackContent, results: Mapping[str, Any]) -> Reply | None:
    """The current point, asked in an open way, or with its choices after two misses; None when every point has one.

    The open question offers only "I'm not sure" and "Explain again" (``open_buttons``): the
    right answer is never a button to tap until the patient has missed it twice.
    """
    points = teachback.points
    point = teachback_point(points, results)
    if point is None:
        return None
    attempts = int((results.get(point.id) or {}).get("attempts") or 0)
    ids = [p.id for p in points]
    if attempts >= OPEN_ATTEMPTS and point.choices:
        return Reply(
            f"teachback:{point.id}:choices",
            numbered(ids, point.id, point.choice_question),
            choice_buttons(point.choices),
        )
    return Reply(
        f"teachback:{point.id}:question",
        numbered(ids, point.id, point.question),
        choice_buttons(teachback.open_buttons),
    )


@dataclass(frozen=True)
class TeachbackStep:
    """What one judged answer to the current point did; ``results`` is the slot after it."""

    results: dict[str, Any]
    done: bool
    outcome: Outcome


def pressed_button(teachback: TeachbackContent, point: Point, said: str) -> bool:
    """Whether ``said`` is one of the point's buttons ("I'm not sure", a choice): chosen as it is, never judged."""
    return said.strip() in (*teachback.open_buttons, *point.choices)


def judge_teachback(
    teachback: TeachbackContent, results: Mapping[str, Any], point: Point, said: str, understood: bool
) -> TeachbackStep:
    """Record an answer to ``point``: right in the patient's own words; else explained again and asked again;
    then, if the point has choices, chosen from them; else marked for the care team to go over at the visit.

    ``understood`` is the judge's reading of ``said``; a press of an open button ("I'm not sure")
    is never an answer, and on the choices only the right choice (or right words) passes.
    """
    entry = results.get(point.id)
    before = (
        TeachbackResult.from_json({"id": point.id, **entry})
        if entry
        else TeachbackResult(point.id, point.summary, (), 0, None)
    )
    on_choices = before.attempts >= OPEN_ATTEMPTS and bool(point.choices)
    after = replace(before, answers=(*before.answers, said), attempts=before.attempts + 1)
    if on_choices and said.strip() == point.right_choice:
        after = replace(after, result=UNDERSTOOD, how=CHOSEN)
        outcome = Outcome(replies=(message("teachback_right"),))
    elif understood and not pressed_button(teachback, point, said):
        after = replace(after, result=UNDERSTOOD, how=OWN_WORDS)
        outcome = Outcome(replies=(message("teachback_right"),))
    elif after.attempts < OPEN_ATTEMPTS:
        outcome = Outcome(replies=(Reply(f"teachback:{point.id}:again", point.explain_again),))
    elif after.attempts == OPEN_ATTEMPTS and point.choices:
        outcome = Outcome(replies=(message("teachback_try_choices"),))
    else:
        after = replace(after, result=REVIEW, how=MISSED)
        flag = FlagRequest("teachback", f"go over: {point.summary}", " / ".join(after.answers))
        outcome = Outcome(replies=(message("teachback_review"),), flags=(flag,))
    updated = {**results, point.id: _slot_entry(after.to_json())}
    return TeachbackStep(updated, done=teachback_point(teachback.points, updated) is None, outcome=outcome)


# --- Step 3: the decision, and its record ----------------------------------------------------


def decision_counts(answers: Mapping[str, Any], results: Mapping[str, Any]) -> dict[str, int]:
    """The numbers the decision summary tells the patient."""
    return {
        "answered": len(answers),
        "flagged": sum(1 for item in answers.values() if item.get("flagged")),
        "understood": sum(1 for item in results.values() if item.get("result") == UNDERSTOOD),
        "review": sum(1 for item in results.values() if item.get("result") == REVIEW),
    }


def decision_question(
    decisions: Sequence[Decision], answers: Mapping[str, Any], results: Mapping[str, Any]
) -> tuple[Reply, ...]:
    """A summary of what was covered, then the decision choices as buttons."""
    return (
        message("decision_summary", None, **decision_counts(answers, results)),
        message("ask_decision", buttons=choice_buttons(decision.title for decision in decisions)),
    )


def saved_summary(
    questions: ConsentContent,
    points: Sequence[Point],
    answers: Mapping[str, Any],
    results: Mapping[str, Any],
    decision: Decision | None,
) -> tuple[Reply, ...]:
    """What is recorded so far, in plain words: the answers, the points explained, and the choice if made."""
    if not answers and not results and decision is None:
        return (message("saved_nothing"),)
    counts = decision_counts(answers, results)
    replies = [
        message(
            "saved_so_far",
            answered=counts["answered"],
            total=len(questions.questions),
            flagged=counts["flagged"],
            understood=counts["understood"],
            points=len(points),
        )
    ]
    if decision is not None:
        replies.append(message("saved_decision", decision=decision.record_title))
    return tuple(replies)


def record_payload(
    questions: ConsentContent,
    points: Sequence[Point],
    answers: Mapping[str, Any],
    results: Mapping[str, Any],
    decision: str,
    events: Iterable[dict[str, Any]],
    topic_intents: Iterable[str],
    supersedes: int | None,
) -> ConsentPayload:
    """What the care team relies on, in the clinic's order: answers with flags, teach-back results, topics asked,
    and each pause and resume of the steps."""
    events = list(events)
    return ConsentPayload(
        candidacy=tuple(
            CandidacyAnswer.from_json({"id": q.id, **answers[q.id]}) for q in questions.questions if q.id in answers
        ),
        teachback=tuple(TeachbackResult.from_json({"id": p.id, **results[p.id]}) for p in points if p.id in results),
        decision=decision,
        topics_asked=tuple(conversation.topics_asked(events, topic_intents)),
        supersedes=supersedes,
        pauses=tuple(
            Pause(kind, step, dt.datetime.fromtimestamp(at, dt.timezone.utc).isoformat(timespec="seconds"))
            for kind, step, at in conversation.pauses(events)
        ),
        language=languages.current(),
    )


def recorded(decision: Decision, record_id: int) -> Outcome:
    """Tell the patient the decision is recorded; flag it for the care team when the content says so."""
    flags = (FlagRequest("decision", decision.flag_note, f"record #{record_id}"),) if decision.flag_note else ()
    return Outcome(replies=(message(decision.recorded_message),), flags=flags)
