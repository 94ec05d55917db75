"""The emergency reply, written by the Rasa server itself so it never waits for the action server;
every response in the conversation's language.

``utter_emergency`` is the first thing a patient in an emergency is told. Sent by a custom
action, it depended on the action server: stopped, it said nothing. This generator writes it
in the Rasa server, from ``content/messages.yml`` through ``bot.content`` (the loader the
actions use, so the wording has one home): the emergency message the safety net named for
this message (the ``safety_reply`` entity of ``bot.rasa.nlu_component``), or ``emergency``
when it named none, with the clinic's numbers filled in. No network, no database: the
content is read and every emergency message rendered once when the server starts. Every
other response is Rasa's own templated generator's, unchanged, with one exception: a clinic
fact whose slot is empty (the action server, which sets them at the session start, was
down) is filled from the same content instead of showing the patient "None". In a conversation
in another language (bot/content/languages.py) each response is that language's translation
(``content/es/responses.yml``), checked when the server starts.

Named in every endpoints file (a server without it would send the domain's stand-in text)::

    nlg:
      type: bot.rasa.nlg.EmergencyNLG
"""

from __future__ import annotations

from typing import Any

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import content
from bot.content import languages
from bot.content.messages import (
    ACTION_SERVER_DOWN,
    EMERGENCY_MESSAGES,
    MESSAGE_LANGUAGE,
    MESSAGE_NAME,
    SPANISH_SUFFIX,
    clinic_values,
)
from bot.content.responses import responses_in
from bot.language import safety
from bot.rasa.nlu_component import REPLY_ENTITY

EMERGENCY_RESPONSE = "utter_emergency"
DEFAULT_REPLY = safety.REPLY_EMERGENCY


def reply_name(tracker: DialogueStateTracker) -> str:
    """The emergency message the safety net named for the latest message; ``emergency`` if none or no such.

    The latest message's own entity, not the ``safety_reply`` slot: the slot keeps an earlier
    emergency's choice when this message names none (a classifier-only emergency, a button).
    """
    named = [entity.get("value") for entity in tracker.latest_message.entities if entity.get("entity") == REPLY_ENTITY]
    return next((str(name) for name in named if name in EMERGENCY_MESSAGES), DEFAULT_REPLY)


def content_reply(name: str, language: str = languages.ENGLISH) -> dict[str, Any]:
    """Content message ``name`` (an emergency reply, the apology of bot/rasa/resilience.py) in ``language``
    as Rasa sends a response, carrying its content name like an action's.

    In a conversation in another language than English, a Spanish emergency reply of the English file
    (``emergency_es``, which tells how to go on in Spanish) is that language's own
    ``emergency``.
    """
    if language != languages.ENGLISH:
        name = name.removesuffix(SPANISH_SUFFIX)
    with languages.use(language):
        message = content.message(name)
    return {"text": message.text, "buttons": list(message.buttons), MESSAGE_NAME: name, MESSAGE_LANGUAGE: language}


def language_of(tracker: DialogueStateTracker) -> str:
    """The language the conversation is answered in (its slots, bot/content/languages.py)."""
    return languages.of_slots({name: tracker.get_slot(name) for name in languages.SLOTS if name in tracker.slots})


class EmergencyNLG(TemplatedNaturalLanguageGenerator):
    """Rasa's templated generator; ``utter_emergency`` and empty clinic facts come from the content files."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, domain: Domain | None = None) -> None:
        """Rasa passes both (``nlg: type:`` in the endpoints file).

        Every emergency message, and the apology for a failed action server, is rendered once here,
        so a content error stops the server at start instead of failing the reply a patient is waiting for.
        """
        super().__init__(domain.responses if domain else {})  # Rasa sets the model's responses after loading it
        for language in languages.LANGUAGES:
            for name in (*EMERGENCY_MESSAGES, ACTION_SERVER_DOWN):
                content_reply(name, language)
        self.clinic_facts = clinic_values()
        # Rasa's own generator over each other language's responses (content/es/responses.yml), checked now.
        self.translated = {
            language: TemplatedNaturalLanguageGenerator(responses_in(language))
            for language in languages.LANGUAGES
            if language != languages.ENGLISH
        }

    async def generate(
        self, utter_action: str, tracker: DialogueStateTracker, output_channel: str, **kwargs: Any
    ) -> dict[str, Any] | None:
        """The emergency reply for ``utter_emergency``; Rasa's own response for anything else.

        A clinic fact whose slot is empty is given to Rasa's generator from the content files: the
        action server sets these slots when a session starts, and it may have been down then.
        """
        language = language_of(tracker)
        if utter_action == EMERGENCY_RESPONSE:
            return content_reply(reply_name(tracker), language)
        missing = {
            name: value
            for name, value in self.clinic_facts.items()
            if name in tracker.slots and tracker.get_slot(name) is None
        }
        translated = self.translated.get(language)
        if translated is None or utter_action not in translated.responses:
            generated = await super().generate(utter_action, tracker, output_channel, **{**missing, **kwargs})
            return _in(generated, languages.ENGLISH)
        with languages.use(language):
            facts = clinic_values()  # the hours in this language, whatever the slot holds
        generated = await translated.generate(utter_action, tracker, output_channel, **{**missing, **facts, **kwargs})
        return _in(generated, language)


def _in(response: dict[str, Any] | None, language: str) -> dict[str, Any] | None:
    """The response marked with the language it is in (``MESSAGE_LANGUAGE``), as actions mark theirs."""
    return None if response is None else {**response, MESSAGE_LANGUAGE: language}
