"""Quality gates that `make test` prints and enforces: NLU accuracy, emergency recall, teach-back accuracy.

python -m devtools.evaluation nlu results/nlu/intent_report.json --min 0.95
python -m devtools.evaluation red-flags tests/data/red_flags.yml --model models/rhizotomy.tar.gz
python -m devtools.evaluation teachback tests/data/teachback_answers.yml --min 0.9
python -m devtools.evaluation teachback tests/data/teachback/heldout --min 0.9
python -m devtools.evaluation candidacy tests/data/candidacy/heldout --max-wrong 0
python -m devtools.evaluation topics tests/data/nlu/heldout --also tests/nlu/heldout.yml --min 0.95
python -m devtools.evaluation language data/safety/train tests/data/safety/heldout --nlu data/nlu   (figures only)
python -m devtools.evaluation plan - < gates   (many of the above in one process: see scripts/evaluate.sh)
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import functools
import io
import json
import os
import shlex
import sys
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy
from rapidfuzz import fuzz, process

from bot.content import languages
from bot.content.files import load_yaml
from bot.language import red_flags, teachback
from bot.language.text import normalise

EMERGENCY = "emergency"
NEAR_COPY_RATIO = 0.85
_CHUNK = 500  # evaluation lines compared at once: 500 x 20,000 one-byte scores
SHORT_WORDS = 4  # a message of at most this many words is "short" for the language figures


def nlu_examples(path: Path) -> list[tuple[str, str]]:
    """(intent, text) pairs of a Rasa NLU YAML file."""
    pairs = []
    for block in (load_yaml(path) or {}).get("nlu") or []:
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                pairs.append((str(block["intent"]), line[2:].strip()))
    return pairs


def near_copies(held_out: list[str], training: list[str], ratio: float = NEAR_COPY_RATIO) -> list[tuple[str, str]]:
    """Held-out messages that are copies or near-copies of a training line, with the line they copy.

    The verdict is difflib's (``get_close_matches``: the closest line whose ratio reaches ``ratio``), but
    difflib compares every pair in Python: 20,000 training lines against 5,000 evaluation ones took 7 minutes
    of ``make test``. RapidFuzz's Indel ratio is 2 * LCS / total length, never below difflib's ratio (difflib's
    matching blocks are one common subsequence), so it finds every candidate pair in C++ and difflib judges
    only those.
    """
    train = [normalise(text) for text in training]
    exact = set(train)
    texts = [normalise(text) for text in held_out]
    found = []
    for start in range(0, len(texts), _CHUNK):
        chunk = texts[start : start + _CHUNK]
        # A hair under the cutoff so that rounding in either library never drops a pair difflib would keep.
        scores = process.cdist(
            chunk, train, scorer=fuzz.ratio, score_cutoff=ratio * 100 - 0.5, dtype=numpy.uint8, workers=-1
        )
        for offset, normal in enumerate(chunk):
            text = held_out[start + offset]
            if normal in exact:
                found.append((text, text))
                continue
            candidates = [train[i] for i in numpy.flatnonzero(scores[offset])]
            close = difflib.get_close_matches(normal, candidates, n=1, cutoff=ratio)
            if close:
                found.append((text, close[0]))
    return found


def nlu_gate(report_path: Path, minimum: float) -> bool:
    report = json.loads(report_path.read_text())
    accuracy = float(report["accuracy"])
    total = int(report["macro avg"]["support"])
    weakest = sorted(
        (v["f1-score"], k)
        for k, v in report.items()
        if isinstance(v, dict) and "f1-score" in v and k not in ("macro avg", "weighted avg", "micro avg")
    )[:3]
    print(f"NLU held-out intent accuracy: {accuracy:.1%} on {total} messages (minimum {minimum:.0%})")
    print("  weakest intents (F1): " + ", ".join(f"{name} {f1:.2f}" for f1, name in weakest))
    return accuracy >= minimum


def _model_intents(model: Path, texts: list[str]) -> list[str]:
    """The intent the full trained NLU pipeline gives each text (classifier + rules)."""
    return [str(parse["intent"]["name"]) for parse in _model_parses(model, texts)]


@functools.cache
def _agent(model: Path) -> Any:
    """The trained assistant, loaded once a process: a plan's five model evaluations share it."""
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    return Agent.load(str(model))


