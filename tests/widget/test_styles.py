"""The widget's stylesheet: text sizes the browser's setting can scale, and a dark theme."""

from __future__ import annotations

import re

from bot.settings import PROJECT_ROOT

STYLES = (PROJECT_ROOT / "widget" / "src" / "styles.js").read_text(encoding="utf-8")


def test_no_text_size_is_fixed_in_pixels() -> None:
    sizes = re.findall(r"font-size:\s*([^;]+);", STYLES)
    assert sizes, "the stylesheet sets text sizes"
    fixed = [size for size in sizes if re.search(r"\d(px|pt)\b", size)]
    assert fixed == [], f"text sizes in px or pt ignore the browser's text-size setting: {fixed}"
    assert re.search(r"\.ccw \{[^}]*font-size: medium;", STYLES), "the root size is the browser's own (medium)"


def test_a_dark_theme_follows_the_system() -> None:
    dark = STYLES.split("@media (prefers-color-scheme: dark)", 1)
    assert len(dark) == 2, "no dark theme"
    for variable in ("--ccw-text", "--ccw-surface", "--ccw-bot", "--ccw-link"):
        assert variable in dark[1].split("\n}\n", 1)[0], f"the dark theme does not set {variable}"
