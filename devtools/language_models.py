"""One bilingual NLU model, or one model per language behind a language router: accuracy, memory and latency.

Issue: "one Rasa model that understands both languages, or one model per language behind a router:
measure both before choosing". The product serves one bilingual model (config.yml on data/nlu with
data/nlu/es). This development tool trains three NLU-only models into build/language_models/ (the
bilingual one, an English one on data/nlu without es/, and a Spanish one on data/nlu/es with a Spanish
config derived from config.yml: a blank ``es`` spaCy pipeline with spacy-lookups-data's lookup
lemmatizer), then, each arm in a fresh process, parses the project's labelled English and Spanish sets
with the bilingual model, and with the router: ``bot.language.language_id.detect`` picks the Spanish
model when it is sure a message is Spanish, else the English one. Figures only; nothing in the product
imports this module.

python -m devtools.language_models [--json results/language_models.json]
python -m devtools.language_models --bilingual-model M --english-model M --spanish-model M   (reuse models)
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.content import languages
from bot.content.files import load_yaml
from bot.settings import PROJECT_ROOT
from devtools.evaluation import nlu_examples, topic_questions

ENGLISH, SPANISH = languages.ENGLISH, languages.SPANISH
BILINGUAL, ROUTER = "bilingual", "router"
EMERGENCY = "emergency"
NAMES = {ENGLISH: "English", SPANISH: "Spanish"}
LABELLED = "language_given"  # the per-language models, each message sent by its labelled language (no detector)
CONFIG_FILE = PROJECT_ROOT / "config.yml"
NLU_DIR = PROJECT_ROOT / "data" / "nlu"
SPANISH_NLU_DIR = NLU_DIR / "es"
OUT_DIR = PROJECT_ROOT / "build" / "language_models"
SPANISH_PIPELINE_DIR = OUT_DIR / "spacy" / "es_rhizotomy"
SPACY_COMPONENT = "SpacyNLP"
# Intents the Spanish files have no examples of are trained from the English files' examples, so the
# Spanish model knows every intent of the domain (emergency, EXTERNAL_recheck: `rasa train nlu` takes
# its intents from the NLU data alone, never from domain.yml).
BORROWED_FILE = "borrowed_from_english.yml"


@dataclass(frozen=True)
class LabelledSet:
    """A labelled set of messages: a Rasa NLU file, or a folder of writers' files (``topic_questions``)."""

    path: Path
    language: str

    @property
    def name(self) -> str:
        return str(self.path.relative_to(PROJECT_ROOT)) if self.path.is_relative_to(PROJECT_ROOT) else str(self.path)

    def messages(self) -> list[tuple[str, str]]:
        """(intent, text) pairs."""
        if self.path.is_file():
            return nlu_examples(self.path)
        return [(str(item["intent"]), str(item["text"])) for item in topic_questions([self.path])]


SETS = [
    LabelledSet(PROJECT_ROOT / "tests" / "nlu" / "heldout.yml", ENGLISH),
    LabelledSet(PROJECT_ROOT / "tests" / "data" / "nlu" / "heldout", ENGLISH),
    LabelledSet(PROJECT_ROOT / "tests" / "data" / "nlu" / "fresh", ENGLISH),
    LabelledSet(PROJECT_ROOT / "tests" / "data" / "nlu" / "es" / "heldout", SPANISH),
    LabelledSet(PROJECT_ROOT / "tests" / "data" / "nlu" / "es" / "fresh", SPANISH),
]


# --- the Spanish model's pipeline, config and data ------------------------------------------------


def build_spanish_pipeline() -> Any:
    """A blank Spanish spaCy pipeline with the lookup lemmatizer, as bot/language/pipeline.py builds the English one.

    No entity ruler: content/entity_patterns.yml holds English words only ("blood thinner", "numbing
    medicine", "lower back"), and no component of config.yml reads spaCy's entities.
    """
    import spacy

    nlp = spacy.blank(SPANISH)
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()  # loads the Spanish lookup table from spacy-lookups-data
    nlp.meta["name"] = "rhizotomy_es"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = "Blank Spanish + lookup lemmatizer (devtools.language_models)"
    nlp.meta["sources"] = [{"name": "spacy-lookups-data", "license": "MIT"}]
    return nlp