def _model_parses(model: Path, texts: list[str]) -> list[dict[str, Any]]:
    """What the full trained NLU pipeline makes of each text: intent, ranking, entities."""
    agent = _agent(model.resolve())

    async def parse_all() -> list[dict[str, Any]]:
        return [await agent.parse_message(text) for text in texts]

    return asyncio.run(parse_all())


def topic_questions(set_dirs: list[Path]) -> list[dict[str, Any]]:
    """Writers' labelled topic questions: text, intent, misconception, and the writer's id and style."""
    found = []
    for path in (path for folder in set_dirs for path in sorted(folder.glob("*.yml"))):
        data = load_yaml(path) or {}
        for item in data.get("messages") or []:
            found.append({**item, "writer": str(data.get("writer", path.stem)), "style": str(data.get("style", ""))})
    return found


def topic_answered(parse: dict[str, Any]) -> str:
    """The topic whose answer the patient gets: the intent, or after conditional advice the question asked with it."""
    asked = [str(e.get("value")) for e in parse.get("entities") or [] if e.get("entity") == "asked_topic"]
    return asked[0] if asked else str(parse["intent"]["name"])


# The writers label a belief by what it gets wrong; the correction is the teach-back point that puts it right
# ("no risk at all" is put right by the rare problems to call about).
BELIEF_POINTS = {"has_risks": "rare_complication"}


def topics_report(set_dirs: list[Path], also: list[Path], model: Path, minimum: float | None, show: int = 12) -> bool:
    """Topic questions by independent writers: the intent the trained assistant reads, per style and per
    intent, and the mistaken beliefs (``misconception``) the answer's follow-up corrects.

    ``also`` adds Rasa NLU files (the first held-out set) to the overall figure, which ``minimum`` gates.
    """
    from bot import content

    items = topic_questions(set_dirs)
    extra = [
        {"text": text, "intent": intent, "writer": path.name} for path in also for intent, text in nlu_examples(path)
    ]
    parses = _model_parses(model, [str(item["text"]) for item in items + extra])
    found = [str(parse["intent"]["name"]) for parse in parses]
    answered = [topic_answered(parse) for parse in parses]
    right = [found[i] == item["intent"] for i, item in enumerate(items + extra)]

    def share(indices: list[int], hits: list[bool] = right) -> str:
        # two decimals: 1,477 of 1,555 is 94.98%, which one decimal would print as the target's 95.0%
        return f"{sum(hits[i] for i in indices) / max(len(indices), 1):.2%} of {len(indices)}"

    everything = list(range(len(items) + len(extra)))
    accuracy = sum(right) / max(len(right), 1)
    print(f"topic questions: intent right {share(everything)} (minimum {minimum or 0:.0%})")
    answers = [answered[i] == item["intent"] for i, item in enumerate(items + extra)]
    print(
        f"  its topic answered (the intent, or its answer after an unsure emergency's conditional advice): "
        f"{share(everything, answers)}"
    )
    print(f"  writers' sets ({', '.join(str(d) for d in set_dirs)}): {share(list(range(len(items))))}")
    for path in also:
        print(f"  {path}: {share([len(items) + i for i, e in enumerate(extra) if e['writer'] == path.name])}")
    for style in sorted({item["style"] for item in items}):
        print(f"    {style}: {share([i for i, item in enumerate(items) if item['style'] == style])}")
    per_intent = {
        intent: [i for i, item in enumerate(items) if item["intent"] == intent]
        for intent in {item["intent"] for item in items}
    }
    # ties by name, so two intents with the same share print in the same order on every run
    weakest = sorted(
        per_intent, key=lambda intent: (sum(right[i] for i in per_intent[intent]) / len(per_intent[intent]), intent)
    )
    print("  weakest intents: " + ", ".join(f"{intent} {share(per_intent[intent])}" for intent in weakest[:6]))
    for i in [i for i in range(len(items)) if not right[i]][:show]:
        print(f"    {items[i]['intent']} read as {found[i]}: {str(items[i]['text'])[:90]}")
    topics = content.topics()
    beliefs = sorted({str(item.get("misconception") or "none") for item in items} - {"none"})
    corrected = [
        topics.corrections_after(str(item["intent"]), teachback.wrong_ideas(str(item["text"]))) for item in items
    ]
    for belief in beliefs:
        held = [i for i, item in enumerate(items) if item.get("misconception") == belief]
        point = BELIEF_POINTS.get(belief, belief)
        if point not in topics.corrections:
            print(f"  mistaken belief {belief}: {len(held)} messages, no correction for it in content/topics.yml")
            continue
        own = [i for i in held if point in corrected[i] or items[i]["intent"] in topics.corrections[point]]
        caught = [
            i for i in held if corrected[i] or any(items[i]["intent"] in skip for skip in topics.corrections.values())
        ]
        print(
            f"  mistaken belief {belief}: corrected {len(caught)} of {len(held)} "
            f"(by its own point, or answered by its topic: {len(own)})"
        )
        for i in [i for i in held if i not in caught][:4]:
            print(f"    not corrected: {str(items[i]['text'])[:90]}")
    plain = [i for i, item in enumerate(items) if (item.get("misconception") or "none") == "none"]
    wrongly = [i for i in plain if corrected[i]]
    print(f"  corrections sent where no belief was held: {len(wrongly)} of {len(plain)}")
    for i in wrongly[:4]:
        print(f"    {corrected[i]}: {str(items[i]['text'])[:90]}")
    return minimum is None or accuracy >= minimum


