"""What every console page shares: the templates, who is signed in, CSRF checks, the audit line.

Handlers stay thin: they ask ``signed_in``/``admin`` for the session (a redirect to the sign-in
page, or 401 for the API, when there is none), call ``bot``, and render a template.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.templating import Jinja2Templates

from bot.console import audit, sessions
from bot.content.clinic import clinic

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))


@dataclass(frozen=True)
class ConsoleConfig:
    """What one console process was started with (``bot.console.app.create_app``)."""

    database_url: str
    tracker_url: str | None
    secret_key: bytes
    secure_cookies: bool


class SignInRequired(Exception):
    """No live session: pages redirect to the sign-in page, the API answers 401 (``app.py`` handles it)."""


class PasswordChangeRequired(Exception):
    """The account still has its one-time password: every page but the password page sends it there."""


def config(request: Request) -> ConsoleConfig:
    found: ConsoleConfig = request.app.state.console
    return found


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def signed_in(request: Request) -> sessions.Session:
    """The live session of this request's cookie (dependency of every page but sign-in)."""
    return _session(request, touch=True)


def polling(request: Request) -> sessions.Session:
    """As ``signed_in``, for what a page fetches by itself: it does not keep the session from going idle."""
    return _session(request, touch=False)


def _session(request: Request, touch: bool) -> sessions.Session:
    found = sessions.find(request.cookies.get(sessions.COOKIE), config(request).database_url, touch=touch)
    if found is None:
        raise SignInRequired()
    if found.staff.must_change_password and request.url.path not in ("/password", "/signout"):
        raise PasswordChangeRequired()
    request.state.session = found
    return found


def admin(session: sessions.Session = Depends(signed_in)) -> sessions.Session:
    if not session.staff.is_admin:
        raise HTTPException(status_code=403, detail="This page is for admins.")
    return session


async def check_csrf(request: Request) -> None:
    """Every form post carries its session's CSRF token (OWASP synchronizer token); else 403, nothing done."""
    form = await request.form()
    given = form.get("csrf_token")
    token = request.cookies.get(sessions.COOKIE) or ""
    if not isinstance(given, str) or not sessions.csrf_ok(token, given, config(request).secret_key):
        raise HTTPException(status_code=403, detail="This form has expired. Go back, reload the page and try again.")


def record_access(request: Request, session: sessions.Session, action: str, target: str) -> None:
    audit.write(session.staff.name, action, target, client_address(request), config(request).database_url)


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> Any:
    """A page with the signed-in account, its CSRF token and the clinic's name available to the template."""
    session: sessions.Session | None = getattr(request.state, "session", None)
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "staff": session.staff if session else None,
            "csrf_token": session.csrf_token(config(request).secret_key) if session else "",
            "clinic": clinic(),
            **values,
        },
        status_code=status_code,
    )


def ago(then: dt.datetime, now: dt.datetime | None = None) -> str:
    """'4 min ago', '2 h 5 min ago', '3 days ago': how long a flag has waited, at a glance."""
    seconds = max(0, int(((now or dt.datetime.now(dt.timezone.utc)) - then).total_seconds()))
    if seconds < 60:
        return "just now"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60} min ago"
    return f"{hours // 24} days ago"


def local_time(value: dt.datetime | float | None) -> str:
    """A time in the clinic's zone, as staff read it ('Tue 2 Dec 14:05')."""
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        value = dt.datetime.fromtimestamp(value, dt.timezone.utc)
    return value.astimezone(clinic().timezone).strftime("%a %-d %b %H:%M")


TEMPLATES.env.filters["ago"] = ago
TEMPLATES.env.filters["local_time"] = local_time
