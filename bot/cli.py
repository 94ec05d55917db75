"""One command line for the care team and the clinic's IT: ``python -m bot <command>``.

    python -m bot flags list [--all] [--kind emergency]
    python -m bot flags resolve 12 --by "RN Lee" --note "called back"
    python -m bot consent list | show 3 | export 3 --html record-3.html | verify [--checkpoint FILE]
    python -m bot invite +15550100123 --patient R123 [--procedure-date 2026-03-10] [--dob 1957-03-08] [--dry-run]
                         [--lang es]                             (the text, its page and the chat in Spanish)
    python -m bot sms invite +15550100123                         (a first text without a link or a patient)
    python -m bot outreach list [--status deferred]                (reminders and copies the assistant texts first)
    python -m bot content check
    python -m bot pipeline build [--force]
    python -m bot serve --model models/rhizotomy.tar.gz --port 5005   (any `rasa run` arguments)
    python -m bot actions --port 5055 [--interface 127.0.0.1]        (the action server; token required)
    python -m bot check [--credentials credentials.yml] [--server rasa|actions|console]
    python -m bot staff add NAME --role nurse|admin | list          (care-team console accounts)
    python -m bot console serve [--port 5080] | migrate

Each command imports only what it needs, so none of them waits for Rasa to load.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
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
        repeats = ""
        if flag.count > 1:  # a flood from one source: one flag, counted (bot/records/flags.py)
            last = f", last {flag.last_at:%Y-%m-%d %H:%M:%S UTC}" if flag.last_at else ""
            repeats = f" x{flag.count} ({flag.count} messages{last})"
        print(
            f"#{flag.id} {when} [{flag.kind}] {flag.status}{target}{repeats} conversation={flag.conversation_id} "
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
    from bot.content import languages
    from bot.records import consent_store, printable, recheck_store

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
        # The care team's copy: in English, whatever language the patient answered in.
        page = printable.record_page(item, recheck_store.for_record(item.id), language=languages.ENGLISH)
        args.html.write_text(page, encoding="utf-8")
        print(f"wrote {args.html}")
    return 0


def consent_verify(args: argparse.Namespace) -> int:
    """Chain, HMACs and checkpoint lines, then the re-checks linked to records; exit 1 on any problem (2: no key)."""
    from bot import settings
    from bot.records import consent_store, recheck_store

    try:
        report = consent_store.verify(checkpoints=args.checkpoint)
        rechecks = recheck_store.verify()
    except settings.SettingsError as error:
        return _error(str(error), 2)
    print(report.summary())
    if not report.ok and report.head_id is not None:
        print(f"({report.checked} records from the first are intact)")
    print(f"re-checks: {rechecks.checked} checked, {len(rechecks.problems)} problem(s)")
    for problem in rechecks.problems:
        print(problem)
    return 0 if report.ok and rechecks.ok else 1


# --- SMS ----------------------------------------------------------------------------------


def sms_invite(args: argparse.Namespace) -> int:
    """Texts a patient the first message of a conversation; exit 0 sent, 1 not sent, 2 bad number."""
    from bot import settings
    from bot.channels.sms import twilio
    from bot.channels.sms.text import mask_number, normalize_number

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        config = twilio.SmsConfig.from_env()
    except settings.SettingsError as error:  # production mode: a secret missing or a stand-in
        return _error(str(error))
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


def _date(text: str) -> dt.date:
    """An argparse type: a date written YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD") from None