def red_flag_gate(set_path: Path, model: Path | None, min_recall: float, max_false_alarms: float) -> bool:
    data = load_yaml(set_path)
    flags = [item["text"] for item in data["red_flags"]]
    lookalikes = [item["text"] for item in data["lookalikes"]]
    passed = True

    def report(label: str, flagged: list[bool], alarmed: list[bool]) -> bool:
        recall = sum(flagged) / len(flags)
        false_alarms = sum(alarmed) / len(lookalikes)
        print(
            f"{label}: red-flag recall {recall:.1%} of {len(flags)} (minimum {min_recall:.0%}), "
            f"false alarms {false_alarms:.1%} of {len(lookalikes)} look-alikes (maximum {max_false_alarms:.0%})"
        )
        for text, hit in zip(flags, flagged, strict=False):
            if not hit:
                print(f"  missed: {text}")
        for text, hit in zip(lookalikes, alarmed, strict=False):
            if hit:
                print(f"  false alarm: {text}")
        return recall >= min_recall and false_alarms <= max_false_alarms

    passed &= report(
        "emergency rules alone",
        [bool(red_flags.detect_text(t)) for t in flags],
        [bool(red_flags.detect_text(t)) for t in lookalikes],
    )
    if model is not None:
        intents = _model_intents(model, flags + lookalikes)
        passed &= report(
            "trained assistant (rules + classifier)",
            [i == EMERGENCY for i in intents[: len(flags)]],
            [i == EMERGENCY for i in intents[len(flags) :]],
        )
    return passed


def teachback_results(path: Path) -> dict[str, dict[str, Any]]:
    """Per point: accuracy on right and wrong labelled answers, and the misjudged ones."""
    data = load_yaml(path)["points"]
    results: dict[str, dict[str, Any]] = {}
    for point_id, sets in data.items():
        missed = [text for text in sets["right"] if not teachback.judge_text(point_id, text)]
        passed = [text for text in sets["wrong"] if teachback.judge_text(point_id, text)]
        total = len(sets["right"]) + len(sets["wrong"])
        results[point_id] = {
            "right": len(sets["right"]),
            "wrong": len(sets["wrong"]),
            "accuracy": 1 - (len(missed) + len(passed)) / total,
            "right_judged_wrong": missed,
            "wrong_judged_right": passed,
        }
    return results


def teachback_gate(set_path: Path, minimum: float) -> bool:
    results = teachback_results(set_path)
    passed = True
    for point_id, result in results.items():
        print(
            f"teach-back {point_id}: accuracy {result['accuracy']:.1%} on {result['right']} right and "
            f"{result['wrong']} wrong answers (minimum {minimum:.0%})"
        )
        for text in result["right_judged_wrong"]:
            print(f"  right answer judged wrong: {text}")
        for text in result["wrong_judged_right"]:
            print(f"  wrong answer judged right: {text}")
        passed &= result["accuracy"] >= minimum
    return passed


