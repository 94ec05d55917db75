"""Tells Python's garbage collector that what a server built at start-up stays (issue 8).

A Rasa server holds about a million objects once the model is loaded (TensorFlow, spaCy,
scikit-learn, the domain); the action server about half as many. Every full collection
walked all of them: pauses of 250-330 ms, measured in both servers during `make bench`,
each holding up every message in flight. ``gc.freeze()`` moves everything alive now into a
generation the collector never walks; objects made later (conversations, messages) are
collected as before. Called once start-up is over: the action server after importing the
actions, the Rasa server on its first message (the launchers' warm-up message, through the
``message-turns`` speed-up that ``bot.rasa.speedups.install()`` puts in place).
"""

from __future__ import annotations

import gc

from bot import settings

NAME = "freeze-heap"  # in SPEEDUPS_OFF: leave it off
_frozen = False
# Whether to leave it off as bot.rasa.speedups.install() was told (its ``off``); None: as SPEEDUPS_OFF says.
_left_off: bool | None = None


def leave_off(off: bool | None) -> None:
    """Leave the freeze off (True) or not (False) whatever SPEEDUPS_OFF says; None: as SPEEDUPS_OFF says."""
    global _left_off
    _left_off = off


def freeze_startup() -> None:
    """Once per process: exempt every object alive now from garbage collection scans."""
    global _frozen
    if not _frozen:
        _frozen = True  # asked once per process, also when left off
        if not (NAME in settings.speedups_off() if _left_off is None else _left_off):
            gc.freeze()
