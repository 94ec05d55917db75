"""An SMS exchange drawn as a phone's messages app shows it, for the README's screenshots.

The texts are the real ones: what the fake Twilio was asked to send and what the SMS webhook
answered. Only the frame (a plain phone-width page with bubbles) is drawn here.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page

from tests.helpers.servers import ARTIFACTS

_LINK = re.compile(r"(https?://\S+)")

_STYLE = """
body { margin: 0; background: #f2f2f7; font: 17px/1.35 -apple-system, "Segoe UI", Roboto, sans-serif; }
header { background: #fff; border-bottom: 1px solid #d1d1d6; padding: 14px; text-align: center; }
header b { display: block; font-size: 15px; }
header small { color: #6b6b70; font-size: 12px; }
main { display: flex; flex-direction: column; gap: 6px; padding: 12px; }
.msg { max-width: 78%; padding: 8px 12px; border-radius: 18px; white-space: pre-wrap; overflow-wrap: anywhere; }
.them { align-self: flex-start; background: #e5e5ea; color: #000; }
.me { align-self: flex-end; background: #0b84fe; color: #fff; }
.them a { color: #0b5bd3; }
"""


@dataclass(frozen=True)
class Text:
    """One SMS: from the patient (``mine``) or from the clinic's number."""

    body: str
    mine: bool = False


def thread_html(clinic: str, number: str, texts: list[Text]) -> str:
    """The page: the clinic's name and number on top, the texts as bubbles, links underlined as a phone does."""
    bubbles = []
    for text in texts:
        body = _LINK.sub(r'<a href="\1">\1</a>', html.escape(text.body))
        bubbles.append(f'<div class="msg {"me" if text.mine else "them"}">{body}</div>')
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>SMS</title><style>{_STYLE}</style>"
        f"<header><b>{html.escape(clinic)}</b><small>{html.escape(number)}</small></header>"
        f"<main>{''.join(bubbles)}</main></html>"
    )


def screenshot_thread(page: Page, name: str, clinic: str, number: str, texts: list[Text]) -> Path:
    """Draw the exchange at a phone's width and save it under tests/artifacts/ (copied to docs/ by hand)."""
    page.set_viewport_size({"width": 390, "height": 700})
    page.set_content(thread_html(clinic, number, texts))
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