def teachback_report(set_dirs: list[Path], minimum: float | None, show: int = 4) -> bool:
    """The teach-back judge on writers' labelled answers, per point: right answers judged right, wrong judged wrong,
    and per kind (partial, negated, right words with a wrong meaning ...); ``minimum`` gates each side."""
    from bot.language import teachback_model

    answers = teachback_model.read_answers(path for folder in set_dirs for path in sorted(folder.glob("*.yml")))
    print(f"teach-back judge on {len(answers)} labelled answers ({', '.join(str(d) for d in set_dirs)})")
    passed = True
    for point, items in teachback_model.by_point(answers).items():
        judged = [(item, teachback.judge_text(point, item.text) == item.right) for item in items]
        sides = {side: [ok for item, ok in judged if item.right == (side == "right")] for side in ("right", "wrong")}
        shares = {side: sum(oks) / max(len(oks), 1) for side, oks in sides.items()}
        kinds: dict[str, list[bool]] = {}
        for item, ok in judged:
            kinds.setdefault(f"{'right' if item.right else 'wrong'}/{item.kind}", []).append(ok)
        print(
            f"  {point:20} right answers judged right {shares['right']:6.1%} of {len(sides['right'])}, "
            f"wrong judged wrong {shares['wrong']:6.1%} of {len(sides['wrong'])}"
        )
        print("    " + ", ".join(f"{kind} {sum(oks)}/{len(oks)}" for kind, oks in sorted(kinds.items())))
        for item, _ in [pair for pair in judged if not pair[1]][:show]:
            print(f"    misjudged ({'right' if item.right else 'wrong'}/{item.kind}): {item.text[:90]}")
        passed &= minimum is None or min(shares.values()) >= minimum
    return passed


def safety_report(
    set_dirs: list[Path],
    min_recall: float,
    max_false_alarms: float,
    conditional_advice: bool = True,
    show: int = 8,
    min_crisis_line: float = 0.0,
) -> bool:
    """Rules alone, the learned layer alone and the combined decision on labelled sets, per category.

    Recall counts an emergency as caught when the patient is told to call 911 (``emergency``);
    "told at least conditionally" adds the conditional advice of a possible emergency. False
    alarms count look-alikes told to call 911 (and, separately, those given conditional advice).
    """
    from bot.language import language_id, safety, safety_model

    examples = safety_model.read_examples(path for folder in set_dirs for path in sorted(folder.glob("*.yml")))
    model = safety_model.load()
    pipeline, detector = red_flags.default_detector()
    assessed = [safety.rule_flags(detector, pipeline(e.text), language_id.detect(e.text)) for e in examples]
    flags = [found for found, _ in assessed]
    judgements = model.judge_many([e.text for e in examples])
    checks = [safety.decide(f, j, d, conditional_advice) for (f, d), j in zip(assessed, judgements, strict=True)]
    emergencies = [i for i, e in enumerate(examples) if e.category != safety_model.NONE]
    lookalikes = [i for i, e in enumerate(examples) if e.category == safety_model.NONE]

    def rate(indices: list[int], hit: Any) -> str:
        return f"{sum(1 for i in indices if hit(i)) / len(indices):.1%}" if indices else "-"

    layers = {
        "rules alone": lambda i: bool(flags[i]),
        "learned layer alone": lambda i: judgements[i].verdict == safety.EMERGENCY,
        "combined (call 911)": lambda i: checks[i].verdict == safety.EMERGENCY,
        "combined (911 or conditional)": lambda i: checks[i].verdict is not None,
    }

    def grouped(indices: list[int], name: Any) -> dict[str, list[int]]:
        """Indices by ``name(example)``, with the language beside every name but English's."""
        groups: dict[str, list[int]] = {}
        for i in indices:
            lang = examples[i].lang
            groups.setdefault(name(examples[i]) + ("" if lang == "en" else f" ({lang})"), []).append(i)
        return groups

    served = "as served" if conditional_advice == safety.CONDITIONAL_ADVICE else "NOT as served"
    print(f"conditional advice: {'on' if conditional_advice else 'off'}, {served} (config of the NLU component)")
    print(
        f"safety net on {len(emergencies)} emergencies and {len(lookalikes)} look-alikes "
        f"({', '.join(str(d) for d in set_dirs)}; thresholds {model.emergency_at} / {model.possible_at})"
    )
    for label, hit in layers.items():
        print(f"  {label:32} recall {rate(emergencies, hit):>6}   false alarms {rate(lookalikes, hit):>6}")
    by_category = grouped(emergencies, lambda example: example.category)
    print("  per category: combined 911 / 911 or conditional (rules alone)")
    for key in sorted(by_category):
        idx = by_category[key]
        print(
            f"    {key:30} {len(idx):3}  {rate(idx, layers['combined (call 911)']):>6} / "
            f"{rate(idx, layers['combined (911 or conditional)']):>6}  ({rate(idx, layers['rules alone'])})"
        )
    self_harm = [i for i in emergencies if examples[i].category == safety_model.SELF_HARM]
    crisis_line = sum(1 for i in self_harm if checks[i].offers_crisis_line) / max(len(self_harm), 1)
    print(f"  crisis line (988) offered on self-harm messages: {f'{crisis_line:.1%}' if self_harm else '-'}")
    print(
        "  look-alikes offered 988: as a crisis "
        f"{rate(lookalikes, lambda i: checks[i].self_harm)}, conditionally "
        f"{rate(lookalikes, lambda i: checks[i].offers_crisis_line and not checks[i].self_harm)}"
    )
    kinds = grouped(lookalikes, lambda example: example.kind)
    print("  false alarms per kind of look-alike: call 911 / conditional")
    for key in sorted(kinds):
        idx = kinds[key]
        print(
            f"    {key:30} {len(idx):3}  {rate(idx, layers['combined (call 911)']):>6} / "
            f"{rate(idx, lambda i: checks[i].verdict == safety.POSSIBLE):>6}"
        )
    missed = [i for i in emergencies if checks[i].verdict is None]
    alarmed = [i for i in lookalikes if checks[i].verdict == safety.EMERGENCY]
    for i in missed[:show]:
        print(f"  missed [{examples[i].category}]: {examples[i].text[:100]}")
    for i in [i for i in self_harm if checks[i].verdict is not None and not checks[i].offers_crisis_line][:show]:
        print(f"  no 988 [self_harm]: {examples[i].text[:100]}")
    for i in alarmed[:show]:
        print(f"  false alarm [{examples[i].kind}]: {examples[i].text[:100]}")
    recall = sum(1 for i in emergencies if checks[i].verdict is not None) / max(len(emergencies), 1)
    false_alarms = len(alarmed) / max(len(lookalikes), 1)
    return recall >= min_recall and false_alarms <= max_false_alarms and crisis_line >= min_crisis_line