def spanish_config(config: dict[str, Any], spacy_model: str) -> dict[str, Any]:
    """config.yml for Spanish: the same components and settings, ``language: es``, SpacyNLP on ``spacy_model``."""
    derived = copy.deepcopy(config)
    derived["language"] = SPANISH
    spacy_steps = [step for step in derived.get("pipeline") or [] if step.get("name") == SPACY_COMPONENT]
    if len(spacy_steps) != 1:
        raise ValueError(f"config: expected one {SPACY_COMPONENT} step, found {len(spacy_steps)}")
    spacy_steps[0]["model"] = spacy_model
    return derived


def unsupported_components(config: dict[str, Any], language: str) -> list[str]:
    """Components of ``config`` that declare they cannot run on ``language`` (Rasa's supported_languages)."""
    import rasa.engine.recipes.default_components  # noqa: F401  (registers Rasa's own components)
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe

    found = []
    for step in config.get("pipeline") or []:
        clazz = DefaultV1Recipe._from_registry(step["name"]).clazz
        supported, unsupported = clazz.supported_languages(), clazz.not_supported_languages()
        if (supported is not None and language not in supported) or (unsupported and language in unsupported):
            found.append(f"{step['name']}: declares it does not support {language!r}")
    return found


def intent_blocks(paths: Iterable[Path]) -> dict[str, list[dict[str, Any]]]:
    """The ``nlu`` blocks of Rasa NLU files, per intent."""
    blocks: dict[str, list[dict[str, Any]]] = {}
    for path in paths:
        for block in (load_yaml(path) or {}).get("nlu") or []:
            if "intent" in block:
                blocks.setdefault(str(block["intent"]), []).append(block)
    return blocks


def borrowed_blocks(english: Iterable[Path], spanish: Iterable[Path]) -> list[dict[str, Any]]:
    """The English blocks of the intents the Spanish files have no examples of."""
    have = intent_blocks(spanish)
    return [block for intent, blocks in intent_blocks(english).items() if intent not in have for block in blocks]


def training_folders(out_dir: Path) -> dict[str, Path]:
    """The NLU data of each model: data/nlu (it includes es/: Rasa reads folders recursively), and copies."""
    english = sorted(NLU_DIR.glob("*.yml"))
    spanish = sorted(SPANISH_NLU_DIR.glob("*.yml"))
    folders = {BILINGUAL: NLU_DIR, ENGLISH: out_dir / "data" / ENGLISH, SPANISH: out_dir / "data" / SPANISH}
    for language, files in ((ENGLISH, english), (SPANISH, spanish)):
        folder = folders[language]
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.yml"):
            old.unlink()
        for path in files:
            (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    borrowed = borrowed_blocks(english, spanish)
    if borrowed:
        text = yaml.safe_dump({"version": "3.1", "nlu": borrowed}, allow_unicode=True, sort_keys=False)
        (folders[SPANISH] / BORROWED_FILE).write_text(text, encoding="utf-8")
    return folders


# --- training ------------------------------------------------------------------------------------------


def child_env() -> dict[str, str]:
    """The environment of training and measuring processes: quiet, no telemetry, caches under build/."""
    return {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONWARNINGS": "ignore",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "RASA_TELEMETRY_ENABLED": "false",
        "RASA_CACHE_DIRECTORY": str(OUT_DIR / "rasa-cache"),
        "MPLCONFIGDIR": str(OUT_DIR / "matplotlib"),
    }


def train(name: str, config: Path, nlu: Path, out_dir: Path) -> tuple[Path, float]:
    """``rasa train nlu`` (niced: the machine is shared); the model's path and the wall time it took."""
    command = [
        "nice", "-n", "5", str(Path(sys.executable).parent / "rasa"), "train", "nlu",
        "--config", str(config), "--nlu", str(nlu), "--out", str(out_dir), "--fixed-model-name", name,
    ]  # fmt: skip
    print(f"==> training {name}: {' '.join(command[3:])}", flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=child_env(), capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    model = out_dir / f"{name}.tar.gz"
    if done.returncode != 0 or not model.exists():
        raise RuntimeError(f"training {name} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return model, seconds


# --- the router and one measured arm (run in its own process) ---------------------------------------


def route(text: str, detect: Callable[[str], str] | None = None) -> str:
    """The model a message goes to: Spanish when the project's detector is sure it is Spanish, else English."""
    if detect is None:
        from bot.language import language_id

        detect = language_id.detect
    return SPANISH if detect(text) == SPANISH else ENGLISH


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.95 for p95)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(share * len(ordered) + 0.999999) - 1))] if ordered else 0.0


def _rss_mb() -> float:
    from bench.proc import rss_mb

    return rss_mb(os.getpid())


