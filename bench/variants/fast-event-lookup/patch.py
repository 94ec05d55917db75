"""Variant: ``Event.resolve_by_type`` remembers the class it found for each event type name.

Rasa 3.6 turns every stored or received event back into an object by calling
``Event.resolve_by_type(type_name)``, which walks the whole ``Event`` class tree
(``all_subclasses`` + ``inspect.isabstract`` for each) on every call - about a
hundred times per message here (tracker replay, action server answers). The
tree does not change after start-up; the first match for a name is kept.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from _posthook import after_import  # bench/variants is on PYTHONPATH


def _patch(module: ModuleType) -> None:
    event_class = module.Event
    original = event_class.resolve_by_type
    found: dict[str, Any] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        cls = found.get(type_name)
        if cls is not None:
            return cls
        cls = original(type_name, default)
        if cls is not None and cls is not default and getattr(cls, "type_name", None) == type_name:
            found[type_name] = cls
        return cls

    event_class.resolve_by_type = staticmethod(resolve_by_type)


after_import("rasa.shared.core.events", _patch)
