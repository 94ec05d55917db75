"""Where the time of a message goes: NLU components, policies, the action server, the tracker store.

    python -m bench profile [--cprofile] [--model models/rhizotomy.tar.gz] [--endpoints FILE]

Loads the trained model in this process (Rasa's own ``Agent``, the same code
path as ``python -m bot serve`` minus HTTP, the speed-ups installed first), against
a real action server started by ``devtools.launch`` and an SQLite tracker store, and
plays one simulated patient's conversation message by message. Timers wrapped
around Rasa's own functions record, per message and *exclusive of nested timers*:

* every NLU graph node (SpacyNLP, tokenizer, featurizers, classifier...), and
  the graph runner's own overhead;
* every policy graph node and the policy ensemble;
* the action server call (HTTP round trip) and building its request (tracker
  serialised with every event, and the domain unless selective domain is on),
  with the request size;
* the tracker store's reads and writes;
* the rest of Rasa's message processor (events, slots, response templates).

The action server's own share is measured by replaying the same requests into
rasa_sdk's ``ActionExecutor`` in this process. ``--cprofile`` also writes the
hottest functions of the whole conversation (cProfile, stdlib).
"""

from __future__ import annotations

import asyncio
import cProfile
import functools
import inspect
import io
import json
import os
import pstats
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import scenario
from bot.rasa import speedups
from bot.settings import PROJECT_ROOT
from devtools import launch

OUT = PROJECT_ROOT / "build" / "bench"


class Timers:
    """Exclusive wall-clock timers: a nested timer's time is not counted in its parent's."""

    def __init__(self) -> None:
        self.stack: list[list[float]] = []  # [start, child_seconds]
        self.current: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    @contextmanager
    def measure(self, name: str) -> Iterator[None]:
        frame = [time.perf_counter(), 0.0]
        self.stack.append(frame)
        try:
            yield
        finally:
            self.stack.pop()
            elapsed = time.perf_counter() - frame[0]
            self.current[name] += elapsed - frame[1]
            self.counts[name] += 1
            if self.stack:
                self.stack[-1][1] += elapsed

    def take(self) -> tuple[dict[str, float], dict[str, int]]:
        taken, counts = dict(self.current), dict(self.counts)
        self.current.clear()
        self.counts.clear()
        return taken, counts


def _wrap(owner: Any, attribute: str, label: Callable[..., str], timers: Timers) -> Callable[[], None]:
    original = getattr(owner, attribute)
    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            with timers.measure(label(*args, **kwargs)):
                return await original(*args, **kwargs)

        setattr(owner, attribute, async_wrapper)
    else:

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with timers.measure(label(*args, **kwargs)):
                return original(*args, **kwargs)

        setattr(owner, attribute, wrapper)
    return lambda: setattr(owner, attribute, original)


def instrument(timers: Timers, captured: list[dict[str, Any]], sizes: list[int]) -> Callable[[], None]:
    """Wrap Rasa's functions with timers; returns a function that unwraps them."""
    from rasa.core.actions import action as actions_module
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.engine.graph import GraphNode
    from rasa.utils.endpoints import EndpointConfig

    from bot.rasa.speedups.action_connection import dumps
    from bot.rasa.tracker_store import CachedSQLTrackerStore

    phase = {"name": "other"}

    def node_label(node: Any, *_: Any, **__: Any) -> str:
        name = str(node._node_name)
        return f"{phase['name']}: {name}"

    @contextmanager
    def in_phase(name: str) -> Iterator[None]:
        previous, phase["name"] = phase["name"], name
        try:
            yield
        finally:
            phase["name"] = previous

    undo: list[Callable[[], None]] = []
    for attribute, name in (("_parse_message_with_graph", "NLU"), ("_predict_next_with_tracker", "policies")):
        original = getattr(MessageProcessor, attribute)

        def make(original: Callable[..., Any], name: str) -> Callable[..., Any]:
            @functools.wraps(original)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                with in_phase(name), timers.measure(f"{name}: graph runner overhead"):
                    return original(*args, **kwargs)

            return wrapper

        setattr(MessageProcessor, attribute, make(original, name))
        undo.append(functools.partial(setattr, MessageProcessor, attribute, original))
    undo.append(_wrap(GraphNode, "__call__", node_label, timers))
    for store in (SQLTrackerStore, CachedSQLTrackerStore):  # Rasa's own (variants) and the project's
        undo.append(_wrap(store, "retrieve", lambda *a, **k: "tracker store: read (SQL, replay or memory)", timers))
        undo.append(_wrap(store, "save", lambda *a, **k: "tracker store: write (SQL)", timers))
    undo.append(
        _wrap(
            actions_module.RemoteAction,
            "_action_call_format",
            lambda *a, **k: "action call: build request (tracker, domain)",
            timers,
        )
    )
    undo.append(
        _wrap(
            actions_module.RemoteAction,
            "_validate_action_result",
            lambda *a, **k: "action call: check response (jsonschema)",
            timers,
        )
    )

    original_request = EndpointConfig.request

    @functools.wraps(original_request)
    async def request(self: Any, *args: Any, **kwargs: Any) -> Any:
        body = kwargs.get("json")
        if body is not None:
            captured.append(body)
            sizes.append(len(dumps(body)))  # as sent
        with timers.measure("action server: HTTP round trip"):
            return await original_request(self, *args, **kwargs)

    EndpointConfig.request = request  # type: ignore[method-assign]
    undo.append(lambda: setattr(EndpointConfig, "request", original_request))

    def undo_all() -> None:
        for step in reversed(undo):
            step()

    return undo_all


