"""One command line for the care team and the clinic's IT: ``python -m bot <command>``.

    python -m bot flags list [--all] [--kind emergency]
    python -m bot flags resolve 12 --by "RN Lee" --note "called back"
    python -m bot consent list | show 3 | export 3 --html record-3.html | verify
    python -m bot sms invite +15550100123
    python -m bot content check
    python -m bot pipeline build [--force]
    python -m bot serve --model models/rhizotomy.tar.gz --port 5005   (any `rasa run` arguments)

Each command imports only what it needs, so none of them waits for Rasa to load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

Handler = Callable[[argparse.Namespace], int]


def _error(message: str, status: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


# --- flags ---------------------------------------------------------------------------------


def flags_list(args: argparse.Namespace) -> int:
    """Open flags (or every row), oldest first."""
    from bot.records import flags

    rows = flags.all_rows() if args.all else flags.open_flags(kind=args.kind)
    if not rows:
        print("no flags")
    for flag in rows:
        when = flag.created_at.strftime("%Y-%m-%d %H:%M UTC")
        target = f" resolves #{flag.resolves_id} by {flag.actor}" if flag.resolves_id else ""
        print(
            f"#{flag.id} {when} [{flag.kind}] {flag.status}{target} conversation={flag.conversation_id} "
            f"channel={flag.channel}"
        )
        if flag.message:
            print(f"    {flag.message}")
        if flag.detail:
            print(f"    ({flag.detail})")
    return 0


def flags_resolve(args: argparse.Namespace) -> int:
    """Adds a row that resolves a flag; nothing is edited."""
    from bot.records import flags

    try:
        row = flags.resolve(args.flag_id, args.by, args.note)
    except LookupError as error:
        return _error(str(error))
    print(f"flag #{args.flag_id} resolved (row #{row})")
    return 0


# --- consent records ----------------------------------------------------------------------


def consent_list(args: argparse.Namespace) -> int:
    from bot.records import consent_store

    found = consent_store.records()
    if not found:
        print("no consent records")
    for item in found:
        print(
            f"#{item.id} {item.created_at} {item.decision:<14} conversation={item.conversation_id} "
            f"channel={item.channel}"
        )
    return 0


def consent_show(args: argparse.Namespace) -> int:
    from bot.records import consent_store

    try:
        print(json.dumps(consent_store.get(args.record_id).as_json(), indent=2, ensure_ascii=False))
    except LookupError as error:
        return _error(str(error))
    return 0


def consent_export(args: argparse.Namespace) -> int:
    from bot.records import consent_store, printable

    if not args.json and not args.html:
        return _error("export needs --json PATH and/or --html PATH", 2)
    try:
        item = consent_store.get(args.record_id)
    except LookupError as error:
        return _error(str(error))
    if args.json:
        args.json.write_text(json.dumps(item.as_json(), indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"wrote {args.json}")
    if args.html:
        args.html.write_text(printable.record_page(item), encoding="utf-8")
        print(f"wrote {args.html}")
    return 0


def consent_verify(args: argparse.Namespace) -> int:
    from bot.records import consent_store

    report = consent_store.verify()
    if report.ok:
        print(f"chain ok: {report.checked} records, head {report.head_hash}")
        return 0
    print(
        f"chain BROKEN at record #{report.broken_id}: {report.reason} ({report.checked} records before it are intact)"
    )
    return 1


# --- SMS ----------------------------------------------------------------------------------


def sms_invite(args: argparse.Namespace) -> int:
    """Texts a patient the first message of a conversation; exit 0 sent, 1 not sent, 2 bad number."""
    from bot.channels.sms import twilio
    from bot.channels.sms.text import mask_number, normalize_number

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = twilio.SmsConfig.from_env()
    config.log_insecure(logging.getLogger("bot.channels.sms"))
    try:
        number = normalize_number(args.number)
    except ValueError as error:
        return _error(str(error), 2)
    try:
        sids = asyncio.run(twilio.invite(number, args.body, config))
    except twilio.SmsConfigError as error:
        return _error(str(error))
    except twilio.TwilioApiError as error:
        return _error(f"not sent: {error}")
    print(f"Invitation sent to {mask_number(number)}: {', '.join(sids)}")
    return 0


# --- content and the spaCy pipeline -------------------------------------------------------


def content_check(args: argparse.Namespace) -> int:
    """Loads and checks every content file, as the servers do at start."""
    from bot import content

    try:
        version = content.check()
    except content.ContentError as error:
        return _error(str(error))
    print(f"content ok: version {version[:16]}")
    return 0


def safety_train(args: argparse.Namespace) -> int:
    """Trains the safety net's learned layer on data/safety/train/ (thresholds by cross-validation there)."""
    from bot.language import red_flags, safety_model

    files = safety_model.training_files()
    if not args.force and safety_model.is_current():
        print(f"safety classifier up to date: {safety_model.MODEL_FILE.relative_to(safety_model.PROJECT_ROOT)}")
        return 0
    examples = safety_model.training_examples()
    print(f"==> cross-validating on {len(examples)} training messages to choose the thresholds")
    scores = safety_model.cross_validated(examples)
    emergency_at, possible_at = safety_model.choose_thresholds(examples, scores)
    print("==> running the red-flag rules on them to choose when the layer doubts a rule")
    pipeline, detector = red_flags.default_detector()
    caught = [bool(detector.detect(doc)) for doc in pipeline.pipe(example.text for example in examples)]
    doubt_below = safety_model.choose_doubt(examples, scores, caught)
    meta = {
        "data_sha256": safety_model.data_digest(files),
        "examples": len(examples),
        "emergency_at": emergency_at,
        "possible_at": possible_at,
        "doubt_below": doubt_below,
    }
    model = safety_model.train(examples, emergency_at, possible_at, meta, doubt_below)
    out = safety_model.save(model)
    print(
        f"safety classifier built: {out.relative_to(safety_model.PROJECT_ROOT)} "
        f"(emergency at {emergency_at}, possible at {possible_at}, doubts a rule below {doubt_below})"
    )
    return 0


