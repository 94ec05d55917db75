"""The domain's responses in another language (``content/es/responses.yml``), for bot/rasa/nlg.py.

English responses are the domain's own (``domain.yml``, ``responses:``). A translation has every
one of them but the emergency reply (written from ``content/messages.yml`` by the Rasa server), in
Rasa's response format, with the same slots in ``{braces}`` and the same button payloads, so the
generator can send it instead of the English one. Nothing here imports Rasa.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.content import languages
from bot.content.files import DOMAIN_FILE, ContentError, load_yaml
from bot.content.messages import check_translation
from bot.settings import CONTENT_DIR

RESPONSES_FILE = CONTENT_DIR / "responses.yml"  # English has none: its responses are the domain's
NOT_TRANSLATED = frozenset({"utter_emergency"})  # written from content/messages.yml in every language


def _variations(raw: Any, source: str) -> dict[str, list[dict[str, Any]]]:
    if not isinstance(raw, dict) or not raw:
        raise ContentError(f"{source}: expected `responses:` with the domain's responses")
    found = {}
    for name, variations in raw.items():
        if not isinstance(variations, list) or not variations:
            raise ContentError(f"{source}: response '{name}' needs a list of variations (`- text: ...`)")
        for variation in variations:
            if not isinstance(variation, dict) or not str(variation.get("text") or "").strip():
                raise ContentError(f"{source}: response '{name}': every variation needs a text")
            buttons = variation.get("buttons") or []
            if not all(isinstance(b, dict) and b.get("title") and b.get("payload") for b in buttons):
                raise ContentError(f"{source}: response '{name}': every button needs a title and a payload")
        found[str(name)] = variations
    return found


def _payloads(variations: list[dict[str, Any]]) -> list[list[str]]:
    return [[str(b["payload"]) for b in variation.get("buttons") or []] for variation in variations]


@lru_cache(maxsize=2 * len(languages.LANGUAGES))
def responses_in(
    language: str, path: Path = RESPONSES_FILE, domain: Path = DOMAIN_FILE
) -> dict[str, list[dict[str, Any]]]:
    """The domain's responses in ``language``: checked to have every English one, its slots and its payloads."""
    english = {
        name: variations
        for name, variations in _variations((load_yaml(domain) or {}).get("responses"), str(domain)).items()
        if name not in NOT_TRANSLATED
    }
    if language == languages.ENGLISH:
        return english
    source = languages.path_in(path, language)
    translated = _variations((load_yaml(source) or {}).get("responses"), str(source))
    check_translation(
        {name: variations[0]["text"] for name, variations in english.items()},
        {name: variations[0]["text"] for name, variations in translated.items()},
        str(source),
    )
    for name, variations in english.items():
        if _payloads(variations) != _payloads(translated[name])[: len(variations)]:
            raise ContentError(f"{source}: response '{name}' must have the English buttons' payloads, in order")
    return translated