async def _replay(captured: list[dict[str, Any]], profiler: cProfile.Profile | None) -> list[float]:
    """Seconds the action server's SDK spends per request (JSON in and out included), in this process."""
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    for body in captured:  # warm-up pass: first uses load content and matchers
        await executor.run(json.loads(json.dumps(body)))
    spent = []
    for body in captured:
        text = json.dumps(body)
        started = time.perf_counter()
        response = await executor.run(json.loads(text))
        json.dumps(response)
        spent.append(time.perf_counter() - started)
    if profiler is not None:
        for body in captured:
            profiler.enable()
            json.dumps(await executor.run(json.loads(json.dumps(body))))
            profiler.disable()
    return spent


async def _play(
    model: Path, endpoints: Path, messages: list[str], timers: Timers, sender: str, profiler: cProfile.Profile | None
) -> list[dict[str, Any]]:
    """Play ``messages`` with timers on; then, with ``profiler``, the same again as another patient."""
    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.utils import AvailableEndpoints

    agent = await load_agent(model_path=str(model), endpoints=AvailableEndpoints.read_endpoints(str(endpoints)))
    # Warm up both servers with the same conversation as another patient: the first use of each
    # action and component loads lazily-built parts (once per process, not per message).
    for text in ["/show_menu", *messages]:
        await agent.handle_message(UserMessage(text, CollectingOutputChannel(), "profile-warm-up"))
    timers.take()
    per_message = []
    for text in messages:
        started, cpu_started = time.perf_counter(), time.process_time()
        await agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender))
        total, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        stages, counts = timers.take()
        per_message.append({"text": text, "total": total, "cpu": cpu, "stages": stages, "counts": counts})
    if profiler is not None:  # a separate pass: cProfile's own overhead must not skew the timers
        for text in messages:
            profiler.enable()
            await agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender + "-cprofile"))
            profiler.disable()
        timers.take()
    return per_message


def group(stage: str) -> str:
    """The row a timer is reported under."""
    if stage.startswith("NLU: "):
        return "NLU"
    if stage.startswith("policies: "):
        return "policies"
    if stage.startswith("action"):
        return "action calls"
    if stage.startswith("tracker store"):
        return "tracker store"
    return "other"


def report(
    per_message: list[dict[str, Any]], sdk_seconds: list[float], sizes: list[int], focus: str, domain_sent: bool
) -> tuple[str, dict[str, Any]]:
    """A text table of mean milliseconds per message by stage, and the figures for the results file."""
    count = len(per_message)
    totals: dict[str, float] = defaultdict(float)
    for message in per_message:
        for stage, seconds in message["stages"].items():
            totals[stage] += seconds
    mean_total = sum(m["total"] for m in per_message) / count
    measured = sum(totals.values()) / count
    totals["other: Rasa message processor (events, slots, responses, lock)"] = (mean_total - measured) * count
    sdk_per_message = sum(sdk_seconds) / count
    mean_cpu = sum(m["cpu"] for m in per_message) / count
    lines = [
        f"Mean per message over one {count}-message conversation ({mean_total * 1000:.1f} ms in all,"
        f" no HTTP in front of Rasa; {mean_cpu * 1000:.1f} ms of it Rasa's own CPU, the rest waiting"
        f" for the action server and the disk):",
        "",
    ]
    lines.append(f"  {'stage':<66} {'ms':>7} {'share':>6}")
    summary: dict[str, float] = defaultdict(float)
    for stage, seconds in sorted(totals.items(), key=lambda item: -item[1]):
        ms = seconds / count * 1000
        summary[group(stage)] += ms
        if ms >= 0.05:
            lines.append(f"  {stage:<66} {ms:7.2f} {ms / (mean_total * 1000):6.1%}")
    lines.append("")
    lines.append(
        f"  action server work inside the round trip (rasa_sdk executor replayed in-process):"
        f" {sdk_per_message * 1000:.2f} ms per message, {len(sdk_seconds) / count:.1f} calls per message"
    )
    if sizes:
        lines.append(
            f"  action server requests: {len(sizes)} calls, mean {sum(sizes) / len(sizes) / 1024:.1f} KB,"
            f" largest {max(sizes) / 1024:.1f} KB (tracker with every event"
            f"{' + the whole domain' if domain_sent else ''})"
        )
    lines.append("")
    lines.append(
        "  By part (ms per message): "
        + ", ".join(f"{k} {v:.1f}" for k, v in sorted(summary.items(), key=lambda i: -i[1]))
    )
    focused = next((m for m in per_message if m["text"] == focus), per_message[min(1, count - 1)])
    lines.append("")
    lines.append(f"One message, {focused['text']!r} ({focused['total'] * 1000:.1f} ms):")
    for stage, seconds in sorted(focused["stages"].items(), key=lambda item: -item[1]):
        if seconds * 1000 >= 0.05:
            calls = focused["counts"].get(stage, 0)
            lines.append(f"  {stage:<66} {seconds * 1000:7.2f}  ({calls} call{'s' if calls != 1 else ''})")
    rest = focused["total"] - sum(focused["stages"].values())
    lines.append(f"  {'other: Rasa message processor':<66} {rest * 1000:7.2f}")
    figures = {
        "mean_ms": round(mean_total * 1000, 1),
        "rasa_cpu_ms": round(mean_cpu * 1000, 1),
        "by_part_ms": {k: round(v, 1) for k, v in summary.items()},
        "sdk_ms": round(sdk_per_message * 1000, 2),
        "action_calls_per_message": round(len(sdk_seconds) / count, 2),
        "action_request_kb_mean": round(sum(sizes) / len(sizes) / 1024, 1) if sizes else 0,
        "focus": {"text": focused["text"], "ms": round(focused["total"] * 1000, 1)},
    }
    return "\n".join(lines), figures