def candidacy_report(set_dirs: list[Path], max_wrong: int | None, show: int = 10) -> bool:
    """The candidacy answer reader on labelled answers, per kind: recorded right or wrong, confirmed, asked again.

    A label is the value a careful nurse writes down without asking back, or ``unclear``.
    Wrong is a recorded value other than the label, but "not sure": that is recorded only when
    the patient says they are not sure, and it goes to the care team with their words. Answers naming a medicine,
    condition or symptom count as kept when confirmed, or recorded with their words and flagged.
    """
    from bot import content
    from bot.consent import candidacy

    questions = content.consent_content()
    rows = []
    for path in (path for folder in set_dirs for path in sorted(folder.glob("*.yml"))):
        for item in load_yaml(path)["answers"]:
            question = questions.question(str(item["question"]))
            answer = candidacy.parse_answer(question, str(item["text"]), questions.dont_know_words, questions.reading)
            rows.append((item, answer))
    kinds: dict[str, list[tuple[dict[str, Any], candidacy.Answer]]] = {}
    for item, answer in rows:
        kinds.setdefault(str(item["kind"]), []).append((item, answer))

    def wrong(item: dict[str, Any], answer: candidacy.Answer) -> bool:
        if answer.status != candidacy.RECORD:
            return False
        return answer.value not in (str(item["value"]), candidacy.DONT_KNOW)

    print(f"candidacy answers: {len(rows)} typed first answers ({', '.join(str(d) for d in set_dirs)})")
    print(
        "  kind            n   recorded right  recorded wrong  confirmed  asked again  (clear labels recorded at once)"
    )
    for kind in sorted(kinds):
        group = kinds[kind]
        right = sum(1 for i, a in group if a.status == candidacy.RECORD and not wrong(i, a))
        bad = sum(1 for i, a in group if wrong(i, a))
        confirmed = sum(1 for _, a in group if a.status == candidacy.CONFIRM)
        again = sum(1 for _, a in group if a.status == candidacy.ASK_AGAIN)
        clear = [(i, a) for i, a in group if str(i["value"]) != candidacy.UNCLEAR]
        at_once = sum(1 for i, a in clear if a.status == candidacy.RECORD and not wrong(i, a))
        share = f"{at_once / len(clear):.1%} of {len(clear)}" if clear else "-"
        print(f"  {kind:12} {len(group):4}   {right:14}  {bad:14}  {confirmed:9}  {again:11}  ({share})")
    named = [(i, a) for i, a in rows if i.get("names")]
    kept = sum(1 for _, a in named if a.status != candidacy.RECORD or a.flagged or not a.extra)
    print(
        f"  answers naming a medicine, condition or symptom: {len(named)}; confirmed, or recorded flagged or "
        f"with every word the question's own: {kept / max(len(named), 1):.1%}"
    )
    unclear = [(i, a) for i, a in rows if str(i["value"]) == candidacy.UNCLEAR]
    caught = sum(1 for i, a in unclear if not wrong(i, a))
    print(f"  unclear answers confirmed, asked again or recorded as not sure: {caught} of {len(unclear)}")
    mistakes = [(i, a) for i, a in rows if wrong(i, a)]
    allowed = "figures only" if max_wrong is None else f"at most {max_wrong} allowed"
    print(f"  wrong values recorded: {len(mistakes)} of {len(rows)} ({allowed})")
    for item, answer in mistakes[:show]:
        print(
            f"    [{item['kind']} {item['question']}] {str(item['text'])[:80]!r}: recorded {answer.value!r}, "
            f"label {item['value']!r}"
        )
    return max_wrong is None or len(mistakes) <= max_wrong


