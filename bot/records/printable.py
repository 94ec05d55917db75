"""The printable page of a consent record, for the patient's chart and the patient's own copy.

The page is composed in the language the patient answered in (``ConsentPayload.language``),
with its words from ``content/record.yml`` (``content/es/record.yml`` for Spanish) and the
questions, choices, points, decision and topics from that language's content, by their ids;
the patient's words stay as typed. A page in another language than English starts with one
line in English for the chart. The helpers below compose in the language in use
(``bot.content.languages``), English unless told otherwise: the care team's console pages and
the CSV and FHIR exports call them so, and get English for every record (a Spanish record's
questions and points too, where they pass the record's language as ``asked_in``).
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping, Sequence

from bot import content
from bot.consent.record import UNDERSTOOD, CandidacyAnswer, RecheckAnswer, TeachbackResult
from bot.content import languages
from bot.content.record import RECORD_TEXTS
from bot.records.consent_store import Record
from bot.records.recheck_store import RecheckRecord, is_intact


class RecordWords(Mapping[str, str]):
    """One section of ``content/record.yml`` by the word a record stores (``typed``, ``invitation_link``).

    Each text is read in the language in use when it is looked up, so one table serves the
    patient's page in their language and the care team's exports in English.
    """

    def __init__(self, section: str) -> None:
        self.section = section
        self.stored = tuple(name.split(".", 1)[1] for name in RECORD_TEXTS if name.startswith(f"{section}."))

    def __getitem__(self, stored: str) -> str:
        if stored not in self.stored:
            raise KeyError(stored)
        return content.record_text(f"{self.section}.{stored}")

    def __iter__(self) -> Iterator[str]:
        return iter(self.stored)

    def __len__(self) -> int:
        return len(self.stored)


# How the channel proved who was chatting (``ConsentPayload.identity``), in the care team's words: the one
# table the printable page, the CSV and the FHIR export all say it with.
VERIFIED_BY = RecordWords("verified_by")
# How a candidacy answer was given (bot.consent.candidacy) and how a point was understood (bot.consent.record).
HOW_GIVEN = RecordWords("how_given")
TEACHBACK_HOW = RecordWords("teachback_how")
PAUSE_KINDS = RecordWords("pause_kinds")
STEPS = RecordWords("steps")


def not_verified() -> str:
    """The words for a record without a patient reference, in the language in use."""
    return content.record_text("patient.not_verified")


def decision_title(value: str) -> str:
    """The care team's wording of a decision (``content/consent.yml``); the stored value if the content dropped it."""
    decision = content.consent_content().decision(value)
    return decision.record_title if decision else value


def topic_title(intent: str) -> str:
    """A topic as the patient saw it on its button ("Side effects"), not its intent name.

    The intent name stays when the content has dropped the topic since.
    """
    return content.topics().titles.get(intent, intent)


def verified_by(record: Record) -> str:
    """How the patient reference was verified, in plain words; ``not_verified()`` when the record has none.

    The care team weighs a reference by this: a link can be forwarded, a date of birth or the
    portal's sign-in is harder to borrow. A word this code does not know is shown as stored.
    """
    if not record.patient_ref:
        return content.record_text("patient.not_verified")
    identity = record.payload.identity
    if not identity:
        return content.record_text("patient.before_kept")
    return VERIFIED_BY.get(identity, identity)


def patient_line(record: Record) -> str:
    """The patient reference with how it was verified ("MRN-1 (verified by: invited phone number)"), or
    ``not_verified()``."""
    if not record.patient_ref:
        return content.record_text("patient.not_verified")
    return content.record_text("patient.line", reference=record.patient_ref, how=verified_by(record))


def _plural(count: int, one: str, other: str) -> str:
    return content.record_text(one if count == 1 else other, count=count)


def summary_line(record: Record) -> str:
    """One plain line for the care team before the details: the decision and what needs a look."""
    data = record.payload
    flagged = sum(1 for item in data.candidacy if item.flagged)
    understood = sum(1 for item in data.teachback if item.result == UNDERSTOOD)
    review = (
        content.record_text("summary.review", flagged=flagged, answers=len(data.candidacy))
        if flagged
        else content.record_text("summary.no_review")
    )
    return content.record_text(
        "summary.line",
        decision=decision_title(record.decision),
        review=review,
        understood=understood,
        points=len(data.teachback),
        topics=_plural(len(data.topics_asked), "summary.topic", "summary.topics"),
    )


def question_text(item: CandidacyAnswer, asked_in: str = languages.ENGLISH) -> str:
    """The question as the patient was asked it (``asked_in``, the record's language); in another language
    being composed in, that language's question of the same id (the asked words when the content dropped it)."""
    if (languages.supported(asked_in) or languages.ENGLISH) == languages.current():
        return item.question
    question = content.consent_content().by_id.get(item.id)
    return question.text if question else item.question


