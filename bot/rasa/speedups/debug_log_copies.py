"""Speed-up ``debug-log-copies``: deep copies made only for debug log lines that are logged.

Rasa's message processor, forms and rule policy deep-copy events, slots and messages for
every debug log line they pass to structlog, also when debug logging is off and the line is
dropped. There those copies are made only when the ``rasa`` logger logs debug lines.

Importing this module changes nothing in Rasa: ``bot.rasa.speedups.install()`` applies ``PATCHES``.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from rasa.core import processor as rasa_processor
from rasa.core.actions import forms as rasa_forms
from rasa.core.policies import rule_policy

_RASA_LOGGER = logging.getLogger("rasa")


class CopyForDebugLogs:
    """The ``copy`` module for modules whose deep copies only go into debug log lines."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return copy.deepcopy(value, memo) if _RASA_LOGGER.isEnabledFor(logging.DEBUG) else value


# Only in modules whose every ``copy.`` use feeds a debug log line (read in Rasa 3.6.21).
MODULES = (rasa_processor, rasa_forms, rule_policy)
PATCHES: list[tuple[Any, str, Any]] = [(module, "copy", CopyForDebugLogs()) for module in MODULES]
# Every Rasa name the code above relies on: each module's own ``copy`` (``import copy`` there).
RASA_NAMES: list[tuple[Any, str]] = [(module, "copy") for module in MODULES]
