"""The page behind an invitation link: ``GET`` and ``POST /i/<token>``, served by the website chat channel.

The care team's text message (``bot.invitations``) carries this short address. The page:

* answers an altered or unknown link with 404, and an expired, withdrawn or locked one with
  410, each with the clinic's phone (``invite_page.*`` of ``content/web.yml``);
* without a date of birth to check, opens the chat at once, bound to the invitation: the
  widget's script tag gets ``data-invite`` (the link token) and ``data-open``;
* with one (``INVITE_REQUIRE_DOB``, or the invitation was made with one), first shows a
  plain form (no script, so nothing of the conversation is on the page). A right date gets
  303 back to the page and an HttpOnly, SameSite=Strict cookie with a browser key
  (``link.browser_key``), which the chat page then hands the widget; a wrong one 403 with
  the tries left, and the last wrong one 410 (locked until staff invite again).

Every page is in the invitation's language (``content/es/web.yml`` for Spanish, ``<html lang>``
set, which the widget reads too); a link that is not ours, or whose invitation is gone, in English.

``GET`` changes nothing, so the link previews phones and messaging apps fetch are harmless;
only a submitted form counts a try. Every answer is private (never cached, indexed or sent
on as a referrer), and the token is never logged.
"""

from __future__ import annotations

import asyncio
import html
import logging
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import content, settings
from bot.channels.copy import PRIVATE_HEADERS
from bot.channels.web.invite import needs_date_of_birth
from bot.content import languages
from bot.invitations import link, store
from bot.invitations.link import LinkError

logger = logging.getLogger(__name__)

TEMPLATE = Path(__file__).with_name("invite_page.html")
COOKIE_NAME = "invite_browser"
DOB_FIELD = "dob"
MAX_DOB_CHARS = 40  # a date typed any way fits; more is not read
ROUTE = f"{link.PATH}/<token:str>"

# The chat page runs the widget from this server; the form page runs no script at all.
_CHAT_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_FORM_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _headers(policy: str) -> dict[str, str]:
    return {**PRIVATE_HEADERS, "Content-Security-Policy": policy}


@dataclass(frozen=True)
class Closed:
    """A link that opens nothing: the status, the ``invite_page`` text that says why, and its invitation's language."""

    status: int
    text: str
    language: str = languages.ENGLISH


def open_link(token: str, url: str | None = None) -> store.Invitation | Closed:
    """The invitation a link opens, or why not (reads the table: run it in a thread).

    Unlike ``store.by_token`` it tells a withdrawn link from a locked one, so the page can say which.
    """
    try:
        invitation_id = link.verify(token)
    except LinkError as error:
        if not error.expired:
            return Closed(404, "not_found")
        expired = store.get(link.named_invitation(token) or "", url)
        return Closed(410, "expired", expired.language if expired else languages.ENGLISH)
    invitation = store.get(invitation_id, url)
    if invitation is None:
        return Closed(404, "not_found")
    if invitation.revoked_at is not None:
        return Closed(410, "revoked", invitation.language)
    if invitation.locked:
        return Closed(410, "locked", invitation.language)
    if settings.invite_require_dob() and not invitation.dob_required:
        # Made before dates of birth were required: it cannot be checked, so staff invite again.
        return Closed(410, "revoked", invitation.language)
    return invitation


def browser_key_opens(key: str | None, invitation: store.Invitation, url: str | None = None) -> bool:
    """Whether a cookie's browser key is for this invitation and still good (reads the table)."""
    if not key:
        return False
    try:
        return store.by_browser_key(key, url).invitation_id == invitation.invitation_id
    except LinkError:
        return False


