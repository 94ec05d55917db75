"""The clinic's insight figures: how far patients get, where they stop, what they miss and ask, what is not understood.

``dashboard()`` computes every figure of the care-team console's insight page for the last
``days`` days (calendar days in the clinic's time zone, ``content/clinic.yml``), as typed rows
the page draws as bar charts and tables. It reads the steps of each conversation from the
tracker store (``bot.insight.reading``, ``bot.records.milestones``) and the decisions from the
consent records (``bot.records.consent_store``): a decision counts when the tracker shows it or
the record chain holds it, so a tracker store that was pruned still shows the decisions made.

Cost: one grouped query over Rasa's events table, one ordered read of the events of the
conversations active in the window (each parsed once, held only while its conversation is
read), one read of the consent records, then counting in memory: linear in the events of the
window's conversations and the number of records; memory bounded by the conversations that
overlap in time. Measured on SQLite: 2,000 whole consent conversations (442,000 events) in
about 7 s and 36 MB, most of it decoding the events' JSON; a page that shows it often should
keep the result for a minute or so. It does not write anything.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot import content
from bot.content.files import DOMAIN_FILE, load_yaml
from bot.insight.reading import ConversationSteps, conversations_since
from bot.records import consent_store, tracker_events
from bot.records import milestones as ms

EXAMPLES = 20  # messages not understood shown, newest first
# Conversations that are not patients: the message scripts/run.sh sends to warm the servers up.
NOT_PATIENTS = frozenset({"make-run-warmup"})
# The funnel's stages in order, with the names of the ``Funnel`` fields that count them.
STAGES = (
    ("started", "Started"),
    ("consent_started", "Started the consent steps"),
    ("candidacy_done", "Finished the health questions"),
    ("teachback_done", "Finished the understanding check"),
    ("decided", "Made a decision"),
)
_STAGE_KINDS = {
    "started": ms.STARTED,
    "consent_started": ms.CONSENT_STARTED,
    "candidacy_done": ms.CANDIDACY_DONE,
    "teachback_done": ms.TEACHBACK_DONE,
}
STEP_TITLES = {ms.CANDIDACY: "Health questions", ms.UNDERSTANDING: "Understanding check", ms.DECIDING: "Decision"}
_STEP_ORDER = (ms.CANDIDACY, ms.UNDERSTANDING, ms.DECIDING)
DECISION_LABEL = "the decision"


@dataclass(frozen=True)
class Funnel:
    """Conversations that reached each stage (the first time) in a day or in the whole window."""

    started: int = 0  # the patient's first message
    consent_started: int = 0
    candidacy_done: int = 0
    teachback_done: int = 0
    decided: int = 0


@dataclass(frozen=True)
class FunnelDay:
    """One calendar day of the clinic's time zone and what was reached on it."""

    day: dt.date
    counts: Funnel


@dataclass(frozen=True)
class StopPoint:
    """A question patients were asked last and never answered, and how many undecided conversations stopped there.

    ``question`` is the candidacy question's id, the teach-back point's id, or "" for the decision;
    ``label`` its text, summary or DECISION_LABEL.
    """

    step: str
    question: str
    label: str
    conversations: int


@dataclass(frozen=True)
class MissedPoint:
    """One teach-back point: conversations it was judged in, missed in (left for the visit), and passed by choosing.

    ``share`` is missed / judged (0.0 when never judged).
    """

    point: str
    summary: str
    judged: int
    missed: int
    chosen: int
    share: float


@dataclass(frozen=True)
class TopicCount:
    """A topic answered: how often, and in how many conversations."""

    topic: str
    title: str
    asked: int
    conversations: int


@dataclass(frozen=True)
class NotUnderstood:
    """A message the assistant did not understand (or took as out of scope), for the clinic to improve its content.

    ``text`` is at most ``milestones.EXCERPT_CHARS`` characters; ``closest_topic`` the most likely
    topic of the NLU ranking ("" when none was ranked), ``at`` in the clinic's time zone.
    """

    at: dt.datetime
    conversation_id: str
    kind: str  # milestones.NOT_UNDERSTOOD or milestones.OUT_OF_SCOPE
    text: str
    closest_topic: str
    closest_title: str


@dataclass(frozen=True)
class DecisionCount:
    """How many conversations decided in the window hold this decision now (a change of mind counts as the new one)."""

    decision: str
    title: str
    conversations: int


