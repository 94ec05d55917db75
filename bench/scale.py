"""The scale-out test: two Rasa servers and one action server on PostgreSQL and Redis, behind nginx.

    scripts/scale-test.sh              (starts PostgreSQL, Redis and nginx when missing, then runs this)
    python -m bench.scale --database-url postgresql+psycopg2://... --redis-url redis://127.0.0.1:6390/1

Everything runs with the deployment's own files: deploy/endpoints.yml (SQL tracker
store on PostgreSQL, Redis lock store, settings from the environment through
deploy/settings.py) and the nginx configuration deploy/nginx.py renders. The
checks, each printed as PASS or FAIL:

1. one conversation whose messages alternate between the two servers (REST,
   straight to each server): its tracker, read both through Rasa's HTTP API
   (--enable-api with a token) and straight from PostgreSQL's ``events`` table,
   holds every user message once and in order, every bot message the patient
   received once and in its turn, each turn ending in ``action_listen``; its
   consent record is in PostgreSQL;
2. the Redis lock: pairs of messages of one conversation sent at the same moment,
   one to each server, are handled one after the other - every turn complete
   before the next user message, each answer matching its question
   (``--control`` repeats this with no lock store and with Rasa's own
   ``RedisLockStore``, recording whether the fault shows: bot/rasa/lock_store.py);
3. C conversations x N messages through nginx over REST: no errors, every
   message and answer in each tracker, a consent record for every consent pass,
   both servers used;
4. the website socket through nginx: long-polling clients from C different
   loopback addresses (127.0.0.x) stick to one server each and both servers are
   used, no errors; and a WebSocket round through nginx;
5. throughput through nginx with two servers compared with one (nginx reloaded
   with one upstream), same load;
6. the consent record chain verifies, and no conversation lock is left in Redis.

The figures are appended to bench/results.jsonl (kind "scale").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import requests
import sqlalchemy as sa

from bench import load, machine, proc, results, scenario, variants
from bench.run import bench_credentials
from bot.records import consent_store
from bot.settings import PROJECT_ROOT
from deploy import nginx, settings
from devtools import launch

DEPLOY = PROJECT_ROOT / "deploy"
START_NGINX = PROJECT_ROOT / "scripts" / "start-nginx.sh"
# A fixed place, so scripts/scale-test.sh can stop this nginx even if this process is killed.
NGINX_DIR = PROJECT_ROOT / "build" / "scale-test" / "nginx"
LOCK_PREFIX = "rhizotomy:lock:"
LOCK_PAIRS = len(scenario.TOPICS) // 2  # every question once: 5 pairs
SOCKET_MESSAGES = 10
CONTROL_ATTEMPTS = 3


@dataclass
class Report:
    checks: list[dict[str, Any]] = field(default_factory=list)
    throughput: list[dict[str, Any]] = field(default_factory=list)

    def check(self, name: str, passed: bool, detail: str = "") -> bool:
        self.checks.append({"name": name, "passed": bool(passed), "detail": detail})
        print(f"  {'PASS' if passed else 'FAIL'}  {name}" + (f": {detail}" if detail else ""), flush=True)
        return bool(passed)

    @property
    def failures(self) -> list[str]:
        return [f"{c['name']}: {c['detail']}" for c in self.checks if not c["passed"]]


# --- databases ------------------------------------------------------------------------------


def reset_database(url: str) -> None:
    """Drop and create the test database (it belongs to the test role; nothing else is touched)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z0-9_]+", name) or "scale" not in name:
        raise SystemExit(f"refusing to reset database {name!r}: the scale test only resets a *_scale* database")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    engine = sa.create_engine(maintenance, isolation_level="AUTOCOMMIT", future=True)
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def clear_locks(redis_url: str) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{LOCK_PREFIX}*", count=1000))
    if keys:
        client.delete(*keys)
    return len(keys)


def locks_left(redis_url: str) -> int:
    import redis

    return len(list(redis.Redis.from_url(redis_url).scan_iter(f"{LOCK_PREFIX}*", count=1000)))


def events_from_postgres(engine: sa.engine.Engine, sender: str) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT id, data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}
        ).all()
    return [json.loads(data) for _, data in rows]