def invite(args: argparse.Namespace) -> int:
    """Texts a patient the link to their consent conversation; exit 0 sent, 1 not sent, 2 bad input."""
    from bot import settings
    from bot.channels.sms import twilio
    from bot.channels.sms.text import mask_number
    from bot.invitations import InvitationError, InvitationInputError, send

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        config = twilio.SmsConfig.from_env()
        result = asyncio.run(
            send.invite(
                args.phone,
                args.patient,
                procedure_date=args.procedure_date,
                dob=args.dob,
                dry_run=args.dry_run,
                created_by=args.by,
                replace=args.replace,
                config=config,
                language=args.lang,
            )
        )
    except InvitationInputError as error:
        return _error(str(error), 2)
    except (InvitationError, twilio.SmsConfigError, settings.SettingsError) as error:
        return _error(f"no invitation sent: {error}")
    except twilio.TwilioApiError as error:
        return _error(f"not sent: {error}")
    invitation = result.invitation
    number = mask_number(args.phone)
    expires = invitation.link_expires_at.strftime("%Y-%m-%d %H:%M UTC")
    if result.dry_run:
        print(f"Dry run: nothing stored, nothing sent. {number} would get (the link is a sample that opens nothing):")
        print(result.body)
        print(f"The link would work until {expires}" + (", after the date of birth" if invitation.dob_required else ""))
        return 0
    print(
        f"Invitation {invitation.invitation_id} sent to {number} for {invitation.patient_ref}: {result.message_sid}; "
        f"the link works until {expires}" + (" after the date of birth" if invitation.dob_required else "")
    )
    return 0


# --- content and the spaCy pipeline -------------------------------------------------------


# --- outreach --------------------------------------------------------------------------------


def outreach_list(args: argparse.Namespace) -> int:
    """Reminders and copies, newest first: masked conversation, kind, due, status, reason (never a number)."""
    from bot.outreach import store

    rows = store.everyone(limit=args.limit, status=args.status)
    if not rows:
        print("no reminders or copies" + (f" with status {args.status}" if args.status else ""))
    for row in rows:
        when = row.next_try_at if row.status in (store.DUE, store.DEFERRED) else row.sent_at or row.due_at
        reason = f" ({row.reason})" if row.reason else ""
        print(
            f"{row.kind:8} conversation={row.conversation_id[:8]}… due={row.due_at:%Y-%m-%d %H:%M UTC} "
            f"{row.status}{reason} at {when:%Y-%m-%d %H:%M UTC}"
        )
    return 0


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
    print(f"==> training on {len(examples)} messages, and cross-validating them to choose the thresholds (minutes)")
    trained, scores = safety_model.train_cross_validated(examples)
    emergency_at, possible_at = safety_model.choose_thresholds(examples, scores)
    print("==> running the red-flag rules on them to choose when the layer doubts a rule")
    pipeline, detector = red_flags.default_detector()
    docs = pipeline.pipe(example.text for example in examples)
    caught = [bool(detector.assess(doc, example.lang)[0]) for doc, example in zip(docs, examples, strict=True)]
    doubt_below = safety_model.choose_doubt(examples, scores, caught)
    meta = {
        "data_sha256": safety_model.data_digest(files),
        "examples": len(examples),
        "emergency_at": emergency_at,
        "possible_at": possible_at,
        "doubt_below": doubt_below,
    }
    out = safety_model.save(safety_model.with_thresholds(trained, emergency_at, possible_at, doubt_below, meta))
    print(
        f"safety classifier built: {out.relative_to(safety_model.PROJECT_ROOT)} "
        f"(emergency at {emergency_at}, possible at {possible_at}, doubts a rule below {doubt_below})"
    )
    return 0


def teachback_train(args: argparse.Namespace) -> int:
    """Trains the teach-back judge on data/teachback/train/ (printing its by-fold accuracy there)."""
    from bot.language import classifier, teachback_model

    files = teachback_model.training_files()
    if not args.force and teachback_model.is_current():
        print(f"teach-back judge up to date: {teachback_model.MODEL_FILE.relative_to(teachback_model.PROJECT_ROOT)}")
        return 0
    answers = teachback_model.read_answers(path for path in files if path.suffix == ".yml")
    print(f"==> cross-validating on {len(answers)} training answers")
    for point, (right, wrong) in teachback_model.cross_validated(answers).items():
        print(f"    {point:20} right answers judged right {right:.1%}, wrong answers judged wrong {wrong:.1%}")
    meta = {"data_sha256": classifier.data_digest(files), "answers": len(answers)}
    out = teachback_model.save(teachback_model.train(answers, meta))
    print(f"teach-back judge built: {out.relative_to(teachback_model.PROJECT_ROOT)}")
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


