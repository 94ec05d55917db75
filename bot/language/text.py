"""Text normalising shared by every matcher: one function, so all of them see a message alike."""

from __future__ import annotations

import re
import unicodedata

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'"})


def normalise(text: str) -> str:
    """Lower case, curly quotes straightened, accents taken off ("sí" is "si", not "s"), punctuation other
    than apostrophes and slashes removed."""
    text = unicodedata.normalize("NFKD", text.lower().translate(_QUOTES))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^a-z0-9'/ ]+", " ", text).split())
