"""The console's web application: FastAPI with server-rendered pages, one router per kind of page.

``create_app`` reads its secret, migrates the console's tables and mounts the routers; every
response carries headers that keep patient data out of caches, frames and other sites' scripts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot import settings
from bot.console import migrate
from bot.console.routes import account, admin, conversations, flags, insight, invitations, records
from bot.console.web import HERE, ConsoleConfig, PasswordChangeRequired, SignInRequired, render

DEVELOPMENT_SECRET_KEY = "development-only-console-secret-key-never-in-production"

# Inline styles are allowed for the printable record page's own <style>; scripts only from this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "media-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def secret_key() -> bytes:
    """``CONSOLE_SECRET_KEY``; the development stand-in outside production (refused in production)."""
    return (settings.secret(settings.CONSOLE_SECRET_ENV, DEVELOPMENT_SECRET_KEY) or DEVELOPMENT_SECRET_KEY).encode()


def create_app(database_url: str | None = None, tracker_url: str | None = None) -> FastAPI:
    """The console for ``database_url`` (default ``DATABASE_URL``) and the tracker store ``tracker_url``.

    Cookies are marked Secure when the console's public address is https (always in production).
    """
    url = database_url or settings.database_url()
    migrate.upgrade(url)
    app = FastAPI(title="Care-team console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = ConsoleConfig(
        database_url=url,
        tracker_url=tracker_url,
        secret_key=secret_key(),
        secure_cookies=settings.console_public_url().startswith("https://"),
    )
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for router in (
        account.router,
        flags.router,
        conversations.router,
        records.router,
        invitations.router,
        insight.router,
        admin.router,
    ):
        app.include_router(router)
    app.add_api_route("/health", _health, methods=["GET"], include_in_schema=False)
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(SignInRequired, _sign_in_required)  # type: ignore[arg-type]
    app.add_exception_handler(PasswordChangeRequired, _password_change_required)  # type: ignore[arg-type]
    app.middleware("http")(_security_headers)
    return app


def _health() -> dict[str, bool]:
    """For `make run` and load balancers: the process answers (no data, no sign-in)."""
    return {"ok": True}


async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
    """Errors as a page staff can read (JSON for the API), never a stack trace."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": error.detail}, status_code=error.status_code)
    titles = {403: "Not allowed", 404: "Not found", 400: "Something is not right", 409: "Already done"}
    return render(
        request,
        "error.html",
        status_code=error.status_code,
        title=titles.get(error.status_code, "Something went wrong"),
        detail=error.detail,
    )


async def _sign_in_required(request: Request, _error: SignInRequired) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": "sign in first"}, status_code=401)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)


async def _password_change_required(request: Request, _error: PasswordChangeRequired) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": "change your one-time password first"}, status_code=403)
    return RedirectResponse("/password", status_code=303)


async def _security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    if not request.url.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"  # patient data stays out of browser and proxy caches
    return response
