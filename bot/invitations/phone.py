"""The invited phone number, encrypted at rest (Fernet: AES-128-CBC with an HMAC, from ``cryptography``).

The number is needed again only to send the invitation and later reminders; everywhere else
the SMS conversation id (an HMAC of the number) names it. ``INVITE_PHONE_KEY`` holds
comma-separated Fernet keys: the first encrypts, every one decrypts, so a key is rotated by
putting a new one first and dropping the old one once no row needs it.
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot import settings
from bot.invitations import InvitationError

KEY_ENV = "INVITE_PHONE_KEY"
# A fixed public key for development only: production mode refuses it (bot/production.py).
DEVELOPMENT_KEY = "ZGV2ZWxvcG1lbnQtb25seS1waG9uZS1rZXktMzJieXQ="


def keys(env: Mapping[str, str] | None = None) -> list[str]:
    """The configured keys, first one encrypting; ``SettingsError`` names the variable when one is unusable."""
    value = settings.secret(KEY_ENV, DEVELOPMENT_KEY, env) or DEVELOPMENT_KEY
    found = [key.strip() for key in value.split(",") if key.strip()]
    if not found:
        raise settings.SettingsError(f"{KEY_ENV} has no key")
    if settings.is_production(env) and DEVELOPMENT_KEY in found:
        raise settings.SettingsError(f"{KEY_ENV} holds the development key; production needs keys of its own")
    for position, key in enumerate(found, start=1):
        try:
            Fernet(key)
        except ValueError as error:
            raise settings.SettingsError(
                f"{KEY_ENV}: key {position} is not a Fernet key (32 url-safe base64-encoded bytes; make one with: "
                'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")'
            ) from error
    return found


def _cipher() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys()])


def encrypt(number: str) -> str:
    """The number encrypted with the first key (a different text each time: Fernet adds a random IV)."""
    return _cipher().encrypt(number.encode()).decode()


def decrypt(text: str) -> str:
    """The number back; ``InvitationError`` when no configured key opens it (a key dropped too early)."""
    try:
        return _cipher().decrypt(text.encode()).decode()
    except InvalidToken as error:
        raise InvitationError(f"the phone number cannot be decrypted with the keys in {KEY_ENV}") from error


def rotate(text: str) -> str:
    """``text`` re-encrypted under the first key, so an old key can be dropped."""
    return _cipher().rotate(text.encode()).decode()