def user_counts(engine: sa.engine.Engine, senders: Sequence[str]) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT sender_id, count(*) FROM events WHERE type_name = 'user' AND sender_id = ANY(:s) "
                "GROUP BY sender_id"
            ),
            {"s": list(senders)},
        ).all()
    return {sender: count for sender, count in rows}


# --- what a tracker must look like ---------------------------------------------------------


def turns(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The user turns of a tracker: each user message, the bot texts after it, and the action that ended it."""
    found: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            found.append({"text": event.get("text"), "bot": [], "actions": []})
        elif found and kind == "bot":
            found[-1]["bot"].append(event.get("text") or "")
        elif found and kind == "action":
            found[-1]["actions"].append(event.get("name"))
    return found


def flat(texts: Sequence[str]) -> str:
    """Bot texts as one string: Rasa's channels split a text at blank lines into several messages."""
    return " ".join(" ".join(texts).split())


def check_tracker(
    events: list[dict[str, Any]],
    sent: Sequence[str],
    replies: Sequence[Sequence[str]] | None = None,
    ordered: bool = True,
) -> list[str]:
    """Problems with a conversation's events; empty when every turn is there once, whole, in order."""
    problems = []
    found = turns(events)
    texts = [t["text"] for t in found]
    if ordered and texts != list(sent):
        problems.append(f"user messages {texts!r} != sent {list(sent)!r}")
    if not ordered and sorted(map(str, texts)) != sorted(sent):
        problems.append(f"user messages {sorted(map(str, texts))!r} != sent {sorted(sent)!r}")
    for number, turn in enumerate(found):
        if not turn["actions"] or turn["actions"][-1] != "action_listen":
            problems.append(f"turn {number} ({turn['text']!r}) does not end in action_listen: {turn['actions']}")
        if turn["actions"].count("action_listen") != 1:
            problems.append(
                f"turn {number} ({turn['text']!r}) has {turn['actions'].count('action_listen')} "
                "action_listen (turns interleaved)"
            )
    if replies is not None:
        by_text: dict[str, list[str]] = defaultdict(list)
        for turn in found:
            by_text[str(turn["text"])].append(flat(turn["bot"]))
        for text, reply in zip(sent, replies, strict=True):
            if flat(reply) not in by_text.get(text, []):
                problems.append(
                    f"the answer to {text!r} the patient got, {flat(reply)[:80]!r}, is not in the "
                    f"tracker's turn: {[t[:80] for t in by_text.get(text, [])]!r}"
                )
    keys = [json.dumps(e, sort_keys=True) for e in events]
    if len(keys) != len(set(keys)):
        problems.append(f"{len(keys) - len(set(keys))} duplicated events")
    stamps = [e.get("timestamp") or 0 for e in events]
    if stamps != sorted(stamps):
        problems.append("event timestamps go backwards")
    return problems


# --- servers ----------------------------------------------------------------------------------


def node_env(database_url: str, redis_url: str, secret: str, origins: str) -> dict[str, str]:
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "WIDGET_SESSION_SECRET": secret}
    derived = settings.derive(env)
    derived.pop("ACTION_ENDPOINT_URL")  # devtools.launch points the servers at the action server it starts
    return {
        **env,
        **derived,
        "WIDGET_ALLOWED_ORIGINS": origins,
        "TF_INTRA_OP_PARALLELISM_THREADS": "1",
        "TF_INTER_OP_PARALLELISM_THREADS": "1",
    }


@contextmanager
def running_nginx(conf: Path) -> Iterator[None]:
    subprocess.run([str(START_NGINX), str(conf)], check=True, stdout=subprocess.DEVNULL, timeout=300)
    try:
        yield
    finally:
        subprocess.run([str(START_NGINX), str(conf), "stop"], check=False, timeout=60)


def reload_nginx(conf: Path) -> None:
    subprocess.run([str(START_NGINX), str(conf)], check=True, stdout=subprocess.DEVNULL, timeout=60)
    time.sleep(1.0)  # old workers finish; new ones take the new upstreams


def access_log(conf: Path) -> list[tuple[str, str, str]]:
    """(client address, request, upstream) per request in nginx's access log."""
    pattern = re.compile(r'^(\S+) \[[^\]]*\] "([^"]*)" \d+ upstream=(\S+)')
    found = []
    log = conf.parent / "access.log"
    if log.exists():
        for line in log.read_text().splitlines():
            match = pattern.match(line)
            if match:
                found.append((match.group(1), match.group(2), match.group(3)))
    return found


