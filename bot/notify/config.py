"""Who is on call and how to reach them, read from the environment (``ONCALL_*``).

Any combination of three channels; none set means no notice is sent:

    ONCALL_SMS_TO=+15550100123            a text through the project's Twilio sender (TWILIO_* as for SMS)
    ONCALL_MAIL_TO=oncall@clinic.example  an e-mail through ONCALL_SMTP (host:port, default localhost:25)
    ONCALL_MAIL_FROM=assistant@clinic.example   optional sender (default on-call-notice@<this host>)
    ONCALL_WEBHOOK_URL=https://...         a signed JSON POST; needs ONCALL_WEBHOOK_SECRET

A bad value raises ``OncallSettingError`` naming the variable, so a deployment can refuse to start
on it (``from_env`` at start) instead of finding out at the first emergency.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import settings

if TYPE_CHECKING:
    from bot.channels.sms.twilio import SmsConfig

SMS_TO_ENV = "ONCALL_SMS_TO"
MAIL_TO_ENV = "ONCALL_MAIL_TO"
MAIL_FROM_ENV = "ONCALL_MAIL_FROM"
SMTP_ENV = "ONCALL_SMTP"
WEBHOOK_URL_ENV = "ONCALL_WEBHOOK_URL"
WEBHOOK_SECRET_ENV = "ONCALL_WEBHOOK_SECRET"
DEFAULT_SMTP = "localhost:25"
# One address, nothing a mail header could be split on (no second header can be smuggled in).
_ADDRESS = re.compile(r"^[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+$")


class OncallSettingError(settings.SettingsError):
    """An ``ONCALL_*`` setting (or one it needs) that cannot be used; ``variable`` names it."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(message)
        self.variable = variable


@dataclass(frozen=True)
class SmsRoute:
    to: str  # E.164
    twilio: SmsConfig


@dataclass(frozen=True)
class MailRoute:
    to: str
    sender: str | None  # None: on-call-notice@<this host>, looked up when sending (a DNS lookup may be slow)
    host: str
    port: int


@dataclass(frozen=True)
class WebhookRoute:
    url: str
    secret: str


@dataclass(frozen=True)
class OncallConfig:
    """The configured channels (None: not used) and where the console's flag pages are."""

    console_url: str = ""
    sms: SmsRoute | None = None
    mail: MailRoute | None = None
    webhook: WebhookRoute | None = None

    def channels(self) -> list[str]:
        """Names of the configured channels, for logs: ``sms``, ``mail``, ``webhook``."""
        routes = (("sms", self.sms), ("mail", self.mail), ("webhook", self.webhook))
        return [name for name, route in routes if route is not None]


def from_env(env: Mapping[str, str] | None = None) -> OncallConfig:
    """The on-call channels the environment configures; ``OncallSettingError`` naming a bad variable."""
    env = os.environ if env is None else env

    def value(name: str) -> str | None:
        return (env.get(name) or "").strip() or None

    sms_to, mail_to, webhook_url = value(SMS_TO_ENV), value(MAIL_TO_ENV), value(WEBHOOK_URL_ENV)
    if not (sms_to or mail_to or webhook_url):
        return OncallConfig()
    try:
        console_url = settings.console_public_url(env)
    except settings.SettingsError as error:
        raise OncallSettingError(settings.CONSOLE_URL_ENV, str(error)) from error
    return OncallConfig(
        console_url=console_url,
        sms=_sms(sms_to, env) if sms_to else None,
        mail=_mail(mail_to, value(MAIL_FROM_ENV), value(SMTP_ENV) or DEFAULT_SMTP) if mail_to else None,
        webhook=_webhook(webhook_url, env) if webhook_url else None,
    )


def _sms(to: str, env: Mapping[str, str]) -> SmsRoute:
    from bot.channels.sms.text import normalize_number
    from bot.channels.sms.twilio import DEV_AUTH_TOKEN, SmsConfig, SmsConfigError

    try:
        number = normalize_number(to)
    except ValueError as error:
        raise OncallSettingError(SMS_TO_ENV, f"{SMS_TO_ENV} must be one number like +15550100123") from error
    token_name = "TWILIO_AUTH_TOKEN"
    try:  # production mode refuses a missing, stand-in or short token here
        settings.secret(token_name, DEV_AUTH_TOKEN, env)
    except settings.SettingsError as error:
        raise OncallSettingError(token_name, f"{SMS_TO_ENV} is set: {error}") from error
    # Only what sending reads (TWILIO_*): the SMS channel's id secret is not needed to send a text,
    # and the token was checked just above as production mode checks it.
    twilio = SmsConfig.from_env({name: raw for name, raw in env.items() if name.startswith("TWILIO_")})
    try:
        twilio.require_sending()
    except SmsConfigError as error:
        needed = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
        missing = next((name for name in needed if name in str(error)), needed[0])
        raise OncallSettingError(missing, f"{SMS_TO_ENV} is set, but {error}") from error
    return SmsRoute(number, twilio)


def _mail(to: str, sender: str | None, smtp: str) -> MailRoute:
    if not _ADDRESS.match(to):
        raise OncallSettingError(
            MAIL_TO_ENV, f"{MAIL_TO_ENV} must be one e-mail address like oncall@clinic.org, not {to!r}"
        )
    if sender is not None and not _ADDRESS.match(sender):
        raise OncallSettingError(MAIL_FROM_ENV, f"{MAIL_FROM_ENV} must be one e-mail address, not {sender!r}")
    host, port = smtp_address(smtp, SMTP_ENV)
    return MailRoute(to, sender, host, port)


def smtp_address(raw: str, variable: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:25`` for IPv6; port 25 when left out) of an SMTP relay."""
    if raw.startswith("["):
        host, _, rest = raw[1:].partition("]")
        port = rest.removeprefix(":") if rest else "25"
    elif ":" in raw:
        host, _, port = raw.rpartition(":")
    else:
        host, port = raw, "25"
    if (
        not host
        or (":" in host and not raw.startswith("["))
        or any(c.isspace() for c in host)
        or not port.isdigit()
        or not 0 < int(port) < 65536
    ):
        raise OncallSettingError(
            variable, f"{variable} must be host:port of an SMTP relay (like localhost:25), not {raw!r}"
        )
    return host, int(port)


def _webhook(url: str, env: Mapping[str, str]) -> WebhookRoute:
    production = settings.is_production(env)
    if not url.startswith(("https://", "http://")) or (production and not url.startswith("https://")):
        scheme = "https://" if production else "https:// (or http:// outside production)"
        raise OncallSettingError(WEBHOOK_URL_ENV, f"{WEBHOOK_URL_ENV} must be an {scheme} address, not {url!r}")
    try:
        secret = settings.secret(WEBHOOK_SECRET_ENV, None, env)
    except settings.SettingsError as error:
        raise OncallSettingError(WEBHOOK_SECRET_ENV, str(error)) from error
    if not secret:  # an unsigned notice could not be told from a forged one
        raise OncallSettingError(
            WEBHOOK_SECRET_ENV, f"{WEBHOOK_URL_ENV} is set: {WEBHOOK_SECRET_ENV} must be set too (it signs the notice)"
        )
    return WebhookRoute(url, secret)