def pipeline_build(args: argparse.Namespace) -> int:
    from bot.language import pipeline
    from bot.settings import PROJECT_ROOT

    if not args.force and pipeline.is_current():
        print(f"spaCy pipeline up to date: {pipeline.PIPELINE_DIR.relative_to(PROJECT_ROOT)}")
        return 0
    out = pipeline.build()
    print(f"spaCy pipeline built: {out.relative_to(PROJECT_ROOT)}")
    return 0


# --- the Rasa server -----------------------------------------------------------------------


def serve(args: argparse.Namespace) -> int:
    """The Rasa server with the speed-ups installed first (bot/rasa/serve.py); every argument goes to `rasa run`."""
    from bot.rasa import serve as rasa_serve

    return rasa_serve.main(args.rasa_arguments)


# --- the parser ---------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    from bot.records.flags import KINDS

    top = argparse.ArgumentParser(prog="python -m bot", description="The consent assistant's commands.")
    groups = top.add_subparsers(dest="group", required=True, metavar="COMMAND")

    flags = groups.add_parser("flags", help="the care team's flag log").add_subparsers(dest="command", required=True)
    listing = flags.add_parser("list", help="open flags, oldest first (or --all rows)")
    listing.add_argument("--all", action="store_true", help="every row, resolved ones included")
    listing.add_argument("--kind", choices=KINDS)
    listing.set_defaults(handler=flags_list)
    closing = flags.add_parser("resolve", help="mark a flag resolved (adds a row)")
    closing.add_argument("flag_id", type=int)
    closing.add_argument("--by", required=True, help="who resolved it")
    closing.add_argument("--note", default="", help="what was done")
    closing.set_defaults(handler=flags_resolve)

    consent = groups.add_parser("consent", help="consent records").add_subparsers(dest="command", required=True)
    consent.add_parser("list", help="one line per record").set_defaults(handler=consent_list)
    show = consent.add_parser("show", help="a record as JSON")
    show.add_argument("record_id", type=int)
    show.set_defaults(handler=consent_show)
    export = consent.add_parser("export", help="write a record as JSON and/or a printable HTML page")
    export.add_argument("record_id", type=int)
    export.add_argument("--json", type=Path, help="write the JSON here")
    export.add_argument("--html", type=Path, help="write the printable page here")
    export.set_defaults(handler=consent_export)
    consent.add_parser("verify", help="check the hash chain; exit 1 and name the first broken record").set_defaults(
        handler=consent_verify
    )

    sms = groups.add_parser("sms", help="SMS (settings: docs/sms.md)").add_subparsers(dest="command", required=True)
    invite = sms.add_parser("invite", help="text a patient the first message of a conversation")
    invite.add_argument("number", help="the patient's mobile number in international form, e.g. +15550100123")
    invite.add_argument("--body", help="the text to send instead of the standard invitation")
    invite.set_defaults(handler=sms_invite)

    content = groups.add_parser("content", help="the clinic's content files").add_subparsers(
        dest="command", required=True
    )
    content.add_parser("check", help="load and check every file under content/").set_defaults(handler=content_check)

    safety = groups.add_parser("safety", help="the safety net's learned layer").add_subparsers(
        dest="command", required=True
    )
    training = safety.add_parser("train", help="train it on data/safety/train/ if the data changed")
    training.add_argument("--force", action="store_true", help="train even when up to date")
    training.set_defaults(handler=safety_train)

    pipeline = groups.add_parser("pipeline", help="the project's spaCy pipeline").add_subparsers(
        dest="command", required=True
    )
    build = pipeline.add_parser("build", help="build the spaCy pipeline if its patterns changed")
    build.add_argument("--force", action="store_true", help="build even when up to date")
    build.set_defaults(handler=pipeline_build)

    # No options of its own (not even --help): everything after `serve` is passed on to `rasa run`.
    groups.add_parser(
        "serve",
        add_help=False,
        help="start the Rasa server with the speed-ups (any `rasa run` arguments; --help shows them)",
    ).set_defaults(handler=serve, passes_arguments_on=True)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    top = parser()
    args, unknown = top.parse_known_args(argv)
    if unknown and not getattr(args, "passes_arguments_on", False):
        top.error(f"unrecognized arguments: {' '.join(unknown)}")  # as parse_args says it
    args.rasa_arguments = unknown
    handler: Handler = args.handler
    return handler(args)
