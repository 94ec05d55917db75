"""Text normalising shared by every matcher: one function, so all of them see a message alike."""

from __future__ import annotations

import re

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'"})


def normalise(text: str) -> str:
    """Lower case, curly quotes straightened, punctuation other than apostrophes and slashes removed."""
    text = text.lower().translate(_QUOTES)
    return " ".join(re.sub(r"[^a-z0-9'/ ]+", " ", text).split())
