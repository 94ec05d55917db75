"""`make bench`: the assistant and the stock `rasa init` bot under the same load, in the same run.

For each bot, on its own fresh servers (bot.launch, SQLite in a temporary folder):

1. cold start: from starting the processes to the first answer over REST;
2. one conversation alone over REST (the single-conversation latency);
3. C conversations x N messages over REST, then over the website socket (the
   assistant only: the stock bot has no end-of-turn event to time against);
4. the Rasa server's peak RSS (the kernel's high-water mark, VmHWM), the CPU
   time the Rasa and action servers used per message, and, for the assistant,
   that every conversation that went through the consent pass stored its record.

The figures are printed against the issue's targets and appended to
bench/results.jsonl (rendered to bench/results.md).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import load, machine, proc, results, stock, variants
from bot import consent_store, launch
from bot.settings import PROJECT_ROOT

BUILD = PROJECT_ROOT / "build" / "bench"


def frozen_model(model: Path) -> tuple[Path, str]:
    """A copy of ``model`` for this run (another developer's `make model` may replace it meanwhile)."""
    digest = hashlib.sha256(model.read_bytes()).hexdigest()[:12]
    BUILD.mkdir(parents=True, exist_ok=True)
    copy = BUILD / f"model-{digest}.tar.gz"
    if not copy.exists():
        shutil.copyfile(model, copy)
    return copy, digest


def measure(name: str, model: Path, transports: tuple[str, ...], concurrency: int, length: int,
            setup: variants.Setup, *, actions: bool, credentials: Path | None, cwd: Path, ready: str,
            log: Callable[[str], None] = print) -> dict[str, Any]:
    figures: dict[str, Any] = {"model": model.name, "load": {}, "cpu_ms_per_message": {}, "consent_records": {}}
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as folder:
        workdir = Path(folder)
        env = {"BENCH_WORKDIR": str(workdir), **setup.env}
        endpoints = setup.endpoints if (setup.endpoints and actions) else None
        log(f"==> {name}: starting the servers ({model.name})")
        with launch.assistant(workdir, model=model, env=env, endpoints=endpoints, actions=actions,
                              credentials=credentials, cwd=cwd, ready_message=ready) as running:
            figures["cold_start_s"] = round(running.cold_start_s, 2)
            log(f"    cold start {running.cold_start_s:.1f} s; one conversation alone over REST")
            single = load.run([running.base_url], "rest", 1, length, prefix=f"{name}-single")
            figures["single"] = single.summary()
            for transport in transports:
                log(f"    {concurrency} conversations x {length} messages over {transport}")
                cpu_before = (proc.cpu_seconds(running.rasa_pid),
                              proc.cpu_seconds(running.actions_pid) if actions else 0.0)
                result = load.run([running.base_url], transport, concurrency, length, prefix=f"{name}-{transport}")
                cpu_after = (proc.cpu_seconds(running.rasa_pid),
                             proc.cpu_seconds(running.actions_pid) if actions else 0.0)
                summary = result.summary()
                figures["load"][transport] = summary
                answered = max(1, result.answered)
                figures["cpu_ms_per_message"][transport] = {
                    "rasa": round((cpu_after[0] - cpu_before[0]) * 1000 / answered, 1),
                    "actions": round((cpu_after[1] - cpu_before[1]) * 1000 / answered, 1) if actions else None,
                }
                if actions:
                    stored = {r.conversation_id for r in consent_store.records(url=running.database_url)}
                    expected = set(result.consent_senders)
                    figures["consent_records"][transport] = f"{len(expected & stored)}/{len(expected)}"
                    if expected - stored:
                        summary["errors"] += len(expected - stored)
                        summary["error_examples"].append(f"{len(expected - stored)} consent passes stored no record")
                log(f"      p50 {summary['p50_ms']} ms, p95 {summary['p95_ms']} ms, p99 {summary['p99_ms']} ms, "
                    f"{summary['msgs_per_s']} msg/s, {summary['errors']} errors")
                for example in summary["error_examples"]:
                    log(f"      error: {example}")
            figures["peak_rss_mb"] = proc.peak_rss_mb(running.rasa_pid)
            figures["rss_end_mb"] = proc.rss_mb(running.rasa_pid)
            if actions:
                figures["actions_peak_rss_mb"] = proc.peak_rss_mb(running.actions_pid)
    return figures


def run(concurrency: int = 20, length: int = 20, transports: tuple[str, ...] = ("rest", "socketio"),
        with_stock: bool = True, label: str = "", variant_names: list[str] | None = None,
        model: Path | None = None, note: str = "", record: bool = True,
        log: Callable[[str], None] = print) -> dict[str, Any]:
    setup = variants.load(variant_names or [])
    info = machine.describe()
    load_before = machine.load_text()
    started = time.monotonic()
    if model is None:
        model = variants.trained_model(setup.config, log) if setup.config else launch.MODEL
    if not model.exists():
        raise SystemExit(f"{model} is missing: run `make model` first")
    frozen, digest = frozen_model(model)
    bots: dict[str, Any] = {}
    bots["assistant"] = measure("assistant", frozen, transports, concurrency, length, setup, actions=True,
                                credentials=PROJECT_ROOT / "credentials.yml", cwd=PROJECT_ROOT, ready="/show_menu",
                                log=log)
    bots["assistant"]["model_sha256"] = digest
    bots["assistant"]["load_between"] = machine.load_text()
    if with_stock:
        stock_model = stock.ensure(log)
        folder = stock_model.parent.parent
        bots["stock"] = measure("stock", stock_model, ("rest",), concurrency, length, variants.Setup(),
                                actions=False, credentials=folder / "credentials.yml", cwd=folder, ready="hi",
                                log=log)
    rest = bots["assistant"]["load"].get("rest") or next(iter(bots["assistant"]["load"].values()))
    actual = {
        "errors": sum(f["errors"] for f in bots["assistant"]["load"].values()) + bots["assistant"]["single"]["errors"],
        "p95_ms": rest["p95_ms"],
        "msgs_per_s": rest["msgs_per_s"],
        "single_p50_ms": bots["assistant"]["single"]["p50_ms"],
        "peak_rss_mb": bots["assistant"]["peak_rss_mb"],
        "cold_start_s": bots["assistant"]["cold_start_s"],
    }
    targets = {name: {"actual": value, "met": results.check(name, value)} for name, value in actual.items()}
    ratios: dict[str, float] = {}
    if with_stock and "rest" in bots["stock"]["load"] and "rest" in bots["assistant"]["load"]:
        ours, theirs = bots["assistant"]["load"]["rest"], bots["stock"]["load"]["rest"]
        for key in ("msgs_per_s", "p50_ms", "p95_ms"):
            if theirs[key]:
                ratios[key] = round(ours[key] / theirs[key], 2)
        if bots["stock"]["peak_rss_mb"]:
            ratios["peak_rss_mb"] = round(bots["assistant"]["peak_rss_mb"] / bots["stock"]["peak_rss_mb"], 2)
    machine_keys = ("nproc", "memory_gb", "cpu", "python")
    entry = {
        "kind": "bench", **{k: v for k, v in info.items() if k not in machine_keys},
        "machine": {k: info[k] for k in machine_keys},
        "label": label, "note": note, "load_before": load_before, "load_after": machine.load_text(),
        "duration_s": round(time.monotonic() - started, 1),
        "settings": {"concurrency": concurrency, "messages": length, "transports": list(transports),
                     "variants": setup.names, "variant_descriptions": setup.descriptions, "env": setup.env},
        "bots": bots, "targets": targets, "ratios": ratios,
    }
    log("")
    log(summary_text(entry))
    if record:
        results.append(entry)
        log(f"\nappended to {results.JSONL.relative_to(PROJECT_ROOT)} and {results.MARKDOWN.relative_to(PROJECT_ROOT)}")
    return entry


def summary_text(entry: dict[str, Any]) -> str:
    machine_info = entry["machine"]
    lines = [f"{entry['date']}  commit {entry['commit']}  {machine_info['nproc']} cores, "
             f"{machine_info['memory_gb']} GB, {machine_info['cpu']}  "
             f"load {entry['load_before']} -> {entry['load_after']}"]
    if entry["settings"]["variants"]:
        lines.append("variants: " + "; ".join(entry["settings"]["variant_descriptions"]))
    header = f"{'bot':<10} {'transport':<17} {'C×N':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'msg/s':>7} {'errors':>6}"
    lines += ["", header, "-" * len(header)]
    for bot_name, bot in entry["bots"].items():
        single = bot["single"]
        lines.append(f"{bot_name:<10} {'rest, alone':<17} {'1×' + str(single['messages_per_conversation']):>6} "
                     f"{single['p50_ms']:7.1f} {single['p95_ms']:7.1f} {single['p99_ms']:7.1f} "
                     f"{single['msgs_per_s']:7.1f} {single['errors']:6d}")
        for transport, f in bot["load"].items():
            shape = f"{f['concurrency']}×{f['messages_per_conversation']}"
            lines.append(f"{bot_name:<10} {transport:<17} {shape:>6} {f['p50_ms']:7.1f} {f['p95_ms']:7.1f} "
                         f"{f['p99_ms']:7.1f} {f['msgs_per_s']:7.1f} {f['errors']:6d}")
        cpu = ", ".join(f"{t}: Rasa {v['rasa']}" + (f" + actions {v['actions']}" if v["actions"] is not None else "")
                        for t, v in bot["cpu_ms_per_message"].items())
        lines.append(f"{'':<10} peak RSS {bot['peak_rss_mb']:.0f} MB, cold start {bot['cold_start_s']:.1f} s, "
                     f"CPU ms/message {cpu}"
                     + (f", consent records {bot['consent_records']}" if bot["consent_records"] else ""))
    lines += ["", "targets (assistant):"]
    for name, verdict in entry["targets"].items():
        what, comparison, limit = results.TARGETS[name]
        mark = "met " if verdict["met"] else "MISS"
        lines.append(f"  {mark}  {what}: {verdict['actual']} (target {comparison} {limit})")
    if entry["ratios"]:
        lines.append("assistant ÷ stock: " + ", ".join(f"{k} {v}" for k, v in entry["ratios"].items()))
    return "\n".join(lines)
