"""Command line: python -m bench {run,profile,render,smoke}."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")


def log(message: str) -> None:
    print(message, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="C x N load on the assistant and the stock bot; appends to results")
    run.add_argument("-c", "--concurrency", type=int, default=20)
    run.add_argument("-n", "--messages", type=int, default=20, help="messages per conversation")
    run.add_argument(
        "--transports", default="rest,socketio", help="comma-separated: rest, socketio (WebSocket), socketio-polling"
    )
    run.add_argument("--no-stock", action="store_true", help="skip the stock rasa init baseline")
    run.add_argument("--variant", action="append", default=[], help="a folder under bench/variants/ (repeatable)")
    run.add_argument("--model", type=Path, help="another trained model (default models/rhizotomy.tar.gz)")
    run.add_argument("--label", default="", help="a short name for this run in the results file")
    run.add_argument("--note", default="", help="a sentence for the results file")
    run.add_argument("--no-record", action="store_true", help="print only; do not append to the results file")

    prof = commands.add_parser("profile", help="where one message's time goes; appends to results")
    prof.add_argument("--cprofile", action="store_true", help="also write cProfile's hottest functions")
    prof.add_argument("--variant", action="append", default=[], help="a folder under bench/variants/")
    prof.add_argument("--model", type=Path)
    prof.add_argument("-n", "--messages", type=int, default=20)
    prof.add_argument("--label", default="")
    prof.add_argument("--no-record", action="store_true")

    commands.add_parser("render", help="rebuild bench/results.md from bench/results.jsonl")
    commands.add_parser("variants", help="list the variants under bench/variants/")

    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the servers a run started are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.command == "render":
        from bench import results

        results.render()
        print(results.MARKDOWN)
        return 0
    if args.command == "variants":
        from bench import variants

        for name in variants.available():
            setup = variants.load([name])
            print(f"{name:<28} {setup.descriptions[0]}")
        return 0
    if args.command == "run":
        from bench import run as bench_run

        transports = tuple(t.strip() for t in args.transports.split(",") if t.strip())
        entry = bench_run.run(
            args.concurrency,
            args.messages,
            transports,
            not args.no_stock,
            args.label,
            args.variant,
            args.model,
            args.note,
            not args.no_record,
            log=log,
        )
        return 0 if entry["targets"]["errors"]["met"] else 1
    if args.command == "profile":
        from bench import machine, profile, results, variants
        from devtools import launch

        setup = variants.load(args.variant)
        model = args.model or (variants.trained_model(setup.config, log) if setup.config else launch.MODEL)
        info = machine.describe()
        load_before = machine.load_text()
        # The Rasa agent runs in this process: apply the variants' patches and import paths here too.
        import runpy

        sys.path[:0] = [p for p in setup.pythonpath if p not in sys.path] + [str(variants.HERE)]
        for patch in setup.patches:
            runpy.run_path(str(patch))
        text, figures = profile.profile(
            model, endpoints=setup.endpoints, length=args.messages, use_cprofile=args.cprofile, env=setup.env
        )
        print(text)
        if not args.no_record:
            machine_keys = ("nproc", "memory_gb", "cpu", "python")
            results.append(
                {
                    "kind": "profile",
                    **{k: v for k, v in info.items() if k not in machine_keys},
                    "machine": {k: info[k] for k in machine_keys},
                    "label": args.label,
                    "variants": setup.names,
                    "variant_descriptions": setup.descriptions,
                    "load_before": load_before,
                    "load_after": machine.load_text(),
                    "figures": figures,
                    "text": text,
                }
            )
            print(f"\nappended to {results.JSONL}")
        else:
            print(json.dumps(figures))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
