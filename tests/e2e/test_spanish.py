"""The real assistant in Spanish over the REST channel: chosen, detected, switched, and in an emergency.

Wording is the clinic's: each reply is compared with the Spanish content file's text for the message
that was sent (bot.content), never with a sentence written here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from bot.consent.record import UNDERSTOOD
from bot.content import consent_content_in, languages, message
from bot.content.messages import fill
from bot.content.responses import responses_in
from bot.content.sms import sms_texts_in
from bot.records import consent_store
from devtools import launch
from devtools.launch import Running
from tests.helpers.chat_client import ChatClient
from tests.helpers.conversations import new_sender, sent_names
from tests.helpers.servers import quick_channels
from tests.helpers.twilio import text_the_assistant

pytestmark = pytest.mark.e2e

CHOOSE_SPANISH = '/change_language{"language": "es"}'


def spanish_response(name: str) -> str:
    """The Spanish response ``name`` as sent: its clinic slots filled with the clinic's facts."""
    with languages.use(languages.SPANISH):
        return fill(str(responses_in(languages.SPANISH)[name][0]["text"]))


def in_spanish(name: str, **values: Any) -> str:
    with languages.use(languages.SPANISH):
        return message(name, **values).text


def texts(reply: list[dict[str, Any]]) -> list[str]:
    return [str(part.get("text") or "") for part in reply]


def test_a_spanish_question_is_answered_in_spanish(assistant: Running) -> None:
    sender = new_sender()
    reply = assistant.say(sender, "cuanto tiempo dura el procedimiento de la inyeccion?")
    assert sent_names(assistant, sender)[0] == "utter_ask_duration"
    assert texts(reply)[0] == spanish_response("utter_ask_duration")


def test_hola_alone_is_greeted_in_spanish(assistant: Running) -> None:
    sender = new_sender()
    reply = assistant.say(sender, "hola")
    assert sent_names(assistant, sender)[0] == "utter_greet"
    assert texts(reply)[0] == spanish_response("utter_greet")


def test_the_spanish_button_switches_and_english_switches_back(assistant: Running) -> None:
    sender = new_sender()
    english = assistant.say(sender, "how long does it take")
    assert "less than an hour" in texts(english)[0]
    chosen = assistant.say(sender, CHOOSE_SPANISH)
    assert texts(chosen)[0] == spanish_response("utter_language_changed")
    answered = assistant.say(sender, "what are the side effects")  # English words, Spanish chosen
    assert texts(answered)[0] == spanish_response("utter_ask_side_effects")
    back = assistant.say(sender, "English")
    assert "English" in texts(back)[0]
    assert "less than an hour" in texts(assistant.say(sender, "how long does it take"))[0]


def test_typing_espanol_alone_changes_the_language(assistant: Running) -> None:
    sender = new_sender()
    reply = assistant.say(sender, "Español")
    assert sent_names(assistant, sender) == ["utter_language_changed"]
    assert texts(reply)[0] == spanish_response("utter_language_changed")


def test_the_page_can_ask_for_spanish(assistant: Running) -> None:
    sender = new_sender()
    reply = assistant.say(sender, "hello", metadata={"lang": "es"})
    assert texts(reply)[0] == spanish_response("utter_greet")
    assert in_spanish("menu") in texts(reply)


def test_an_emergency_in_a_spanish_conversation_is_answered_in_spanish(assistant: Running) -> None:
    sender = new_sender()
    assistant.say(sender, CHOOSE_SPANISH)
    reply = assistant.say(sender, "my husband cant breathe")
    assert sent_names(assistant, sender)[-len(reply) :][0] == "emergency"
    assert texts(reply)[0] == in_spanish("emergency")


def test_a_spanish_suicide_message_gets_988_in_spanish(assistant: Running) -> None:
    sender = new_sender()
    reply = assistant.say(sender, "ya no quiero vivir, estoy pensando en tomarme todas las pastillas")
    assert texts(reply)[0] == in_spanish("emergency_self_harm")


# Spanish answers to every candidacy question, in content order: a choice by its Spanish title (the value the
# English helper picks), the others typed.
SPANISH_TYPED = {
    "condition": "dolor de espalda",
    "severity": "7",
    "treatments_tried": "terapia física",
    "other_health": "no",
}
SPANISH_CHOSEN = {"purpose": "pain", "treatments_helped": "a_little", "pregnancy": "not_applicable"}
RIGHT_TEACHBACK_ES = [
    "bloquea las señales de dolor del nervio",
    "dolor donde entró la aguja",
    "una infección",
    "no, el efecto se puede pasar con el tiempo",
    "no, no es una cura",
]


def spanish_answers() -> list[str]:
    """A clear Spanish answer to each question, titles read from content/es/consent.yml."""
    questions = consent_content_in(languages.SPANISH).questions
    answers = []
    for question in questions:
        if question.id in SPANISH_TYPED:
            answers.append(SPANISH_TYPED[question.id])
            continue
        wanted = SPANISH_CHOSEN.get(question.id, "no")
        answers.append(next(option.title for option in question.options if option.value == wanted))
    return answers


