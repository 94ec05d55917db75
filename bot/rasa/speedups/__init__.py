"""Per-message costs of Rasa 3.6 removed, same results (each measured in bench/results.md, issue 8).

One module per speed-up, each a plain module that defines its replacement functions, the
``PATCHES`` it makes (owner, attribute, new value) and the ``RASA_NAMES`` its code relies on;
its docstring says why. Each computes what Rasa computes, only without repeating work;
tests/rasa/test_speedups.py checks each against Rasa's own code.

Importing this package or any of its modules changes nothing in Rasa. ``install()`` does,
once, in the process that serves: ``python -m bot serve`` (bot/rasa/serve.py) calls it
before Rasa's own ``rasa run``, and bench/profile.py before it loads the model in-process.
It installs nothing on any Rasa but the one the patches were written for (``WRITTEN_FOR``):
their bodies are Rasa 3.6's, and in another Rasa they would silently replace that Rasa's
code with 3.6's. ``uninstall()`` puts Rasa's own attributes back.

Each speed-up has a name (``SPEEDUPS``); ``SPEEDUPS_OFF=name,name`` leaves those off, which is
how bench/variants/without-* measure what each is worth (bench/results.md).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import logging
import re
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from bot import settings
from bot.rasa import heap

WRITTEN_FOR = "3.6.21"  # the Rasa version whose code the patches replace (and whose bodies they copy)

SPEEDUPS: dict[str, str] = {  # name (as in SPEEDUPS_OFF): its module in this package
    "action-response-check": "action_response",
    "applied-events": "applied_events",
    "graph-runner": "graph_runner",
    "classifier": "classifier",
    "action-server-connection": "action_connection",
    "debug-log-copies": "debug_log_copies",
    "message-turns": "message_turns",
}
# Always in place; off means MAX_CONCURRENT_MESSAGES=0. It also freezes the heap (bot/rasa/heap.py).
ALWAYS_INSTALLED = "message-turns"

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class _Original:
    """What an owner's own ``__dict__`` held for a patched attribute, or that it held nothing (inherited)."""

    owner: Any
    attribute: str
    value: Any
    own: bool


_installed: dict[str, list[_Original]] = {}  # name: what its patches replaced, in the order they were made


def module(name: str) -> ModuleType:
    """The module of speed-up ``name`` (imported now: importing patches nothing)."""
    return importlib.import_module(f"{__name__}.{SPEEDUPS[name]}")


def rasa_version() -> str:
    """The Rasa version this process runs (read at each call)."""
    from rasa import version

    return str(version.__version__)


def installed() -> frozenset[str]:
    """Names of the speed-ups in place now (``message-turns`` whenever any is: off, it sets no limit)."""
    return frozenset(_installed)


def install(off: Iterable[str] | None = None) -> bool:
    """Puts the speed-ups not named in ``off`` (default: ``SPEEDUPS_OFF``) into Rasa; True if they are in place.

    A second call does nothing (``uninstall()`` first to change which are on). On a Rasa other
    than ``WRITTEN_FOR`` it logs one error and installs nothing: the assistant then runs at
    Rasa's own speed, with Rasa's own code, rather than with 3.6's code in another Rasa.
    Unknown names in ``off`` raise ``settings.SettingsError`` (a typo must not leave one on).
    """
    if _installed:
        return True
    version = rasa_version()
    if version != WRITTEN_FOR:
        logger.error(
            "Rasa %s is installed, but the speed-ups (bot/rasa/speedups/) were written for Rasa %s: "
            "no speed-up was installed, the assistant runs at stock Rasa speed.",
            version,
            WRITTEN_FOR,
        )
        return False
    left_off = frozenset(settings.speedups_off() if off is None else off)
    unknown = left_off - SPEEDUPS.keys() - {heap.NAME}
    if unknown:
        raise settings.SettingsError(
            f"SPEEDUPS_OFF names {', '.join(sorted(unknown))}; the speed-ups are {', '.join([*SPEEDUPS, heap.NAME])}"
        )
    chosen = {name: module(name) for name in SPEEDUPS if name not in left_off or name == ALWAYS_INSTALLED}
    from bot.rasa.speedups import message_turns  # imported above; only after the version check, as every module

    message_turns.MAX_CONCURRENT_MESSAGES = 0 if ALWAYS_INSTALLED in left_off else settings.max_concurrent_messages()
    heap.leave_off(heap.NAME in left_off)
    for name, speedup in chosen.items():
        _installed[name] = _apply(speedup.PATCHES)
    logger.info("Rasa speed-ups installed: %s", ", ".join(chosen))
    return True


def uninstall() -> None:
    """Puts Rasa's own attributes back, exactly as they were in each owner's ``__dict__``."""
    for name in reversed(list(_installed)):
        _restore(_installed.pop(name))
    heap.leave_off(None)


def _apply(patches: Iterable[tuple[Any, str, Any]]) -> list[_Original]:
    """Sets each (owner, attribute, value); returns what the owners' own ``__dict__`` held before."""
    originals = []
    for owner, attribute, value in patches:
        own = attribute in vars(owner)
        originals.append(_Original(owner, attribute, vars(owner)[attribute] if own else None, own))
        setattr(owner, attribute, value)
    return originals


def _restore(originals: list[_Original]) -> None:
    """Undoes ``_apply``, last patch first: the value put back as it was (a classmethod as the
    classmethod object), an attribute that was inherited deleted again."""
    for original in reversed(originals):
        if original.own:
            setattr(original.owner, original.attribute, original.value)
        else:
            delattr(original.owner, original.attribute)


def _constructor_assigns(owner: Any, attribute: str) -> bool:
    """Whether ``owner``'s constructor (or a base class's) assigns ``self.<attribute>``: an instance attribute."""
    for cls in inspect.getmro(owner) if inspect.isclass(owner) else ():
        init = vars(cls).get("__init__")
        if init is None or not inspect.isfunction(init):
            continue
        try:
            source = inspect.getsource(init)
        except (OSError, TypeError):
            continue
        if re.search(rf"\bself\.{re.escape(attribute)}\s*(:[^=\n]+)?=(?!=)", source):
            return True
    return False


def rasa_names_missing(names: Iterable[tuple[Any, str]] | None = None) -> list[str]:
    """Which Rasa names the speed-ups rely on (default: every module's ``RASA_NAMES`` and patched
    attributes) the Rasa in this process lacks: what to look at first when porting to another Rasa.

    A name is there as a class or module attribute, a dataclass field, or an attribute the
    class's constructor assigns (``self.name = ...``).
    """
    if names is None:
        names = [
            pair
            for name in SPEEDUPS
            for pair in (*module(name).RASA_NAMES, *((o, a) for o, a, _ in module(name).PATCHES))
        ]
    missing = []
    for owner, attribute in names:
        fields = {field.name for field in dataclasses.fields(owner)} if dataclasses.is_dataclass(owner) else set()
        if not (hasattr(owner, attribute) or attribute in fields or _constructor_assigns(owner, attribute)):
            missing.append(f"{getattr(owner, '__qualname__', getattr(owner, '__name__', owner))}.{attribute}")
    return missing
