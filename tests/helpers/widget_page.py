"""The widget on a page as a patient uses it, for the browser tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Locator, Page, expect

from bot.content import languages
from bot.content.widget import bundle_texts_in
from tests.helpers.servers import ARTIFACTS


def widget_text(name: str, language: str = languages.ENGLISH, **values: str) -> str:
    """A text the widget shows by itself in ``language``, as built into it from content/widget.yml
    (content/es/widget.yml for Spanish)."""
    text = bundle_texts_in(language)[name]
    for key, value in values.items():
        text = text.replace(f"{{{key}}}", value)
    return text


def watch(page: Page, errors: list[str]) -> Page:
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page


def open_demo(
    context: BrowserContext, server: str, errors: list[str], language: str = languages.ENGLISH
) -> tuple[Page, Chat]:
    """The demo page the chat server serves, with the widget on it (``?lang=es``: both in Spanish)."""
    page = watch(context.new_page(), errors)
    page.goto(f"{server}/widget/demo" if language == languages.ENGLISH else f"{server}/widget/demo?lang={language}")
    return page, Chat(page, language)


def clinic_page_html(script_url: str, attributes: str = "") -> str:
    """A clinic's own page with the widget's script tag on it."""
    return (
        f'<!doctype html><title>Clinic</title><p>Clinic page</p><script src="{script_url}" {attributes} defer></script>'
    )


def open_clinic_page(
    context: BrowserContext, page_url: str, script_url: str, errors: list[str], attributes: str = ""
) -> tuple[Page, Chat]:
    """A clinic's page at ``page_url``, answered by the browser itself, loading the widget from ``script_url``.

    Chromium treats a page it answered itself as public, and a public page may not load
    from this machine: ``page_url`` should be on the chat server's origin.
    """
    html = clinic_page_html(script_url, attributes)
    page = watch(context.new_page(), errors)
    page.route(page_url, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
    page.goto(page_url)
    return page, Chat(page)


class Chat:
    """The widget on a page, as a patient uses it, found by its labels in ``language``."""

    def __init__(self, page: Page, language: str = languages.ENGLISH) -> None:
        self.page = page
        self.language = language
        self.launcher = page.get_by_role("button", name=widget_text("labels.launcher", language))
        self.panel = page.get_by_role("dialog")
        self.input = page.get_by_label(widget_text("labels.message_box", language))
        self.log = page.get_by_role("log", name=widget_text("labels.conversation", language))
        self.typing = page.locator(".typing")
        self.error_line = page.get_by_role("alert")

    def open(self) -> None:
        self.launcher.click()
        expect(self.panel).to_be_visible()
        expect(self.input).to_be_focused()

    def bot_bubbles(self) -> Locator:
        return self.log.locator(".msg.bot .bubble")

    def user_bubbles(self) -> Locator:
        return self.log.locator(".msg.user .bubble")

    def wait_for_greeting(self) -> None:
        expect(self.bot_bubbles().first).to_be_visible()
        self.wait_idle()

    def wait_idle(self) -> None:
        expect(self.typing).to_be_empty()

    def ask(self, text: str) -> None:
        bots_before = self.bot_bubbles().count()
        self.input.fill(text)
        self.input.press("Enter")
        expect(self.user_bubbles().last).to_contain_text(text[:40])
        expect(self.bot_bubbles()).not_to_have_count(bots_before)
        self.wait_idle()

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        self.page.screenshot(path=path)
        return path


def focused(page: Page) -> dict[str, Any]:
    """The element that has focus, looking inside the widget's shadow root."""
    return dict(
        page.evaluate(
            """() => {
                let el = document.activeElement;
                while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
                if (!el) return {};
                const style = getComputedStyle(el);
                return {tag: el.tagName.toLowerCase(), id: el.id, cls: el.className, text: el.textContent.trim(),
                        outline: style.outlineStyle, outlineWidth: style.outlineWidth};
            }"""
        )
    )
