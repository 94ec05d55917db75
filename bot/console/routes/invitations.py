"""Invitations: the clinic invites a patient by SMS to the chat bound to them (issue 17), and sees who was invited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from bot import content, settings
from bot.channels.sms import twilio
from bot.console import sessions
from bot.console.web import check_csrf, config, record_access, render, signed_in
from bot.content import languages
from bot.invitations import InvitationError, send, store
from bot.outreach import store as outreach_store
from bot.outreach import timing

router = APIRouter()

# The languages staff may invite in, as the form's select names them (each in its own language).
LANGUAGE_NAMES = {languages.ENGLISH: "English", languages.SPANISH: "Español"}


def _date(raw: str, what: str) -> dt.date | None:
    """A date from a form's date field (YYYY-MM-DD), or None when left empty."""
    if not raw.strip():
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError as error:
        raise InvitationError(f"The {what} must be a date like 2026-12-24.") from error


def _page(request: Request, status_code: int = 200, **values: Any) -> Any:
    url = config(request).database_url
    found = store.everyone(url)
    rows = outreach_store.reminders_of([invitation.invitation_id for invitation in found], url)
    reminders = {
        invitation.invitation_id: reminder_state(invitation, rows.get(invitation.invitation_id)) for invitation in found
    }
    return render(
        request,
        "invitations.html",
        status_code=status_code,
        invitations=found,
        reminders=reminders,
        language_names=LANGUAGE_NAMES,
        **values,
    )


# What staff read in the Reminder column for each outreach status, and which time goes with it.
_REMINDER_WORDS: dict[str, tuple[str, str | None]] = {
    outreach_store.DUE: ("due", "next_try_at"),
    outreach_store.CLAIMED: ("sending since", "claimed_at"),
    outreach_store.SENT: ("sent", "sent_at"),
    outreach_store.DEFERRED: ("deferred until", "next_try_at"),
    outreach_store.OPTED_OUT: ("not sent: opted out", None),
    outreach_store.EXPIRED: ("not sent: expired", None),
    outreach_store.FAILED: ("not sent: failed", None),
    outreach_store.UNKNOWN: ("unknown: the server stopped while sending; check with the patient", None),
}


def reminder_state(invitation: store.Invitation, row: outreach_store.Outreach | None) -> tuple[str, dt.datetime | None]:
    """The Reminder column: what became of the re-check reminder, or when it is planned."""
    if row is not None:
        words, moment = _REMINDER_WORDS.get(row.status, (row.status, None))
        return words, getattr(row, moment) if moment else None
    if invitation.revoked_at is not None or invitation.procedure_date is None or settings.reminder_days_before() == 0:
        return "", None
    due = timing.reminder_due(
        invitation.procedure_date, content.clinic(), settings.reminder_days_before(), settings.reminder_local_time()
    )
    return ("planned", due) if due is not None else ("", None)


@router.get("/invitations")
def invitation_list(request: Request, session: sessions.Session = Depends(signed_in)) -> Any:
    record_access(request, session, "view", "/invitations")
    return _page(request)


@router.post("/invitations", dependencies=[Depends(check_csrf)])
async def invite(
    request: Request,
    phone: str = Form(""),
    patient: str = Form(""),
    procedure_date: str = Form(""),
    dob: str = Form(""),
    lang: str = Form(languages.ENGLISH),
    preview: str = Form(""),
    session: sessions.Session = Depends(signed_in),
) -> Any:
    """Send (or, with "preview only", just show) the invitation text; the phone number is never shown again."""
    form = {"patient": patient, "date": procedure_date, "lang": lang}
    try:
        result = await send.invite(
            phone,
            patient,
            procedure_date=_date(procedure_date, "procedure date"),
            dob=_date(dob, "date of birth"),
            dry_run=bool(preview),
            created_by=session.staff.name,
            url=config(request).database_url,
            language=lang,
        )
    except (InvitationError, twilio.SmsConfigError, settings.SettingsError) as error:
        return _page(request, status_code=400, error=str(error), form=form)
    except (twilio.TwilioApiError, aiohttp.ClientError, TimeoutError) as error:
        return _page(request, status_code=502, error=f"The text was not sent: {error}", form={**form, "date": ""})
    if not result.dry_run:
        record_access(request, session, "invite", f"invitation {result.invitation.invitation_id}")
    return _page(request, result=result)


@router.post("/invitations/{invitation_id}/revoke", dependencies=[Depends(check_csrf)])
def revoke(request: Request, invitation_id: str, session: sessions.Session = Depends(signed_in)) -> Any:
    """The link stops working at once (a wrong number, a patient who cancelled)."""
    url = config(request).database_url
    if store.get(invitation_id, url) is None:
        raise HTTPException(status_code=404, detail="There is no such invitation.")
    store.revoke(invitation_id, url)
    record_access(request, session, "invite", f"revoked invitation {invitation_id}")
    return RedirectResponse("/invitations", status_code=303)