def _written_texts(path: Path) -> list[str]:
    """The texts of a writer's file: its ``answers`` (candidacy, teach-back) or its ``messages``."""
    data = load_yaml(path) or {}
    return [str(item["text"]) for item in data.get("answers") or data.get("messages") or []]


def ordinary_answers_report(set_dirs: list[Path], max_any: float | None, max_911: float | None, show: int = 5) -> bool:
    """The safety net on ordinary messages, none an emergency (every writer's candidacy and teach-back ``answers``,
    or a writer's ``messages`` such as the Spanish topic questions): how many would be given advice, and how many
    told to call 911."""
    from bot.language import language_id, safety, safety_model

    texts = [text for d in set_dirs for path in sorted(d.glob("*.yml")) for text in _written_texts(path)]
    model = safety_model.load()
    pipeline, detector = red_flags.default_detector()
    checks = []
    for text, judgement in zip(texts, model.judge_many(texts), strict=True):
        flags, dismissed = safety.rule_flags(detector, pipeline(text), language_id.detect(text))
        checks.append(safety.decide(flags, judgement, dismissed))
    advised = [t for t, c in zip(texts, checks, strict=True) if c.verdict is not None]
    told = [t for t, c in zip(texts, checks, strict=True) if c.verdict == safety.EMERGENCY]
    share_any, share_911 = len(advised) / max(len(texts), 1), len(told) / max(len(texts), 1)
    print(
        f"safety net on {len(texts)} ordinary messages ({', '.join(str(d) for d in set_dirs)}): "
        f"given advice {share_any:.1%}, told to call 911 {share_911:.1%}"
    )
    for text in told[:show]:
        print(f"  told 911: {text[:100]}")
    return (max_any is None or share_any <= max_any) and (max_911 is None or share_911 <= max_911)