# --- the checks -----------------------------------------------------------------------------------


def alternate(
    report: Report, running: launch.Running, api_token: str, engine: sa.engine.Engine, database_url: str
) -> None:
    sender = f"scale-alternate-{secrets.token_hex(4)}"
    sent = list(scenario.conversation(0, 20).messages)
    replies = []
    for number, text in enumerate(sent):
        target = running.base_urls[number % 2]
        replies.append([m.get("text") or "" for m in running.say(sender, text, base_url=target)])
    from_api = []
    for url in running.base_urls:
        response = requests.get(
            f"{url}/conversations/{sender}/tracker", params={"include_events": "ALL", "token": api_token}, timeout=30
        )
        response.raise_for_status()
        from_api.append(response.json()["events"])
    from_db = events_from_postgres(engine, sender)
    problems = check_tracker(from_db, sent, replies)
    report.check(
        "alternating servers: every message and answer once, in order (PostgreSQL events)",
        not problems,
        "; ".join(problems[:3]) or f"{len(sent)} turns, {len(from_db)} events",
    )
    same = [len(events) for events in from_api] == [len(from_db)] * 2 and all(
        not check_tracker(events, sent, replies) for events in from_api
    )
    report.check(
        "alternating servers: both servers' HTTP API return the same tracker",
        same,
        f"events via API {[len(e) for e in from_api]}, in PostgreSQL {len(from_db)}",
    )
    record = consent_store.latest(sender, database_url)
    report.check(
        "alternating servers: the consent record is in PostgreSQL",
        record is not None and record.decision == "go_ahead",
        f"record #{record.id}, decision {record.decision}" if record else "no record",
    )


async def _pair(
    http: aiohttp.ClientSession, urls: Sequence[str], sender: str, texts: tuple[str, str]
) -> list[list[str]]:
    async def one(url: str, text: str) -> list[str]:
        async with http.post(
            f"{url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            headers=launch.rest_headers(os.environ.get("REST_API_TOKEN", "")),
        ) as response:
            response.raise_for_status()
            return [m.get("text") or "" for m in await response.json()]

    return list(await asyncio.gather(one(urls[0], texts[0]), one(urls[1], texts[1])))


def simultaneous(
    report: Report, running: launch.Running, engine: sa.engine.Engine, name: str, expect_pass: bool = True
) -> bool:
    sender = f"scale-lock-{secrets.token_hex(4)}"
    topics = scenario.TOPICS
    sent: list[str] = []
    replies: list[list[str]] = []

    async def play() -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            await _pair(http, running.base_urls, sender, ("hi", "hello"))
            sent.extend(["hi", "hello"])
            for k in range(LOCK_PAIRS):
                texts = (topics[(2 * k) % len(topics)], topics[(2 * k + 1) % len(topics)])
                answers = await _pair(http, running.base_urls, sender, texts)
                sent.extend(texts)
                replies.extend(answers)

    asyncio.run(play())
    events = events_from_postgres(engine, sender)
    answered = sent[2:]
    problems = check_tracker(events, sent, None, ordered=False)
    by_text = {t["text"]: flat(t["bot"]) for t in turns(events)}
    for text, reply in zip(answered, replies, strict=True):
        if by_text.get(text) != flat(reply):
            problems.append(
                f"{text!r}: the patient got {flat(reply)[:80]!r}, the tracker has {str(by_text.get(text))[:80]!r}"
            )
    passed = not problems
    detail = (
        "; ".join(problems[:2])
        or f"{len(sent)} messages in {len(sent) // 2} simultaneous pairs, "
        f"every turn whole and answered to its own question"
    )
    if expect_pass:
        report.check(name, passed, detail)
    else:  # a control: recorded, never a failure of the run (a race need not show every time)
        report.check(
            name, True, ("fault shown: " + detail) if not passed else "no fault this time: every turn was whole"
        )
    return passed


