"""The flags page: what needs a human, emergencies first, updated while it is open; resolving one with a note."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from bot.console import sessions
from bot.console.web import check_csrf, config, polling, record_access, render, signed_in
from bot.content.clinic import clinic
from bot.records import flags

router = APIRouter()
STATUSES = ("open", "resolved", "all")


def _rows(url: str, kind: str, status: str) -> list[dict[str, Any]]:
    """Flags for the table: open ones emergencies first then oldest first; others newest first.

    The open list (what the page polls every few seconds) is the flag log's own query,
    ``flags.open_flags``; only the other views read the whole log to pair flags with their resolutions.
    """
    resolution: dict[int, flags.Flag] = {}
    if status == "open":
        shown = sorted(flags.open_flags(url, kind or None), key=lambda row: (row.kind != "emergency", row.id))
    else:
        every = flags.all_rows(url)
        resolution = {row.resolves_id: row for row in every if row.resolves_id is not None}
        opened = (row for row in every if row.status == flags.OPEN and (not kind or row.kind == kind))
        picked = [row for row in opened if status == "all" or row.id in resolution]
        shown = sorted(picked, key=lambda row: -row.id)
    opening = clinic()
    return [
        {
            "flag": row,
            "resolution": resolution.get(row.id),
            "outside_hours": not opening.is_open(row.created_at),
        }
        for row in shown
    ]


def _filters(kind: str, status: str) -> tuple[str, str]:
    if kind and kind not in flags.KINDS:
        raise HTTPException(status_code=400, detail=f"Unknown kind {kind!r}.")
    if status not in STATUSES:
        raise HTTPException(status_code=400, detail=f"Unknown status {status!r}.")
    return kind, status


@router.get("/")
def home() -> Any:
    return RedirectResponse("/flags", status_code=303)


@router.get("/flags")
def flag_list(
    request: Request,
    kind: str = "",
    status: str = "open",
    session: sessions.Session = Depends(signed_in),
) -> Any:
    kind, status = _filters(kind, status)
    rows = _rows(config(request).database_url, kind, status)
    record_access(request, session, "view", f"/flags?kind={kind}&status={status}")
    return render(request, "flags.html", rows=rows, kind=kind, status=status, kinds=flags.KINDS, statuses=STATUSES)


@router.get("/flags/rows")
def flag_rows(
    request: Request,
    kind: str = "",
    status: str = "open",
    session: sessions.Session = Depends(polling),
) -> Any:
    """The table's rows alone, for the page to poll; ``X-Newest-Emergency`` lets it sound the alarm."""
    kind, status = _filters(kind, status)
    rows = _rows(config(request).database_url, kind, status)
    newest = max(
        (row["flag"].id for row in rows if row["flag"].kind == "emergency" and not row["resolution"]), default=0
    )
    response = render(request, "flag_rows.html", rows=rows, status=status)
    response.headers["X-Newest-Emergency"] = str(newest)
    return response


def _flag(url: str, flag_id: int) -> flags.Flag:
    found = flags.get(flag_id, url)
    if found is None or found.status != flags.OPEN:
        raise HTTPException(status_code=404, detail=f"There is no flag #{flag_id}.")
    return found


@router.get("/flags/{flag_id}")
def flag_page(request: Request, flag_id: int, session: sessions.Session = Depends(signed_in)) -> Any:
    url = config(request).database_url
    flag = _flag(url, flag_id)
    resolution = flags.resolution_of(flag_id, url)
    record_access(request, session, "view", f"/flags/{flag_id}")
    return render(
        request,
        "flag.html",
        flag=flag,
        resolution=resolution,
        outside_hours=not clinic().is_open(flag.created_at),
        now=dt.datetime.now(dt.timezone.utc),
        error="",
    )


@router.post("/flags/{flag_id}/resolve", dependencies=[Depends(check_csrf)])
def resolve(
    request: Request,
    flag_id: int,
    note: str = Form(""),
    session: sessions.Session = Depends(signed_in),
) -> Any:
    """A new row that resolves the flag, with the nurse's name and note; the flag itself is never changed."""
    url = config(request).database_url
    flag = _flag(url, flag_id)
    note = note.strip()
    if not note:
        return render(
            request,
            "flag.html",
            status_code=400,
            flag=flag,
            resolution=None,
            error="Write what was done.",
            outside_hours=not clinic().is_open(flag.created_at),
            now=dt.datetime.now(dt.timezone.utc),
        )
    try:
        flags.resolve(flag_id, session.staff.name, note[:2000], url)
    except LookupError as error:
        raise HTTPException(status_code=409, detail=str(error)) from error
    record_access(request, session, "resolve", f"flag {flag_id}")
    return RedirectResponse("/flags", status_code=303)
