"""The on-call notice as a text, through the project's Twilio sender (bot/channels/sms/twilio.py)."""

from __future__ import annotations

import asyncio

from bot.channels.sms.text import mask_number
from bot.channels.sms.twilio import send_sms
from bot.notify.config import SmsRoute
from bot.notify.notice import Notice


def send(notice: Notice, route: SmsRoute) -> str:
    """Text the notice to the on-call number; the number, masked, for the log.

    Runs in the notice's own thread, so it has its own event loop and never touches a server's.
    """
    sid = asyncio.run(send_sms(route.twilio, route.to, notice.text()))
    return f"{mask_number(route.to)} ({sid or 'no sid'})"
