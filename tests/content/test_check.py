"""``bot.content.check()``: every content file is loaded and checked, and a broken one is refused by name.

Each case breaks one file in a copy of ``content/`` the way an editor might (a text
deleted, a placeholder misspelt, a list turned into a word) and expects the error a
server would stop with at start: one that names the file and what to fix.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import content
from bot.content import ContentError
from bot.settings import CONTENT_DIR, PROJECT_ROOT

Edit = Callable[[Any], None]


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of content/ and domain.yml to break."""
    shutil.copytree(CONTENT_DIR, tmp_path / "content")
    shutil.copy(PROJECT_ROOT / "domain.yml", tmp_path / "domain.yml")
    return tmp_path


def check(copy: Path) -> str:
    return content.check(copy / "content", copy / "domain.yml")


def edit_yaml(path: Path, change: Edit) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_the_shipped_content_passes() -> None:
    assert len(content.check()) == 64


def test_a_copy_passes_too(copy: Path) -> None:
    assert len(check(copy)) == 64


CHECKED = sorted(path.name for path in CONTENT_DIR.glob("*.yml"))


@pytest.mark.parametrize("name", CHECKED)
def test_every_content_file_is_checked(copy: Path, name: str) -> None:
    """No file under content/ is left to fail at the first patient: an empty one stops the check."""
    (copy / "content" / name).write_text("# emptied by mistake\n", encoding="utf-8")
    with pytest.raises(ContentError) as error:
        check(copy)
    assert name in str(error.value)


@pytest.mark.parametrize("name", sorted(path.name for path in (CONTENT_DIR / "es").glob("*.yml")))
def test_every_translation_is_checked(copy: Path, name: str) -> None:
    (copy / "content" / "es" / name).write_text("# emptied by mistake\n", encoding="utf-8")
    with pytest.raises(ContentError) as error:
        check(copy)
    assert name in str(error.value)


def test_only_the_information_sheet_is_not_a_checked_file() -> None:
    others = {path.name for path in CONTENT_DIR.iterdir() if path.is_file()} - set(CHECKED)
    assert others == {"rhizotomy-injection.txt"}, "a new content file needs a loader that check() calls"


def _delete(*keys: str) -> Edit:
    def change(data: Any) -> None:
        for key in keys[:-1]:
            data = data[key]
        del data[keys[-1]]

    return change


def _set(value: Any, *keys: str) -> Edit:
    def change(data: Any) -> None:
        for key in keys[:-1]:
            data = data[key]
        data[keys[-1]] = value

    return change


