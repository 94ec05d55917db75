"""The emergency reply written by the Rasa server itself (bot/rasa/nlg.py), without the action server."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.core.actions.action import ActionBotResponse
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import NaturalLanguageGenerator, TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from actions import session
from bot.content import messages
from bot.language import safety
from bot.rasa import nlg
from bot.settings import PROJECT_ROOT
from devtools import launch

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))
EMERGENCY_NAMES = list(messages.EMERGENCY_MESSAGES)


def tracker(entities: Sequence[dict[str, Any]] = (), earlier: Sequence[Event] = ()) -> DialogueStateTracker:
    """A conversation whose latest message is an emergency with ``entities``."""
    events = [
        *earlier,
        ActionExecuted("action_listen"),
        UserUttered("I can't breathe", {"name": "emergency", "confidence": 1.0}, list(entities)),
    ]
    return DialogueStateTracker.from_events("patient", events, slots=DOMAIN.slots)


def reply_entity(name: str) -> list[dict[str, Any]]:
    return [
        {"entity": "red_flag", "value": "breathing"},
        {"entity": "safety_verdict", "value": "emergency"},
        {"entity": "safety_reply", "value": name},
    ]


def server_nlg() -> NaturalLanguageGenerator:
    """The generator as the Rasa server builds it: from the endpoints file, before the model (and its
    responses) is loaded; the agent then hands it the model's responses."""
    generator = NaturalLanguageGenerator.create(EndpointConfig(type="bot.rasa.nlg.EmergencyNLG"), None)
    assert isinstance(generator, nlg.EmergencyNLG)
    generator.responses = DOMAIN.responses
    return generator


def generate(utter_action: str, conversation: DialogueStateTracker) -> dict[str, Any] | None:
    return asyncio.run(server_nlg().generate(utter_action, conversation, "rest"))


@pytest.mark.parametrize("name", EMERGENCY_NAMES)
def test_each_emergency_message_is_written_with_the_clinics_numbers(name: str) -> None:
    reply = generate("utter_emergency", tracker(reply_entity(name)))
    assert reply is not None and reply[messages.MESSAGE_NAME] == name
    facts = messages.clinic_values()
    for placeholder in messages.EMERGENCY_MESSAGES[name]:
        assert facts[placeholder.strip("{}")] in reply["text"], f"{name} lacks {placeholder}"
    assert not re.search(r"[{}]", reply["text"]), "no placeholder is left for the patient to see"
    assert reply["text"] != DOMAIN.responses["utter_emergency"][0]["text"]


@pytest.mark.parametrize(
    "entities",
    [
        [],  # no name (a classifier-only emergency, a button): the slot is empty
        [{"entity": "red_flag", "value": "breathing"}],
        reply_entity("menu"),  # a message, but no emergency message
        reply_entity("emergency_in_klingon"),
    ],
    ids=["nothing", "red flag only", "not an emergency message", "no such message"],
)
def test_without_an_emergency_message_named_the_reply_is_emergency(entities: list[dict[str, Any]]) -> None:
    reply = generate("utter_emergency", tracker(entities))
    assert reply is not None and reply[messages.MESSAGE_NAME] == "emergency"


def test_an_earlier_emergencys_choice_is_not_sent_again() -> None:
    """The slot still holds the Spanish crisis reply; this message named nothing, so it gets ``emergency``."""
    earlier: list[Event] = [SlotSet("safety_reply", "emergency_self_harm_es")]
    conversation = tracker([], earlier)
    assert conversation.get_slot("safety_reply") == "emergency_self_harm_es"
    reply = generate("utter_emergency", conversation)
    assert reply is not None and reply[messages.MESSAGE_NAME] == "emergency"


# The slots the action server sets when a session starts (actions/session.py).
CLINIC_SLOTS: list[Event] = [SlotSet(event["name"], event["value"]) for event in session.clinic_slots()]


