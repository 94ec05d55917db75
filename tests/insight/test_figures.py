"""The insight figures checked against a conversation set with known counts, in Rasa's own store and the records table.

Six conversations over four days (the clinic's time zone): two stop at the third health
question, one in the understanding check, three decide on two days (one changes its mind).
Every figure is asserted exactly, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path
from typing import Any

import pytest

from bot import content
from bot.consent.record import ConsentPayload
from bot.insight import figures
from bot.insight.figures import DecisionCount, Funnel, FunnelDay, MissedPoint, StopPoint, TopicCount
from bot.records import consent_store
from bot.records import milestones as ms
from tests.helpers.tracker import Script, drop_events_table, write_events

DAY = 24 * 3600.0
ZONE = content.clinic().timezone
QUESTIONS = content.consent_content().questions
POINTS = [point.id for point in content.teachback_points()]
SUMMARIES = {point.id: point.summary for point in content.teachback_points()}


@pytest.fixture(autouse=True)
def own_checkpoint_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Consent appends checkpoint to this test's own file, with the development key and no mail."""
    monkeypatch.setenv("CONSENT_CHECKPOINT_FILE", str(tmp_path / "checkpoints.log"))
    for name in ("CONSENT_RECORD_KEY", "CONSENT_CHECKPOINT_MAIL_TO", "ASSISTANT_ENV"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def store(database_url: str) -> str:
    """The test database with no tracker events yet (Rasa's table shares it here; PostgreSQL keeps it between runs)."""
    drop_events_table(database_url)
    return database_url


def today() -> dt.date:
    return dt.datetime.now(ZONE).date()


def morning(days_ago: int) -> float:
    """9 am in the clinic, ``days_ago`` days before today, as Unix seconds."""
    return dt.datetime.combine(today() - dt.timedelta(days=days_ago), dt.time(9), tzinfo=ZONE).timestamp()


def candidacy(script: Script, answered: int | None = None) -> Script:
    """Clear, unflagged answers to the first ``answered`` health questions (all by default)."""
    for question in QUESTIONS[:answered]:
        if question.options:
            option = next((o for o in question.options if o.value == "no"), question.options[0])
            script.answer(option.title, option.value, how="button")
        else:
            script.answer("7" if question.type == "scale" else "back pain", "7" if question.type == "scale" else "x")
    return script


def understood(script: Script, points: int) -> Script:
    for _ in range(points):
        script.explain("it blocks the pain signals", understood=True)
    return script


def missed(script: Script) -> Script:
    """Three misses of the current point: explained again, choices offered, a wrong choice: left for the visit."""
    return (
        script.explain("no idea", understood=False)
        .explain("still no idea", understood=False)
        .explain("Nerve damage that lasts", understood=False)
    )


def payload(decision: str) -> ConsentPayload:
    return ConsentPayload(candidacy=(), teachback=(), decision=decision, topics_asked=(), supersedes=None)


def first_user_at(script: Script) -> float:
    return float(next(event["timestamp"] for event in script.events if event["event"] == "user"))


def decided_at(script: Script) -> float:
    """When ``action_record_consent`` set the step to decided, the first time."""
    return float(
        next(
            event["timestamp"]
            for event in script.events
            if event["event"] == "slot" and event["name"] == "consent_stage" and event["value"] == "decided"
        )
    )


LONG = "blorf " * 30


def known_set() -> dict[str, Script]:
    """The six conversations; the figures below are counted from this description by hand."""
    c1 = Script(morning(5)).topic("how long does it take?", "ask_duration")
    c1.not_understood(LONG, [("insult", 0.2), ("ask_side_effects", 0.1), ("ask_imaging", 0.05)])
    candidacy(c1.start_consent(), answered=2)  # then asked the third question: no answer
    c2 = Script(morning(4)).topic("is it safe?", "ask_safety").out_of_scope("what's the weather")
    candidacy(c2.start_consent(), answered=2)
    c3 = understood(candidacy(Script(morning(4) + 3600).start_consent()), 1)
    c3.explain("no idea", understood=False).explain("still no idea", understood=False)  # choices asked: no answer
    c4 = Script(morning(3)).topic("side effects?", "ask_side_effects")
    c4 = understood(missed(understood(candidacy(c4.start_consent()), 1)), len(POINTS) - 2).decide(
        "Go ahead", "go_ahead"
    )
    c5 = missed(candidacy(Script(morning(3) + 3600).start_consent()))
    c5.explain("no idea", understood=False).explain("no idea", understood=False)
    c5.explain("Soreness or numbness for a short time", understood=True, chosen=True)
    c5 = understood(c5, len(POINTS) - 2).wait(DAY).decide("Not go ahead", "decline")
    c6 = Script(morning(2)).topic("how long?", "ask_duration").topic("how long again?", "ask_duration")
    c6.not_understood("zzz", [("goodbye", 0.3)])
    c6 = understood(candidacy(c6.start_consent()), len(POINTS)).decide("Talk to my doctor first", "talk_to_doctor")
    c6.change_decision().decide("Go ahead", "go_ahead")
    return {"c1": c1, "c2": c2, "c3": c3, "c4": c4, "c5": c5, "c6": c6}


RECORDED = {"c4": ["go_ahead"], "c5": ["decline"], "c6": ["talk_to_doctor", "go_ahead"]}


def write(url: str, scripts: dict[str, Script], records: dict[str, list[str]]) -> None:
    for conversation_id, script in scripts.items():
        write_events(url, conversation_id, script.events)
    for conversation_id, decisions in records.items():
        for decision in decisions:
            consent_store.append(conversation_id, "rest", payload(decision), "test-content", url=url)


def dashboard(url: str, **options: Any) -> figures.Dashboard:
    return figures.dashboard(tracker_url=url, database_url=url, **options)


def test_every_figure_of_a_known_conversation_set(store: str) -> None:
    scripts = known_set()
    write(store, scripts, RECORDED)
    found = dashboard(store, days=7)

    assert (found.first_day, found.last_day, found.timezone) == (today() - dt.timedelta(days=6), today(), str(ZONE))
    assert found.conversations == 6
    by_day = {row.day: row.counts for row in found.funnel}
    assert [row.day for row in found.funnel] == [today() - dt.timedelta(days=n) for n in range(6, -1, -1)]
    assert {day: counts for day, counts in by_day.items() if counts != Funnel()} == {
        today() - dt.timedelta(days=5): Funnel(started=1, consent_started=1),
        today() - dt.timedelta(days=4): Funnel(started=2, consent_started=2, candidacy_done=1),
        today() - dt.timedelta(days=3): Funnel(2, 2, 2, 2, decided=1),
        today() - dt.timedelta(days=2): Funnel(1, 1, 1, 1, decided=2),
    }
    assert found.totals == Funnel(started=6, consent_started=6, candidacy_done=4, teachback_done=3, decided=3)

    assert found.stops == (
        StopPoint(ms.CANDIDACY, QUESTIONS[2].id, QUESTIONS[2].text, 2),
        StopPoint(ms.UNDERSTANDING, POINTS[1], SUMMARIES[POINTS[1]], 1),
    )
    assert found.left_before_consent == 0

    judged = {POINTS[0]: 4, **{point: 3 for point in POINTS[1:]}}  # c3 has no result for its second point yet
    assert found.missed_points == (
        MissedPoint(POINTS[1], SUMMARIES[POINTS[1]], judged=3, missed=1, chosen=1, share=1 / 3),
        MissedPoint(POINTS[0], SUMMARIES[POINTS[0]], judged=4, missed=1, chosen=0, share=1 / 4),
        *[MissedPoint(point, SUMMARIES[point], judged[point], 0, 0, 0.0) for point in POINTS[2:]],
    )

    titles = content.topics().titles
    assert found.topics == (
        TopicCount("ask_duration", titles["ask_duration"], asked=3, conversations=2),
        TopicCount("ask_safety", titles["ask_safety"], 1, 1),  # "Is it safe?" before "Side effects"
        TopicCount("ask_side_effects", titles["ask_side_effects"], 1, 1),
    )

    assert [(row.conversation_id, row.kind, row.text, row.closest_topic) for row in found.not_understood] == [
        ("c6", ms.NOT_UNDERSTOOD, "zzz", ""),
        ("c2", ms.OUT_OF_SCOPE, "what's the weather", "ask_what_is"),
        ("c1", ms.NOT_UNDERSTOOD, LONG[: ms.EXCERPT_CHARS - 1] + "…", "ask_side_effects"),
    ]
    assert len(found.not_understood[2].text) == ms.EXCERPT_CHARS
    assert found.not_understood[2].closest_title == titles["ask_side_effects"]
    assert found.not_understood[0].at.tzinfo == ZONE
    assert found.not_understood[0].at.date() == today() - dt.timedelta(days=2)
    assert (found.not_understood_count, found.out_of_scope_count) == (2, 1)

    decisions = {d.value: d.record_title for d in content.consent_content().decisions}
    assert found.decisions == (
        DecisionCount("go_ahead", decisions["go_ahead"], 2),  # c6 changed its mind: its record now says go ahead
        DecisionCount("decline", decisions["decline"], 1),
    )

    minutes = [(decided_at(scripts[c]) - first_user_at(scripts[c])) / 60 for c in ("c4", "c5", "c6")]
    assert minutes[1] > 24 * 60  # c5 slept on it
    assert found.median_minutes_to_decision == pytest.approx(statistics.median(minutes))
    assert found.decisions_timed == 3


def test_fewer_examples_and_a_shorter_window(store: str) -> None:
    write(store, known_set(), RECORDED)
    assert [row.conversation_id for row in dashboard(store, days=7, examples=1).not_understood] == ["c6"]
    recent = dashboard(store, days=3)  # today and the two days before: only c6 began, c5 decided
    assert recent.conversations == 2
    assert recent.totals == Funnel(started=1, consent_started=1, candidacy_done=1, teachback_done=1, decided=2)
    assert [row.day for row in recent.funnel] == [today() - dt.timedelta(days=n) for n in (2, 1, 0)]
    assert recent.stops == ()
    assert recent.decisions_timed == 2  # c5's first message was before the window; its decision is in it


def test_what_is_not_counted_and_a_decision_only_the_records_hold(store: str) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    scripts = {
        "topics-only": Script(morning(1)).topic("what is it?", "ask_what_is"),  # left before the consent steps
        "still-here": Script(now.timestamp() - 600).start_consent(),  # asked a question ten minutes ago
        "make-run-warmup": Script(morning(1)).menu(),  # scripts/run.sh warming the servers up
        "long-ago": Script(morning(40)).topic("how long?", "ask_duration"),
    }
    write(store, scripts, {"pruned-from-tracker": ["decline"]})
    found = dashboard(store, days=7)
    assert found.conversations == 2
    assert found.totals == Funnel(started=2, consent_started=1, decided=1)
    assert found.stops == ()  # "still-here" is not quiet for a session's length yet
    assert found.left_before_consent == 1
    assert [(row.topic, row.asked) for row in found.topics] == [("ask_what_is", 1)]
    assert next(row.counts for row in found.funnel if row.day == today()).decided == 1  # the record's day
    assert [(row.decision, row.conversations) for row in found.decisions] == [("decline", 1)]
    assert (found.median_minutes_to_decision, found.decisions_timed) == (None, 0)  # no first message to time from
    assert dashboard(store, days=60).conversations == 3


def test_a_store_rasa_has_not_created_gives_zeros(store: str) -> None:
    found = dashboard(store, days=5)
    assert found.conversations == 0
    assert found.funnel == tuple(FunnelDay(today() - dt.timedelta(days=n), Funnel()) for n in range(4, -1, -1))
    assert found.totals == Funnel()
    assert (found.stops, found.left_before_consent, found.topics, found.not_understood, found.decisions) == (
        (),
        0,
        (),
        (),
        (),
    )
    assert [(row.point, row.judged, row.missed, row.share) for row in found.missed_points] == [
        (point, 0, 0, 0.0) for point in POINTS
    ]
    assert (found.median_minutes_to_decision, found.decisions_timed) == (None, 0)


def test_days_must_be_positive(store: str) -> None:
    with pytest.raises(ValueError):
        dashboard(store, days=0)
