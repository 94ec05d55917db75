"""Variant: build the teach-back judge as the action server loads its actions.

``bot.teachback.default_judge()`` loads the project's spaCy pipeline on first use
(about 2.5 s here): the first patient of each action server process to reach the
understanding step waits that long for an answer. Here it is built at start-up.
"""

from __future__ import annotations

from types import ModuleType

from _posthook import after_import  # bench/variants is on PYTHONPATH


def _warm(_module: ModuleType) -> None:
    from bot import teachback

    teachback.default_judge()


after_import("actions.consent", _warm)
