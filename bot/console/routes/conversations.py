"""Conversations: the list of recent ones, and one as the patient saw it with its steps marked."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request

from bot.console import sessions
from bot.console.web import config, record_access, render, signed_in
from bot.records import milestones, printable, tracker_events, transcripts

router = APIRouter()
SHOWN = 200  # the most recent conversations listed


def milestone_label(mark: milestones.Milestone) -> str:
    """A step in a nurse's words, from what the milestone holds (its ids are content ids)."""
    kind = mark.kind
    if kind == milestones.CONSENT_STARTED:
        return "Started the consent questions"
    if kind == milestones.CANDIDACY_ANSWER:
        flag = " ⚑ flagged for review" if mark.flagged else ""
        how = f", {printable.HOW_GIVEN.get(mark.how, mark.how)}" if mark.how else ""
        return f"Candidacy answer recorded: {mark.question_id} = {mark.answer}{how}{flag}"
    if kind == milestones.CANDIDACY_DONE:
        return "Candidacy questions finished"
    if kind == milestones.TEACHBACK_POINT:
        how = printable.TEACHBACK_HOW.get(mark.how, mark.how)
        return f"Teach-back '{mark.point_id}': {mark.result} ({how}, {mark.attempts} answers)"
    if kind == milestones.TEACHBACK_DONE:
        return "Teach-back finished"
    if kind == milestones.DECISION:
        return f"Decision: {printable.decision_title(mark.decision)}"
    if kind == milestones.TOPIC_ASKED:
        return f"Asked about: {printable.topic_title(mark.topic)}"
    if kind in (milestones.NOT_UNDERSTOOD, milestones.OUT_OF_SCOPE):
        closest = f" (closest topic: {printable.topic_title(mark.topic)})" if mark.topic else ""
        return ("Not understood" if kind == milestones.NOT_UNDERSTOOD else "Out of scope") + closest
    if kind == milestones.PAUSE:
        return f"Paused at the {mark.step} step"
    if kind == milestones.RESUME:
        return f"Resumed at the {mark.step} step"
    if kind == milestones.EMERGENCY:
        return f"EMERGENCY reply sent ({mark.detail})" if mark.detail else "EMERGENCY reply sent"
    if kind == milestones.HANDOFF:
        return f"Passed to the care team: {mark.detail}"
    return kind.replace("_", " ")


@router.get("/conversations")
def conversation_list(request: Request, session: sessions.Session = Depends(signed_in)) -> Any:
    found = tracker_events.conversations(config(request).tracker_url, limit=SHOWN)
    record_access(request, session, "view", "/conversations")
    return render(request, "conversations.html", conversations=found, shown=SHOWN)


@router.get("/conversations/{conversation_id}")
def conversation_page(request: Request, conversation_id: str, session: sessions.Session = Depends(signed_in)) -> Any:
    settings = config(request)
    try:
        found = transcripts.transcript(conversation_id, settings.tracker_url, settings.database_url)
    except LookupError as error:
        raise HTTPException(status_code=404, detail="There is no such conversation.") from error
    record_access(request, session, "view", f"/conversations/{conversation_id}")
    return render(request, "conversation.html", transcript=found, label=milestone_label)