def point_text(item: TeachbackResult, asked_in: str = languages.ENGLISH) -> str:
    """A teach-back point in the care team's words, as recorded in ``asked_in``; in another language being
    composed in, that language's summary of the same point."""
    if (languages.supported(asked_in) or languages.ENGLISH) == languages.current():
        return item.summary
    return point_summary(item.id, item.summary)


def visit_points(record: Record) -> list[str]:
    """What the care team goes over at the visit: each flagged answer's note, then each point not explained back."""
    data = record.payload
    answers = [item.flag_note or question_text(item, data.language) for item in data.candidacy if item.flagged]
    points = [point_text(item, data.language) for item in data.teachback if item.result != UNDERSTOOD]
    return answers + points


def answer_title(item: CandidacyAnswer) -> str:
    """A choice as the patient saw it ("A little", "Does not apply"), not its stored value (``a_little``).

    The stored value stays when the content has dropped the question or the choice since,
    and for typed answers that are not choices (a number, a condition, "none").
    """
    question = content.consent_content().by_id.get(item.id)
    option = next((option for option in question.options if option.value == item.answer), None) if question else None
    return option.title if option else item.answer


def candidacy_row(item: CandidacyAnswer, asked_in: str = languages.ENGLISH) -> tuple[str, str]:
    """The question, then the answer as read, how it was given, the patient's own words, and ⚑ with its note.

    The words are there so the care team can check the reading; "confirmed after asking back"
    says the first answer was hedged or mixed and the patient chose when asked again (both
    answers are in the words, separated by " / "). ``asked_in``: the record's language.
    """
    shown = answer_title(item)
    said = content.record_text("answers.said", words=item.said)
    words = f" ({said})" if item.said and item.said.strip().lower() != shown.strip().lower() else ""
    how = f" [{HOW_GIVEN.get(item.how, item.how)}]" if item.how else ""
    return question_text(item, asked_in), f"{shown}{how}{words}{'  ⚑ ' + item.flag_note if item.flagged else ''}"


def teachback_row(item: TeachbackResult, asked_in: str = languages.ENGLISH) -> tuple[str, str]:
    """The point, then whether it was understood (in own words or chosen) or goes to the visit ⚑, after how many
    tries, in whose words. ``asked_in``: the record's language."""
    result = content.record_text("teachback.understood" if item.result == UNDERSTOOD else "teachback.review")
    if item.how in TEACHBACK_HOW and item.how != "missed":
        result = content.record_text("teachback.with_how", result=result, how=TEACHBACK_HOW[item.how])
    attempts = _plural(item.attempts, "teachback.attempt", "teachback.attempts")
    row = content.record_text("teachback.row", result=result, attempts=attempts, answers=" / ".join(item.answers))
    return point_text(item, asked_in), row


def point_summary(point_id: str, fallback: str) -> str:
    """A teach-back point in the care team's words ("that the effect may wear off"); ``fallback`` when the
    content has dropped it since."""
    point = next((point for point in content.teachback_points() if point.id == point_id), None)
    return point.summary if point else fallback


def recheck_title(recheck: RecheckRecord) -> str:
    """One line on a re-check: when, how many points were right, and whether its HMAC still checks out."""
    right = sum(1 for answer in recheck.answers if answer.understood)
    signed = content.record_text("rechecks.intact" if is_intact(recheck) else "rechecks.changed")
    return content.record_text(
        "rechecks.title", when=recheck.created_at, right=right, asked=len(recheck.answers), signed=signed
    )


def recheck_row(answer: RecheckAnswer) -> tuple[str, str]:
    """The point, then right or to go over at the visit, in the patient's own words (or that it was not asked)."""
    go_over = content.record_text("rechecks.go_over")
    if not answer.answer:
        result = content.record_text("rechecks.not_asked", go_over=go_over)
    elif answer.understood:
        result = content.record_text("rechecks.right", answer=answer.answer)
    else:
        result = content.record_text("rechecks.missed", go_over=go_over, answer=answer.answer)
    return point_summary(answer.point, answer.question), result


def recheck_visit_points(rechecks: Sequence[RecheckRecord]) -> list[str]:
    """The points the re-checks found for the visit, each once, in the order they were asked."""
    missed = [
        point_summary(answer.point, answer.question)
        for recheck in rechecks
        for answer in recheck.answers
        if not answer.understood
    ]
    return list(dict.fromkeys(missed))


