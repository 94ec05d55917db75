"""What the SMS channel texts by itself (``content/sms.yml``): keyword answers, invitations, error replies.

US carriers require the STOP, START and HELP answers and the invitations to name
the sender and say how to opt out (and HELP how to reach a person), so those
rules are checked here when the file is loaded, not left to whoever edits it. An
invitation with a link (bot/invitations/send.py) must also carry the link, and so must
the copy by SMS; the texts the assistant starts itself (bot/outreach/) say how to stop them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.content import languages
from bot.content.files import ContentError, load_yaml
from bot.content.messages import fill, named_texts, translated
from bot.settings import CONTENT_DIR

SMS_FILE = CONTENT_DIR / "sms.yml"
# Each text, and the values the channel fills in besides the clinic facts.
SMS_TEXTS: dict[str, tuple[str, ...]] = {
    "stop": (),
    "start": (),
    "help": (),
    "invite": (),
    "invitation": ("link",),
    "invitation_dated": ("link", "date"),
    "error": (),
    "no_text": (),
    "rate_limited": (),
    "choices": ("choices",),
    "choice": ("number", "title"),
    "own_copy_sms": ("link", "hours"),
    "reminder_fallback": ("date",),
}
# What each text must say under US carrier rules (CTIA), and the values a text needs to make sense.
MUST_SAY: dict[str, tuple[str, ...]] = {
    "stop": ("{clinic_name}", "START"),
    "start": ("{clinic_name}", "STOP"),
    "help": ("{clinic_name}", "{clinic_phone}", "STOP", "START"),
    "invite": ("{clinic_name}", "HELP", "STOP"),
    "invitation": ("{clinic_name}", "{link}", "HELP", "STOP"),
    "invitation_dated": ("{clinic_name}", "{link}", "{date}", "HELP", "STOP"),
    "error": ("{clinic_phone}",),
    # Silence follows it: it must say where to go in an emergency.
    "rate_limited": ("{emergency_number}",),
    "choices": ("{choices}",),
    "choice": ("{number}", "{title}"),
    # Texts the assistant starts itself (bot/outreach/): who sends them, and how to stop them.
    "own_copy_sms": ("{clinic_name}", "{link}", "{hours}", "STOP"),
    "reminder_fallback": ("{clinic_name}", "{date}", "{clinic_phone}", "STOP"),
}


def parse_sms_texts(raw: Any, source: str = str(SMS_FILE)) -> dict[str, str]:
    """Check the SMS texts: every one there, placeholders known, the carrier rules kept."""
    texts = named_texts(raw, source, SMS_TEXTS)
    for name, parts in MUST_SAY.items():
        missing = [part for part in parts if part not in texts[name]]
        if missing:
            raise ContentError(f"{source}: '{name}' must contain {' and '.join(missing)} (see the rules at the top)")
    return texts


@lru_cache(maxsize=1)
def sms_texts(path: Path = SMS_FILE) -> dict[str, str]:
    """The SMS texts as written, read once per process."""
    return parse_sms_texts(load_yaml(path), str(path))


@lru_cache(maxsize=2 * len(languages.LANGUAGES))
def sms_texts_in(language: str, path: Path = SMS_FILE) -> dict[str, str]:
    """The texts in ``language`` (``content/es/sms.yml`` for Spanish), checked against the English."""
    return translated(sms_texts(path), path, language, parse_sms_texts)


def sms_text(name: str, **values: Any) -> str:
    """The SMS text ``name`` with the clinic's facts and ``values`` filled in. In the language being composed in."""
    return fill(sms_texts_in(languages.current())[name], **values)