def language_report(set_dirs: list[Path], nlu_dirs: list[Path], show: int = 12) -> bool:
    """Accuracy of ``bot.language.language_id.detect`` on labelled messages, and its time per message.

    The writers' files give each message its ``lang``; the training texts of Rasa NLU files
    (``--nlu``) are the assistant's own English messages, most of them short. Figures only: no gate.
    """
    from bench.proc import rss_mb
    from bot.language import language_id, safety_model

    labelled = [
        (example.text, example.lang)
        for example in safety_model.read_examples(path for folder in set_dirs for path in sorted(folder.glob("*.yml")))
    ]
    labelled += [
        (text, language_id.ENGLISH)
        for folder in nlu_dirs
        for path in sorted(folder.glob("*.yml"))
        for _, text in nlu_examples(path)
    ]
    rss_before = rss_mb(os.getpid())
    started = time.perf_counter()
    language_id.detect("load the model")
    load_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    found = [language_id.detect(text) for text, _ in labelled]
    ms_per_message = (time.perf_counter() - started) * 1000 / max(len(labelled), 1)
    rss_added = rss_mb(os.getpid()) - rss_before
    short = [i for i, (text, _) in enumerate(labelled) if len(text.split()) <= SHORT_WORDS]

    def accuracy(label: str, indices: list[int]) -> None:
        right = sum(1 for i in indices if found[i] == labelled[i][1])
        print(f"  {label:28} {right / len(indices) if indices else 0:6.1%} of {len(indices)}")

    def of(lang: str, indices: list[int]) -> list[int]:
        return [i for i in indices if labelled[i][1] == lang]

    everything = list(range(len(labelled)))
    sources = ", ".join(str(d) for d in set_dirs) + "".join(f", {d} (NLU, English)" for d in nlu_dirs)
    print(f"language detection (bot.language.language_id) on {len(labelled)} messages ({sources})")
    accuracy("overall", everything)
    accuracy("Spanish", of(language_id.SPANISH, everything))
    accuracy("English", of(language_id.ENGLISH, everything))
    accuracy(f"short (<= {SHORT_WORDS} words)", short)
    accuracy("short Spanish", of(language_id.SPANISH, short))
    accuracy("short English", of(language_id.ENGLISH, short))
    print(f"  {'ms per message':28} {ms_per_message:6.3f} (first call, loading the model: {load_ms:.0f} ms)")
    print(f"  {'resident memory added (MB)':28} {rss_added:6.1f}")
    spanish_missed = [i for i in of(language_id.SPANISH, everything) if found[i] != language_id.SPANISH]
    english_as_spanish = [i for i in of(language_id.ENGLISH, everything) if found[i] == language_id.SPANISH]
    print(
        f"  Spanish read as another language: {len(spanish_missed)}; English read as Spanish: {len(english_as_spanish)}"
    )
    for i in spanish_missed[:show] + english_as_spanish[:show]:
        print(f"    {labelled[i][1]} read as {found[i]}: {labelled[i][0][:100]}")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.evaluation", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    nlu = sub.add_parser("nlu", help="held-out intent accuracy from `rasa test nlu`'s intent_report.json")
    nlu.add_argument("report", type=Path)
    nlu.add_argument("--min", type=float, default=0.95)
    flags = sub.add_parser("red-flags", help="emergency recall and false alarms on a labelled set")
    flags.add_argument("set", type=Path)
    flags.add_argument("--model", type=Path, help="also check the trained model end to end")
    flags.add_argument("--min-recall", type=float, default=1.0)
    flags.add_argument("--max-false-alarms", type=float, default=0.05)
    net = sub.add_parser("safety", help="the safety net (rules + learned layer) per category on labelled sets")
    net.add_argument("sets", type=Path, nargs="+", help="folders of writers' files (tests/data/safety/heldout ...)")
    net.add_argument("--min-recall", type=float, default=0.0, help="gate: emergencies told 911 or conditionally")
    net.add_argument("--max-false-alarms", type=float, default=1.0, help="gate: look-alikes told to call 911")
    net.add_argument("--min-crisis-line", type=float, default=0.0, help="gate: self-harm messages offered 988")
    net.add_argument(
        "--no-conditional-advice",
        dest="conditional_advice",
        action="store_false",
        help="measure with the unsure band's advice off (it is on as served)",
    )
    lang = sub.add_parser("language", help="language detection accuracy and speed on labelled sets (figures only)")
    lang.add_argument("sets", type=Path, nargs="+", help="folders of writers' files (data/safety/train ...)")
    lang.add_argument("--nlu", type=Path, action="append", default=[], help="folder of Rasa NLU files read as English")
    points = sub.add_parser("teachback", help="teach-back judge accuracy per point (a file, or folders of writers')")
    points.add_argument("set", type=Path, nargs="+", help="tests/data/teachback_answers.yml, or folders")
    points.add_argument("--min", type=float, help="gate: the least share judged correctly, per point and side")
    points.add_argument("--language", default="en", help="the conversation's language (es: content/es/teachback.yml)")
    ordinary = sub.add_parser("ordinary", help="the safety net on ordinary messages (answers, questions)")
    ordinary.add_argument(
        "sets", type=Path, nargs="+", help="folders of writers' answers (tests/data/candidacy/heldout)"
    )
    ordinary.add_argument("--max-advice", type=float, help="gate: the share given any advice")
    ordinary.add_argument("--max-911", type=float, help="gate: the share told to call 911")
    answers = sub.add_parser("candidacy", help="the candidacy answer reader on labelled typed answers")
    answers.add_argument("sets", type=Path, nargs="+", help="folders of writers' files (tests/data/candidacy/heldout)")
    answers.add_argument("--max-wrong", type=int, help="gate: wrong values recorded (default: figures only)")
    answers.add_argument("--language", default="en", help="the conversation's language (es: content/es/consent.yml)")
    topic = sub.add_parser("topics", help="topic questions by independent writers: intents read, beliefs corrected")
    topic.add_argument("sets", type=Path, nargs="+", help="folders of writers' files (tests/data/nlu/heldout)")
    topic.add_argument("--also", type=Path, action="append", default=[], help="a Rasa NLU file added to the figure")
    topic.add_argument("--model", type=Path, default=Path("models/rhizotomy.tar.gz"))
    topic.add_argument("--min", type=float, help="gate: the least share of intents read right, overall")
    plan = sub.add_parser("plan", help="many evaluations in one process, from a file of their arguments (- for stdin)")
    plan.add_argument(
        "file", help="a line of arguments per evaluation; lines starting with '==>' or a space are printed"
    )
    args: Any = parser.parse_args(argv)
    if args.command == "plan":
        with sys.stdin if args.file == "-" else open(args.file, encoding="utf-8") as lines:
            return 0 if run_plan(lines) else 1
    with languages.use(getattr(args, "language", languages.ENGLISH)):  # the answers are read as in that language
        ok = _run(args)
    if not ok:
        print(f"FAILED: {args.command} is below its threshold", file=sys.stderr)
    return 0 if ok else 1