def measure_arm(arm: str, models: dict[str, Path], texts: list[str], labels: list[str]) -> dict[str, Any]:
    """Load the arm's model(s) in this (fresh) process; parse every text twice, timing the second pass.

    The router's arm then parses every text once more with the model of its labelled language (``labels``),
    after every figure of memory and time was read: the per-language models' own accuracy, without the detector.
    """
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    rss_before = _rss_mb()
    started = time.perf_counter()
    agents = {language: Agent.load(str(path)) for language, path in models.items()}
    load_seconds = time.perf_counter() - started
    rss_loaded = _rss_mb()

    async def parse(text: str) -> tuple[str, str]:
        language = route(text) if arm == ROUTER else BILINGUAL
        result = await agents[language].parse_message(text)
        return language, str(result["intent"]["name"])

    async def passes() -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[float]]:
        warm = [await parse(text) for text in texts]
        timed, times = [], []
        for text in texts:
            start = time.perf_counter()
            timed.append(await parse(text))
            times.append((time.perf_counter() - start) * 1000)
        return warm, timed, times

    async def with_labels() -> list[str]:
        return [
            str((await agents[label].parse_message(text))["intent"]["name"])
            for text, label in zip(texts, labels, strict=True)
        ]

    warm, timed, times = asyncio.run(passes())
    rss_after = _rss_mb()
    return {
        "labelled_language_intents": asyncio.run(with_labels()) if arm == ROUTER else None,
        "picked": [language for language, _ in timed],
        "intents": [intent for _, intent in timed],
        "warm_up_differs": sum(1 for a, b in zip(warm, timed, strict=True) if a != b),
        "rss_before_load_mb": rss_before,
        "rss_loaded_mb": rss_loaded,
        "rss_after_parsing_mb": rss_after,
        "load_seconds": round(load_seconds, 2),
        "latency_ms": times,
        "loadavg_1min": os.getloadavg()[0],
    }


