"""The website widget in headless Chromium, on the demo page the server serves.

Patient journeys run against the scripted assistant and the real one; checks
that need replies on demand (HTML-looking text, links, a server that goes
away) use the scripted assistant only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, expect

from devtools.launch import free_port
from tests.helpers.servers import start_stub, stop
from tests.helpers.widget_page import Chat, focused, open_demo, watch, widget_text

pytestmark = pytest.mark.browser

HOW_LONG = re.compile("less than an hour", re.IGNORECASE)


def connection_trouble() -> re.Pattern[str]:
    """Any of the widget's lines for a lost connection (up to a placeholder: the attempt number)."""
    heads = [widget_text(f"connection.{name}").split("{")[0] for name in ("lost", "reconnecting", "unreachable")]
    return re.compile("|".join(re.escape(head) for head in heads))


def kind(server: str, request: pytest.FixtureRequest) -> str:
    return str(request.node.callspec.params.get("chat_server", "stub"))


# --- patient journeys (scripted and real assistant) ------------------------------------


def test_asking_how_long_it_takes_shows_the_answer(
    chat_server: str, new_context: Callable[..., BrowserContext], page_errors: list[str], request: pytest.FixtureRequest
) -> None:
    _, chat = open_demo(new_context(), chat_server, page_errors)
    expect(chat.launcher).to_have_attribute("aria-expanded", "false")
    chat.open()
    expect(chat.launcher).to_have_attribute("aria-expanded", "true")
    chat.wait_for_greeting()  # the demo page's start payload (/greet)
    chat.ask("how long does it take")
    expect(chat.log).to_contain_text(HOW_LONG)
    expect(chat.error_line).to_be_empty()
    chat.screenshot(f"answer-{kind(chat_server, request)}")
    assert page_errors == []


def test_a_button_sends_its_payload_and_shows_its_title(
    chat_server: str, new_context: Callable[..., BrowserContext], page_errors: list[str]
) -> None:
    _, chat = open_demo(new_context(), chat_server, page_errors)
    chat.open()
    chat.wait_for_greeting()
    chat.ask("how long does it take")
    buttons = chat.log.get_by_role("group", name="Reply options").get_by_role("button")
    expect(buttons.first).to_be_visible()
    title = buttons.first.inner_text()
    bots_before = chat.bot_bubbles().count()
    buttons.first.click()
    expect(chat.user_bubbles().last).to_have_text(re.compile(re.escape(title)))
    expect(chat.bot_bubbles()).not_to_have_count(bots_before)
    chat.wait_idle()
    expect(chat.log.get_by_text("/ask_")).to_have_count(0)  # the payload is sent, not shown
    expect(chat.input).to_be_focused()
    assert page_errors == []


def test_the_conversation_survives_a_reload_and_a_closed_tab(
    chat_server: str, new_context: Callable[..., BrowserContext], page_errors: list[str], request: pytest.FixtureRequest
) -> None:
    context = new_context()
    page, chat = open_demo(context, chat_server, page_errors)
    chat.open()
    chat.wait_for_greeting()
    chat.ask("how long does it take")

    page.reload()
    expect(chat.panel).to_be_visible()  # it was open before the reload
    expect(chat.user_bubbles().filter(has_text="how long does it take")).to_have_count(1)
    expect(chat.log).to_contain_text(HOW_LONG)
    chat.screenshot(f"after-reload-{kind(chat_server, request)}")

    page.close()  # a closed tab; the browser keeps its storage
    _, chat = open_demo(context, chat_server, page_errors)
    expect(chat.panel).to_be_hidden()  # a new tab does not pop the chat open
    chat.open()
    expect(chat.user_bubbles().filter(has_text="how long does it take")).to_have_count(1)
    assert page_errors == []


