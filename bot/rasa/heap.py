"""Tells Python's garbage collector that what a server built at start-up stays (issue 8).

A Rasa server holds about a million objects once the model is loaded (TensorFlow, spaCy,
scikit-learn, the domain); the action server about half as many. Every full collection
walked all of them: pauses of 250-330 ms, measured in both servers during `make bench`,
each holding up every message in flight. ``gc.freeze()`` moves everything alive now into a
generation the collector never walks; objects made later (conversations, messages) are
collected as before. Called once start-up is over: the action server after importing the
actions, the Rasa server on its first message (the launchers' warm-up message).
"""

from __future__ import annotations

import gc

from bot import settings

NAME = "freeze-heap"  # in SPEEDUPS_OFF: leave it off
_frozen = False


def freeze_startup() -> None:
    """Once per process: exempt every object alive now from garbage collection scans."""
    global _frozen
    if not _frozen:
        _frozen = True  # asked once per process, also when left off
        if NAME not in settings.speedups_off():
            gc.freeze()
