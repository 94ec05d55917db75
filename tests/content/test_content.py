"""Everything a patient can read: plain language (grade 8 or below), one short bubble, faithful to the sheet.

That is the assistant's answers and messages, the consent steps, and what the channels
say by themselves: SMS texts (as a phone shows them), the website chat's replies and
demo page, and the widget's own labels and lines.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import textstat
import yaml
from textstat.textstat import textstatistics

from bot import content
from bot.channels.sms.text import plain_text
from bot.content import files as files_module
from bot.content import messages
from bot.language import teachback
from bot.settings import CONTENT_DIR, PROJECT_ROOT

MAX_GRADE = 8.0
MAX_CHARS = 320
DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
SLOT_NAMES = set(DOMAIN["slots"])
# What code fills in, at its longest or most typical, to measure a text as shown.
SAMPLE_VALUES = {
    **dict.fromkeys(["next_opening", "answered", "flagged", "understood", "review"], "Wednesday at 8am"),
    "count": "12,345", "limit": "2,000", "attempt": "12",
    "choices": "1 for Yes, 2 for No, 3 for Not sure", "number": "3", "title": "Talk to my doctor first",
    "launcher": "Questions? Chat with us",
    # a link as bot.records.copy_link makes it (tests/records/test_copy_link.py keeps it under 110 characters)
    "link": "https://chat.example-clinic.org/webhooks/copy/record/123456.1765000000.AbCdEfGhIjKlMnOpQrStUv",
    "hours": "72",
    "date": "Wednesday, September 30",  # bot/invitations/send.py spoken_date, at its longest
    # the longest instruction a clinic may write (bot/content/clinic.py: MAX_INSTRUCTION)
    "instruction": (
        "Please have a light meal no later than two hours before your visit. Take your usual pills with a sip of "
        "water unless your doctor told you to stop them. Wear loose clothes, and bring a list of your medicines "
        "and a friend to drive you."
    )[:240],
    "total": "11", "first": "Yes or maybe, No", "last": "Does not apply",
    "question": max((q.text for q in content.consent_content().questions), key=len),
    "said": "x" * 140,  # steps.QUOTE_CHARS: the longest quote of an answer
    "points": "5", "decision": "Wants to talk to the doctor first",
}  # fmt: skip


def domain_texts() -> list[tuple[str, str]]:
    return [(name, variant["text"]) for name, variants in DOMAIN["responses"].items() for variant in variants]


def message_texts() -> list[tuple[str, str]]:
    return [(name, message.text) for name, message in messages.templates().items()]


def content_texts() -> list[tuple[str, str]]:
    found = []
    for question in content.consent_content().questions:
        found.append((f"candidacy:{question.id}", question.text))
    _, judge = teachback.default_judge()
    for point in judge.points:
        found += [
            (f"teachback:{point.id}:question", point.question),
            (f"teachback:{point.id}:again", point.explain_again),
        ]
    return found


def channel_texts() -> list[tuple[str, str]]:
    """What the channels say by themselves; SMS texts as a phone shows them."""
    return (
        [(f"sms:{name}", plain_text(text)) for name, text in content.sms_texts().items()]
        + [(f"web:{name}", text) for name, text in content.web_texts().items()]
        + [(f"widget:{name}", text) for name, text in content.widget_texts().items()]
    )


ALL_TEXTS = domain_texts() + message_texts() + content_texts() + channel_texts()
# A button or a label ("Send", "Start over", "{count} of {limit} characters") is no sentence:
# a reading grade says nothing about it, but its length still counts.
SENTENCES = [(name, text) for name, text in ALL_TEXTS if re.search(r"[.!?…][\"')\]]*$", text.strip())]
# Texts in Spanish are named *_es (the emergency replies): an English grade formula would
# misjudge them, so they are measured with Spanish syllables and Fernández-Huerta's
# adaptation of Flesch's reading ease instead (60-70 is "normal", 70-80 "fairly easy").
SPANISH = "_es"
ENGLISH_SENTENCES = [(name, text) for name, text in SENTENCES if not name.endswith(SPANISH)]
SPANISH_SENTENCES = [(name, text) for name, text in SENTENCES if name.endswith(SPANISH)]
MIN_SPANISH_EASE = (
    70.0  # "bastante fácil" (fairly easy), as issue 18 asks; devtools/reading.py measures every Spanish text
)
SPANISH_READER = textstatistics()
SPANISH_READER.set_lang("es")


def readable(text: str, placeholder: str = "the clinic") -> str:
    """The text as a patient reads it: placeholders as a short word, list numbers and brackets dropped."""
    text = re.sub(r"\{[a-z_]+\}", placeholder, text)
    return re.sub(r"\d\)", "", text)


@pytest.mark.parametrize(("name", "text"), ENGLISH_SENTENCES, ids=[name for name, _ in ENGLISH_SENTENCES])
def test_every_text_is_plain_language(name: str, text: str) -> None:
    grade = textstat.flesch_kincaid_grade(readable(text))
    assert grade <= MAX_GRADE, f"{name} reads at grade {grade}: {text}"


@pytest.mark.parametrize(("name", "text"), SPANISH_SENTENCES, ids=[name for name, _ in SPANISH_SENTENCES])
def test_every_spanish_text_is_plain_spanish(name: str, text: str) -> None:
    ease = SPANISH_READER.fernandez_huerta(readable(text, "la clínica"))
    assert ease >= MIN_SPANISH_EASE, f"{name} reads at {ease} (Fernández-Huerta): {text}"


def test_the_spanish_texts_are_the_ones_named_so() -> None:
    assert {name for name, _ in SPANISH_SENTENCES} == {n for n in messages.EMERGENCY_MESSAGES if n.endswith(SPANISH)}


def as_shown(text: str) -> str:
    """The text with the clinic's facts (and sample values for the ones code fills in) in place."""
    values = {**messages.clinic_values(), **SAMPLE_VALUES}
    return re.sub(r"\{([a-z_]+)\}", lambda match: values[match.group(1)], text)


