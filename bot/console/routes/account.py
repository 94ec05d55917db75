"""Signing in and out, and changing the password (the one-time one at the first sign-in)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from bot import settings
from bot.console import audit, sessions, staff
from bot.console.web import check_csrf, client_address, config, render, signed_in

router = APIRouter()
PRE_SIGN_IN_COOKIE = "console_pre_sign_in"  # binds the sign-in form to this browser (login CSRF)


def _form_token(request: Request, pre: str) -> str:
    return hmac.new(config(request).secret_key, b"console sign-in\n" + pre.encode(), hashlib.sha256).hexdigest()


def _safe_next(target: str | None) -> str:
    """Only a path of this site: an open redirect would hand a fresh session's page to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/flags"


def _set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(name, value, httponly=True, samesite="strict", secure=config(request).secure_cookies, path="/")


def _sign_in_page(request: Request, next_: str, error: str = "", status_code: int = 200) -> Any:
    pre = request.cookies.get(PRE_SIGN_IN_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request, "signin.html", status_code=status_code, next=next_, error=error, form_token=_form_token(request, pre)
    )
    _set_cookie(request, response, PRE_SIGN_IN_COOKIE, pre)
    return response


@router.get("/signin")
def sign_in_form(request: Request, next_: str = Query("/flags", alias="next")) -> Any:
    return _sign_in_page(request, _safe_next(next_))


@router.post("/signin")
def sign_in(
    request: Request,
    name: str = Form(""),
    password: str = Form(""),
    form_token: str = Form(""),
    next_: str = Form("/flags", alias="next"),
) -> Any:
    pre = request.cookies.get(PRE_SIGN_IN_COOKIE) or ""
    if not pre or not hmac.compare_digest(_form_token(request, pre), form_token):
        return _sign_in_page(request, _safe_next(next_), "This form has expired. Please try again.", 403)
    url = config(request).database_url
    outcome = staff.authenticate(name, password, url)
    typed = name.strip().lower()[:64] or "-"
    if outcome.staff is None:
        action = "sign_in_locked" if outcome.locked else "sign_in_failed"
        audit.write(typed, action, "/signin", client_address(request), url)
        if outcome.locked:
            minutes = settings.console_lockout()[1]
            error = f"This account is locked after repeated wrong passwords. Wait {minutes} minutes or ask an admin."
        else:
            error = "The name or the password is not right."
        return _sign_in_page(request, _safe_next(next_), error, 401)
    token = sessions.start(outcome.staff.id, url)
    audit.write(outcome.staff.name, "sign_in", "/signin", client_address(request), url)
    target = "/password" if outcome.staff.must_change_password else _safe_next(next_)
    response = RedirectResponse(target, status_code=303)
    _set_cookie(request, response, sessions.COOKIE, token)
    response.delete_cookie(PRE_SIGN_IN_COOKIE, path="/")
    return response


@router.post("/signout", dependencies=[Depends(check_csrf)])
def sign_out(request: Request, session: sessions.Session = Depends(signed_in)) -> Any:
    sessions.end(session.token, config(request).database_url)
    audit.write(session.staff.name, "sign_out", "/signout", client_address(request), config(request).database_url)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


@router.get("/password")
def password_form(request: Request, session: sessions.Session = Depends(signed_in)) -> Any:
    return render(request, "password.html", error="", minimum=staff.MIN_PASSWORD_CHARS)


@router.post("/password", dependencies=[Depends(check_csrf)])
def change_password(
    request: Request,
    current: str = Form(""),
    new: str = Form(""),
    again: str = Form(""),
    session: sessions.Session = Depends(signed_in),
) -> Any:
    url = config(request).database_url
    try:
        if new != again:
            raise staff.StaffError("The two new passwords are not the same.")
        staff.change_password(session.staff.id, current, new, url)
    except staff.StaffError as error:
        return render(request, "password.html", status_code=400, error=str(error), minimum=staff.MIN_PASSWORD_CHARS)
    sessions.end_all(session.staff.id, url)  # other browsers signed in with the old password are signed out
    audit.write(session.staff.name, "password_changed", "/password", client_address(request), url)
    response = RedirectResponse("/flags", status_code=303)
    _set_cookie(request, response, sessions.COOKIE, sessions.start(session.staff.id, url))
    return response
