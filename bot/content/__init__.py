"""Everything a patient can read and the clinic's facts, from the files under ``content/``.

Each file has one typed loader here (read once per process); ``check()`` loads them
all, so a typo in a content file stops a server at start, not at the first patient
who meets it. Errors are ``ContentError`` and name the file and the field.
"""

from __future__ import annotations

from bot.content.clinic import Clinic, clinic, clock
from bot.content.consent import ConsentContent, consent_content
from bot.content.files import ContentError, content_version
from bot.content.messages import Message, message, templates
from bot.content.teachback import Point, teachback_points
from bot.content.topics import Topics, topics

__all__ = [
    "Clinic",
    "ConsentContent",
    "ContentError",
    "Message",
    "Point",
    "Topics",
    "check",
    "clinic",
    "clock",
    "consent_content",
    "content_version",
    "message",
    "teachback_points",
    "templates",
    "topics",
]


def check() -> str:
    """Load and check every content file; the content version they make. Servers call it at start."""
    clinic()
    templates()
    topics()
    consent_content()
    teachback_points()
    return content_version()