BROKEN: list[tuple[str, Edit, str]] = [
    ("sms.yml", _delete("help"), "'help' is missing"),
    ("sms.yml", _set("Reply STOP to opt out, START to opt back in.", "help"), "'help' must contain {clinic_name}"),
    ("sms.yml", _set("You are out, {clinic_name}.", "stop"), "'stop' must contain START"),
    ("sms.yml", _set("Sorry, call {clinic_phone} or {clinic_fax}.", "error"), "unknown placeholder {clinic_fax}"),
    ("sms.yml", _set("Reply {choice}.", "choices"), "unknown placeholder {choice}"),
    ("web.yml", _delete("replies", "too_fast"), "'replies.too_fast' is missing"),
    ("web.yml", _set("Too long ({count} of {limt}).", "replies", "too_long"), "unknown placeholder {limt}"),
    ("web.yml", _set("Sorry, call us {soon.", "replies", "error"), "braces that are not a placeholder"),
    ("web.yml", _set("Hello", "replies", "hello"), "'replies.hello' is not a text this file has"),
    ("widget.yml", _delete("connect_errors", "token_required"), "'connect_errors.token_required' is missing"),
    ("widget.yml", _set("{count} of {max} characters", "notes", "counter"), "unknown placeholder {max}"),
    ("widget.yml", _set("", "labels", "send"), "'labels.send' needs a text"),
    (
        "messages.yml",
        _set("Staff will see it on {next_openning}.", "messages", "callback_closed"),
        "unknown placeholder {next_openning}",
    ),
    (
        "messages.yml",
        _set("Staff will see it on {next_opening}.", "messages", "callback_open"),
        "unknown placeholder {next_opening}",
    ),
    (
        "messages.yml",
        _set({"text": "Pass it on?", "buttons": [{"title": "Yes"}]}, "messages", "offer_flag_medication"),
        "every button needs a title and a payload",
    ),
    ("red_flags.yml", _set({"always": True}, "categories", "fainting"), "fainting: needs phrases"),
    ("red_flags.yml", _set("what if", "not_now", "before"), "not_now: before: needs a list of phrases"),
    ("red_flags.yml", _set(["ENT:DRUG overdose"], "categories", "fainting", "phrases"), "ENT:DRUG is not a label"),
    ("entity_patterns.yml", _set("warfarin", "MEDICINE"), "MEDICINE: needs a list"),
    ("topics.yml", _set({"title": "Cost?"}, "topics", "ask_cost"), "no answer for these topics: utter_ask_cost"),
    ("messages.yml", _delete("messages", "emergency_es"), "message 'emergency_es' is missing"),
    (
        "messages.yml",
        _set("I'm sorry. Call {emergency_number} now.", "messages", "emergency_self_harm"),
        "message 'emergency_self_harm' must give {crisis_line}",
    ),
    (
        "messages.yml",
        _set("{clinic_name}: your injection is {date}.", "messages", "recheck_reminder"),
        "message 'recheck_reminder' must give {clinic_phone} and STOP",
    ),
    ("clinic.yml", _set("TBD", "poison_control"), "'poison_control': 'TBD' is not a phone number"),
    ("clinic.yml", _set("Eat lightly.", "instructions", "fastng"), "instructions fastng complete no topic"),
    ("clinic.yml", _set(["Eat lightly."], "instructions", "fasting"), "instructions: 'fasting' must be a text"),
    ("clinic.yml", _set("x" * 241, "instructions", "fasting"), "'fasting' is longer than 240 characters"),
    ("topics.yml", _set({"except": []}, "corrections", "no_risk"), "unknown teach-back points no_risk"),
    ("topics.yml", _set({"except": ["ask_cost"]}, "corrections", "not_a_cure"), "names unknown topics ask_cost"),
    # The Spanish translations (content/es/): every English text, its placeholders, its buttons' payloads.
    ("es/messages.yml", _delete("messages", "menu"), "no translation of menu"),
    ("es/messages.yml", _set("Llame a la clínica ya.", "messages", "emergency"), "placeholders of the English"),
    ("es/responses.yml", _delete("responses", "utter_greet"), "no translation of utter_greet"),
    (
        "es/responses.yml",
        _set(
            [{"text": "Hola.", "buttons": [{"title": "Sí", "payload": "/greet"}]}],
            "responses",
            "utter_calm_offer_person",
        ),
        "must have the English buttons' payloads",
    ),
    ("es/sms.yml", _delete("help"), "'help' is missing"),
    ("es/topics.yml", _delete("topics", "ask_what_is"), "no translation of ask_what_is"),
    ("es/topics.yml", _set({"title": "Empezar", "payload": "/greet"}, "start_button"), "the English payload"),
    ("es/web.yml", _set("Hola {nombre}.", "replies", "empty"), "unknown placeholder {nombre}"),
    ("es/widget.yml", _delete("labels", "send"), "'labels.send' is missing"),
]


@pytest.mark.parametrize(("name", "change", "message"), BROKEN, ids=[f"{n}:{m}" for n, _, m in BROKEN])
def test_a_broken_content_file_is_refused_by_name(copy: Path, name: str, change: Edit, message: str) -> None:
    edit_yaml(copy / "content" / name, change)
    with pytest.raises(ContentError) as error:
        check(copy)
    assert str(copy / "content" / name) in str(error.value)
    assert message in str(error.value)


def test_the_command_checks_the_shipped_content() -> None:
    """``python -m bot content check``, as make test and the widget build run it."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "content", "check"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("content ok: version ")
