"""What the patient sees and can do in the panel (issue 14, finding 7), in headless Chromium.

"Start over" asks first; the newest message stays in view when the panel changes size;
text follows the browser's text size; a dark theme follows the system's. Against the
channel with the scripted assistant.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, ViewportSize, expect

from tests.browser.test_widget import COLOURS_JS, contrast, relative_luminance
from tests.helpers.widget_page import Chat, focused, open_clinic_page, open_demo, watch, widget_text

pytestmark = pytest.mark.browser

SHADOW = "document.getElementById('clinic-chat-widget').shadowRoot"


def test_start_over_asks_before_it_clears_the_conversation(
    widget_stub: str, new_context: Callable[..., BrowserContext], page_errors: list[str]
) -> None:
    page, chat = open_demo(new_context(), widget_stub, page_errors)
    chat.open()
    chat.wait_for_greeting()
    chat.ask("how long does it take")
    start_over = page.get_by_role("button", name="Start over")
    question = page.get_by_role("alertdialog", name=widget_text("start_over.question"))
    keep = page.get_by_role("button", name=widget_text("start_over.no"))
    clear = page.get_by_role("button", name=widget_text("start_over.yes"))

    start_over.click()
    expect(question).to_be_visible()
    assert focused(page)["text"] == widget_text("start_over.no"), "the safe answer has the focus"
    expect(chat.user_bubbles()).to_have_count(1)  # nothing cleared yet
    keep.click()
    expect(question).to_be_hidden()
    expect(chat.user_bubbles()).to_have_count(1)
    assert focused(page)["cls"] == "restart"

    start_over.click()
    page.keyboard.press("Escape")  # Escape answers "no" and leaves the chat open
    expect(question).to_be_hidden()
    expect(chat.panel).to_be_visible()
    expect(chat.user_bubbles()).to_have_count(1)

    start_over.click()
    clear.click()
    expect(question).to_be_hidden()
    expect(chat.user_bubbles()).to_have_count(0)
    chat.wait_for_greeting()
    assert page_errors == []


NEWEST_IN_VIEW_JS = f"""() => {{
  const log = {SHADOW}.querySelector('.log');
  const last = [...log.querySelectorAll('.msg')].pop();
  return last.getBoundingClientRect().bottom <= log.getBoundingClientRect().bottom + 1;
}}"""


@pytest.mark.parametrize(
    ("label", "after"),
    [("landscape", ViewportSize(width=740, height=360)), ("keyboard-open", ViewportSize(width=360, height=420))],
)
def test_the_newest_message_stays_in_view_when_the_panel_changes_size(
    widget_stub: str,
    new_context: Callable[..., BrowserContext],
    page_errors: list[str],
    label: str,
    after: ViewportSize,
) -> None:
    context = new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page, chat = open_demo(context, widget_stub, page_errors)
    chat.open()
    chat.wait_for_greeting()
    for question in ("how long does it take", "tell me about buttons", "how long does it take"):
        chat.ask(question)
    assert page.evaluate(NEWEST_IN_VIEW_JS)
    page.set_viewport_size(after)  # the phone turned, or the on-screen keyboard took half the screen
    page.wait_for_function(NEWEST_IN_VIEW_JS, timeout=5000)
    chat.screenshot(f"resized-{label}")
    assert page_errors == []


def font_size(page: Any, selector: str) -> float:
    value = page.evaluate(f"(s) => getComputedStyle({SHADOW}.querySelector(s)).fontSize", selector)
    return float(re.sub("px$", "", value))


def test_text_follows_the_browsers_text_size_not_the_pages(
    widget_stub: str, new_context: Callable[..., BrowserContext], page_errors: list[str]
) -> None:
    context = new_context()
    page = watch(context.new_page(), page_errors)
    # Settings > Appearance > Font size: "Very large" (24 px instead of 16 px).
    context.new_cdp_session(page).send("Page.setFontSizes", {"fontSizes": {"standard": 24, "fixed": 20}})
    page.goto(f"{widget_stub}/widget/demo")
    chat = Chat(page)
    chat.open()
    chat.wait_for_greeting()
    assert font_size(page, ".msg.bot .bubble") == 24
    assert font_size(page, "textarea") == 24
    assert font_size(page, ".launcher") == 24
    assert font_size(page, ".subtitle") == pytest.approx(24 * 0.85, abs=0.1)
    chat.screenshot("text-size-24px")

    # A clinic page that shrinks its own root font does not shrink the chat.
    _, small_page_chat = open_clinic_page(
        new_context(), f"{widget_stub}/small-root-page", f"{widget_stub}/widget/widget.js", page_errors
    )
    small_page_chat.page.add_style_tag(content="html { font-size: 10px; }")
    small_page_chat.open()
    assert font_size(small_page_chat.page, ".msg.bot .bubble, .launcher") == 16
    assert page_errors == []


DARK_SELECTORS = [
    ".title",
    ".msg.bot .bubble",
    ".msg.user .bubble",
    ".reply",
    ".send",
    ".launcher",
    ".confirm p",
    ".confirm-yes",
    ".confirm-no",
    "textarea",
]


def test_a_dark_theme_follows_the_system_and_every_text_meets_aa(
    widget_stub: str, new_context: Callable[..., BrowserContext], page_errors: list[str]
) -> None:
    page, chat = open_demo(new_context(color_scheme="dark"), widget_stub, page_errors)
    chat.open()
    chat.wait_for_greeting()
    chat.ask("please send a link")
    chat.ask("buttons please")
    page.get_by_role("button", name="Start over").click()  # shows the question, to measure it too
    surface = page.evaluate(f"() => getComputedStyle({SHADOW}.querySelector('.panel')).backgroundColor")
    numbers = [float(n) for n in re.findall(r"[\d.]+", surface)[:3]]
    assert relative_luminance((numbers[0], numbers[1], numbers[2])) < 0.05, f"the panel is dark: {surface}"
    colours: dict[str, Any] = page.evaluate(COLOURS_JS, DARK_SELECTORS)
    assert set(colours) == set(DARK_SELECTORS), set(DARK_SELECTORS) - set(colours)
    for selector, (foreground, background) in colours.items():
        ratio = contrast(foreground, background)
        assert ratio >= 4.5, f"{selector}: {foreground} on {background} is {ratio:.2f}:1, below WCAG AA"
    link = page.evaluate(
        f"() => {{ const a = [...{SHADOW}.querySelectorAll('.msg.bot .bubble a')].pop(); "
        "return [getComputedStyle(a).color, getComputedStyle(a.closest('.bubble')).backgroundColor]; }"
    )
    assert contrast(link[0], link[1]) >= 4.5, f"links in the dark theme: {link}"
    chat.screenshot("dark-theme")
    page.get_by_role("button", name=widget_text("start_over.no")).click()
    assert page_errors == []