@pytest.mark.parametrize(("name", "text"), ALL_TEXTS, ids=[name for name, _ in ALL_TEXTS])
def test_every_text_fits_one_bubble(name: str, text: str) -> None:
    shown = as_shown(text)
    assert len(shown) < MAX_CHARS, f"{name} is {len(shown)} characters"


def test_the_readability_rules_cover_the_channels_own_words() -> None:
    names = {name for name, _ in ALL_TEXTS}
    for prefix, texts in (
        ("sms", content.sms_texts()),
        ("web", content.web_texts()),
        ("widget", content.widget_texts()),
    ):
        assert {f"{prefix}:{name}" for name in texts} <= names
    sentences = {name for name, _ in SENTENCES}
    assert {"sms:help", "web:replies.too_long", "widget:connection.unreachable"} <= sentences
    assert not {"widget:labels.send", "widget:notes.counter", "sms:choice"} & sentences


@pytest.mark.parametrize(("name", "text"), domain_texts(), ids=[name for name, _ in domain_texts()])
def test_response_placeholders_are_slots(name: str, text: str) -> None:
    assert messages.placeholders(text) <= SLOT_NAMES


@pytest.mark.parametrize(("name", "text"), message_texts(), ids=[name for name, _ in message_texts()])
def test_message_placeholders_are_known(name: str, text: str) -> None:
    assert messages.placeholders(text) <= set(messages.clinic_values()) | messages.ACTION_VALUES.get(name, set())


