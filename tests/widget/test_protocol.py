"""The widget and the server speak one protocol and the widget shows the clinic's current words.

Event names, the message limit and the refusal codes come from ``widget/protocol.json``,
which esbuild builds into the widget and ``bot.channels.web.protocol`` reads; these
tests check that credentials.yml does not say otherwise, that the built bundle carries
both the protocol and the texts of ``content/widget.yml``, and that the widget's source
takes every word it shows from there.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from bot.channels.web import protocol
from bot.channels.web import session as web_session
from bot.content import languages
from bot.content.widget import WIDGET_TEXTS, bundle_texts
from bot.settings import PROJECT_ROOT

WIDGET = PROJECT_ROOT / "widget"
BUNDLE = WIDGET / "dist" / "widget.js"
CHANNEL_KEY = "bot.channels.web.channel.SecureSocketIOInput"


def built_bundle() -> str:
    if not BUNDLE.is_file():
        pytest.fail(f"{BUNDLE} is missing: run `make widget` (scripts/build-widget.sh)")
    return BUNDLE.read_text(encoding="utf-8")


def test_credentials_repeat_the_protocol_without_changing_it() -> None:
    section = yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text())[CHANNEL_KEY]
    assert section.get("user_message_evt", protocol.USER_MESSAGE_EVT) == protocol.USER_MESSAGE_EVT
    assert section.get("bot_message_evt", protocol.BOT_MESSAGE_EVT) == protocol.BOT_MESSAGE_EVT
    assert int(section.get("max_message_chars", protocol.MAX_MESSAGE_CHARS)) == protocol.MAX_MESSAGE_CHARS
    assert web_session.MAX_MESSAGE_CHARS == protocol.MAX_MESSAGE_CHARS


@pytest.mark.parametrize(
    ("key", "value"), [("bot_message_evt", "bot_says"), ("user_message_evt", "say"), ("max_message_chars", 500)]
)
def test_the_server_refuses_credentials_that_would_break_the_built_widget(key: str, value: object) -> None:
    from bot.channels.web.channel import SecureSocketIOInput

    with pytest.raises(web_session.WidgetConfigError, match=f"credentials.yml: {key}"):
        SecureSocketIOInput.from_credentials({key: value})


def esbuild_ascii(char: str) -> str:
    """How esbuild writes a character outside ASCII (its default charset): ``\\xBF``, ``\\u2026``."""
    code = ord(char)
    if code < 0x7F:
        return char
    if code <= 0xFF:
        return f"\\x{code:02X}"
    if code <= 0xFFFF:
        return f"\\u{code:04X}"
    high, low = divmod(code - 0x10000, 0x400)  # a surrogate pair, as JavaScript strings hold it
    return f"\\u{0xD800 + high:04X}\\u{0xDC00 + low:04X}"


def as_js_literal_forms(text: str) -> list[str]:
    """How esbuild may write ``text`` in the bundle: ASCII-escaped, in double, single or back quotes."""
    escaped = "".join(esbuild_ascii(char) for char in json.dumps(text, ensure_ascii=False)[1:-1])
    plain_quotes = escaped.replace('\\"', '"')
    return [escaped, plain_quotes, plain_quotes.replace("'", "\\'")]


def test_the_bundle_carries_the_protocol_and_the_current_widget_texts() -> None:
    bundle = built_bundle()
    for event in protocol.EVENTS.values():
        assert f'"{event}"' in bundle, event
    for code in protocol.CONNECT_ERRORS:
        assert f'"{code}"' in bundle, code
    assert f'"{protocol.CLIENT_ID_KEY}"' in bundle and f'"{protocol.ORIGIN_CHECK_PATH}"' in bundle
    stale = [
        f"{language}:{name}"
        for language, texts in bundle_texts().items()
        for name, text in texts.items()
        if not any(form in bundle for form in as_js_literal_forms(text))
    ]
    assert not stale, f"the bundle was built from older words for {stale}: run `make widget`"


def test_the_bundle_carries_every_language_by_its_code() -> None:
    texts = bundle_texts()
    assert list(texts) == list(languages.LANGUAGES)
    assert all(set(words) == set(WIDGET_TEXTS) for words in texts.values())
    bundle = built_bundle()
    for language in languages.LANGUAGES:
        assert re.search(rf"""[{{,]["']?{language}["']?:\{{["']""", bundle), f"no texts under {language!r}"
    assert f'"{protocol.LANGUAGE_KEY}"' in bundle or f"{protocol.LANGUAGE_KEY}:" in bundle


def test_a_language_key_of_the_protocol_is_the_one_conversations_read() -> None:
    """The widget names its page's language under the key the rest of the assistant reads it by."""
    assert protocol.LANGUAGE_KEY == languages.METADATA_KEY


def test_the_widget_takes_every_word_from_content() -> None:
    source = (WIDGET / "src" / "index.js").read_text(encoding="utf-8")
    used = set(re.findall(r'TEXT\["([a-z_]+\.[a-z_]+)"\]', source))
    if "TEXT[`connect_errors.${reason}`]" in source:
        used |= {f"connect_errors.{code}" for code in protocol.CONNECT_ERRORS}
    assert used == set(WIDGET_TEXTS), "content/widget.yml and widget/src/index.js name different texts"
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("//", "*", "/*")))
    sentences = re.findall(r"""["'`]([A-Z][a-z]+(?: [^"'`]+)+)["'`]""", code)
    assert [s for s in sentences if not s.startswith("Clinic chat: ")] == [], "words a patient sees belong in content/"