def test_a_whole_consent_in_spanish_is_recorded_with_its_language_and_the_patients_words(assistant: Running) -> None:
    sender = new_sender()
    assistant.say(sender, CHOOSE_SPANISH)
    opened = assistant.say(sender, "quiero empezar con el consentimiento")
    first = consent_content_in(languages.SPANISH).questions[0]
    assert any(first.text in text for text in texts(opened)), texts(opened)
    for answer in spanish_answers() + RIGHT_TEACHBACK_ES:
        assistant.say(sender, answer)
    go_ahead = consent_content_in(languages.SPANISH).decision("go_ahead")
    assert go_ahead is not None
    done = assistant.say(sender, go_ahead.title)
    assert "recorded_go_ahead" in sent_names(assistant, sender)
    assert in_spanish("recorded_go_ahead") in texts(done)
    (record,) = [r for r in consent_store.records(assistant.database_url) if r.conversation_id == sender]
    assert record.decision == "go_ahead" and record.payload.language == languages.SPANISH
    said = {answer.id: answer.said for answer in record.payload.candidacy}
    assert said["condition"] == SPANISH_TYPED["condition"]
    assert [item.result for item in record.payload.teachback] == [UNDERSTOOD] * len(RIGHT_TEACHBACK_ES)


def test_switching_to_spanish_in_the_middle_of_the_questions_asks_again_in_spanish(assistant: Running) -> None:
    sender = new_sender()
    english = assistant.say(sender, "I consent")
    first_en = consent_content_in(languages.ENGLISH).questions[0].text
    assert any(first_en in text for text in texts(english))
    switched = assistant.say(sender, "español")
    assert texts(switched)[0] == spanish_response("utter_language_changed")
    first_es = consent_content_in(languages.SPANISH).questions[0].text
    assert any(first_es in text for text in texts(switched)), texts(switched)


@pytest.fixture(scope="module")
def quick_assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """Its own assistant, whose SMS and socket rate limits let a whole consent be sent in a minute."""
    folder = tmp_path_factory.mktemp("quick")
    with launch.assistant(folder / "assistant", credentials=quick_channels(folder)) as running:
        yield running


def test_a_whole_consent_in_spanish_over_sms(quick_assistant: Running) -> None:
    """Texted in Spanish: every question in Spanish with Spanish numbered choices, answers by number and in
    words, a Spanish record."""
    patient = f"+1555{uuid.uuid4().int % 10_000_000:07d}"
    questions = consent_content_in(languages.SPANISH).questions
    url = quick_assistant.base_url
    opened = " ".join(text_the_assistant(url, patient, "quiero empezar el consentimiento por favor"))
    assert questions[0].text in opened
    assert sms_texts_in(languages.SPANISH)["choices"].split("{")[0] in opened  # "Responda 1 para ..."
    chosen = {"purpose": "1", "treatments_helped": "2", "pregnancy": "3"}  # Dolor, Un poco, No aplica
    for question in questions:  # a yes/no question's "2" is No
        text_the_assistant(url, patient, SPANISH_TYPED.get(question.id) or chosen.get(question.id, "2"))
    for answer in RIGHT_TEACHBACK_ES:
        text_the_assistant(url, patient, answer)
    text_the_assistant(url, patient, "1")  # Seguir adelante
    (record,) = [r for r in consent_store.records(quick_assistant.database_url) if r.channel == "sms"]
    assert record.decision == "go_ahead" and record.payload.language == languages.SPANISH
    assert {answer.id: answer.said for answer in record.payload.candidacy}["condition"] == SPANISH_TYPED["condition"]


@pytest.mark.asyncio
async def test_a_whole_consent_in_spanish_over_the_website_socket(quick_assistant: Running) -> None:
    """A page in Spanish (the widget's ``lang``): the greeting, every question and the teach-back in Spanish,
    choices tapped as buttons, a Spanish record from the socket channel."""
    client = ChatClient(quick_assistant.base_url)
    await client.connect()
    try:
        await client.start_session(lang=languages.SPANISH)
        greeted = await client.say("hola")
        assert texts(greeted)[0] == spanish_response("utter_greet")
        questions = consent_content_in(languages.SPANISH).questions
        opened = await client.say("quiero empezar con el consentimiento")
        assert any(questions[0].text in text for text in texts(opened)), texts(opened)
        for question in questions:
            if question.id in SPANISH_TYPED:
                await client.say(SPANISH_TYPED[question.id])
                continue
            wanted = SPANISH_CHOSEN.get(question.id, "no")
            (button,) = [option for option in question.options if option.value == wanted]
            asked = [message for message in client.bot_messages if message.get("quick_replies")][-1]
            payloads = {str(b.get("title")): str(b.get("payload")) for b in asked["quick_replies"]}
            await client.say(payloads[button.title])
        for answer in RIGHT_TEACHBACK_ES:
            await client.say(answer)
        go_ahead = consent_content_in(languages.SPANISH).decision("go_ahead")
        assert go_ahead is not None
        done = await client.say(go_ahead.title)
        assert in_spanish("recorded_go_ahead") in texts(done)
    finally:
        await client.close()
    (record,) = [r for r in consent_store.records(quick_assistant.database_url) if r.channel == "socketio"]
    assert record.decision == "go_ahead" and record.payload.language == languages.SPANISH
    said = {answer.id: answer.said for answer in record.payload.candidacy}
    assert said["condition"] == SPANISH_TYPED["condition"]
    assert [item.result for item in record.payload.teachback] == [UNDERSTOOD] * len(RIGHT_TEACHBACK_ES)
