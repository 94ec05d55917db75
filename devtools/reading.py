"""How easy every text a patient reads is in one language: ``python -m devtools.reading es --min 70``.

Spanish is measured with Fernández Huerta's adaptation of Flesch's reading ease (textstat, Spanish
syllables): 70-80 is "bastante fácil" (fairly easy), the level issue 18 asks for; English texts are
held to grade 8 by tests/content/test_content.py. Only sentences are measured: a button or a label
("Enviar", "Empezar de nuevo") is no sentence and the formula says nothing about it. Placeholders
are read as a short word ("la clínica"), as a patient would read a name there.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence

from textstat.textstat import textstatistics

from bot import content
from bot.content import languages
from bot.content.responses import responses_in

FAIRLY_EASY = 70.0
MIN_WORDS = 3
PLACEHOLDER = {languages.SPANISH: "la clínica", languages.ENGLISH: "the clinic"}
_SENTENCE_END = re.compile(r"[.!?…][\"')\]]*$")


def patient_texts(language: str) -> list[tuple[str, str]]:
    """Every text a patient can read in ``language``, named by where it lives."""
    with languages.use(language):
        found = [(f"responses:{name}", str(v["text"])) for name, vs in responses_in(language).items() for v in vs]
        found += [(f"messages:{name}", m.text) for name, m in content.templates_in(language).items()]
        for question in content.consent_content_in(language).questions:
            found += [(f"consent:{question.id}", question.text), (f"consent:{question.id}:hint", question.hint)]
        for point in content.teachback_content_in(language).points:
            found += [
                (f"teachback:{point.id}:question", point.question),
                (f"teachback:{point.id}:again", point.explain_again),
                (f"teachback:{point.id}:choices", point.choice_question),
            ]
        found += [(f"sms:{name}", text) for name, text in content.sms_texts_in(language).items()]
        found += [(f"web:{name}", text) for name, text in content.web_texts_in(language).items()]
        found += [(f"widget:{name}", text) for name, text in content.widget_texts_in(language).items()]
        found += [(f"record:{name}", text) for name, text in content.record_texts_in(language).items()]
    return [(name, text) for name, text in found if text.strip()]


def sentences(texts: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The texts that end as a sentence does and have three words of their own (a label, a button or a frame
    around a placeholder, "Responda {choices}.", does not)."""
    return [
        (name, text)
        for name, text in texts
        if _SENTENCE_END.search(text.strip()) and len(re.sub(r"\{[a-z_]+\}", " ", text).split()) >= MIN_WORDS
    ]


def reading_ease(text: str, language: str = languages.SPANISH) -> float:
    """Fernández Huerta's reading ease of ``text`` as a patient reads it (placeholders as a short word)."""
    reader = textstatistics()
    reader.set_lang(language)
    readable = re.sub(r"\d\)", "", re.sub(r"\{[a-z_]+\}", PLACEHOLDER.get(language, "x"), text))
    return float(reader.fernandez_huerta(readable))


def report(language: str, minimum: float | None, show: int = 5) -> bool:
    """Print the figure for every sentence of ``language``: how many, the lowest and the mean; gate on ``minimum``."""
    measured = sorted((reading_ease(text, language), name, text) for name, text in sentences(patient_texts(language)))
    scores = [score for score, _, _ in measured]
    print(
        f"reading ease (Fernández Huerta) of {len(measured)} {language} sentences: lowest {scores[0]:.1f}, "
        f"mean {sum(scores) / len(scores):.1f}; {sum(s >= FAIRLY_EASY for s in scores)} fairly easy or easier (>= 70)"
    )
    for score, name, text in measured[:show]:
        print(f"  {score:5.1f} {name}: {text[:90]}")
    return minimum is None or scores[0] >= minimum


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.reading", description=__doc__.splitlines()[0])
    parser.add_argument("language", choices=[lang for lang in languages.LANGUAGES if lang != languages.ENGLISH])
    parser.add_argument("--min", type=float, help="gate: the lowest reading ease allowed")
    args = parser.parse_args(argv)
    if report(args.language, args.min):
        return 0
    print(f"FAILED: a {args.language} sentence reads below {args.min}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
