"""The results file: one JSON line per run in bench/results.jsonl, rendered to bench/results.md.

Every run records the date, the commit, the machine (cores, memory, CPU model)
and the load average before and after, so figures from a busy machine are seen
as such. Nothing here is ever edited by hand: `python -m bench render` rebuilds
the Markdown from the JSON lines.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
JSONL = HERE / "results.jsonl"
MARKDOWN = HERE / "results.md"

TARGETS = {
    # name: (what, comparison, limit)
    "errors": ("errors (all transports)", "==", 0),
    "p95_ms": ("p95 at C=20, N=20, REST (ms)", "<=", 250),
    "msgs_per_s": ("messages per second at C=20, N=20, REST", ">=", 80),
    "single_p50_ms": ("single conversation p50 (ms)", "<", 40),
    "peak_rss_mb": ("Rasa server peak RSS (MB)", "<=", 900),
    "cold_start_s": ("cold start, process start to first answer (s)", "<=", 20),
}


def check(name: str, actual: float) -> bool:
    _, comparison, limit = TARGETS[name]
    return {"==": actual == limit, "<=": actual <= limit, ">=": actual >= limit, "<": actual < limit}[comparison]


def append(entry: dict[str, Any], path: Path = JSONL) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")
    render(path)


def entries(path: Path = JSONL) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _bench_rows(entry: dict[str, Any]) -> list[str]:
    rows = []
    bots = entry.get("bots", {})
    for bot_name in ("assistant", "stock"):
        bot = bots.get(bot_name)
        if not bot:
            continue
        for transport, figures in bot.get("load", {}).items():
            rows.append(
                "| "
                + " | ".join(
                    [
                        entry["date"],
                        entry["commit"],
                        entry.get("label") or "–",
                        f"{entry['load_before']} → {entry['load_after']}",
                        bot_name,
                        transport,
                        f"{figures['concurrency']}×{figures['messages_per_conversation']}",
                        _fmt(figures["p50_ms"]),
                        _fmt(figures["p95_ms"]),
                        _fmt(figures["p99_ms"]),
                        _fmt(figures["msgs_per_s"]),
                        str(figures["errors"]),
                        _fmt(bot.get("single", {}).get("p50_ms")),
                        _fmt(bot.get("peak_rss_mb"), 0),
                        _fmt(bot.get("cold_start_s")),
                        _fmt(bot.get("cpu_ms_per_message", {}).get(transport, {}).get("rasa")),
                        _fmt(bot.get("cpu_ms_per_message", {}).get(transport, {}).get("actions")),
                        bot.get("consent_records", {}).get(transport, "–") if bot_name == "assistant" else "–",
                    ]
                )
                + " |"
            )
    return rows


def render(path: Path = JSONL, out: Path = MARKDOWN) -> str:
    """Rebuild results.md from results.jsonl; returns the text."""
    all_entries = entries(path)
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m bench run`) and `python -m bench profile`; rebuilt from",
        "[results.jsonl](results.jsonl) by `python -m bench render`. Do not edit by hand.",
        "",
        "Closed loop: C conversations at once, each sending its next message when the last is answered; a",
        "conversation mixes small talk, topic questions and (3 in 4) a full consent pass (bench/scenario.py).",
        "`stock` is a `rasa init --no-prompt` bot (Rasa's default config) under the same load in the same run.",
        "Load is the machine's 1/5/15-minute load average before → after the run (2 cores: above 2 means",
        "other work was competing). CPU ms/msg is the server process's CPU time divided by messages answered.",
        "",
        "Targets (issue 8, C=20, N=20 on this 2-core machine): "
        + "; ".join(f"{what} {comparison} {limit}" for what, comparison, limit in TARGETS.values())
        + ".",
        "",
    ]
    machines = {(e["machine"]["nproc"], e["machine"]["memory_gb"], e["machine"]["cpu"]) for e in all_entries}
    if machines:
        lines.append("Machines: " + "; ".join(f"{n} cores, {m} GB, {c}" for n, m, c in sorted(machines)) + ".")
        lines.append("")
    runs = [e for e in all_entries if e.get("kind") == "bench"]
    if runs:
        lines += [
            "## Load runs",
            "",
            "| date | commit | label | load | bot | transport | C×N | p50 ms | p95 ms | p99 ms | msg/s | errors "
            "| single p50 ms | peak RSS MB | cold start s | Rasa CPU ms/msg | actions CPU ms/msg | consent records |",
            "|" + "---|" * 18,
        ]
        for entry in runs:
            lines += _bench_rows(entry)
        lines.append("")
        lines += ["## Targets and ratios to stock, per run", ""]
        for entry in runs:
            verdicts = entry.get("targets", {})
            ratios = entry.get("ratios", {})
            met = ", ".join(
                f"{TARGETS[name][0]} {_fmt(verdicts[name]['actual'])} {'✓' if verdicts[name]['met'] else '✗'}"
                for name in TARGETS
                if name in verdicts
            )
            ratio_text = ", ".join(f"{k} {_fmt(v, 2)}" for k, v in ratios.items())
            settings = entry.get("settings", {})
            lines.append(
                f"- **{entry['date']}** `{entry['commit']}` {entry.get('label') or ''} "
                f"(variants: {', '.join(settings.get('variants') or []) or 'none'}): {met}."
                + (f" Assistant ÷ stock: {ratio_text}." if ratio_text else "")
            )
            if entry.get("note"):
                lines.append(f"  {entry['note']}")
        lines.append("")
    profiles = [e for e in all_entries if e.get("kind") == "profile"]
    if profiles:
        lines += [
            "## Profiles: where one message's time goes (mean ms per message, in-process, no HTTP in front)",
            "",
            "`action calls` is everything about custom actions in Rasa: the HTTP round trip to the action "
            "server, building the request and checking the answer (jsonschema); `action SDK work` is the "
            "action server's own share of the round trip.",
            "",
            "| date | commit | label | load | mean ms | Rasa CPU ms | NLU | policies | action calls | "
            "tracker store | other | action SDK work | calls/msg | request KB |",
            "|" + "---|" * 14,
        ]
        for entry in profiles:
            figures = entry["figures"]
            parts = figures["by_part_ms"]
            lines.append(
                "| "
                + " | ".join(
                    [
                        entry["date"],
                        entry["commit"],
                        entry.get("label") or "–",
                        entry["load_before"],
                        _fmt(figures["mean_ms"]),
                        _fmt(figures.get("rasa_cpu_ms")),
                        _fmt(parts.get("NLU")),
                        _fmt(parts.get("policies")),
                        _fmt(parts.get("action calls", parts.get("action server"))),
                        _fmt(parts.get("tracker store")),
                        _fmt(parts.get("other")),
                        _fmt(figures["sdk_ms"]),
                        _fmt(figures["action_calls_per_message"]),
                        _fmt(figures["action_request_kb_mean"]),
                    ]
                )
                + " |"
            )
        lines.append("")
        latest = profiles[-1]
        lines += ["Latest profile in full:", "", "```", latest.get("text", ""), "```", ""]
    scale = [e for e in all_entries if e.get("kind") == "scale"]
    if scale:
        lines += [
            "## Scale-out (scripts/scale-test.sh: nginx, PostgreSQL, Redis)",
            "",
            "| date | commit | load | variants | servers | C×N | p50 ms | p95 ms | msg/s | errors | checks |",
            "|" + "---|" * 11,
        ]
        for entry in scale:
            for run in entry.get("throughput", []):
                lines.append(
                    "| "
                    + " | ".join(
                        [
                            entry["date"],
                            entry["commit"],
                            f"{entry['load_before']} → {entry['load_after']}",
                            ", ".join(entry.get("variants") or []) or "none",
                            str(run["servers"]),
                            f"{run['concurrency']}×{run['messages_per_conversation']}",
                            _fmt(run["p50_ms"]),
                            _fmt(run["p95_ms"]),
                            _fmt(run["msgs_per_s"]),
                            str(run["errors"]),
                            "all passed" if entry.get("passed") else "FAILED: " + "; ".join(entry.get("failures", [])),
                        ]
                    )
                    + " |"
                )
        lines.append("")
    text = "\n".join(lines)
    out.write_text(text, encoding="utf-8")
    return text
