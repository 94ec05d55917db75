"""SMS settings from the environment, sending through Twilio's REST API, and the invite command.

Run ``python -m bot sms invite +15550100123`` to send a patient the first text of
a conversation; the patient's answer then arrives at the SMS channel's webhook.
Nothing here imports Rasa, so the command starts fast and runs anywhere the
project's database is reachable.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from bot import settings
from bot.channels.sms.text import (
    conversation_id,
    mask_number,
    normalize_number,
    plain_text,
    sms_reply,
    split_numbered,
)

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.twilio.com"
# Public development stand-ins, used only when the real secret is missing and
# always announced in the log (see ``SmsConfig.log_insecure``). A deployment
# that forgets TWILIO_AUTH_TOKEN therefore rejects every real Twilio request
# (signed with the real token) instead of accepting unsigned ones.
DEV_AUTH_TOKEN = "dev-insecure-twilio-auth-token"
DEV_ID_SECRET = "dev-insecure-sms-id-secret"
SEND_TIMEOUT_SECONDS = 20.0


class SmsConfigError(RuntimeError):
    """A setting needed for what was asked is missing; the message names the variable."""


class TwilioApiError(RuntimeError):
    """Twilio's REST API refused a message; the message carries Twilio's own reason."""


@dataclass(frozen=True)
class SmsConfig:
    """Secrets and deployment settings of the SMS channel, read from the environment."""

    auth_token: str
    id_secret: str
    account_sid: str | None = None
    from_number: str | None = None
    api_base: str = DEFAULT_API_BASE
    public_url: str | None = None
    insecure: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmsConfig:
        """Read TWILIO_* and SMS_* variables, noting which secrets fell back to dev values.

        The secrets come through ``bot.settings.secret``: in production mode a missing one or a
        stand-in raises ``SettingsError`` naming it, so the server does not start.
        """
        env = os.environ if environ is None else environ

        def value(name: str) -> str | None:
            raw = env.get(name, "").strip()
            return raw or None

        insecure: list[str] = []
        auth_token = settings.secret("TWILIO_AUTH_TOKEN", DEV_AUTH_TOKEN, env) or DEV_AUTH_TOKEN
        if auth_token == DEV_AUTH_TOKEN:
            insecure.append("TWILIO_AUTH_TOKEN")
        id_secret = settings.secret("SMS_ID_SECRET", DEV_ID_SECRET, env) or DEV_ID_SECRET
        if id_secret == DEV_ID_SECRET:
            insecure.append("SMS_ID_SECRET")
        return cls(
            auth_token=auth_token,
            id_secret=id_secret,
            account_sid=value("TWILIO_ACCOUNT_SID"),
            from_number=value("TWILIO_FROM_NUMBER"),
            api_base=(value("TWILIO_API_BASE") or DEFAULT_API_BASE).rstrip("/"),
            public_url=value("SMS_PUBLIC_URL"),
            insecure=tuple(insecure),
        )

    def log_insecure(self, log: logging.Logger) -> None:
        """Say loudly when development stand-ins are in use, so nobody ships them unnoticed."""
        if "TWILIO_AUTH_TOKEN" in self.insecure:
            log.warning(
                "SMS channel in INSECURE DEV MODE: TWILIO_AUTH_TOKEN is not set, so webhook "
                "signatures are checked against the public development token. Anyone can "
                "forge requests; real Twilio requests will be refused. Set TWILIO_AUTH_TOKEN."
            )
        if "SMS_ID_SECRET" in self.insecure:
            log.warning(
                "SMS channel in INSECURE DEV MODE: SMS_ID_SECRET is not set, so conversation "
                "ids are derived from phone numbers with a public key. Set SMS_ID_SECRET "
                "(and keep it: changing it starts every conversation afresh)."
            )

    def conversation_id(self, number: str) -> str:
        """The conversation id of a phone number, as the channel derives it."""
        return conversation_id(number, self.id_secret)

    def require_sending(self) -> None:
        """Sending needs real credentials; dev stand-ins never go to Twilio."""
        missing = [
            name
            for name, present in (
                ("TWILIO_ACCOUNT_SID", self.account_sid),
                ("TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN" not in self.insecure),
                ("TWILIO_FROM_NUMBER", self.from_number),
            )
            if not present
        ]
        if missing:
            raise SmsConfigError("sending a text needs " + ", ".join(missing) + " in the environment")


async def send_sms(
    config: SmsConfig,
    to: str,
    body: str,
    session: aiohttp.ClientSession | None = None,
) -> str:
    """Send one text through Twilio's Messages API and return its MessageSid.

    Asynchronous so it can run inside the Rasa server's event loop without
    blocking it; ``TWILIO_API_BASE`` points it at a fake API in tests.
    """
    config.require_sending()
    assert config.account_sid is not None and config.from_number is not None
    url = f"{config.api_base}/2010-04-01/Accounts/{config.account_sid}/Messages.json"
    form = {"To": normalize_number(to), "From": config.from_number, "Body": body}
    auth = aiohttp.BasicAuth(config.account_sid, config.auth_token)
    own_session = session is None
    client = session or aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SEND_TIMEOUT_SECONDS))
    try:
        async with client.post(url, data=form, auth=auth) as response:
            try:
                answer = await response.json(content_type=None)
            except ValueError:
                answer = {}
            if response.status >= 400 or not isinstance(answer, dict):
                reason = answer.get("message") if isinstance(answer, dict) else None
                code = answer.get("code") if isinstance(answer, dict) else None
                raise TwilioApiError(
                    f"Twilio answered {response.status}"
                    + (f" (error {code})" if code else "")
                    + (f": {reason}" if reason else "")
                )
            return str(answer.get("sid", ""))
    except aiohttp.ClientError as error:
        raise TwilioApiError(f"could not reach Twilio at {config.api_base}: {error}") from error
    finally:
        if own_session:
            await client.close()


async def invite(number: str, body: str | None = None, config: SmsConfig | None = None) -> list[str]:
    """Send the first text of a conversation to ``number``; returns the MessageSids.

    A number that opted out (texted STOP) is never texted again by us: carriers
    and the law require it, so this raises instead.
    """
    from bot.channels.sms.store import SmsStore  # the database only when really sending

    config = config or SmsConfig.from_env()
    config.require_sending()
    number = normalize_number(number)
    conversation = config.conversation_id(number)
    store = SmsStore()
    if await asyncio.to_thread(store.is_opted_out, conversation):
        raise SmsConfigError(
            f"{mask_number(number)} has opted out (texted STOP); no invitation sent. "
            "The patient can text START to opt back in."
        )
    text = plain_text(body) if body else sms_reply("invite")
    sids = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SEND_TIMEOUT_SECONDS)) as session:
        for piece in split_numbered(text):
            sids.append(await send_sms(config, number, piece, session=session))
    logger.info("invitation sent to conversation %s (%d text(s))", conversation, len(sids))
    return sids
