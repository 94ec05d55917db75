"""The printable page of a consent record, for the patient's chart."""

from __future__ import annotations

import html
from collections.abc import Sequence

from bot import content
from bot.consent.record import UNDERSTOOD, CandidacyAnswer, RecheckAnswer, TeachbackResult
from bot.invitations import IDENTITY_LINK, IDENTITY_LINK_DOB, IDENTITY_NUMBER, IDENTITY_PORTAL
from bot.records.consent_store import Record
from bot.records.recheck_store import RecheckRecord, is_intact

# How the channel proved who was chatting (``ConsentPayload.identity``), in the care team's words: the one
# table the printable page, the CSV and the FHIR export all say it with.
VERIFIED_BY = {
    IDENTITY_LINK: "invitation link",
    IDENTITY_LINK_DOB: "invitation link and date of birth",
    IDENTITY_NUMBER: "invited phone number",
    IDENTITY_PORTAL: "clinic portal sign-in",
}
NOT_VERIFIED = "Not verified: nobody proved who was chatting"
# A reference on a record written before the way was kept: until invitations, only the portal's token gave one.
VERIFIED_BEFORE_KEPT = "not recorded (before invitations, only the clinic portal sign-in gave a reference)"


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
    """How the patient reference was verified, in plain words; ``NOT_VERIFIED`` when the record has none.

    The care team weighs a reference by this: a link can be forwarded, a date of birth or the
    portal's sign-in is harder to borrow. A word this code does not know is shown as stored.
    """
    if not record.patient_ref:
        return NOT_VERIFIED
    identity = record.payload.identity
    return VERIFIED_BY.get(identity, identity) if identity else VERIFIED_BEFORE_KEPT


def patient_line(record: Record) -> str:
    """The patient reference with how it was verified ("MRN-1 (verified by: invited phone number)"), or
    ``NOT_VERIFIED``."""
    if not record.patient_ref:
        return NOT_VERIFIED
    return f"{record.patient_ref} (verified by: {verified_by(record)})"


def summary_line(record: Record) -> str:
    """One plain line for the care team before the details: the decision and what needs a look."""
    data = record.payload
    flagged = sum(1 for item in data.candidacy if item.flagged)
    understood = sum(1 for item in data.teachback if item.result == UNDERSTOOD)
    review = f"{flagged} of {len(data.candidacy)} answers to review" if flagged else "no answers to review"
    topics = len(data.topics_asked)
    return (
        f"{decision_title(record.decision)}; {review}; {understood} of {len(data.teachback)} understanding "
        f"points explained back; asked about {topics} topic{'s' if topics != 1 else ''}."
    )


def visit_points(record: Record) -> list[str]:
    """What the care team goes over at the visit: each flagged answer's note, then each point not explained back."""
    data = record.payload
    answers = [item.flag_note or item.question for item in data.candidacy if item.flagged]
    points = [item.summary for item in data.teachback if item.result != UNDERSTOOD]
    return answers + points


def answer_title(item: CandidacyAnswer) -> str:
    """A choice as the patient saw it ("A little", "Does not apply"), not its stored value (``a_little``).

    The stored value stays when the content has dropped the question or the choice since,
    and for typed answers that are not choices (a number, a condition, "none").
    """
    question = content.consent_content().by_id.get(item.id)
    option = next((option for option in question.options if option.value == item.answer), None) if question else None
    return option.title if option else item.answer


HOW_GIVEN = {"typed": "typed", "button": "tapped", "confirmed": "confirmed after asking back"}


def candidacy_row(item: CandidacyAnswer) -> tuple[str, str]:
    """The question, then the answer as read, how it was given, the patient's own words, and ⚑ with its note.

    The words are there so the care team can check the reading; "confirmed after asking back"
    says the first answer was hedged or mixed and the patient chose when asked again (both
    answers are in the words, separated by " / ").
    """
    shown = answer_title(item)
    words = f' (said: "{item.said}")' if item.said and item.said.strip().lower() != shown.strip().lower() else ""
    how = f" [{HOW_GIVEN.get(item.how, item.how)}]" if item.how else ""
    return item.question, f"{shown}{how}{words}{'  ⚑ ' + item.flag_note if item.flagged else ''}"


TEACHBACK_HOW = {"own_words": "in own words", "chosen": "chosen from choices", "missed": "missed"}


def teachback_row(item: TeachbackResult) -> tuple[str, str]:
    """The point, then whether it was understood (in own words or chosen) or goes to the visit ⚑, after how many
    tries, in whose words."""
    result = "understood" if item.result == UNDERSTOOD else "review at visit ⚑"
    if item.how in TEACHBACK_HOW and item.how != "missed":
        result = f"{result}, {TEACHBACK_HOW[item.how]}"
    attempts = f"{item.attempts} attempt{'s' if item.attempts != 1 else ''}"
    return item.summary, f"{result} ({attempts}): " + " / ".join(item.answers)