def pauses_text(record: Record) -> str:
    """Each pause and resume of the consent steps, in order ("paused at the understanding step, <when>")."""
    return "; ".join(
        content.record_text(
            "pauses.line",
            kind=PAUSE_KINDS.get(pause.kind, pause.kind),
            step=STEPS.get(pause.step, pause.step),
            at=pause.at,
        )
        for pause in record.payload.pauses
    ) or content.record_text("page.none")


def chart_line(record: Record) -> str:
    """The line in English on top of a record printed in another language: what the chart needs from it."""
    language = languages.supported(record.payload.language) or languages.ENGLISH
    with languages.use(languages.ENGLISH):
        return content.record_text(
            "page.chart_line",
            number=record.id,
            decision=decision_title(record.decision),
            language=content.record_text(f"languages.{language}"),
            version=record.content_version,
        )


def record_page(record: Record, rechecks: Sequence[RecheckRecord] = (), language: str | None = None) -> str:
    """A printable summary for the patient's chart, with the re-checks made before the visit.

    In ``language``, else the language the patient answered in; a page not in English starts with
    a line in English for the chart.
    """
    page_language = languages.supported(language or record.payload.language) or languages.ENGLISH
    chart = ""
    if page_language != languages.ENGLISH:
        chart = f'<p class="chart" lang="{languages.ENGLISH}">{html.escape(chart_line(record))}</p>\n'
    with languages.use(page_language):
        return _page(record, rechecks, page_language, chart)


def _page(record: Record, rechecks: Sequence[RecheckRecord], page_language: str, chart: str) -> str:
    """The page's HTML, composed in the language in use."""
    data = record.payload
    esc = html.escape
    text = content.record_text

    def rows(items: list[tuple[str, str]]) -> str:
        return "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in items)

    candidacy = [candidacy_row(item, data.language) for item in data.candidacy]
    teachback = [teachback_row(item, data.language) for item in data.teachback]
    topics = ", ".join(topic_title(intent) for intent in data.topics_asked) or text("page.none")
    linked = "".join(
        f"<p>{esc(recheck_title(item))}</p><table>{rows([recheck_row(answer) for answer in item.answers])}</table>"
        for item in rechecks
    )
    recheck_part = f"<h2>{esc(text('page.rechecks'))}</h2>{linked}" if rechecks else ""
    details = [
        (text("page.recorded"), record.created_at),
        (text("page.conversation"), record.conversation_id),
        (text("page.channel"), record.channel),
        (text("page.patient"), patient_line(record)),
    ]
    title = esc(text("page.title", number=record.id))
    versions = text("page.versions", version=record.content_version, hash=record.record_hash, previous=record.prev_hash)
    return f"""<!doctype html>
<html lang="{page_language}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>
@page {{ size: letter; margin: 14mm; }}
body {{ font: 10.5pt/1.35 system-ui, sans-serif; color: #111; max-width: 190mm; margin: auto; }}
h1 {{ font-size: 15pt; margin: 0 0 4pt; }} h2 {{ font-size: 11.5pt; margin: 10pt 0 3pt; }}
table {{ width: 100%; border-collapse: collapse; }} th, td {{ text-align: left; vertical-align: top;
padding: 2pt 4pt; border-bottom: 1px solid #ccc; }} th {{ width: 42%; font-weight: 600; }}
.decision {{ font-size: 13pt; font-weight: 700; border: 2px solid #111; padding: 5pt; margin: 6pt 0; }}
.small {{ font-size: 8.5pt; color: #444; word-break: break-all; }}
.summary {{ font-size: 11.5pt; border-left: 4px solid #111; padding-left: 6pt; }}
.chart {{ font-size: 9pt; border: 1px solid #111; padding: 3pt 5pt; margin: 0 0 6pt; }}
</style></head><body>
{chart}<h1>{esc(text("page.heading", number=record.id))}</h1>
<p>{esc(text("page.prepared_by"))} <strong>{esc(text("page.not_signed"))}</strong>:
{esc(text("page.signed_at_visit"))}</p>
<p class="summary"><strong>{esc(text("page.summary"))}</strong> {esc(summary_line(record))}</p>
<table>{rows(details)}</table>
<div class="decision">{esc(text("page.decision", decision=decision_title(record.decision)))}</div>
<h2>{esc(text("page.candidacy"))}</h2><table>{rows(candidacy)}</table>
<h2>{esc(text("page.teachback"))}</h2><table>{rows(teachback)}</table>
<h2>{esc(text("page.topics"))}</h2><p>{esc(topics)}</p>
<h2>{esc(text("page.pauses"))}</h2><p>{esc(pauses_text(record))}</p>
{recheck_part}
<p class="small">{esc(versions)}</p>
<p>{esc(text("page.reviewed_by"))}</p>
</body></html>
"""