class InvitePage:
    """Serves ``/i/<token>``; ``start_payload`` starts an empty conversation as the demo page does."""

    def __init__(self, start_payload: str | None = None, url: str | None = None) -> None:
        self.start_payload = start_payload
        self.url = url  # the database; None: the project's (DATABASE_URL)

    async def serve(self, request: Request, token: str) -> HTTPResponse:
        """GET shows the chat or the date-of-birth form; POST checks a date of birth."""
        opened = await asyncio.to_thread(open_link, token, self.url)
        if isinstance(opened, Closed):
            return _in_language(opened.language, self.notice, opened)
        if not needs_date_of_birth(opened):
            if request.method == "POST":
                return self.see_page(token)
            return _in_language(opened.language, self.chat, token)
        if request.method == "POST":
            return await self.check(request, token, opened)
        key = request.cookies.get(COOKIE_NAME)
        if await asyncio.to_thread(browser_key_opens, key, opened, self.url):
            return _in_language(opened.language, self.chat, str(key))
        return _in_language(opened.language, self.form, 200)

    async def check(self, request: Request, token: str, invitation: store.Invitation) -> HTTPResponse:
        """One try at the date of birth: right 303 with the cookie, wrong 403, unreadable 400, the last 410."""
        text = str(request.form.get(DOB_FIELD) or "")[:MAX_DOB_CHARS]
        result = await asyncio.to_thread(store.check_dob, invitation.invitation_id, text, self.url)
        if result.ok:
            logger.info("Invitation %s: date of birth right; the chat opens in this browser.", invitation.invitation_id)
            redirect = self.see_page(token)
            redirect.headers["Set-Cookie"] = self.cookie(invitation.invitation_id, request)
            return redirect
        with languages.use(invitation.language):
            if result.locked:
                logger.warning("Invitation %s: locked after wrong dates of birth.", invitation.invitation_id)
                return self.notice(Closed(410, "locked", invitation.language))
            if not result.understood:
                return self.form(400, content.web_text("invite_page.dob_unreadable"))
            logger.info(
                "Invitation %s: a wrong date of birth, %d tries left.", invitation.invitation_id, result.attempts_left
            )
            return self.form(403, content.web_text("invite_page.dob_wrong", number=result.attempts_left))

    @staticmethod
    def see_page(token: str) -> HTTPResponse:
        """303 to the page itself (a reload then shows the chat, never sends the form again)."""
        return response.empty(status=303, headers={**PRIVATE_HEADERS, "Location": f"{link.PATH}/{token}"})

    @staticmethod
    def cookie(invitation_id: str, request: Request) -> str:
        """The browser key's cookie: for /i/ only, unreadable by scripts, never sent from another site."""
        hours = settings.invite_browser_hours()
        forwarded = (request.headers.get("x-forwarded-proto") or "").split(",")[0].strip()
        secure = settings.is_production() or (forwarded or request.scheme) == "https"
        return (
            f"{COOKIE_NAME}={link.browser_key(invitation_id)}; Path={link.PATH}/; Max-Age={hours * 3600}; "
            "HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")
        )

    # --- the pages --------------------------------------------------------------

    def notice(self, closed: Closed) -> HTTPResponse:
        """Why the link opens nothing, and whom to call."""
        main = f"<h1>{_text('title')}</h1>\n<p>{_text(closed.text)}</p>"
        return response.html(_page(main), status=closed.status, headers=_headers(_FORM_POLICY))

    def form(self, status: int, error: str = "") -> HTTPResponse:
        """The date-of-birth form: plain HTML, posted to this same address."""
        alert = f'<p class="error" role="alert" id="dob-error">{html.escape(error)}</p>\n' if error else ""
        described = "dob-hint dob-error" if error else "dob-hint"
        invalid = ' aria-invalid="true"' if error else ""
        main = (
            f"<h1>{_text('dob_heading')}</h1>\n<p>{_text('dob_intro')}</p>\n{alert}"
            f'<form method="post">\n<label for="dob">{_text("dob_label")}</label>\n'
            f'<p class="hint" id="dob-hint">{_text("dob_hint")}</p>\n'
            f'<input type="date" id="{DOB_FIELD}" name="{DOB_FIELD}" required autocomplete="bday" '
            f'aria-describedby="{described}"{invalid}>\n'
            f'<p><button type="submit">{_text("dob_submit")}</button></p>\n</form>\n'
            f'<div class="card"><p>{_text("emergency")}</p></div>'
        )
        return response.html(_page(main), status=status, headers=_headers(_FORM_POLICY))

    def chat(self, credential: str) -> HTTPResponse:
        """The chat page: the widget opens bound to the invitation's conversation, its history shown."""
        clinic = content.clinic()
        launcher = content.widget_text("labels.launcher")
        main = (
            f"<h1>{_text('heading')}</h1>\n<p>{_text('intro')}</p>\n"
            f"<p>{html.escape(content.web_text('invite_page.how_to_open', launcher=launcher))}</p>\n"
            f'<div class="card"><p>{_text("emergency")}</p>'
            f"<p>{html.escape(clinic.phone)}<br>{html.escape(clinic.hours_text(languages.current()))}</p></div>"
        )
        attributes = {
            "data-clinic-name": clinic.name,
            "data-notice": content.web_text("invite_page.emergency"),
            "data-invite": credential,
            "data-open": "1",
            "data-lang": languages.current(),
        }
        if self.start_payload:
            attributes["data-start-payload"] = self.start_payload
        script = " ".join(f'{name}="{html.escape(value, quote=True)}"' for name, value in attributes.items())
        return response.html(
            _page(main, f'<script src="/widget/widget.js" {script} defer></script>'),
            headers=_headers(_CHAT_POLICY),
        )


def _in_language(language: str, page: Callable[..., HTTPResponse], *args: object) -> HTTPResponse:
    """``page(*args)`` composed in ``language`` (the invitation's)."""
    with languages.use(language):
        return page(*args)


def _text(name: str) -> str:
    """An ``invite_page`` text of content/web.yml, escaped for HTML."""
    return html.escape(content.web_text(f"invite_page.{name}"))


def _page(main: str, script: str = "") -> str:
    return string.Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        lang=languages.current(),
        title=_text("title"),
        clinic_name=html.escape(content.clinic().name),
        main=main,
        script=script,
    )