def test_start_over_begins_a_new_conversation(
    chat_server: str, new_context: Callable[..., BrowserContext], page_errors: list[str]
) -> None:
    page, chat = open_demo(new_context(), chat_server, page_errors)
    chat.open()
    chat.wait_for_greeting()
    chat.ask("how long does it take")
    page.get_by_role("button", name="Start over").click()
    page.get_by_role("button", name=widget_text("start_over.yes")).click()
    expect(chat.user_bubbles()).to_have_count(0)
    expect(chat.input).to_be_focused()
    chat.wait_for_greeting()  # a new conversation greets again
    expect(chat.log).not_to_contain_text("how long does it take")
    page.reload()
    expect(chat.panel).to_be_visible()
    chat.wait_for_greeting()
    expect(chat.user_bubbles()).to_have_count(0)
    assert page_errors == []


def test_keyboard_only(chat_server: str, new_context: Callable[..., BrowserContext], page_errors: list[str]) -> None:
    page, chat = open_demo(new_context(), chat_server, page_errors)
    for _ in range(15):
        page.keyboard.press("Tab")
        if focused(page).get("cls") == "launcher":
            break
    assert focused(page).get("cls") == "launcher", "Tab must reach the chat launcher"
    assert focused(page)["outline"] != "none", "the focused control must show a focus ring"
    page.keyboard.press("Enter")
    expect(chat.panel).to_be_visible()
    assert focused(page)["id"] == "ccw-input"
    chat.wait_for_greeting()

    page.keyboard.type("how long does it take")
    page.keyboard.press("Enter")
    expect(chat.log).to_contain_text(HOW_LONG)
    chat.wait_idle()

    # Shift+Tab from the message box reaches the reply buttons; Space presses one.
    page.keyboard.press("Shift+Tab")
    reply = focused(page)
    assert reply["cls"] == "reply", reply
    assert reply["outline"] != "none"
    page.keyboard.press("Space")
    expect(chat.user_bubbles().last).to_have_text(re.compile(re.escape(reply["text"])))
    chat.wait_idle()

    # Escape closes the chat and gives focus back to the launcher; Enter reopens it.
    page.keyboard.press("Escape")
    expect(chat.panel).to_be_hidden()
    assert focused(page)["cls"] == "launcher"
    page.keyboard.press("Enter")
    expect(chat.panel).to_be_visible()

    # Every control in the header is reachable too.
    names: list[str] = []
    for _ in range(40):
        page.keyboard.press("Shift+Tab")
        names.append(focused(page)["text"] or focused(page)["cls"])
        if "Start over" in names and "×" in names:
            break
    assert "Start over" in names and "×" in names, names
    assert page_errors == []


@pytest.mark.parametrize(
    ("label", "viewport", "scale"),
    [("phone-360px", {"width": 360, "height": 740}, 3), ("zoom-200pct", {"width": 640, "height": 400}, 2)],
)
def test_small_screens_and_200_percent_zoom(
    chat_server: str,
    new_context: Callable[..., BrowserContext],
    page_errors: list[str],
    request: pytest.FixtureRequest,
    label: str,
    viewport: dict[str, int],
    scale: int,
) -> None:
    # 640 x 400 CSS pixels is a 1280 x 800 window at 200 % zoom.
    context = new_context(
        viewport=viewport,
        device_scale_factor=scale,
        is_mobile=label.startswith("phone"),
        has_touch=label.startswith("phone"),
    )
    page, chat = open_demo(context, chat_server, page_errors)
    chat.open()
    chat.wait_for_greeting()
    chat.ask("how long does it take")
    expect(chat.log).to_contain_text(HOW_LONG)

    box = chat.panel.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["y"] >= 0
    assert box["x"] + box["width"] <= viewport["width"] + 0.5
    assert box["y"] + box["height"] <= viewport["height"] + 0.5
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    for control in (
        chat.input,
        page.get_by_role("button", name="Send"),
        page.get_by_role("button", name="Start over"),
        page.get_by_role("button", name="Close chat"),
    ):
        expect(control).to_be_in_viewport()
    expect(chat.bot_bubbles().filter(has_text=HOW_LONG).last).to_be_visible()
    chat.screenshot(f"{label}-{kind(chat_server, request)}")
    assert page_errors == []