@dataclass(frozen=True)
class Dashboard:
    """Every insight figure of the window ``first_day`` .. ``last_day`` (clinic time zone ``timezone``)."""

    first_day: dt.date
    last_day: dt.date
    timezone: str
    conversations: int  # with something stored in the window
    funnel: tuple[FunnelDay, ...]  # every day of the window, oldest first, zeros included
    totals: Funnel
    stops: tuple[StopPoint, ...]  # most conversations first
    left_before_consent: int  # undecided, idle, never started the consent steps
    missed_points: tuple[MissedPoint, ...]  # every point, most missed first
    topics: tuple[TopicCount, ...]  # most asked first
    not_understood: tuple[NotUnderstood, ...]  # newest first, at most ``examples``
    not_understood_count: int
    out_of_scope_count: int
    decisions: tuple[DecisionCount, ...]  # most conversations first
    median_minutes_to_decision: float | None  # from the first message to the first decision
    decisions_timed: int  # the decisions the median is over


@dataclass(frozen=True)
class _Window:
    start: float
    end: float
    zone: dt.tzinfo

    def holds(self, at: float) -> bool:
        return self.start <= at <= self.end

    def day(self, at: float) -> dt.date:
        return dt.datetime.fromtimestamp(at, self.zone).date()


@dataclass(frozen=True)
class _Decision:
    at: float  # the first decision: the tracker's time, else the first record's
    value: str  # the current decision


@lru_cache(maxsize=1)
def idle_seconds() -> float:
    """How long a conversation waits before it counts as stopped: Rasa's session expiration (domain.yml)."""
    loaded = load_yaml(DOMAIN_FILE)
    config = loaded.get("session_config") if isinstance(loaded, dict) else None
    minutes = config.get("session_expiration_time") if isinstance(config, dict) else None
    return float(minutes or 60) * 60.0