GO_OVER = "go over at the visit ⚑"


def point_summary(point_id: str, fallback: str) -> str:
    """A teach-back point in the care team's words ("that the effect may wear off"); ``fallback`` when the
    content has dropped it since."""
    point = next((point for point in content.teachback_points() if point.id == point_id), None)
    return point.summary if point else fallback


def recheck_title(recheck: RecheckRecord) -> str:
    """One line on a re-check: when, how many points were right, and whether its HMAC still checks out."""
    right = sum(1 for answer in recheck.answers if answer.understood)
    signed = "HMAC verified" if is_intact(recheck) else "FAILS its HMAC: changed after it was written"
    return (
        f"Re-check before the visit, {recheck.created_at} (UTC): {right} of {len(recheck.answers)} "
        f"points right; {signed}"
    )


def recheck_row(answer: RecheckAnswer) -> tuple[str, str]:
    """The point, then right or to go over at the visit, in the patient's own words (or that it was not asked)."""
    if not answer.answer:
        result = f"not asked (the re-check stopped before it); {GO_OVER}"
    else:
        result = f"{'right' if answer.understood else 'missed; ' + GO_OVER}: {answer.answer}"
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


def record_page(record: Record, rechecks: Sequence[RecheckRecord] = ()) -> str:
    """A one-page printable summary for the patient's chart, with the re-checks made before the visit."""
    data = record.payload
    esc = html.escape

    def rows(items: list[tuple[str, str]]) -> str:
        return "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in items)

    candidacy = [candidacy_row(item) for item in data.candidacy]
    teachback = [teachback_row(item) for item in data.teachback]
    topics = ", ".join(topic_title(intent) for intent in data.topics_asked) or "none"
    paused = "; ".join(f"{pause.kind} at the {pause.step} step, {pause.at}" for pause in data.pauses) or "none"
    linked = "".join(
        f"<p>{esc(recheck_title(item))}</p><table>{rows([recheck_row(answer) for answer in item.answers])}</table>"
        for item in rechecks
    )
    recheck_part = f"<h2>Re-checks before the visit (⚑ = go over at the visit)</h2>{linked}" if rechecks else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Pre-consent record #{record.id}</title>
<style>
@page {{ size: letter; margin: 14mm; }}
body {{ font: 10.5pt/1.35 system-ui, sans-serif; color: #111; max-width: 190mm; margin: auto; }}
h1 {{ font-size: 15pt; margin: 0 0 4pt; }} h2 {{ font-size: 11.5pt; margin: 10pt 0 3pt; }}
table {{ width: 100%; border-collapse: collapse; }} th, td {{ text-align: left; vertical-align: top;
padding: 2pt 4pt; border-bottom: 1px solid #ccc; }} th {{ width: 42%; font-weight: 600; }}
.decision {{ font-size: 13pt; font-weight: 700; border: 2px solid #111; padding: 5pt; margin: 6pt 0; }}
.small {{ font-size: 8.5pt; color: #444; word-break: break-all; }}
.summary {{ font-size: 11.5pt; border-left: 4px solid #111; padding-left: 6pt; }}
</style></head><body>
<h1>Rhizotomy injection: pre-consent record #{record.id}</h1>
<p>Prepared by the clinic's automated assistant. <strong>This is not the signed consent</strong>: the final
consent is signed with the physician at the visit.</p>
<p class="summary"><strong>Summary:</strong> {esc(summary_line(record))}</p>
<table>{
        rows(
            [
                ("Recorded (UTC)", record.created_at),
                ("Conversation", record.conversation_id),
                ("Channel", record.channel),
                ("Patient reference", patient_line(record)),
            ]
        )
    }
</table>
<div class="decision">Decision: {esc(decision_title(record.decision))}</div>
<h2>Candidacy answers (⚑ = for the care team to review)</h2><table>{rows(candidacy)}</table>
<h2>Understanding check (teach-back)</h2><table>{rows(teachback)}</table>
<h2>Topics the patient asked about</h2><p>{esc(topics)}</p>
<h2>Pauses</h2><p>{esc(paused)}</p>
{recheck_part}
<p class="small">Content version {esc(record.content_version)} · record hash {esc(record.record_hash)} ·
previous {esc(record.prev_hash)}</p>
<p>Reviewed by: ____________________ Date: ____________</p>
</body></html>
"""
