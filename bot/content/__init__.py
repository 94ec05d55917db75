"""Everything a patient can read and the clinic's facts, from the files under ``content/``.

Each file has one typed loader here (read once per process); ``check()`` loads them
all and checks them against each other, so a typo in a content file stops a server
at start, not at the first patient who meets it. Errors are ``ContentError`` and
name the file and the field.
"""

from __future__ import annotations

from pathlib import Path

from bot.content import languages
from bot.content.clinic import Clinic, clinic, parse_clinic
from bot.content.consent import CONSENT_FILE, ConsentContent, consent_content, consent_content_in
from bot.content.dates import clock
from bot.content.entity_patterns import PATTERNS_FILE, entity_patterns
from bot.content.files import (
    DOMAIN_FILE,
    ContentError,
    clinic_file,
    content_version,
    load_yaml,
    version_of,
    versioned_files,
)
from bot.content.messages import MESSAGES_FILE, Message, message, templates, templates_in
from bot.content.record import RECORD_FILE, record_text, record_texts, record_texts_in
from bot.content.red_flags import RED_FLAGS_FILE, check_entity_labels, red_flag_rules
from bot.content.responses import RESPONSES_FILE, responses_in
from bot.content.sheets import TranslatedSheet, translated_sheets
from bot.content.sms import SMS_FILE, sms_text, sms_texts, sms_texts_in
from bot.content.teachback import (
    TEACHBACK_FILE,
    Point,
    TeachbackContent,
    teachback_content,
    teachback_content_in,
    teachback_points,
)
from bot.content.topics import TOPICS_FILE, Topics, check_answers, check_references, topics, topics_in
from bot.content.web import WEB_FILE, web_text, web_texts, web_texts_in
from bot.content.widget import WIDGET_FILE, widget_text, widget_texts, widget_texts_in
from bot.settings import CONTENT_DIR

__all__ = [
    "Clinic",
    "ConsentContent",
    "ContentError",
    "Message",
    "Point",
    "TeachbackContent",
    "Topics",
    "TranslatedSheet",
    "check",
    "clinic",
    "clock",
    "consent_content",
    "consent_content_in",
    "content_version",
    "entity_patterns",
    "message",
    "record_text",
    "record_texts",
    "record_texts_in",
    "red_flag_rules",
    "sms_text",
    "sms_texts",
    "teachback_content",
    "teachback_content_in",
    "teachback_points",
    "templates",
    "topics",
    "topics_in",
    "translated_sheets",
    "web_text",
    "web_texts",
    "widget_text",
    "widget_texts",
]


def check(content_dir: Path = CONTENT_DIR, domain: Path = DOMAIN_FILE) -> str:
    """Load and check every content file and how they fit together; the content version they make.

    The servers call it at start (the action server, and the Rasa server through
    its website and SMS channels), ``make test`` through ``python -m bot content check``.
    Tests pass a copy of ``content/`` (its clinic.yml then stands in for the clinic file).
    """
    clinic_path = clinic_file() if content_dir == CONTENT_DIR else content_dir / "clinic.yml"
    facts = clinic() if content_dir == CONTENT_DIR else parse_clinic(load_yaml(clinic_path), str(clinic_path))
    templates(content_dir / MESSAGES_FILE.name)
    topics_file = content_dir / TOPICS_FILE.name
    check_answers(topics(topics_file), topics_file, domain)
    consent_content(content_dir / CONSENT_FILE.name)
    points = teachback_points(content_dir / TEACHBACK_FILE.name)
    check_references(topics(topics_file), facts, [point.id for point in points], topics_file, str(clinic_path))
    red_flags_file = content_dir / RED_FLAGS_FILE.name
    labels = set(entity_patterns(content_dir / PATTERNS_FILE.name))
    check_entity_labels(red_flag_rules(red_flags_file), labels, str(red_flags_file))
    sms_texts(content_dir / SMS_FILE.name)
    web_texts(content_dir / WEB_FILE.name)
    widget_texts(content_dir / WIDGET_FILE.name)
    translated_sheets(content_dir)
    for language in languages.LANGUAGES:  # every other language has every text (content/es/)
        templates_in(language, content_dir / MESSAGES_FILE.name)
        responses_in(language, content_dir / RESPONSES_FILE.name, domain)
        sms_texts_in(language, content_dir / SMS_FILE.name)
        web_texts_in(language, content_dir / WEB_FILE.name)
        widget_texts_in(language, content_dir / WIDGET_FILE.name)
        record_texts_in(language, content_dir / RECORD_FILE.name)
        topics_in(language, topics_file)
        consent_content_in(language, content_dir / CONSENT_FILE.name)
        teachback_content_in(language, content_dir / TEACHBACK_FILE.name)
    if content_dir == CONTENT_DIR and domain == DOMAIN_FILE:
        return content_version()
    return version_of(versioned_files(content_dir, domain))