def rest_load(
    report: Report,
    nginx_url: str,
    engine: sa.engine.Engine,
    database_url: str,
    conf: Path,
    concurrency: int,
    length: int,
    servers: int,
    prefix: str,
    running: launch.Running,
) -> load.LoadResult:
    before = len(access_log(conf))
    pids = [*running.rasa_pids[:servers], running.actions_pid]
    cpu_before = [proc.cpu_seconds(pid) for pid in pids]
    result = load.run([nginx_url], "rest", concurrency, length, prefix=prefix)
    cpu = [
        round((proc.cpu_seconds(pid) - was) * 1000 / max(1, result.answered), 1)
        for pid, was in zip(pids, cpu_before, strict=True)
    ]
    summary = result.summary()
    report.throughput.append(
        {
            "servers": servers,
            **{
                k: summary[k]
                for k in (
                    "concurrency",
                    "messages_per_conversation",
                    "p50_ms",
                    "p95_ms",
                    "p99_ms",
                    "msgs_per_s",
                    "errors",
                    "client_cpu_ms_per_message",
                )
            },
            "rasa_cpu_ms_per_message": cpu[:-1],
            "actions_cpu_ms_per_message": cpu[-1],
            "load": machine.load_text(),
        }
    )
    print(
        f"        {servers} server(s) through nginx: p50 {summary['p50_ms']} ms, p95 {summary['p95_ms']} ms, "
        f"{summary['msgs_per_s']} msg/s, {summary['errors']} errors; CPU ms/message: Rasa {cpu[:-1]}, "
        f"actions {cpu[-1]}, load generator {summary['client_cpu_ms_per_message']}",
        flush=True,
    )
    report.check(
        f"{concurrency}x{length} through nginx, {servers} server(s): no errors",
        summary["errors"] == 0,
        "; ".join(summary["error_examples"][:2]),
    )
    senders = [f"{prefix}-{i}" for i in range(concurrency)]
    problems = []
    for index, sender in enumerate(senders):
        sent = scenario.conversation(index, length).messages
        found = check_tracker(events_from_postgres(engine, sender), sent)
        if found:
            problems.append(f"{sender}: {found[0]}")
    report.check(
        f"{concurrency}x{length} through nginx, {servers} server(s): every tracker whole and in order",
        not problems,
        "; ".join(problems[:2]) or f"{len(senders)} conversations",
    )
    stored = {r.conversation_id for r in consent_store.records(url=database_url)}
    missing = set(result.consent_senders) - stored
    report.check(
        f"{concurrency}x{length} through nginx, {servers} server(s): consent records in PostgreSQL",
        not missing and bool(result.consent_senders),
        f"{len(set(result.consent_senders) & stored)}/{len(result.consent_senders)} consent passes stored",
    )
    used: dict[str, int] = defaultdict(int)
    for _, request, upstream in access_log(conf)[before:]:
        if request.startswith("POST /webhooks/"):
            used[upstream] += 1
    if servers > 1:
        report.check(
            "REST through nginx: both servers answered",
            len(used) >= 2,
            ", ".join(f"{k}: {v} requests" for k, v in sorted(used.items())),
        )
    return result


def sockets(report: Report, nginx_url: str, engine: sa.engine.Engine, conf: Path, concurrency: int) -> None:
    addresses = [f"127.0.0.{10 + i}" for i in range(concurrency)]
    before = len(access_log(conf))
    result = load.run(
        [nginx_url], "socketio-polling", concurrency, SOCKET_MESSAGES, prefix="scale-poll", local_addresses=addresses
    )
    summary = result.summary()
    report.check(
        f"socket.io long-polling through nginx, {concurrency} clients x {SOCKET_MESSAGES}: no errors",
        summary["errors"] == 0 and result.conversations == concurrency,
        "; ".join(summary["error_examples"][:2]) or f"p50 {summary['p50_ms']} ms",
    )
    by_client: dict[str, set[str]] = defaultdict(set)
    for client, request, upstream in access_log(conf)[before:]:
        if " /socket.io/" in request and client in addresses:
            by_client[client].add(upstream)
    sticky = all(len(upstreams) == 1 for upstreams in by_client.values()) and len(by_client) == concurrency
    spread = {u for upstreams in by_client.values() for u in upstreams}
    report.check(
        "socket.io through nginx: each client stays on one server (sticky)",
        sticky,
        f"{len(by_client)} clients, servers per client {sorted({len(u) for u in by_client.values()})}",
    )
    report.check(
        "socket.io through nginx: clients spread over both servers",
        len(spread) >= 2,
        ", ".join(f"{u}: {sum(1 for v in by_client.values() if u in v)} clients" for u in sorted(spread)),
    )
    counts = user_counts(engine, result.senders)
    whole = [s for s in result.senders if counts.get(s) == SOCKET_MESSAGES]
    report.check(
        "socket.io through nginx: every message in its tracker",
        len(whole) == len(result.senders),
        f"{len(whole)}/{len(result.senders)} conversations with all {SOCKET_MESSAGES} messages",
    )
    ws = load.run([nginx_url], "socketio", min(10, concurrency), 5, prefix="scale-ws")
    report.check(
        "socket.io WebSocket through nginx (Upgrade proxied): no errors",
        ws.errors == 0 and ws.conversations == min(10, concurrency),
        "; ".join(ws.error_examples[:2]) or f"{ws.answered} messages, p50 {ws.summary()['p50_ms']} ms",
    )


