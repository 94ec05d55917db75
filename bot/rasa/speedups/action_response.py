"""Speed-up ``action-response-check``: the action server's answers checked against their own event type.

``RemoteAction`` checks each action server answer against a JSON schema whose events are a
``oneOf`` over every event type, so each event was tried against all of them (about 1 ms a
call). An event is now checked against the one alternative its ``event`` field names; an
answer that fails is checked again by the whole schema, so errors read as before.

Importing this module changes nothing in Rasa: ``bot.rasa.speedups.install()`` applies ``PATCHES``.
"""

from __future__ import annotations

import copy
from typing import Any

from jsonschema import exceptions, validators
from rasa.core.actions.action import RemoteAction


class ActionResponseCheck:
    """Rasa's action-response schema, with each event checked only against its own event type."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.full = validators.validator_for(schema)(schema)
        self.base: Any = None
        self.by_type: dict[str, Any] = {}
        items = schema.get("properties", {}).get("events", {}).get("items", {})
        alternatives = items.get("oneOf") or []
        names = [alt.get("properties", {}).get("event", {}).get("const") for alt in alternatives]
        if not names or None in names or len(set(names)) != len(names) or "event" not in items.get("required", []):
            return  # not the shape this relies on: every answer goes through the full schema
        base = copy.deepcopy(schema)
        del base["properties"]["events"]["items"]["oneOf"]
        self.base = self.full.__class__(base)
        self.by_type = {name: self.full.__class__(alt) for name, alt in zip(names, alternatives, strict=True)}

    def passes_quickly(self, result: Any) -> bool:
        """True only if the full schema passes too: base schema, and each event's own alternative.

        Every alternative pins ``event`` to a different constant, so an event valid for the
        alternative its type names fails every other one: exactly one of ``oneOf`` holds.
        """
        if self.base is None or not self.base.is_valid(result):
            return False
        for event in result.get("events") or ():
            check = self.by_type.get(event.get("event"))
            if check is None or not check.is_valid(event):
                return False
        return True

    def validate(self, result: Any) -> None:
        """Raises ``jsonschema.ValidationError`` exactly when the full schema does."""
        if self.passes_quickly(result):
            return
        error = exceptions.best_match(self.full.iter_errors(result))
        if error is not None:
            raise error


ACTION_RESPONSE = ActionResponseCheck(RemoteAction.action_response_format_spec())
_validate_action_result = RemoteAction._validate_action_result  # Rasa's own, kept for the answers that fail


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with the quick check first; failures as Rasa reports them."""
    if ACTION_RESPONSE.passes_quickly(result):
        return True
    return _validate_action_result(self, result)


PATCHES: list[tuple[Any, str, Any]] = [(RemoteAction, "_validate_action_result", validate_action_result)]
# Every Rasa name the code above relies on (the shape of the schema is checked by ActionResponseCheck itself).
RASA_NAMES: list[tuple[Any, str]] = [
    (RemoteAction, "_validate_action_result"),
    (RemoteAction, "action_response_format_spec"),
]