def test_every_topic_has_an_answer_a_rule_and_training_data() -> None:
    topics = content.topics()
    rules = (PROJECT_ROOT / "data" / "rules" / "topics.yml").read_text()
    nlu = yaml.safe_load((PROJECT_ROOT / "data" / "nlu" / "topics.yml").read_text())["nlu"]
    trained = {block["intent"]: block["examples"] for block in nlu}
    assert len(topics.titles) == 23
    for intent in topics.titles:
        assert f"utter_{intent}" in DOMAIN["responses"], intent
        assert f"- intent: {intent}\n  - action: utter_{intent}" in rules, intent
        examples = [line for line in trained[intent].splitlines() if line.strip()]
        assert len(examples) >= 25, f"{intent} has {len(examples)} training examples"


SHEET = (CONTENT_DIR / "rhizotomy-injection.txt").read_text()


@pytest.mark.parametrize(
    ("intent", "facts"),
    [
        ("ask_name_meaning", ["rhiza", "root"]),
        ("ask_conditions", ["spinal cord injury", "multiple sclerosis", "spasms"]),
        ("ask_how_it_works", ["signals", "brain"]),
        ("ask_medicines", ["steroid", "phenol", "alcohol", "botox"]),
        ("ask_imaging", ["x-ray", "fluoroscopy", "mri"]),
        ("ask_procedure_steps", ["table", "fine needle", "nerve root", "slowly"]),
        ("ask_duration", ["less than an hour"]),
        ("ask_relief_onset", ["right away", "slowly"]),
        ("ask_repeat", ["wear off", "more shots"]),
        ("ask_side_effects", ["soreness", "numbness", "weakness", "nerve damage", "infection", "allergic reaction"]),
        ("ask_surgery_vs_injection", ["cut", "less invasive"]),
        ("ask_benefits", ["pain", "spasms", "less pain medicine"]),
        ("ask_cure", ["not a cure"]),
        ("ask_treatment_plan", ["physical therapy", "medicines"]),
        ("ask_candidacy", ["care team decides", "symptoms", "medical history"]),
        ("ask_safety", ["fairly safe", "risk"]),
        ("ask_driving", ["does not say", "numb", "weak"]),
        ("ask_pain_during", ["does not say", "fine needle", "slowly", "soreness"]),
        ("ask_preparation", ["does not say"]),
        ("ask_fasting", ["does not say"]),
        ("ask_companion", ["does not say"]),
    ],
)
def test_topic_answers_carry_the_sheets_key_facts(intent: str, facts: list[str]) -> None:
    answer = DOMAIN["responses"][f"utter_{intent}"][0]["text"].lower()
    for fact in facts:
        assert fact in answer, f"utter_{intent} lacks '{fact}'"


def test_the_sheet_is_the_shared_seed() -> None:
    seed = PROJECT_ROOT.parent / "shared" / "seed" / "rhizotomy-injection.txt"
    if not seed.exists():
        pytest.skip("../shared/seed is not beside this checkout")
    assert seed.read_text() == SHEET


def test_content_version_changes_with_each_content_file_and_the_domain(tmp_path: Path) -> None:
    shutil.copytree(CONTENT_DIR, tmp_path / "content")
    shutil.copy(PROJECT_ROOT / "domain.yml", tmp_path / "domain.yml")
    files = files_module.versioned_files(tmp_path / "content", tmp_path / "domain.yml")
    names = {path.relative_to(tmp_path).as_posix() for path in files}
    in_content = {f"content/{p.relative_to(CONTENT_DIR).as_posix()}" for p in CONTENT_DIR.rglob("*") if p.is_file()}
    assert names == in_content | {"domain.yml"}
    versions = {files_module.version_of(files, tmp_path)}
    for path in files:
        path.write_bytes(path.read_bytes() + b"\n# changed\n")
        versions.add(files_module.version_of(files, tmp_path))
    assert len(versions) == len(files) + 1, "every file changes the version"


def test_the_running_version_covers_the_clinic_file_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    other = tmp_path / "clinic.yml"
    other.write_text((CONTENT_DIR / "clinic.yml").read_text())
    monkeypatch.setenv("CLINIC_SETTINGS", str(other))
    assert other in files_module.versioned_files()
