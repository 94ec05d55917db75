"""The widget when the network or the server lets the patient down (issue 14, finding 7), in headless Chromium.

A phone that changes networks loses its socket without a word: nothing arrives, nothing
is refused. ``FlakyNetwork`` plays that part between the page and the chat server (with
the scripted assistant): it can drop every connection open at that moment silently, in
both directions or only the server's answers, while new connections work.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Literal

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, WebSocketRoute, expect

from bot import content
from devtools.launch import free_port
from tests.helpers.widget_page import Chat, clinic_page_html, open_clinic_page, open_demo, watch, widget_text

pytestmark = pytest.mark.browser


class FlakyNetwork:
    """Every WebSocket of a page goes through here; ``drop_silently`` makes the open ones go dead."""

    def __init__(self, page: Page) -> None:
        self.connections: list[dict[str, object]] = []
        page.route_web_socket(re.compile(r"/socket\.io/"), self._route)

    def _route(self, page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()
        state: dict[str, object] = {"up": True, "down": True}
        self.connections.append(state)

        def to_server(message: str | bytes) -> None:
            if state["up"]:
                server_side.send(message)

        def to_page(message: str | bytes) -> None:
            if state["down"]:
                page_side.send(message)

        page_side.on_message(to_server)
        server_side.on_message(to_page)

    def drop_silently(self, direction: Literal["both", "down"] = "both") -> None:
        """Frames on the connections open now go nowhere; nobody is told (no close, no error)."""
        for state in self.connections:
            state["down"] = False
            if direction == "both":
                state["up"] = False


def said(chat: Chat, text: str) -> tuple[Locator, Locator]:
    """The patient's bubbles with ``text``, and the scripted assistant's answers to it."""
    return chat.user_bubbles().filter(has_text=text), chat.bot_bubbles().filter(has_text=f"You said: {text}")


def open_flaky_chat(
    widget_stub: str, new_context: Callable[..., BrowserContext], page_errors: list[str]
) -> tuple[Page, FlakyNetwork, Chat]:
    """The demo page's chat, open and greeted, on a network the test can break."""
    page = watch(new_context().new_page(), page_errors)
    network = FlakyNetwork(page)
    page.goto(f"{widget_stub}/widget/demo")
    chat = Chat(page)
    chat.open()
    chat.wait_for_greeting()
    return page, network, chat


def shown_once_after_reload(page: Page, chat: Chat, text: str) -> None:
    """The server holds the message and its answer once: a reload shows both from its history."""
    page.reload()
    expect(chat.panel).to_be_visible()
    mine, answers = said(chat, text)
    expect(answers).to_have_count(1)
    expect(mine).to_have_count(1)


def test_a_message_sent_into_a_dead_connection_is_delivered_once_and_answered(
    widget_stub: str, new_context: Callable[..., BrowserContext], page_errors: list[str]
) -> None:
    page, network, chat = open_flaky_chat(widget_stub, new_context, page_errors)
    chat.ask("how long does it take")

    network.drop_silently()
    started = time.monotonic()
    text = "did my question get through"
    chat.input.fill(text)
    chat.input.press("Enter")
    mine, answers = said(chat, text)
    expect(mine).to_have_count(1)
    # No acknowledgement: the widget opens a new connection, sends it again, and it is answered,
    # well before the ~45 s the browser would take to notice the dead socket by itself.
    expect(answers).to_have_count(1)
    assert time.monotonic() - started < 20
    chat.wait_idle()
    expect(mine).to_have_count(1)  # the history after the reconnect kept it
    expect(chat.user_bubbles().filter(has_text="how long does it take")).to_have_count(1)
    page.wait_for_timeout(1500)
    expect(answers).to_have_count(1)

    # The server holds it once: a reload shows the conversation from its history.
    shown_once_after_reload(page, chat, text)
    assert page_errors == []


def test_an_answer_lost_on_the_way_is_shown_from_the_history_not_asked_again(
    widget_stub: str, new_context: Callable[..., BrowserContext], page_errors: list[str]
) -> None:
    """The server got the message and answered, but nothing came back: shown once, answered once."""
    page, network, chat = open_flaky_chat(widget_stub, new_context, page_errors)

    network.drop_silently("down")
    text = "was my answer lost"
    chat.input.fill(text)
    chat.input.press("Enter")
    mine, answers = said(chat, text)
    expect(answers).to_have_count(1)
    chat.wait_idle()
    page.wait_for_timeout(1500)
    expect(mine).to_have_count(1)
    expect(answers).to_have_count(1)
    shown_once_after_reload(page, chat, text)
    assert page_errors == []


def test_a_page_on_an_origin_that_is_not_allowed_is_told_so(
    widget_stub: str,
    other_site: Callable[[str], str],
    new_context: Callable[..., BrowserContext],
    page_errors: list[str],
) -> None:
    page = watch(new_context().new_page(), page_errors)
    page.goto(other_site(clinic_page_html(f"{widget_stub}/widget/widget.js")))  # another port: another origin
    chat = Chat(page)
    chat.open()
    refusal = widget_text("connect_errors.origin_not_allowed")
    expect(chat.error_line).to_have_text(refusal)
    assert content.clinic().phone in refusal
    chat.page.wait_for_timeout(3000)  # it stops trying: no "still trying" line replaces it
    expect(chat.error_line).to_have_text(refusal)
    assert page_errors == []


def test_an_unreachable_server_gives_the_clinics_phone_number(
    widget_stub: str, new_context: Callable[..., BrowserContext], page_errors: list[str]
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    _, chat = open_clinic_page(
        new_context(),
        f"{widget_stub}/clinic-page",
        f"{widget_stub}/widget/widget.js",
        page_errors,
        attributes=f'data-server-url="{nobody}"',
    )
    chat.open()
    unreachable = widget_text("connection.unreachable")
    assert content.clinic().phone in unreachable
    expect(chat.error_line).to_have_text(unreachable)
    chat.page.wait_for_timeout(3000)  # it keeps trying, and keeps the number on screen
    expect(chat.error_line).to_have_text(unreachable)
    assert page_errors == []


def test_the_offline_note_shows_when_sending_without_a_connection(
    widget_stub: str, new_context: Callable[..., BrowserContext], page_errors: list[str]
) -> None:
    _, chat = open_demo(new_context(), widget_stub, page_errors)
    chat.open()
    chat.wait_for_greeting()
    chat.page.context.set_offline(True)
    expect(chat.error_line).not_to_be_empty()
    chat.input.fill("sent while offline")
    chat.input.press("Enter")
    expect(chat.user_bubbles().filter(has_text="sent while offline")).to_have_count(1)
    chat.page.context.set_offline(False)
    expect(chat.bot_bubbles().filter(has_text="You said: sent while offline")).to_have_count(1)
    expect(chat.user_bubbles().filter(has_text="sent while offline")).to_have_count(1)
    assert page_errors == []
