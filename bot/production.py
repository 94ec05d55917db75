"""Production mode's one list of secrets: what each protects, which server needs it, and when.

With ``ASSISTANT_ENV=production`` each secret is read through ``bot.settings.secret``, which
refuses a missing one, a development stand-in, a placeholder copied from deploy/env.example or one
shorter than 32 characters. A channel reads its secrets only when Rasa builds it, so one missing
secret at a time would show up, deep in a Rasa traceback. Here they are all checked before a
server starts: ``python -m bot serve`` refuses to start Rasa while any is wrong and names every
one (bot/rasa/serve.py), the action server's entry does the same for its own, and
``python -m bot check`` prints what production mode would refuse, from any shell, before going live.

Which secrets a deployment needs follows its credentials.yml: the SMS secrets only when the SMS
channel is on, the website's session key only when the website chat is. docs/security.md says
what each one protects.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot import settings

RASA_SERVER = "rasa"
ACTION_SERVER = "actions"
CONSOLE_SERVER = "console"
SERVERS = (RASA_SERVER, ACTION_SERVER, CONSOLE_SERVER)

DEFAULT_CREDENTIALS = "credentials.yml"  # as `rasa run`: relative to the working directory

# When a secret is required (``Secret.when``).
ALWAYS = "always"
IF_SET = "if set"  # optional; a set one must be real
WEB = "web"  # when the website chat is in credentials.yml
WEB_TOKENS = "web tokens"  # when the website chat requires portal tokens; else optional
SMS = "sms"  # when the SMS channel is in credentials.yml


@dataclass(frozen=True)
class Secret:
    """One environment secret. ``development`` is ``module:ATTRIBUTE`` of its stand-in, read only when checked."""

    name: str
    protects: str
    servers: tuple[str, ...]
    when: str = ALWAYS
    development: str | None = None

    def development_value(self) -> str | None:
        if not self.development:
            return None
        module, attribute = self.development.split(":")
        try:
            return str(getattr(importlib.import_module(module), attribute))
        except (ImportError, AttributeError):
            return None


SECRETS: tuple[Secret, ...] = (
    Secret(
        "ACTION_SERVER_TOKEN",
        "the action server runs actions (and writes consent records and flags) only for callers with it",
        (RASA_SERVER, ACTION_SERVER),
        development="bot.rasa.action_server:DEVELOPMENT_TOKEN",
    ),
    Secret(
        "CONSENT_RECORD_KEY",
        "signs each consent record (HMAC); whoever can write the database cannot forge or recompute the chain",
        (ACTION_SERVER,),
        development="bot.records.consent_store:DEVELOPMENT_KEY",
    ),
    Secret(
        "PATIENT_COPY_SECRET",
        "signs the links to a patient's own copy of their record: nobody opens a record by guessing its number",
        (RASA_SERVER, ACTION_SERVER),
        development="bot.records.copy_link:DEVELOPMENT_SECRET",
    ),
    Secret(
        "CONSOLE_SECRET_KEY",
        "binds the care-team console's forms to a signed-in session (CSRF): another site cannot resolve a flag",
        (CONSOLE_SERVER,),
        development="bot.console.app:DEVELOPMENT_SECRET_KEY",
    ),
    Secret(
        "ONCALL_WEBHOOK_SECRET",
        "signs each on-call notice to ONCALL_WEBHOOK_URL (HMAC-SHA256): the receiver can tell it from a forgery",
        (ACTION_SERVER,),
        when=IF_SET,
    ),
    Secret(
        "WIDGET_SESSION_SECRET",
        "signs the website chat's session keys: a browser resumes only a conversation this server issued to it",
        (RASA_SERVER,),
        when=WEB,
    ),
    Secret(
        "WIDGET_JWT_SECRET",
        "checks the clinic portal's patient tokens (HS256): who may open a signed-in patient's conversations",
        (RASA_SERVER,),
        when=WEB_TOKENS,
    ),
    Secret(
        "TWILIO_AUTH_TOKEN",
        "checks Twilio's signature on every SMS webhook call, and sends texts (the console sends invitations)",
        (RASA_SERVER, CONSOLE_SERVER),
        when=SMS,
        development="bot.channels.sms.twilio:DEV_AUTH_TOKEN",
    ),
    Secret(
        "SMS_ID_SECRET",
        "turns phone numbers into conversation ids nobody can compute from a number (never change it: every "
        "server and the console must share it, or an invitation and the patient's texts become two conversations)",
        (RASA_SERVER, CONSOLE_SERVER),
        when=SMS,
        development="bot.channels.sms.twilio:DEV_ID_SECRET",
    ),
    Secret(
        "INVITE_LINK_SECRET",
        "signs invitation links and browser keys, and keys the date-of-birth HMAC: nobody opens a patient's "
        "conversation by guessing or altering a link",
        (RASA_SERVER, ACTION_SERVER, CONSOLE_SERVER),
        when=SMS,
        development="bot.invitations.link:DEVELOPMENT_SECRET",
    ),
    Secret(
        "INVITE_PHONE_KEY",
        "encrypts invited phone numbers in the database (Fernet keys, comma-separated, the first encrypts): "
        "a copy of the database does not give away who was invited",
        (RASA_SERVER, ACTION_SERVER, CONSOLE_SERVER),
        when=SMS,
        development="bot.invitations.phone:DEVELOPMENT_KEY",
    ),
    Secret(
        "REST_API_TOKEN",
        "lets integrations use the REST channel (Authorization: Bearer); unset in production, REST refuses everyone",
        (RASA_SERVER,),
        when=IF_SET,
    ),
    Secret(
        "RASA_API_TOKEN",
        "Rasa's own HTTP API (deploy/rasa-node.sh turns it on with this token): full control of every conversation",
        (RASA_SERVER,),
        when=IF_SET,
    ),
)


@dataclass(frozen=True)
class Channels:
    """What credentials.yml turns on, as far as secrets go."""

    web: bool = False
    web_requires_token: bool = False
    sms: bool = False
    rest: bool = False
    source: str = ""

    @classmethod
    def from_credentials(cls, path: Path | str | None = None) -> Channels:
        """Channels named in a credentials file (``credentials.yml`` by default); none if there is no file."""
        file = Path(path or DEFAULT_CREDENTIALS)
        if not file.is_file():
            return cls(source=str(file))
        loaded = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        sections: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
        found = {kind: key for key in sections for kind in (_kind(str(key)),) if kind}
        web = sections.get(found["web"]) if "web" in found else None
        return cls(
            web="web" in found,
            web_requires_token=bool(isinstance(web, dict) and web.get("require_token")),
            sms="sms" in found,
            rest="rest" in found,
            source=str(file),
        )


def _kind(key: str) -> str | None:
    """``rest``, ``web`` or ``sms`` for a credentials.yml key (Rasa's short names or our classes)."""
    short = key.rsplit(".", 1)[-1].lower()
    if short in ("socketio",) or short.endswith("socketioinput"):
        return "web"
    if short in ("sms", "twilio") or short.endswith(("smsinput", "twilioinput")):
        return "sms"
    if short == "rest" or short.endswith("restinput"):
        return "rest"
    return None


@dataclass(frozen=True)
class Refusal:
    """Why production mode would not start: the variable, the reason and what it protects."""

    name: str
    reason: str
    protects: str = ""


@dataclass(frozen=True)
class Report:
    refusals: list[Refusal] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # secrets set and real
    not_needed: list[str] = field(default_factory=list)


def _required(secret: Secret, channels: Channels) -> bool | None:
    """True: required; None: optional (checked when set); False: not used by this deployment."""
    if secret.when == ALWAYS:
        return True
    if secret.when == IF_SET:
        return None
    if secret.when == WEB_TOKENS:
        return (True if channels.web_requires_token else None) if channels.web else False
    return channels.web if secret.when == WEB else channels.sms


def check(
    servers: Sequence[str] = SERVERS,
    env: Mapping[str, str] | None = None,
    credentials: Path | str | None = None,
    rasa_arguments: Sequence[str] = (),
) -> Report:
    """Every secret ``servers`` need, checked as production mode checks it (whatever ASSISTANT_ENV says)."""
    environ = dict(os.environ if env is None else env)
    production = {**environ, settings.ENVIRONMENT_ENV: settings.PRODUCTION}
    channels = Channels.from_credentials(credentials)
    report = Report()
    for secret in SECRETS:
        required = _required(secret, channels)
        if not set(secret.servers) & set(servers) or required is False:
            report.not_needed.append(secret.name)
            continue
        if required is None and not environ.get(secret.name, "").strip():
            report.not_needed.append(secret.name)
            continue
        try:
            settings.secret(secret.name, secret.development_value(), production)
        except settings.SettingsError as error:
            report.refusals.append(Refusal(secret.name, str(error), secret.protects))
        else:
            report.checked.append(secret.name)
    if channels.sms and {RASA_SERVER, ACTION_SERVER, CONSOLE_SERVER} & set(servers):
        report.refusals.extend(_invite_phone_keys(production))
    if RASA_SERVER in servers:
        report.refusals.extend(_rasa_api(rasa_arguments, production))
    if ACTION_SERVER in servers:
        report.refusals.extend(_patient_links(production))
        report.refusals.extend(_oncall(production))
    if CONSOLE_SERVER in servers:
        report.refusals.extend(_console_address(production))
    return report


def _invite_phone_keys(production: Mapping[str, str]) -> list[Refusal]:
    """Each of ``INVITE_PHONE_KEY``'s keys must be a Fernet key and none the development one.

    A value that is missing or a stand-in is already refused as a secret; this names only what is
    wrong inside a value that passed that check.
    """
    from bot.invitations import phone

    try:
        settings.secret(phone.KEY_ENV, phone.DEVELOPMENT_KEY, production)
    except settings.SettingsError:
        return []
    try:
        phone.keys(production)
    except settings.SettingsError as error:
        return [Refusal(phone.KEY_ENV, str(error), "the invited phone numbers, encrypted in the database")]
    return []


def _oncall(production: Mapping[str, str]) -> list[Refusal]:
    """The action server tells the on-call contact of new flags (bot/notify/): a bad setting stops it at start."""
    from bot.notify.config import OncallSettingError, from_env

    try:
        from_env(production)
    except OncallSettingError as error:
        return [Refusal(error.variable, str(error), "the on-call notice of an emergency flag")]
    return []


def _console_address(production: Mapping[str, str]) -> list[Refusal]:
    """Staff sign in to the console: its address is https, so its cookies are sent only encrypted."""
    try:
        settings.console_public_url(production)
    except settings.SettingsError as error:
        return [Refusal(settings.CONSOLE_URL_ENV, str(error), "staff passwords and session cookies")]
    return []


def _patient_links(production: Mapping[str, str]) -> list[Refusal]:
    """The action server sends each patient a link to their copy: an https address, a usable lifetime."""
    refusals = []
    for name, read in (
        (settings.PUBLIC_URL_ENV, settings.public_base_url),
        (settings.COPY_LINK_HOURS_ENV, settings.copy_link_hours),
    ):
        try:
            read(production)
        except settings.SettingsError as error:
            refusals.append(Refusal(name, str(error), "the link to a patient's own copy of their record"))
    return refusals


def _option(arguments: Sequence[str], name: str) -> str | None:
    """The value of ``--name VALUE`` or ``--name=VALUE`` in a command line, else None."""
    for index, argument in enumerate(arguments):
        if argument == name and index + 1 < len(arguments):
            return arguments[index + 1]
        if argument.startswith(f"{name}="):
            return argument.split("=", 1)[1]
    return None


def _rasa_api(arguments: Sequence[str], production: Mapping[str, str]) -> list[Refusal]:
    """Rasa's HTTP API (``--enable-api``) replaces trackers and models: never without a real token."""
    if "--enable-api" not in arguments or _option(arguments, "--jwt-secret"):
        return []
    token = _option(arguments, "--auth-token")
    name = "RASA_API_TOKEN"
    if not token:
        return [Refusal(name, "--enable-api without --auth-token: Rasa's HTTP API would be open to anyone")]
    try:
        settings.secret(name, None, {**production, name: token})
    except settings.SettingsError as error:
        return [Refusal(name, f"--auth-token: {error}")]
    return []


def credentials_argument(rasa_arguments: Sequence[str]) -> str:
    """The credentials file a `rasa run` command line names (Rasa's default otherwise)."""
    return _option(rasa_arguments, "--credentials") or DEFAULT_CREDENTIALS


def enforce(server: str, rasa_arguments: Sequence[str] = (), env: Mapping[str, str] | None = None) -> None:
    """In production mode, ``SettingsError`` naming every secret ``server`` lacks; otherwise nothing.

    Called by each server's entry before anything starts.
    """
    if not settings.is_production(env):
        return
    report = check((server,), env, credentials_argument(rasa_arguments), rasa_arguments)
    if report.refusals:
        lines = "\n".join(f"  {refusal.reason}" for refusal in report.refusals)
        raise settings.SettingsError(
            f"{settings.ENVIRONMENT_ENV}={settings.PRODUCTION}: not starting the {server} server "
            f"while {len(report.refusals)} secret(s) are not ready:\n{lines}"
        )
