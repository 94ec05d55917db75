"""The page behind a patient's own-copy link: ``GET /webhooks/copy/record/<token>``.

Enabled in credentials.yml as ``bot.channels.copy.PatientCopyInput``. Rasa adds routes
through input channels, so this one has no conversation of its own: it checks the signed
token of ``bot.records.copy_link`` and answers with the printable page of that consent
record (``bot.records.printable``), which the action server linked after the decision.
An altered or unknown token gets 404, an expired one 410, each with a short page from
``content/web.yml`` giving the clinic's phone. The page is never cached, indexed or sent
on as a referrer, and the token is never logged.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import content
from bot.records import consent_store, copy_link, printable

logger = logging.getLogger(__name__)

# The page holds a patient's answers: nobody may keep, frame or index it, and no link on it leaks the address.
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}


def notice_page(name: str) -> str:
    """A short page for a link that does not open a record (``copy_page.<name>`` of content/web.yml)."""
    title = html.escape(content.web_text("copy_page.title"))
    text = html.escape(content.web_text(f"copy_page.{name}"))
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f"<body><h1>{title}</h1><p>{text}</p></body></html>"
    )


class PatientCopyInput(InputChannel):
    """Serves the page of a patient's own copy; see the module docstring."""

    @classmethod
    def name(cls) -> str:
        """Gives the route its prefix, /webhooks/copy/."""
        return "copy"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """No options; the content is checked first, so a broken file stops the server at start.

        Its secret is checked before Rasa starts, with every other one (bot/production.py).
        """
        content.check()
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Route: GET /record/<token>."""
        copy_pages = Blueprint("patient_copy", __name__)

        @copy_pages.route("/record/<token:str>", methods=["GET"])
        async def record(_: Request, token: str) -> HTTPResponse:
            return await self.page(token)

        return copy_pages

    async def page(self, token: str) -> HTTPResponse:
        """The record's printable page, or why not (404 altered or unknown, 410 expired)."""
        try:
            record_id = copy_link.record_id(token)
        except copy_link.LinkError as error:
            status, name = (410, "expired") if error.expired else (404, "not_found")
            return response.html(notice_page(name), status=status, headers=PRIVATE_HEADERS)
        try:
            found = await asyncio.to_thread(consent_store.get, record_id)
        except LookupError:
            return response.html(notice_page("not_found"), status=404, headers=PRIVATE_HEADERS)
        logger.info("patient copy of consent record #%s opened", record_id)
        return response.html(printable.record_page(found), headers=PRIVATE_HEADERS)
