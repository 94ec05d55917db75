"""Two per-message costs of Rasa 3.6 removed, same results (measured in bench/results.md, issue 8).

Imported by bot/components.py, so every Rasa process that loads the model has it.

1. ``RemoteAction`` checks each action server answer with ``jsonschema.validate``, which
   first re-validates Rasa's large event schema against the JSON Schema meta-schema - on
   every custom action call (17 ms each here). The validator is built once per schema.
2. ``Event.resolve_by_type`` walks the whole ``Event`` class tree for every event read back
   (tracker replay, action server answers). The class found for each type name is kept.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from jsonschema import exceptions, validators
from rasa.shared.core.events import Event

_validate = jsonschema.validate
_resolve_by_type = Event.resolve_by_type
_VALIDATORS: dict[str, Any] = {}
_EVENT_CLASSES: dict[str, Any] = {}


def validate(instance: Any, schema: Any, cls: Any = None, *args: Any, **kwargs: Any) -> None:
    """``jsonschema.validate`` with the schema checked and the validator built once per schema."""
    if cls is not None or args or kwargs:
        return _validate(instance, schema, cls, *args, **kwargs)
    key = json.dumps(schema, sort_keys=True, default=str)
    validator = _VALIDATORS.get(key)
    if validator is None:
        validator_class = validators.validator_for(schema)
        validator_class.check_schema(schema)
        validator = _VALIDATORS[key] = validator_class(schema)
    error = exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        raise error
    return None


def resolve_by_type(type_name: str, default: Any = None) -> Any:
    """``Event.resolve_by_type``, remembering the class found for each type name."""
    found = _EVENT_CLASSES.get(type_name)
    if found is not None:
        return found
    found = _resolve_by_type(type_name, default)
    if found is not None and found is not default and getattr(found, "type_name", None) == type_name:
        _EVENT_CLASSES[type_name] = found
    return found


jsonschema.validate = validate
Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]