def run_arm(arm: str, models: dict[str, Path], texts: list[str], labels: list[str], work: Path) -> dict[str, Any]:
    """``measure_arm`` in a fresh Python process, so that its memory is the arm's alone."""
    request, result = work / f"{arm}-in.json", work / f"{arm}-out.json"
    paths = {k: str(v) for k, v in models.items()}
    request.write_text(json.dumps({"arm": arm, "models": paths, "texts": texts, "labels": labels}))
    command = [sys.executable, "-m", "devtools.language_models", "--arm-request", str(request), "--json", str(result)]
    print(f"==> measuring {arm} in a fresh process", flush=True)
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=child_env(), capture_output=True, text=True, check=False)
    if done.returncode != 0 or not result.exists():
        raise RuntimeError(f"measuring {arm} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return dict(json.loads(result.read_text()))


# --- the whole measurement ---------------------------------------------------------------------------


def accuracy(found: list[str], expected: list[str], indices: list[int]) -> float:
    """The share of ``indices`` whose intent is the label, as devtools.evaluation.topics_report counts it."""
    return sum(found[i] == expected[i] for i in indices) / max(len(indices), 1)


def summarise(
    messages: list[tuple[LabelledSet, str, str]], arms: dict[str, dict[str, Any]], extra: dict[str, Any]
) -> dict[str, Any]:
    """The figures of both arms on every set."""
    expected = [intent for _, intent, _ in messages]
    figures: dict[str, Any] = {"sets": {}, "routed": {}, "arms": {}, **extra}
    groups = {labelled.name: [i for i, m in enumerate(messages) if m[0] == labelled] for labelled in SETS}
    groups |= {
        "all English": [i for i, m in enumerate(messages) if m[0].language == ENGLISH],
        "all Spanish": [i for i, m in enumerate(messages) if m[0].language == SPANISH],
        "all": list(range(len(messages))),
    }
    for name, indices in groups.items():
        figures["sets"][name] = {
            "messages": len(indices),
            **{arm: round(accuracy(result["intents"], expected, indices), 4) for arm, result in arms.items()},
            LABELLED: round(accuracy(arms[ROUTER]["labelled_language_intents"], expected, indices), 4),
        }
    picked = arms[ROUTER]["picked"]
    for name in ("all English", "all Spanish", "all"):
        indices = groups[name]
        right = sum(picked[i] == messages[i][0].language for i in indices)
        figures["sets"][name]["router_pick"] = round(right / max(len(indices), 1), 4)
    # An emergency reply to an ordinary question is the costliest mistake: counted on its own.
    intents = {arm: result["intents"] for arm, result in arms.items()} | {
        LABELLED: arms[ROUTER]["labelled_language_intents"]
    }
    figures["read_as_emergency"] = {
        arm: sum(1 for i, intent in enumerate(found) if intent == EMERGENCY != expected[i])
        for arm, found in intents.items()
    }
    # The same messages split by the model the router sent them to: where each arm wins or loses.
    for language in (ENGLISH, SPANISH):
        for model in (ENGLISH, SPANISH):
            indices = [i for i in groups[f"all {NAMES[language]}"] if picked[i] == model]
            figures["routed"][f"{NAMES[language]} sets, sent to the {NAMES[model]} model"] = {
                "messages": len(indices),
                **{arm: round(accuracy(result["intents"], expected, indices), 4) for arm, result in arms.items()},
            }
    for arm, result in arms.items():
        times = result["latency_ms"]
        figures["arms"][arm] = {
            "rss_before_load_mb": result["rss_before_load_mb"],
            "rss_loaded_mb": result["rss_loaded_mb"],
            "rss_after_parsing_mb": result["rss_after_parsing_mb"],
            "load_seconds": result["load_seconds"],
            "latency_mean_ms": round(statistics.fmean(times), 2),
            "latency_p95_ms": round(percentile(times, 0.95), 2),
            "warm_up_differs": result["warm_up_differs"],
            "loadavg_1min": result["loadavg_1min"],
        }
    return figures


def table(figures: dict[str, Any]) -> str:
    """One plain table of every figure."""
    rows = [f"{'':50} {'bilingual':>10} {'router':>10}  (router given the set's language, no detector)"]
    for name, entry in figures["sets"].items():
        rows.append(
            f"{'intent accuracy ' + name + ' (' + str(entry['messages']) + ')':50} "
            f"{entry[BILINGUAL]:>10.1%} {entry[ROUTER]:>10.1%}  ({entry[LABELLED]:.1%})"
        )
    for name in ("all English", "all Spanish", "all"):
        rows.append(
            f"{'router picks the right model, ' + name:50} {'-':>10} {figures['sets'][name]['router_pick']:>10.1%}"
        )
    wrong = figures["read_as_emergency"]
    rows.append(
        f"{'read as emergency, labelled otherwise (messages)':50} {wrong[BILINGUAL]:>10} {wrong[ROUTER]:>10}  "
        f"({wrong[LABELLED]})"
    )
    rows.append("intent accuracy, split by the model the router picked:")
    for name, entry in figures["routed"].items():
        label = f"  {name} ({entry['messages']})"
        rows.append(f"{label:50} {entry[BILINGUAL]:>10.1%} {entry[ROUTER]:>10.1%}")
    arms = figures["arms"]
    for key, label, form in (
        ("rss_before_load_mb", "RSS before loading (MB, imports only)", ".0f"),
        ("rss_loaded_mb", "RSS after loading the model(s) (MB)", ".0f"),
        ("rss_after_parsing_mb", "RSS after parsing every message (MB)", ".0f"),
        ("load_seconds", "time to load the model(s) (s)", ".1f"),
        ("latency_mean_ms", "parse_message mean (ms)", ".2f"),
        ("latency_p95_ms", "parse_message p95 (ms)", ".2f"),
        ("loadavg_1min", "machine load average while measuring", ".2f"),
    ):
        rows.append(f"{label:50} {arms[BILINGUAL][key]:>10{form}} {arms[ROUTER][key]:>10{form}}")
    models = figures["models"]
    size = {name: models[name]["size_mb"] for name in models}
    train_time = {name: models[name].get("train_seconds") for name in models}
    rows.append(f"{'model archive size (MB)':50} {size[BILINGUAL]:>10.1f} {size[ENGLISH] + size[SPANISH]:>10.1f}")
    rows.append(
        f"{'training time (s, niced, shared machine)':50} {_seconds(train_time[BILINGUAL]):>10} "
        f"{_seconds(train_time[ENGLISH], train_time[SPANISH]):>10}"
    )
    rows.append("")
    rows.append(f"router: {figures['router']}")
    rows.append(f"Spanish config: {figures['spanish_config']}")
    for note in figures["notes"]:
        rows.append(f"note: {note}")
    return "\n".join(rows)


def _seconds(*values: float | None) -> str:
    return "reused" if any(value is None for value in values) else f"{sum(v or 0.0 for v in values):.0f}"


def models_to_use(args: Any, out_dir: Path) -> tuple[dict[str, Path], dict[str, dict[str, Any]], list[str]]:
    """The three models, trained one at a time unless given; their sizes, training times, and notes."""
    notes: list[str] = []
    config = load_yaml(CONFIG_FILE)
    given = {BILINGUAL: args.bilingual_model, ENGLISH: args.english_model, SPANISH: args.spanish_model}
    info: dict[str, dict[str, Any]] = {}
    out_dir.mkdir(parents=True, exist_ok=True)
    folders = training_folders(out_dir)
    borrowed = sorted(
        intent_blocks([folders[SPANISH] / BORROWED_FILE]) if (folders[SPANISH] / BORROWED_FILE).exists() else []
    )
    if borrowed:
        notes.append(f"the Spanish model learns {', '.join(borrowed)} from the English examples (no Spanish ones)")
    if given[SPANISH] is None:
        SPANISH_PIPELINE_DIR.parent.mkdir(parents=True, exist_ok=True)
        build_spanish_pipeline().to_disk(SPANISH_PIPELINE_DIR)
    spanish = spanish_config(config, str(SPANISH_PIPELINE_DIR.relative_to(PROJECT_ROOT)))
    spanish_file = out_dir / "config.es.yml"
    spanish_file.write_text(yaml.safe_dump(spanish, allow_unicode=True, sort_keys=False), encoding="utf-8")
    cannot = unsupported_components(spanish, SPANISH)
    notes.append("components of config.yml that cannot run on Spanish: " + ("; ".join(cannot) or "none"))
    notes.append(
        "RedFlagDetector runs on Spanish, but bot.language.safety.rule_flags skips its English red-flag rules for "
        "a message detected as Spanish (every message the router sends to the Spanish model): the learned layer, "
        "trained on Spanish too, judges those alone, as it does in the bilingual model"
    )
    configs = {BILINGUAL: CONFIG_FILE, ENGLISH: CONFIG_FILE, SPANISH: spanish_file}
    models = {}
    for name in (BILINGUAL, ENGLISH, SPANISH):
        if given[name] is not None:
            models[name] = Path(given[name])
            info[name] = {"path": str(models[name]), "train_seconds": None}
        else:
            models[name], seconds = train(name, configs[name], folders[name], out_dir)
            info[name] = {"path": str(models[name]), "train_seconds": round(seconds, 1)}
        info[name]["size_mb"] = round(models[name].stat().st_size / 1e6, 2)
        info[name]["nlu_data"] = str(folders[name])
    return models, info, notes


def measure(args: Any) -> dict[str, Any]:
    out_dir = Path(args.out)
    models, info, notes = models_to_use(args, out_dir)
    messages = [(labelled, intent, text) for labelled in SETS for intent, text in labelled.messages()]
    texts = [text for _, _, text in messages]
    labels = [labelled.language for labelled, _, _ in messages]
    with tempfile.TemporaryDirectory(dir=out_dir) as work:
        arms = {
            BILINGUAL: run_arm(BILINGUAL, {BILINGUAL: models[BILINGUAL]}, texts, labels, Path(work)),
            ROUTER: run_arm(ROUTER, {ENGLISH: models[ENGLISH], SPANISH: models[SPANISH]}, texts, labels, Path(work)),
        }
    for arm, result in arms.items():
        if result["warm_up_differs"]:
            notes.append(f"{arm}: {result['warm_up_differs']} messages parsed differently in the two passes")
    extra = {
        "models": info,
        "notes": notes,
        "router": "bot.language.language_id.detect(text) == 'es' -> Spanish model, else English model "
        "(detect is sure at CONFIDENT probability; timed inside each router parse)",
        "spanish_config": f"{out_dir / 'config.es.yml'} (config.yml with language: es, SpacyNLP model: "
        f"{SPANISH_PIPELINE_DIR.relative_to(PROJECT_ROOT)}: blank es + lookup lemmatizer, no entity ruler: "
        "content/entity_patterns.yml is English-only)",
    }
    return summarise(messages, arms, extra)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.language_models", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(OUT_DIR), help="where models, copies of data and configs go")
    parser.add_argument("--bilingual-model", help="reuse this NLU model instead of training it")
    parser.add_argument("--english-model", help="reuse this NLU model instead of training it")
    parser.add_argument("--spanish-model", help="reuse this NLU model instead of training it")
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument("--arm-request", help=argparse.SUPPRESS)  # internal: one arm, in a fresh process
    args = parser.parse_args(argv)
    if args.arm_request:
        request = json.loads(Path(args.arm_request).read_text())
        models = {name: Path(path) for name, path in request["models"].items()}
        Path(args.json).write_text(json.dumps(measure_arm(request["arm"], models, request["texts"], request["labels"])))
        return 0
    figures = measure(args)
    print(table(figures))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
