"""The load generator, briefly, against the real assistant: nothing errors.

A smoke run of `make bench`'s load (bench/load.py) for about ten seconds on the
session's assistant: a few patients at once over REST going through small
talk, a topic question and the whole consent pass, and a few over the website
socket. It checks that every message is answered and every consent pass is
stored - no timings are asserted (`make bench` measures those, on demand).
The pure parts of bench/ and deploy/ are checked without servers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import load, scenario
from bot.records import consent_store
from deploy import nginx, settings
from devtools.launch import Running

# --- the smoke run (real servers) -------------------------------------------------------------


@pytest.mark.e2e
def test_rest_load_smoke_has_no_errors_and_stores_every_consent(assistant: Running) -> None:
    # Four patients: three go through the whole consent pass, one only asks questions.
    result = load.run(
        [assistant.base_url], "rest", concurrency=4, length=scenario.CONSENT_LENGTH + 2, prefix="smoke-rest"
    )
    assert result.errors == 0, result.error_examples
    assert result.answered == 4 * (scenario.CONSENT_LENGTH + 2)
    stored = {record.conversation_id for record in consent_store.records(url=assistant.database_url)}
    assert result.consent_senders, "the smoke run includes whole consent passes"
    missing = set(result.consent_senders) - stored
    assert not missing, f"consent passes that stored no record: {sorted(missing)} (actions.log in {assistant.workdir})"


@pytest.mark.e2e
def test_socket_load_smoke_has_no_errors(assistant: Running) -> None:
    # Ten messages per socket: under the channel's per-socket rate limit (credentials.yml).
    result = load.run([assistant.base_url], "socketio", concurrency=3, length=10, origin=assistant.base_url)
    assert result.errors == 0, result.error_examples
    assert result.conversations == 3
    assert result.answered == 30


# --- the pure parts ---------------------------------------------------------------------------


def test_a_conversation_of_twenty_mixes_small_talk_a_topic_and_a_whole_consent_pass() -> None:
    patient = scenario.conversation(0, 20)
    assert len(patient.messages) == 20 and patient.completes_consent
    kinds = {load.kind_of(text) for text in patient.messages}
    assert kinds == {"small talk", "topic", "consent"}
    assert patient.messages[-1] == scenario.DECISION
    asker = scenario.conversation(3, 20)
    assert not asker.completes_consent and scenario.START not in asker.messages
    assert [len(scenario.conversation(i, n).messages) for i in range(4) for n in (1, 5, 18, 30)] == [1, 5, 18, 30] * 4


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert load.percentile(values, 50) == 50.0
    assert load.percentile(values, 95) == 95.0
    assert load.percentile(values, 99) == 99.0
    assert load.percentile([], 95) == 0.0


def test_deploy_settings_come_from_two_urls_and_a_shared_secret() -> None:
    derived = settings.derive(
        {
            "DATABASE_URL": "postgresql+psycopg2://bot:p%40ss@db.internal:5433/rhizotomy",
            "REDIS_URL": "redis://:secret@cache.internal:6380/2",
            "WIDGET_SESSION_SECRET": "s" * 40,
        }
    )
    assert derived["TRACKER_DB_HOST"] == "db.internal" and derived["TRACKER_DB_PORT"] == "5433"
    assert derived["TRACKER_DB_PASSWORD"] == "p@ss" and derived["TRACKER_DB_NAME"] == "rhizotomy"
    assert (derived["REDIS_HOST"], derived["REDIS_PORT"], derived["REDIS_DB"]) == ("cache.internal", "6380", "2")
    with pytest.raises(settings.SettingsError) as refused:
        settings.derive({"DATABASE_URL": "sqlite:///var/assistant.db"})
    message = str(refused.value)
    assert "PostgreSQL" in message and "REDIS_URL" in message and "WIDGET_SESSION_SECRET" in message


def test_nginx_keeps_each_socket_client_on_one_server_and_hides_the_rasa_api(tmp_path: Path) -> None:
    text = nginx.render(["127.0.0.1:5005", "127.0.0.1:5006"], ["127.0.0.1:8080"], tmp_path)
    sticky = text[text.index("upstream rasa_sticky") :]
    assert "hash $remote_addr consistent" in sticky.split("}")[0]
    assert "server 127.0.0.1:5006" in sticky.split("}")[0]
    assert "location /socket.io/" in text and "proxy_pass http://rasa_sticky" in text
    assert "proxy_set_header Upgrade $http_upgrade" in text
    assert "location / {\n            return 404;" in text
    assert "listen 0.0.0.0" not in text


def test_the_scale_test_sees_lost_duplicated_and_interleaved_turns() -> None:
    from bench.scale import check_tracker

    def turn(text: str, answer: str, at: float) -> list[dict[str, object]]:
        return [
            {"event": "user", "text": text, "timestamp": at},
            {"event": "action", "name": "utter_x", "timestamp": at + 0.1},
            {"event": "bot", "text": answer, "timestamp": at + 0.2},
            {"event": "action", "name": "action_listen", "timestamp": at + 0.3},
        ]

    whole = turn("hi", "Hello!", 1) + turn("how long", "An hour.", 2)
    assert check_tracker(whole, ["hi", "how long"], [["Hello!"], ["An hour."]]) == []
    assert check_tracker(whole[:4], ["hi", "how long"])  # a lost message
    assert check_tracker(whole + turn("how long", "An hour.", 3), ["hi", "how long"])  # a duplicated one
    interleaved = whole[:2] + turn("how long", "An hour.", 1.15) + whole[2:4]
    assert any("interleaved" in p or "action_listen" in p for p in check_tracker(interleaved, ["hi", "how long"]))
    assert check_tracker(whole, ["hi", "how long"], [["Hello!"], ["Two hours."]])  # not the answer the patient got