def dashboard(
    tracker_url: str | None = None,
    database_url: str | None = None,
    days: int = 30,
    now: dt.datetime | None = None,
    examples: int = EXAMPLES,
) -> Dashboard:
    """The figures of the last ``days`` days (the clinic's calendar days, today included) up to ``now``.

    ``now`` defaults to this moment (a naive time is taken as UTC).
    ``tracker_url`` is the tracker store (default: endpoints.yml's, ``tracker_events.tracker_url``),
    ``database_url`` the project's database with the consent records (default: ``DATABASE_URL``).
    A store Rasa has not created yet gives zeros.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    moment = now or dt.datetime.now(dt.timezone.utc)
    moment = moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment  # naive: UTC
    zone = content.clinic().timezone
    last_day = moment.astimezone(zone).date()
    first_day = last_day - dt.timedelta(days=days - 1)
    window = _Window(dt.datetime.combine(first_day, dt.time(), tzinfo=zone).timestamp(), moment.timestamp(), zone)
    titles = content.topics().titles
    stored = tracker_events.conversations(tracker_url)
    found = [
        steps
        for steps in conversations_since(window.start, tracker_url, titles, stored)
        if steps.conversation_id not in NOT_PATIENTS and steps.first_at <= window.end
    ]
    # Conversations the tracker holds that were quiet in the window: their decisions were made before it.
    quiet = {c.conversation_id for c in stored} - {steps.conversation_id for steps in found}
    records = [record for record in consent_store.records(database_url) if record.conversation_id not in quiet]
    decided = _decisions(found, records, window)
    stops, left_before_consent = _stops(found, decided, window)
    unclear = _not_understood(found, window, titles)
    median, timed = _time_to_decision(found, decided, window)
    return Dashboard(
        first_day=first_day,
        last_day=last_day,
        timezone=str(zone),
        conversations=len(found),
        funnel=_funnel_days(found, decided, window, first_day, days),
        totals=_totals(found, decided, window),
        stops=stops,
        left_before_consent=left_before_consent,
        missed_points=_missed_points(found, window),
        topics=_topics(found, window, titles),
        not_understood=tuple(unclear[: max(examples, 0)]),
        not_understood_count=sum(1 for item in unclear if item.kind == ms.NOT_UNDERSTOOD),
        out_of_scope_count=sum(1 for item in unclear if item.kind == ms.OUT_OF_SCOPE),
        decisions=_decision_counts(decided, window),
        median_minutes_to_decision=median,
        decisions_timed=timed,
    )


def _first(steps: ConversationSteps, kind: str) -> ms.Milestone | None:
    return next((milestone for milestone in steps.milestones if milestone.kind == kind), None)


def _decisions(
    found: Sequence[ConversationSteps], records: Iterable[consent_store.Record], window: _Window
) -> dict[str, _Decision]:
    """Each conversation's decision up to the window's end: when it was first made and what it is now.

    The tracker's time is the patient's; a conversation the tracker store no longer holds (or
    holds without its decision) keeps its first record's time. The current value is the newest
    record's (the chain is what counts).
    """
    first_at: dict[str, float] = {}
    current: dict[str, str] = {}
    for steps in found:
        made = [m for m in steps.milestones if m.kind == ms.DECISION and m.at <= window.end]
        if made:
            first_at[steps.conversation_id] = made[0].at
            current[steps.conversation_id] = made[-1].decision
    for record in records:  # oldest first
        at = dt.datetime.fromisoformat(record.created_at).timestamp()
        if at > window.end:
            continue
        first_at.setdefault(record.conversation_id, at)
        current[record.conversation_id] = record.decision
    return {conversation: _Decision(at, current[conversation]) for conversation, at in first_at.items()}


def _reached(found: Sequence[ConversationSteps], decided: Mapping[str, _Decision]) -> Iterable[tuple[str, float]]:
    """(stage, when) of each stage each conversation reached the first time."""
    for steps in found:
        for stage, kind in _STAGE_KINDS.items():
            first = _first(steps, kind)
            if first is not None:
                yield stage, first.at
    for decision in decided.values():
        yield "decided", decision.at


def _funnel_days(
    found: Sequence[ConversationSteps],
    decided: Mapping[str, _Decision],
    window: _Window,
    first_day: dt.date,
    days: int,
) -> tuple[FunnelDay, ...]:
    by_day: dict[dt.date, Counter[str]] = defaultdict(Counter)
    for stage, at in _reached(found, decided):
        if window.holds(at):
            by_day[window.day(at)][stage] += 1
    dates = [first_day + dt.timedelta(days=offset) for offset in range(days)]
    return tuple(FunnelDay(day, Funnel(**by_day.get(day, Counter()))) for day in dates)


def _totals(found: Sequence[ConversationSteps], decided: Mapping[str, _Decision], window: _Window) -> Funnel:
    return Funnel(**Counter(stage for stage, at in _reached(found, decided) if window.holds(at)))


def _pending_question(milestones: Iterable[ms.Milestone]) -> ms.Milestone | None:
    """The last question asked that no answer, teach-back result or decision followed."""
    pending: ms.Milestone | None = None
    for milestone in milestones:
        if milestone.kind == ms.QUESTION_ASKED:
            pending = milestone
        elif pending is None:
            continue
        elif milestone.kind == ms.DECISION or (
            (milestone.kind == ms.CANDIDACY_ANSWER and milestone.question_id == pending.question_id)
            or (milestone.kind == ms.TEACHBACK_POINT and milestone.point_id == pending.point_id)
        ):
            pending = None
    return pending


def _stops(
    found: Sequence[ConversationSteps], decided: Mapping[str, _Decision], window: _Window
) -> tuple[tuple[StopPoint, ...], int]:
    """Where undecided conversations, quiet for a session's length and active in the window, stopped.

    Those that never started the consent steps are counted apart (they may only have wanted an answer).
    """
    stopped: Counter[tuple[str, str]] = Counter()
    before_consent = 0
    for steps in found:
        if steps.conversation_id in decided or not window.start <= steps.last_at <= window.end - idle_seconds():
            continue
        pending = _pending_question(steps.milestones)
        if pending is not None:
            stopped[(pending.step, pending.question_id or pending.point_id)] += 1
        elif _first(steps, ms.CONSENT_STARTED) is None and _first(steps, ms.STARTED) is not None:
            before_consent += 1
    rows = [
        StopPoint(step, question, _question_label(step, question), count) for (step, question), count in stopped.items()
    ]
    rows.sort(key=lambda row: (-row.conversations, *_content_order(row.step, row.question)))
    return tuple(rows), before_consent


def _question_label(step: str, question: str) -> str:
    if step == ms.CANDIDACY:
        asked = next((q for q in content.consent_content().questions if q.id == question), None)
        return asked.text if asked else question
    if step == ms.UNDERSTANDING:
        return _point_summaries().get(question, question)
    return DECISION_LABEL


def _content_order(step: str, question: str) -> tuple[int, int, str]:
    """Steps in the order asked, questions and points in the content's order, unknown ones last."""
    ids = [q.id for q in content.consent_content().questions] if step == ms.CANDIDACY else list(_point_summaries())
    step_index = _STEP_ORDER.index(step) if step in _STEP_ORDER else len(_STEP_ORDER)
    return step_index, ids.index(question) if question in ids else len(ids), question


