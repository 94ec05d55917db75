"""The demo page in Spanish (``/widget/demo?lang=es``) with the real assistant, in headless Chromium (issue 18).

The page asks for Spanish, so the widget shows its own words in Spanish and the conversation starts in
Spanish. Wording is the clinic's: each text is compared with the Spanish content file's (bot.content),
never with a sentence written here.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from bot import content
from bot.content import languages
from bot.content.messages import fill
from bot.content.responses import responses_in
from tests.helpers.widget_page import open_demo

pytestmark = pytest.mark.browser

SPANISH = languages.SPANISH


def spanish_response(name: str) -> str:
    """The Spanish response ``name`` as the assistant sends it: its clinic slots filled with the clinic's facts."""
    with languages.use(SPANISH):
        return fill(str(responses_in(SPANISH)[name][0]["text"]))


def as_shown(text: str) -> list[str]:
    """A reply as the widget's bubbles show it: one per paragraph, ``**bold**`` and ``[label](url)`` as words."""
    words = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text.replace("**", ""))
    return [part.strip() for part in words.split("\n\n") if part.strip()]


def test_the_spanish_demo_page_opens_the_chat_in_spanish_and_answers_in_spanish(
    rasa_server: str, new_context: Callable[..., BrowserContext], page_errors: list[str]
) -> None:
    page, chat = open_demo(new_context(), rasa_server, page_errors, SPANISH)
    texts = content.widget_texts_in(SPANISH)
    expect(page.locator("html")).to_have_attribute("lang", SPANISH)
    expect(chat.launcher).to_have_text(texts["labels.launcher"])
    expect(page.locator(".ccw")).to_have_attribute("lang", SPANISH)  # screen readers read it as Spanish

    chat.open()
    expect(page.get_by_role("button", name=texts["labels.send"])).to_be_visible()
    chat.wait_for_greeting()  # the demo page's start payload, the conversation's first message
    expect(chat.log).to_contain_text(as_shown(spanish_response("utter_greet"))[0])

    answers_before = chat.bot_bubbles().count()
    chat.ask("cuanto dura la inyeccion?")
    expected = as_shown(spanish_response("utter_ask_duration"))
    answer = chat.bot_bubbles()
    for index, paragraph in enumerate(expected):
        expect(answer.nth(answers_before + index)).to_have_text(f"{texts['labels.assistant_said']} {paragraph}")
    expect(chat.error_line).to_be_empty()
    chat.screenshot("spanish-answer")
    assert page_errors == []