@pytest.mark.parametrize(
    "utter_action", ["utter_ask_duration", "utter_greet", "utter_goodbye", "utter_calm_offer_person", "utter_nope"]
)
def test_every_other_response_is_rasas_own(utter_action: str) -> None:
    conversation = tracker([], CLINIC_SLOTS)
    rasa = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    own = asyncio.run(rasa.generate(utter_action, conversation, "rest"))
    expected = None if own is None else {**own, messages.MESSAGE_LANGUAGE: "en"}  # marked with its language
    assert generate(utter_action, conversation) == expected


@pytest.mark.parametrize("utter_action", ["utter_greet", "utter_goodbye", "utter_bot_challenge"])
def test_clinic_facts_the_session_start_could_not_set_come_from_the_content(utter_action: str) -> None:
    """The action server sets the clinic's slots when a session starts; when it was down they are empty."""
    empty = generate(utter_action, tracker())
    assert empty == generate(utter_action, tracker([], CLINIC_SLOTS))
    assert empty is not None and "None" not in empty["text"] and not re.search(r"[{}]", empty["text"])


def test_the_reply_needs_no_action_server() -> None:
    """Rasa's own response action, as the rule runs it: one bot message, named, nothing to fetch."""
    output = CollectingOutputChannel()
    events = asyncio.run(
        ActionBotResponse("utter_emergency").run(
            output, nlg.EmergencyNLG(domain=DOMAIN), tracker(reply_entity("emergency_poisoning")), DOMAIN
        )
    )
    [uttered] = events
    assert isinstance(uttered, BotUttered)
    assert messages.clinic_values()["poison_control"] in (uttered.text or "")
    assert uttered.metadata == {
        "utter_action": "utter_emergency",
        messages.MESSAGE_NAME: "emergency_poisoning",
        messages.MESSAGE_LANGUAGE: "en",
    }


ENDPOINTS_FILES = [
    PROJECT_ROOT / "endpoints.yml",
    PROJECT_ROOT / "deploy" / "endpoints.yml",
    *sorted((PROJECT_ROOT / "bench" / "variants").glob("*/endpoints.yml")),
]


@pytest.mark.parametrize("path", ENDPOINTS_FILES, ids=[str(p.relative_to(PROJECT_ROOT)) for p in ENDPOINTS_FILES])
def test_every_endpoints_file_names_the_generator(path: Path) -> None:
    """A server without it would send the domain's stand-in text instead of the emergency reply."""
    config = EndpointConfig.from_dict(yaml.safe_load(path.read_text())["nlg"])
    assert isinstance(NaturalLanguageGenerator.create(config, DOMAIN), nlg.EmergencyNLG)


def test_the_test_and_bench_launcher_names_it_too(tmp_path: Path) -> None:
    written = yaml.safe_load(launch.default_endpoints(tmp_path, "http://127.0.0.1:1/webhook").read_text())
    assert written["nlg"] == {"type": "bot.rasa.nlg.EmergencyNLG"}
    assert "nlg" not in yaml.safe_load(launch.default_endpoints(tmp_path, None, nlg=False).read_text())


SAFETY_CHECKS = [
    safety.SafetyCheck(verdict, categories, self_harm, "rules")
    for verdict, categories, self_harm in itertools.product(
        (safety.EMERGENCY, safety.POSSIBLE),
        ((), ("breathing",), ("overdose_poisoning",), ("self_harm",)),
        (False, True),
    )
]


@pytest.mark.parametrize("language", ["en", "es", "fr"])
@pytest.mark.parametrize("check", SAFETY_CHECKS)
def test_every_reply_the_safety_net_names_is_an_emergency_message(check: safety.SafetyCheck, language: str) -> None:
    """The contract with the NLU component: the name it puts in ``safety_reply`` is one this generator sends."""
    assert safety.reply_name(check, language) in messages.EMERGENCY_MESSAGES


def test_a_spanish_conversation_gets_the_spanish_response_marked_so() -> None:
    from bot.content.responses import responses_in

    conversation = tracker([], [*CLINIC_SLOTS, SlotSet("language", "es")])
    spanish = generate("utter_ask_duration", conversation)
    assert spanish is not None and spanish[messages.MESSAGE_LANGUAGE] == "es"
    assert spanish["text"] == responses_in("es")["utter_ask_duration"][0]["text"]