def _point_summaries() -> dict[str, str]:
    return {point.id: point.summary for point in content.teachback_points()}


def _missed_points(found: Sequence[ConversationSteps], window: _Window) -> tuple[MissedPoint, ...]:
    """Every teach-back point (and any no longer in the content that was judged), most missed first.

    A conversation counts once per point, with its latest result in the window.
    """
    latest: dict[tuple[str, str], ms.Milestone] = {}
    for steps in found:
        for milestone in steps.milestones:
            if milestone.kind == ms.TEACHBACK_POINT and window.holds(milestone.at):
                latest[(steps.conversation_id, milestone.point_id)] = milestone
    judged: Counter[str] = Counter(point for _, point in latest)
    missed: Counter[str] = Counter(point for (_, point), m in latest.items() if m.result == "review")
    chosen: Counter[str] = Counter(point for (_, point), m in latest.items() if m.how == "chosen")
    summaries = _point_summaries()
    points = [*summaries, *sorted(set(judged) - set(summaries))]
    rows = [
        MissedPoint(
            point,
            summaries.get(point, point),
            judged[point],
            missed[point],
            chosen[point],
            missed[point] / judged[point] if judged[point] else 0.0,
        )
        for point in points
    ]
    order = {point: index for index, point in enumerate(points)}
    rows.sort(key=lambda row: (-row.missed, -row.share, order[row.point]))
    return tuple(rows)


def _topics(found: Sequence[ConversationSteps], window: _Window, titles: Mapping[str, str]) -> tuple[TopicCount, ...]:
    asked: Counter[str] = Counter()
    conversations: Counter[str] = Counter()
    for steps in found:
        here = [m.topic for m in steps.milestones if m.kind == ms.TOPIC_ASKED and window.holds(m.at)]
        asked.update(here)
        conversations.update(set(here))
    rows = [TopicCount(topic, titles.get(topic, topic), count, conversations[topic]) for topic, count in asked.items()]
    rows.sort(key=lambda row: (-row.asked, -row.conversations, row.title))
    return tuple(rows)


def _not_understood(
    found: Sequence[ConversationSteps], window: _Window, titles: Mapping[str, str]
) -> list[NotUnderstood]:
    """Every message not understood or out of scope in the window, newest first."""
    rows = [
        NotUnderstood(
            dt.datetime.fromtimestamp(m.at, window.zone),
            steps.conversation_id,
            m.kind,
            ms.excerpt(m.text),
            m.topic,
            titles.get(m.topic, m.topic),
        )
        for steps in found
        for m in steps.milestones
        if m.kind in (ms.NOT_UNDERSTOOD, ms.OUT_OF_SCOPE) and window.holds(m.at)
    ]
    rows.sort(key=lambda row: (row.at, row.conversation_id), reverse=True)
    return rows


def _decision_counts(decided: Mapping[str, _Decision], window: _Window) -> tuple[DecisionCount, ...]:
    counts = Counter(decision.value for decision in decided.values() if window.holds(decision.at))
    consent = content.consent_content()
    rows = []
    for value, count in counts.items():
        known = consent.decision(value)
        rows.append(DecisionCount(value, known.record_title if known else value, count))
    order = [decision.value for decision in consent.decisions]
    rows.sort(key=lambda row: (-row.conversations, order.index(row.decision) if row.decision in order else len(order)))
    return tuple(rows)


def _time_to_decision(
    found: Sequence[ConversationSteps], decided: Mapping[str, _Decision], window: _Window
) -> tuple[float | None, int]:
    """Median minutes from the patient's first message to the first decision, and how many decisions it is over
    (those made in the window whose conversation the tracker store still holds)."""
    minutes = []
    for steps in found:
        decision = decided.get(steps.conversation_id)
        started = _first(steps, ms.STARTED)
        if decision is not None and started is not None and window.holds(decision.at):
            minutes.append(max(decision.at - started.at, 0.0) / 60.0)
    return (statistics.median(minutes) if minutes else None), len(minutes)