def relative_luminance(rgb: tuple[float, float, float]) -> float:
    channels = [c / 255 for c in rgb]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    def parse(value: str) -> tuple[float, float, float]:
        numbers = [float(n) for n in re.findall(r"[\d.]+", value)[:3]]
        return numbers[0], numbers[1], numbers[2]

    lighter, darker = sorted(
        (relative_luminance(parse(foreground)), relative_luminance(parse(background))), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


COLOURS_JS = """(selectors) => {
  const root = document.getElementById('clinic-chat-widget').shadowRoot;
  const background = (el) => {
    for (let node = el; node && node.nodeType === 1; node = node.parentElement || node.getRootNode().host) {
      const colour = getComputedStyle(node).backgroundColor;
      if (colour && !/rgba\\(.*,\\s*0\\)$/.test(colour) && colour !== 'transparent') return colour;
    }
    return 'rgb(255, 255, 255)';
  };
  const out = {};
  for (const selector of selectors) {
    const el = root.querySelector(selector);
    if (el) out[selector] = [getComputedStyle(el).color, background(el)];
  }
  return out;
}"""


def test_labels_live_region_and_contrast(
    chat_server: str, new_context: Callable[..., BrowserContext], page_errors: list[str]
) -> None:
    page, chat = open_demo(new_context(), chat_server, page_errors)
    expect(chat.launcher).to_have_attribute("aria-controls", "ccw-panel")
    chat.open()
    chat.wait_for_greeting()
    chat.ask("how long does it take")
    expect(chat.log).to_have_attribute("aria-live", "polite")
    expect(chat.typing).to_have_attribute("role", "status")
    expect(chat.panel).to_have_attribute("aria-labelledby", "ccw-title")
    # Every button has a name a screen reader can say.
    for button in page.get_by_role("button").all():
        name = button.get_attribute("aria-label") or button.inner_text()
        assert name.strip(), button
    expect(page.locator("textarea#ccw-input")).to_have_attribute("aria-describedby", "ccw-hint ccw-counter")

    selectors = [
        ".title",
        ".subtitle",
        ".head .restart",
        ".notice",
        ".msg.bot .bubble",
        ".msg.user .bubble",
        ".reply",
        ".send",
        ".launcher",
    ]
    colours: dict[str, Any] = page.evaluate(COLOURS_JS, selectors)
    assert set(colours) == set(selectors), set(selectors) - set(colours)
    for selector, (foreground, background) in colours.items():
        ratio = contrast(foreground, background)
        assert ratio >= 4.5, f"{selector}: {foreground} on {background} is {ratio:.2f}:1, below WCAG AA"
    assert page_errors == []


# --- scripted assistant only ---------------------------------------------------------------


def test_text_is_never_rendered_as_html(
    widget_stub: str, new_context: Callable[..., BrowserContext], page_errors: list[str]
) -> None:
    page, chat = open_demo(new_context(), widget_stub, page_errors)
    chat.open()
    chat.wait_for_greeting()
    attack = '<img src=x onerror="window.__pwned=1"><b>bold</b><script>window.__pwned=2</script>'
    chat.ask(attack)
    expect(chat.bot_bubbles().last).to_contain_text("You said: <img src=x")  # the scripted echo
    expect(chat.user_bubbles().last).to_contain_text("<b>bold</b>")
    shadow_tags = page.evaluate(
        "() => [...document.getElementById('clinic-chat-widget').shadowRoot.querySelectorAll('.log img, .log b, "
        ".log script')].length"
    )
    assert shadow_tags == 0
    assert page.evaluate("window.__pwned") is None
    assert page_errors == []


def test_links_in_replies_are_clickable_and_safe(
    widget_stub: str, new_context: Callable[..., BrowserContext], page_errors: list[str]
) -> None:
    _, chat = open_demo(new_context(), widget_stub, page_errors)
    chat.open()
    chat.wait_for_greeting()
    chat.ask("please send a link")
    guide = chat.log.get_by_role("link", name=re.compile("the consent guide"))
    expect(guide).to_have_attribute("href", "https://example.org/consent")
    expect(guide).to_have_attribute("target", "_blank")
    expect(guide).to_have_attribute("rel", "noopener noreferrer")
    expect(chat.log.get_by_role("link", name="https://example.org/faq")).to_have_attribute(
        "href", "https://example.org/faq"
    )
    chat.ask("[click](javascript:alert(1)) and javascript:alert(2)")
    expect(chat.log.locator("a[href^='javascript']")).to_have_count(0)
    assert page_errors == []


def test_typing_indicator_shows_while_the_assistant_works(
    widget_stub: str, new_context: Callable[..., BrowserContext], page_errors: list[str]
) -> None:
    _, chat = open_demo(new_context(), widget_stub, page_errors)
    chat.open()
    chat.wait_for_greeting()
    chat.input.fill("a slow question")
    chat.input.press("Enter")
    expect(chat.typing).to_have_text(re.compile("typing"))
    expect(chat.bot_bubbles().last).to_contain_text("You said: a slow question")
    expect(chat.typing).to_be_empty()
    assert page_errors == []


def test_oversized_messages_are_stopped_before_sending(
    widget_stub: str, new_context: Callable[..., BrowserContext], page_errors: list[str]
) -> None:
    page, chat = open_demo(new_context(), widget_stub, page_errors)
    chat.open()
    chat.wait_for_greeting()
    chat.input.fill("x" * 2001)
    expect(page.locator("#ccw-counter")).to_have_text(widget_text("notes.counter", count="2,001", limit="2,000"))
    expect(chat.input).to_have_attribute("aria-invalid", "true")
    chat.input.press("Enter")
    expect(chat.error_line).to_have_text(widget_text("notes.too_long", count="2,001", limit="2,000"))
    expect(chat.user_bubbles()).to_have_count(0)
    chat.input.fill("how long does it take")
    expect(chat.error_line).to_be_empty()
    assert page_errors == []


def test_error_line_and_automatic_reconnect(new_context: Callable[..., BrowserContext], page_errors: list[str]) -> None:
    port = free_port()
    server = f"http://127.0.0.1:{port}"
    process = start_stub(port, "widget-stub-reconnect.log")
    try:
        _, chat = open_demo(new_context(), server, page_errors)
        chat.open()
        chat.wait_for_greeting()
        chat.ask("how long does it take")

        stop(process)
        expect(chat.error_line).to_contain_text(connection_trouble())
        chat.screenshot("server-away")
        # Typed while the server is away: shown now, sent when it is back.
        chat.input.fill("are you back")
        chat.input.press("Enter")
        expect(chat.user_bubbles().last).to_have_text(re.compile("are you back"))

        process = start_stub(port, "widget-stub-reconnect.log")
        expect(chat.error_line).to_be_empty()
        expect(chat.bot_bubbles().last).to_contain_text("You said: are you back")
        expect(chat.user_bubbles().filter(has_text="how long does it take")).to_have_count(1)
        chat.ask("how long does it take")
        expect(chat.log).to_contain_text(HOW_LONG)
    finally:
        stop(process)
    assert page_errors == []


def test_works_under_a_strict_content_security_policy(
    widget_stub: str, new_context: Callable[..., BrowserContext], page_errors: list[str]
) -> None:
    """A clinic page that allows only the chat server's script and socket, and no inline styles."""
    ws = widget_stub.replace("http://", "ws://")
    policy = f"default-src 'none'; script-src {widget_stub}; connect-src {widget_stub} {ws}; style-src 'none'"
    html = '<!doctype html><title>Clinic</title><p>Clinic page</p><script src="/widget/widget.js" defer></script>'
    context = new_context()
    page = watch(context.new_page(), page_errors)
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security" in message.text else None)
    page.route(
        f"{widget_stub}/clinic-page",
        lambda route: route.fulfill(
            status=200, content_type="text/html", body=html, headers={"Content-Security-Policy": policy}
        ),
    )
    page.goto(f"{widget_stub}/clinic-page")
    chat = Chat(page)
    chat.open()
    chat.ask("how long does it take")
    expect(chat.log).to_contain_text(HOW_LONG)
    position = page.evaluate(
        "() => getComputedStyle(document.getElementById('clinic-chat-widget').shadowRoot.querySelector('.launcher'))"
        ".position"
    )
    assert position == "fixed", "the widget's styles must apply without 'unsafe-inline'"
    assert violations == []
    assert page_errors == []
