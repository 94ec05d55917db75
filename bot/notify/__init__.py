"""Tell the clinic's on-call contact at once when a new emergency or callback flag comes in.

``bot.records.flags.add`` calls ``flag_added`` after a new row is committed (never for a repeat
counted on an open flag). Each configured channel (``bot.notify.config``: SMS, e-mail, webhook)
sends in its own daemon thread with a few tries and growing pauses, so what the patient is told
never waits for, or fails with, a text or a mail relay; a notice that fails every try is logged
(the flag itself is in the log the console shows either way). The notice carries only the flag's
kind, id and time, whether the clinic is open and a link to the console (``bot.notify.notice``).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

from bot import logs
from bot.content.clinic import Clinic, clinic
from bot.notify import config
from bot.notify.notice import Notice, build

logger = logging.getLogger(__name__)

NOTIFIED_KINDS = frozenset({"emergency", "callback"})
ATTEMPTS = 4  # tries per channel
BACKOFF_SECONDS = 2.0  # pause before the second try; doubled before each next one (2, 4, 8 s)
ERROR_CHARS = 200

_pending: set[threading.Thread] = set()
_pending_lock = threading.Lock()
_told_unconfigured = threading.Event()


def flag_added(flag_id: int, kind: str, created_at: dt.datetime) -> list[threading.Thread]:
    """Start the on-call notice of a new flag in the background; the threads started (none if not notified).

    Never raises: a bad setting or an unreadable clinic file is logged, and the flag stays written.
    """
    if kind not in NOTIFIED_KINDS:
        return []
    try:
        configured = config.from_env()
        if not configured.channels():
            if not _told_unconfigured.is_set():
                _told_unconfigured.set()
                logger.info(
                    "no on-call notice for %s flag #%d: no ONCALL_SMS_TO, ONCALL_MAIL_TO or ONCALL_WEBHOOK_URL set "
                    "(said once)",
                    kind,
                    flag_id,
                )
            return []
        return start(build(flag_id, kind, created_at, configured.console_url, _clinic()), configured)
    except Exception as error:  # the patient's flag must not fail with the notice
        logger.error("on-call notice for %s flag #%d not sent: %s", kind, flag_id, _excerpt(error))
        return []


def start(
    notice: Notice, configured: config.OncallConfig, attempts: int = ATTEMPTS, backoff: float | None = None
) -> list[threading.Thread]:
    """One daemon thread per configured channel, each trying ``attempts`` times (pauses from ``backoff``)."""
    pause = BACKOFF_SECONDS if backoff is None else backoff
    threads = []
    for channel, send in _senders(configured):
        thread = threading.Thread(
            target=_run,
            args=(channel, send, notice, attempts, pause),
            name=f"oncall-{channel}-{notice.flag_id}",
            daemon=True,
        )
        with _pending_lock:
            _pending.add(thread)
        thread.start()
        threads.append(thread)
    return threads


def wait(timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the notices still being sent; whether all are done (tests, shutdown)."""
    deadline = time.monotonic() + timeout
    with _pending_lock:
        threads = list(_pending)
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0))
    return not any(thread.is_alive() for thread in threads)


def _senders(configured: config.OncallConfig) -> list[tuple[str, Callable[[Notice], str]]]:
    """Each configured channel's sender; the modules are imported only when used (Twilio's pulls in aiohttp)."""
    senders: list[tuple[str, Callable[[Notice], str]]] = []
    if configured.sms is not None:
        from bot.notify import sms

        route_sms = configured.sms
        senders.append(("sms", lambda notice: sms.send(notice, route_sms)))
    if configured.mail is not None:
        from bot.notify import mail

        route_mail = configured.mail
        senders.append(("mail", lambda notice: mail.send(notice, route_mail)))
    if configured.webhook is not None:
        from bot.notify import webhook

        route_webhook = configured.webhook
        senders.append(("webhook", lambda notice: webhook.send(notice, route_webhook)))
    return senders


def _run(channel: str, send: Callable[[Notice], str], notice: Notice, attempts: int, backoff: float) -> None:
    try:
        deliver(channel, send, notice, attempts, backoff)
    finally:
        with _pending_lock:
            _pending.discard(threading.current_thread())


def deliver(channel: str, send: Callable[[Notice], str], notice: Notice, attempts: int, backoff: float) -> bool:
    """Send through one channel, trying ``attempts`` times with doubling pauses; whether it went. Never raises."""
    for attempt in range(1, attempts + 1):
        try:
            where = send(notice)
        except Exception as error:
            if attempt >= attempts:
                logger.error(
                    "on-call %s notice for %s flag #%d NOT sent after %d tries: %s",
                    channel,
                    notice.kind,
                    notice.flag_id,
                    attempts,
                    _excerpt(error),
                )
                return False
            pause = backoff * 2 ** (attempt - 1)
            logger.warning(
                "on-call %s notice for %s flag #%d: try %d of %d failed (%s); trying again in %.1f s",
                channel,
                notice.kind,
                notice.flag_id,
                attempt,
                attempts,
                _excerpt(error),
                pause,
            )
            time.sleep(pause)
        else:
            logger.info("on-call %s notice for %s flag #%d sent to %s", channel, notice.kind, notice.flag_id, where)
            return True
    return False


def _clinic() -> Clinic | None:
    """The clinic's facts for its hours and clock, or None when they cannot be read (the notice still goes)."""
    try:
        return clinic()
    except Exception as error:
        logger.warning("on-call notice without the clinic's hours: %s", _excerpt(error))
        return None


def _excerpt(error: BaseException) -> str:
    """An error for the log: its type and a bounded excerpt with no phone numbers."""
    return f"{type(error).__name__}: {logs.excerpt(str(error), ERROR_CHARS)}"
