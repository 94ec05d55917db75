"""Variant: the action server's answer is checked against the same schema, by a validator built once.

``RemoteAction._validate_action_result`` calls ``jsonschema.validate(result,
schema)``, which first validates the schema itself against the meta-schema
(``check_schema``) - for Rasa's event schema that is most of the cost, on
every custom action call. Same result and the same error, without the repeat.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from jsonschema import exceptions, validators

_VALIDATORS: dict[str, Any] = {}
_original = jsonschema.validate


def validate(instance: Any, schema: Any, cls: Any = None, *args: Any, **kwargs: Any) -> None:
    if cls is not None or args or kwargs:
        return _original(instance, schema, cls, *args, **kwargs)
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


jsonschema.validate = validate
