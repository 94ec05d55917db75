"""The pure parts of devtools.language_models (bilingual model vs a model per language): nothing is trained."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.content.files import load_yaml
from bot.settings import PROJECT_ROOT
from devtools import language_models
from devtools.language_models import ENGLISH, SPANISH, borrowed_blocks, percentile, route, spanish_config


def test_spanish_config_changes_only_the_language_and_the_spacy_model() -> None:
    config = load_yaml(language_models.CONFIG_FILE)
    derived = spanish_config(config, "build/language_models/spacy/es_rhizotomy")
    assert derived["language"] == "es"
    assert config["language"] == "en"  # the original is left as it was
    spacy = [step for step in derived["pipeline"] if step["name"] == "SpacyNLP"]
    assert spacy == [{"name": "SpacyNLP", "model": "build/language_models/spacy/es_rhizotomy"}]
    others = [step for step in derived["pipeline"] if step["name"] != "SpacyNLP"]
    assert others == [step for step in config["pipeline"] if step["name"] != "SpacyNLP"]
    assert derived["policies"] == config["policies"]


def test_spanish_config_needs_one_spacy_step() -> None:
    with pytest.raises(ValueError, match="SpacyNLP"):
        spanish_config({"language": "en", "pipeline": [{"name": "WhitespaceTokenizer"}]}, "x")


def test_every_component_of_the_config_runs_on_spanish() -> None:
    config = spanish_config(load_yaml(language_models.CONFIG_FILE), "x")
    assert language_models.unsupported_components(config, SPANISH) == []


def test_unsupported_components_are_named() -> None:
    config = {"pipeline": [{"name": "WhitespaceTokenizer"}, {"name": "LogisticRegressionClassifier"}]}
    assert language_models.unsupported_components(config, "zh") == [
        "WhitespaceTokenizer: declares it does not support 'zh'"
    ]


def test_the_router_sends_only_sure_spanish_to_the_spanish_model() -> None:
    verdicts = {"hola, ¿cuánto dura la inyección?": "es", "how long does it take": "en", "ok": "en", "obrigado": "pt"}
    assert [route(text, verdicts.__getitem__) for text in verdicts] == [SPANISH, ENGLISH, ENGLISH, ENGLISH]


def test_the_router_uses_the_project_detector() -> None:
    assert route("¿cuánto tiempo dura el procedimiento de la inyección?") == SPANISH
    assert route("how long does the injection take?") == ENGLISH
    assert route("ok") == ENGLISH


def test_intents_without_spanish_examples_are_borrowed_from_english(tmp_path: Path) -> None:
    english, spanish = tmp_path / "en.yml", tmp_path / "es.yml"
    english.write_text(
        yaml.safe_dump(
            {"nlu": [{"intent": "greet", "examples": "- hi\n"}, {"intent": "emergency", "examples": "- help\n"}]}
        )
    )
    spanish.write_text(yaml.safe_dump({"nlu": [{"intent": "greet", "examples": "- hola\n"}]}))
    assert borrowed_blocks([english], [spanish]) == [{"intent": "emergency", "examples": "- help\n"}]


def test_the_spanish_data_borrows_only_intents_it_lacks() -> None:
    english = sorted(language_models.NLU_DIR.glob("*.yml"))
    spanish = sorted(language_models.SPANISH_NLU_DIR.glob("*.yml"))
    borrowed = {block["intent"] for block in borrowed_blocks(english, spanish)}
    assert borrowed.isdisjoint(language_models.intent_blocks(spanish))
    domain = {next(iter(i)) if isinstance(i, dict) else i for i in load_yaml(PROJECT_ROOT / "domain.yml")["intents"]}
    assert set(language_models.intent_blocks(spanish)) | borrowed == domain


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.95) == 95.0
    assert percentile([3.0], 0.95) == 3.0
    assert percentile([], 0.95) == 0.0