def actions(args: argparse.Namespace) -> int:
    """The action server on loopback, answering only callers with ACTION_SERVER_TOKEN (bot/rasa/action_server.py)."""
    from bot.rasa import action_server

    return action_server.main(args.rasa_arguments)


# --- the care-team console ------------------------------------------------------------------


def staff_add(args: argparse.Namespace) -> int:
    """A console account with a one-time password, printed once (changed at the first sign-in)."""
    from bot.console import migrate, staff

    migrate.upgrade()
    try:
        account, one_time = staff.add(args.name, args.role)
    except staff.StaffError as error:
        return _error(str(error))
    print(f"account {account.name} ({account.role}) created; one-time password (shown once): {one_time}")
    print("it must be changed at the first sign-in")
    return 0


def staff_list(args: argparse.Namespace) -> int:
    from bot.console import migrate, staff

    migrate.upgrade()
    for account in staff.everyone():
        state = "disabled" if not account.active else "one-time password" if account.must_change_password else "active"
        print(f"{account.name}\t{account.role}\t{state}")
    return 0


def console_migrate(args: argparse.Namespace) -> int:
    from bot.console import migrate

    migrate.upgrade()
    print("console tables up to date")
    return 0


def console_serve(args: argparse.Namespace) -> int:
    """The console on loopback by default (deploy/ puts nginx with TLS in front); refused in production without
    its secret."""
    import uvicorn

    from bot import production, settings
    from bot.console.app import create_app

    try:
        production.enforce(production.CONSOLE_SERVER)
        app = create_app()
    except settings.SettingsError as error:
        return _error(str(error))
    print(f"care-team console on http://{args.host}:{args.port}/ (sign in; accounts: python -m bot staff add)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", proxy_headers=True, server_header=False)
    return 0


# --- production mode ------------------------------------------------------------------------


def production_check(args: argparse.Namespace) -> int:
    """What ``ASSISTANT_ENV=production`` would refuse here (bot/production.py); exit 1 if anything."""
    from bot import production

    servers = production.SERVERS if args.server == "all" else (args.server,)
    report = production.check(servers, credentials=args.credentials)
    if report.refusals:
        print(f"production mode would refuse to start ({len(report.refusals)}):")
        for refusal in report.refusals:
            print(f"  - {refusal.reason}")
            if refusal.protects:
                print(f"    ({refusal.name} {refusal.protects})")
        return 1
    print(f"production check ok: {', '.join(report.checked) or 'no secret needed'} set (docs/security.md)")
    if report.not_needed:
        print(f"unset and not needed by {args.credentials} or optional: {', '.join(report.not_needed)}")
    return 0


