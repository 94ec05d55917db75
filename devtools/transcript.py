"""Record what a patient sees in a full conversation over the REST channel, as Markdown for the README.

    python -m devtools.transcript --out docs/conversation.md --readme README.md \
        --spanish-out docs/conversation.es.md                                           (make transcript)

It starts its own action server and Rasa server (devtools.launch) with a fresh
database, plays one scripted patient, and writes every message both ways to
``--out`` and, between the transcript markers, into the README.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from bot.records import consent_store
from devtools import launch

PATIENT = [
    "hi",
    "how long does it take?",
    "will it cure my MS?",
    "I want to go ahead",
    "Muscle spasms",
    "multiple sclerosis",
    "14",
    "8",
    "baclofen and physio",
    "A little",
    "Yes",
    "what are the side effects?",
    "No",
    "No",
    "Does not apply",
    "No",
    "no",
    "it stops the nerve sending the spasm signals",
    "not sure",
    "soreness where the needle goes in",
    "an infection",
    "later",
    "continue",
    "No, it can wear off and I may need another",
    "no, it helps but it is not a cure",
    "Go ahead",
]


# The same kind of patient in Spanish: the "Español" button of the first menu, then Spanish all the way.
PATIENT_ES = [
    "hola",
    "Español",
    "cuanto tiempo dura la inyeccion?",
    "¿me va a curar la esclerosis?",
    "quiero empezar el consentimiento",
    "Espasmos musculares",
    "esclerosis múltiple",
    "8",
    "baclofeno y terapia",
    "Un poco",
    "Sí",
    "No",
    "No",
    "No aplica",
    "No",
    "no",
    "bloquea las señales del nervio para que no haya tantos espasmos",
    "no sé",
    "dolor donde entró la aguja",
    "una infección",
    "no, el efecto se puede pasar y a lo mejor necesito otra",
    "no, ayuda pero no es una cura",
    "Seguir adelante",
]


def bubble(message: dict[str, Any]) -> str:
    text = message.get("text") or ""
    buttons = message.get("buttons") or []
    if buttons:
        text += "  \n" + " ".join(f"`[{button['title']}]`" for button in buttons)
    return text


def record(running: launch.Running, sender: str = "transcript-patient", patient: list[str] = PATIENT) -> list[str]:
    lines = []
    for said in patient:
        lines.append(f"**Patient:** {said}")
        lines.append("")
        for message in running.say(sender, said):
            lines.append(f"> **Assistant:** {bubble(message)}")
            lines.append(">")
        if lines[-1] == ">":
            lines.pop()
        lines.append("")
    saved = consent_store.latest(sender, running.database_url)
    if saved is not None:
        lines.append(
            f"*Stored: consent record #{saved.id}, decision `{saved.decision}`, "
            f"{len(saved.payload.candidacy)} candidacy answers, teach-back "
            + ", ".join(f"{item.id}={item.result}" for item in saved.payload.teachback)
            + f", language `{saved.payload.language}`, chain hash `{saved.record_hash[:16]}…`.*"
        )
    return lines


START_MARK = "<!-- transcript:start (written by make transcript) -->"
END_MARK = "<!-- transcript:end -->"


def replace_between_marks(document: str, body: str) -> str:
    """``document`` with the text between the transcript marks replaced by ``body``."""
    start, end = document.index(START_MARK) + len(START_MARK), document.index(END_MARK)
    return document[:start] + "\n" + body.strip() + "\n" + document[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.transcript", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/conversation.md"))
    parser.add_argument("--readme", type=Path, help="also write it between the transcript marks of this file")
    parser.add_argument("--spanish-out", type=Path, help="also record the Spanish patient (PATIENT_ES) here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir, launch.assistant(Path(workdir)) as running:
        print("recording the conversation...", file=sys.stderr)
        body = record(running)
        spanish = record(running, "transcript-paciente", PATIENT_ES) if args.spanish_out else []
    header = [
        "# A full conversation over the REST channel",
        "",
        "Recorded by `make transcript` (`python -m devtools.transcript`) against the trained assistant: what a",
        "patient sees, word for word. Buttons are shown as `[title]`.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(header + body) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    if args.spanish_out:
        heading = ["# Una conversación completa en español (a full conversation in Spanish)", *header[1:]]
        args.spanish_out.write_text("\n".join(heading + spanish) + "\n", encoding="utf-8")
        print(f"wrote {args.spanish_out}", file=sys.stderr)
    if args.readme:
        args.readme.write_text(replace_between_marks(args.readme.read_text(), "\n".join(body)), encoding="utf-8")
        print(f"updated {args.readme}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
