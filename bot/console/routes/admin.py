"""For admins: staff accounts (add one, with a one-time password shown once) and the access log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request

from bot.console import audit, sessions, staff
from bot.console.web import admin, check_csrf, config, record_access, render

router = APIRouter()


@router.get("/staff")
def staff_list(request: Request, session: sessions.Session = Depends(admin)) -> Any:
    return render(request, "staff.html", accounts=staff.everyone(config(request).database_url), roles=staff.ROLES)


@router.post("/staff", dependencies=[Depends(check_csrf)])
def staff_add(
    request: Request, name: str = Form(""), role: str = Form("nurse"), session: sessions.Session = Depends(admin)
) -> Any:
    url = config(request).database_url
    try:
        account, one_time = staff.add(name, role, url)
    except staff.StaffError as error:
        return render(
            request, "staff.html", status_code=400, accounts=staff.everyone(url), roles=staff.ROLES, error=str(error)
        )
    record_access(request, session, "staff_added", f"{account.name} ({account.role})")
    return render(
        request, "staff.html", accounts=staff.everyone(url), roles=staff.ROLES, added=account, one_time=one_time
    )


@router.get("/audit")
def access_log(request: Request, who: str = "", session: sessions.Session = Depends(admin)) -> Any:
    record_access(request, session, "view", "/audit")
    return render(
        request, "audit.html", entries=audit.entries(config(request).database_url, staff_name=who or None), who=who
    )