# --- the parser ---------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    from bot.content import languages
    from bot.outreach.store import STATUSES
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
    verify = consent.add_parser(
        "verify", help="check the chain, each record's HMAC and the checkpoints; exit 1 and name what is wrong"
    )
    verify.add_argument(
        "--checkpoint",
        type=Path,
        action="append",
        help="a checkpoint file to compare with (repeat for every server's; default: this machine's)",
    )
    verify.set_defaults(handler=consent_verify)

    inviting = groups.add_parser(
        "invite", help="text a patient a link to their consent conversation (the same one as their texts)"
    )
    inviting.add_argument("phone", help="the patient's mobile number in international form, e.g. +15550100123")
    inviting.add_argument("--patient", required=True, help="the clinic's patient reference (letters, digits, ._@:+-)")
    inviting.add_argument(
        "--procedure-date", type=_date, help="the day of the injection, YYYY-MM-DD (said in the text)"
    )
    inviting.add_argument(
        "--dob", type=_date, help="the patient's date of birth, YYYY-MM-DD: asked before the chat opens"
    )
    inviting.add_argument(
        "--replace", action="store_true", help="revoke an invitation of this number for another patient"
    )
    inviting.add_argument(
        "--lang",
        choices=languages.LANGUAGES,
        default=languages.ENGLISH,
        help="the patient's language: the text, the page and the chat are in it (default en; es: Spanish)",
    )
    inviting.add_argument("--dry-run", action="store_true", help="print the text; store and send nothing")
    inviting.add_argument("--by", default="cli", help="who sends it, for the record (default cli)")
    inviting.set_defaults(handler=invite)

    sms = groups.add_parser("sms", help="SMS (settings: docs/sms.md)").add_subparsers(dest="command", required=True)
    first_text = sms.add_parser(
        "invite", help="text a number the first message of a conversation (no link, no patient: see `invite`)"
    )
    first_text.add_argument("number", help="the patient's mobile number in international form, e.g. +15550100123")
    first_text.add_argument("--body", help="the text to send instead of the standard invitation")
    first_text.set_defaults(handler=sms_invite)

    outreach = groups.add_parser(
        "outreach", help="reminders and copies the assistant texts first (docs/outreach.md)"
    ).add_subparsers(dest="command", required=True)
    planned = outreach.add_parser("list", help="newest first, conversation ids masked, no numbers")
    planned.add_argument("--status", choices=STATUSES, help="only rows in this state (unknown: check by hand)")
    planned.add_argument("--limit", type=int, default=200, help="at most this many rows (default 200)")
    planned.set_defaults(handler=outreach_list)

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

    judge = groups.add_parser("teachback", help="the teach-back judge's learned layer").add_subparsers(
        dest="command", required=True
    )
    judging = judge.add_parser("train", help="train it on data/teachback/train/ if the data changed")
    judging.add_argument("--force", action="store_true", help="train even when up to date")
    judging.set_defaults(handler=teachback_train)

    pipeline = groups.add_parser("pipeline", help="the project's spaCy pipeline").add_subparsers(
        dest="command", required=True
    )
    build = pipeline.add_parser("build", help="build the spaCy pipeline if its patterns changed")
    build.add_argument("--force", action="store_true", help="build even when up to date")
    build.set_defaults(handler=pipeline_build)

    people = groups.add_parser("staff", help="care-team console accounts").add_subparsers(dest="command", required=True)
    adding = people.add_parser("add", help="create an account; prints a one-time password")
    adding.add_argument("name", help="the sign-in name: lower-case letters, digits, dots, dashes")
    adding.add_argument("--role", choices=["nurse", "admin"], required=True)
    adding.set_defaults(handler=staff_add)
    people.add_parser("list", help="every account and its state").set_defaults(handler=staff_list)

    console = groups.add_parser("console", help="the care-team console").add_subparsers(dest="command", required=True)
    serving = console.add_parser("serve", help="start the console (http://127.0.0.1:5080/ by default)")
    serving.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback)")
    serving.add_argument("--port", type=int, default=5080)
    serving.set_defaults(handler=console_serve)
    console.add_parser("migrate", help="create or upgrade the console's tables (Alembic)").set_defaults(
        handler=console_migrate
    )

    checking = groups.add_parser(
        "check", help="print what production mode (ASSISTANT_ENV=production) would refuse; exit 1 if anything"
    )
    checking.add_argument(
        "--credentials", default="credentials.yml", help="the channels file the servers use (default credentials.yml)"
    )
    checking.add_argument(
        "--server", choices=["all", "rasa", "actions", "console"], default="all", help="whose secrets"
    )
    checking.set_defaults(handler=production_check)

    # No options of its own (not even --help): everything after `serve` is passed on to `rasa run`.
    groups.add_parser(
        "serve",
        add_help=False,
        help="start the Rasa server with the speed-ups (any `rasa run` arguments; --help shows them)",
    ).set_defaults(handler=serve, passes_arguments_on=True)
    # Likewise: everything after `actions` goes to the action server's own options (rasa_sdk's, and --interface).
    groups.add_parser(
        "actions",
        add_help=False,
        help="start the action server: loopback by default, only callers with ACTION_SERVER_TOKEN (--help)",
    ).set_defaults(handler=actions, passes_arguments_on=True)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    top = parser()
    args, unknown = top.parse_known_args(argv)
    if unknown and not getattr(args, "passes_arguments_on", False):
        top.error(f"unrecognized arguments: {' '.join(unknown)}")  # as parse_args says it
    args.rasa_arguments = unknown
    handler: Handler = args.handler
    return handler(args)