def scale_test(
    database_url: str,
    redis_url: str,
    concurrency: int = 20,
    length: int = 20,
    control: bool = False,
    model: Path = launch.MODEL,
    extra_env: dict[str, str] | None = None,
) -> Report:
    report = Report()
    reset_database(database_url)
    clear_locks(redis_url)
    engine = sa.create_engine(database_url, future=True)
    rasa_ports = [launch.free_port(), launch.free_port()]
    nginx_port = launch.free_port()
    nginx_url = f"http://127.0.0.1:{nginx_port}"
    origins = ",".join([nginx_url, f"http://localhost:{nginx_port}", *(f"http://127.0.0.1:{p}" for p in rasa_ports)])
    secret = secrets.token_hex(32)
    api_token = secrets.token_hex(16)
    # REST through nginx needs a token (deploy/nginx.py --rest, bot/channels/rest/): the servers inherit
    # it from this environment, and every REST client here (launch, bench.load) sends it.
    os.environ.setdefault("REST_API_TOKEN", secrets.token_hex(32))
    env = {**node_env(database_url, redis_url, secret, origins), **(extra_env or {})}
    upstreams = [f"127.0.0.1:{p}" for p in rasa_ports]
    NGINX_DIR.mkdir(parents=True, exist_ok=True)
    for old in NGINX_DIR.glob("*.log"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="scale-test-") as folder:
        workdir = Path(folder)
        # This run's consent checkpoints: the tables were just reset, so older lines would read as truncation.
        checkpoints = workdir / "consent-checkpoints.log"
        env["CONSENT_CHECKPOINT_FILE"] = str(checkpoints)
        conf = nginx.write(NGINX_DIR / "nginx.conf", upstreams, [f"127.0.0.1:{nginx_port}"], rest=True)
        print(
            f"==> two Rasa servers ({', '.join(upstreams)}) and one action server on PostgreSQL and Redis", flush=True
        )
        try:
            with (
                launch.assistant(
                    workdir / "servers",
                    model=model,
                    env=env,
                    endpoints=DEPLOY / "endpoints.yml",
                    servers=2,
                    rasa_ports=rasa_ports,
                    database_url=database_url,
                    credentials=bench_credentials(),
                    rasa_args=("--enable-api", "--auth-token", api_token),
                ) as running,
                running_nginx(conf),
            ):
                print(f"    ready in {running.cold_start_s:.1f} s; nginx on {nginx_url}", flush=True)
                print("==> 1. one conversation alternating between the servers", flush=True)
                alternate(report, running, api_token, engine, database_url)
                print("==> 2. simultaneous messages of one conversation on both servers (Redis lock)", flush=True)
                simultaneous(report, running, engine, "Redis lock: simultaneous messages handled one at a time")
                print(f"==> 3. {concurrency} conversations x {length} messages through nginx (REST)", flush=True)
                rest_load(
                    report, nginx_url, engine, database_url, conf, concurrency, length, 2, "scale-rest-two", running
                )
                print("==> 4. the website socket through nginx", flush=True)
                sockets(report, nginx_url, engine, conf, concurrency)
                print("==> 5. the same REST load with one server behind nginx", flush=True)
                nginx.write(conf, upstreams[:1], [f"127.0.0.1:{nginx_port}"], rest=True)
                reload_nginx(conf)
                rest_load(
                    report, nginx_url, engine, database_url, conf, concurrency, length, 1, "scale-rest-one", running
                )
                two, one = report.throughput[0]["msgs_per_s"], report.throughput[1]["msgs_per_s"]
                report.check(
                    "throughput, two servers compared with one (recorded, not a pass mark)",
                    True,
                    f"{two} vs {one} msg/s: x{two / one:.2f}" if one else "n/a",
                )
                print("==> 6. consent record chain and Redis locks", flush=True)
                key = env.get(consent_store.KEY_ENV)  # else the servers' key is this process's too
                chain = consent_store.verify(database_url, checkpoints=[checkpoints], key=key.encode() if key else None)
                report.check(
                    "the consent record chain in PostgreSQL verifies",
                    chain.ok,
                    f"{chain.checked} records" + (f"; {chain.reason}" if not chain.ok else ""),
                )
            left = locks_left(redis_url)
            report.check("no conversation lock left in Redis", left == 0, f"{left} lock keys")
        except Exception:
            keep = PROJECT_ROOT / "build" / "bench" / "scale-failed"
            keep.mkdir(parents=True, exist_ok=True)
            for log in [*(workdir / "servers").glob("*.log"), *NGINX_DIR.glob("*.log")]:
                (keep / log.name).write_bytes(log.read_bytes())
            print(f"logs kept in {keep}", file=sys.stderr)
            raise
        if control:
            text = (DEPLOY / "endpoints.yml").read_text()
            controls = {
                "no lock store (each server its own in-memory lock)": text.split("lock_store:")[0],
                "Rasa's own RedisLockStore (type: redis)": text.replace(
                    "type: bot.rasa.lock_store.AtomicRedisLockStore", "type: redis"
                ).replace("  wait_seconds: 0.05\n", ""),
            }
            for number, (title, endpoints_text) in enumerate(controls.items()):
                print(f"==> control: simultaneous messages with {title} (the fault should show)", flush=True)
                endpoints = workdir / f"endpoints-control-{number}.yml"
                endpoints.write_text(endpoints_text)
                clear_locks(redis_url)
                with launch.assistant(
                    workdir / f"control-{number}",
                    model=model,
                    env=env,
                    endpoints=endpoints,
                    servers=2,
                    database_url=database_url,
                ) as running:
                    for attempt in range(CONTROL_ATTEMPTS):
                        if not simultaneous(
                            report, running, engine, f"control, {title}, attempt {attempt + 1}", expect_pass=False
                        ):
                            break
    engine.dispose()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("SCALE_DATABASE_URL"),
        help="PostgreSQL URL of a *_scale* database (dropped and created again)",
    )
    parser.add_argument("--redis-url", default=os.environ.get("SCALE_REDIS_URL"))
    parser.add_argument("-c", "--concurrency", type=int, default=20)
    parser.add_argument("-n", "--messages", type=int, default=20)
    parser.add_argument(
        "--control", action="store_true", help="also run the simultaneous-messages check without the lock store"
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help="a folder under bench/variants/: its env and patches (not its endpoints) on every node",
    )
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    if not args.database_url or not args.redis_url:
        parser.error(
            "--database-url and --redis-url (or SCALE_DATABASE_URL, SCALE_REDIS_URL) are needed; "
            "scripts/scale-test.sh starts both"
        )
    # SIGTERM (scripts/scale-test.sh passes it on) unwinds like Ctrl-C: servers and nginx are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    info = machine.describe()
    load_before = machine.load_text()
    started = time.monotonic()
    setup = variants.load(args.variant)
    report = scale_test(
        args.database_url, args.redis_url, args.concurrency, args.messages, args.control, extra_env=setup.env
    )
    passed = not report.failures
    print("")
    print(
        f"scale test: {'all checks passed' if passed else str(len(report.failures)) + ' check(s) FAILED'} "
        f"in {time.monotonic() - started:.0f} s (load {load_before} -> {machine.load_text()})"
    )
    if not args.no_record:
        machine_keys = ("nproc", "memory_gb", "cpu", "python")
        results.append(
            {
                "kind": "scale",
                **{k: v for k, v in info.items() if k not in machine_keys},
                "machine": {k: info[k] for k in machine_keys},
                "load_before": load_before,
                "load_after": machine.load_text(),
                "checks": report.checks,
                "throughput": report.throughput,
                "passed": passed,
                "failures": report.failures,
                "variants": setup.names,
            }
        )
        print(f"appended to {results.JSONL.relative_to(PROJECT_ROOT)}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