def quiet_logging() -> None:
    """Log as `rasa run` does by default (INFO, so no debug formatting is timed), to stderr."""
    import logging

    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    level = logging.getLevelName(os.environ.get("LOG_LEVEL", "INFO"))
    configure_logging_and_warnings(level)
    configure_structlog(level)


def profile(
    model: Path = launch.MODEL,
    endpoints: Path | None = None,
    length: int = 20,
    index: int = 0,
    use_cprofile: bool = False,
    env: dict[str, str] | None = None,
    focus: str = "how long does it take?",
) -> tuple[str, dict[str, Any]]:
    """Profile conversation ``index`` of ``length`` messages; returns the report and its figures.

    ``endpoints`` (a variant's file) may use ``${ACTION_ENDPOINT_URL}`` and ``${BENCH_WORKDIR}``;
    ``env`` goes to the action server and into this process (where the Rasa agent runs).
    """
    messages = list(scenario.conversation(index, length).messages)
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as folder:
        workdir = Path(folder)
        database_url = f"sqlite:///{workdir / 'assistant.db'}"
        os.environ.update({"DATABASE_URL": database_url, **(env or {})})
        with launch.assistant(workdir / "servers", model=model, database_url=database_url, env=env) as running:
            os.environ.update(
                {
                    launch.ACTION_ENDPOINT_ENV: running.actions_url,
                    launch.ACTION_TOKEN_ENV: running.action_token,  # the endpoints send it to the action server
                    "BENCH_WORKDIR": str(workdir),
                }
            )
            if endpoints is None:
                endpoints = launch.default_endpoints(workdir, running.actions_url)
            quiet_logging()
            # As `python -m bot serve` does, before anything is wrapped in timers: the variant's
            # SPEEDUPS_OFF (in os.environ above) says which to leave off.
            speedups.install()
            timers, captured, sizes = Timers(), [], []  # type: ignore[var-annotated]
            undo = instrument(timers, captured, sizes)
            profiler = cProfile.Profile() if use_cprofile else None
            try:
                per_message = asyncio.run(_play(model, endpoints, messages, timers, "profile-patient", profiler))
            finally:
                undo()
            timed_calls = sum(m["counts"].get("action server: HTTP round trip", 0) for m in per_message)
            warm_up_calls = len([body for body in captured if body.get("sender_id") == "profile-warm-up"])
            captured[:] = captured[warm_up_calls : warm_up_calls + timed_calls]
            sizes[:] = sizes[warm_up_calls : warm_up_calls + timed_calls]
            sdk_profiler = cProfile.Profile() if use_cprofile else None
            sdk_seconds = asyncio.run(_replay(captured, sdk_profiler))
    domain_sent = any("domain" in body for body in captured)
    text, figures = report(per_message, sdk_seconds, sizes, focus, domain_sent)
    if profiler is not None and sdk_profiler is not None:
        OUT.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        for title, source in (
            ("Rasa server (agent.handle_message)", profiler),
            ("action server (rasa_sdk executor, replayed)", sdk_profiler),
        ):
            buffer.write(f"===== {title} =====\n")
            source.dump_stats(OUT / f"profile-{'rasa' if source is profiler else 'sdk'}.pstats")
            stats = pstats.Stats(source, stream=buffer).strip_dirs()
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(25)
        (OUT / "profile-cprofile.txt").write_text(buffer.getvalue())
        text += f"\n\ncProfile of the whole conversation (Rasa and action server): {OUT / 'profile-cprofile.txt'}"
    return text, figures
