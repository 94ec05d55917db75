"""The two Rasa speed-ups keep Rasa's behaviour: same validation verdicts, same event classes."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses

from bot import rasa_speedups

SCHEMA = RemoteAction.action_response_format_spec()


def test_a_valid_action_response_passes() -> None:
    response = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}
    assert jsonschema.validate is rasa_speedups.validate
    jsonschema.validate(response, SCHEMA)


def test_an_invalid_action_response_is_refused_as_before() -> None:
    bad = {"events": [{"event": 42}], "responses": "not a list"}
    with pytest.raises(jsonschema.ValidationError):
        rasa_speedups._validate(bad, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


def test_every_event_type_resolves_to_the_same_class() -> None:
    for cls in all_subclasses(Event):
        if getattr(cls, "type_name", None):
            assert Event.resolve_by_type(cls.type_name) is rasa_speedups._resolve_by_type(cls.type_name)
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")
