"""The words the entity ruler tags (``content/entity_patterns.yml``), checked for shape when a server starts.

``bot.language.pipeline`` builds the spaCy entity ruler from them; a label that is
not a list of words would otherwise only show when the pipeline is next built.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.content.files import ContentError, load_yaml
from bot.settings import CONTENT_DIR

PATTERNS_FILE = CONTENT_DIR / "entity_patterns.yml"
_LABEL = re.compile(r"^[A-Z][A-Z_]*$")


def parse_entity_patterns(raw: Any, source: str = str(PATTERNS_FILE)) -> dict[str, tuple[str, ...]]:
    """Labels in capitals (MEDICINE), each with a list of words or phrases."""
    if not isinstance(raw, dict) or not raw:
        raise ContentError(f"{source}: expected labels like MEDICINE, each with a list of words")
    patterns = {}
    for label, words in raw.items():
        if not _LABEL.match(str(label)):
            raise ContentError(f"{source}: '{label}' is not a label in capitals like MEDICINE")
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
            raise ContentError(f"{source}: {label}: needs a list of words or phrases")
        patterns[str(label)] = tuple(words)
    return patterns


@lru_cache(maxsize=1)
def entity_patterns(path: Path = PATTERNS_FILE) -> dict[str, tuple[str, ...]]:
    """The entity patterns by label, checked, read once per process."""
    return parse_entity_patterns(load_yaml(path), str(path))