def run_plan(lines: Iterable[str]) -> bool:
    """Run evaluations one after another in this process, so the trained model, spaCy and the safety net load
    once instead of once per gate (twenty starts of Python and Rasa were minutes of `make test` beside pytest).

    A line starting with "==>" or a space is a heading and printed as it is; "#" lines and blank ones are skipped;
    any other line holds one evaluation's arguments, as after ``python -m devtools.evaluation``. A gate that fails
    or breaks is reported and the rest still run; the plan passes only if every gate passed.
    """
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # headings stay beside their figures in a redirected log
    passed = True
    for line in (line.rstrip("\n") for line in lines):
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith(("==>", " ")):
            print(line)
            continue
        try:
            ok = main(shlex.split(line)) == 0
        except SystemExit as stop:  # argparse's own exit on bad arguments
            ok = stop.code == 0
        except Exception:
            traceback.print_exc()
            print(f"FAILED: {line} broke (the traceback above)", file=sys.stderr)
            ok = False
        passed = passed and ok
    return passed


def _run(args: Any) -> bool:
    if args.command == "nlu":
        ok = nlu_gate(args.report, args.min)
    elif args.command == "red-flags":
        ok = red_flag_gate(args.set, args.model, args.min_recall, args.max_false_alarms)
    elif args.command == "safety":
        ok = safety_report(
            args.sets,
            args.min_recall,
            args.max_false_alarms,
            args.conditional_advice,
            min_crisis_line=args.min_crisis_line,
        )
    elif args.command == "ordinary":
        ok = ordinary_answers_report(args.sets, args.max_advice, args.max_911)
    elif args.command == "candidacy":
        ok = candidacy_report(args.sets, args.max_wrong)
    elif args.command == "topics":
        ok = topics_report(args.sets, args.also, args.model, args.min)
    elif args.command == "language":
        ok = language_report(args.sets, args.nlu)
    elif args.set[0].is_dir():
        ok = teachback_report(args.set, args.min)
    else:
        ok = teachback_gate(args.set[0], 0.9 if args.min is None else args.min)
    return ok


if __name__ == "__main__":
    sys.exit(main())
