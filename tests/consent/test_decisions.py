"""The decisions come from content/consent.yml: unique values, the care team's wording, a confirmation message."""

from __future__ import annotations

from typing import Any

import pytest

from bot import content
from bot.content import ContentError
from bot.content.consent import parse_content

YES_NO = [{"value": "yes", "title": "Yes"}, {"value": "no", "title": "No"}]
QUESTION = [{"id": "q", "text": "Do you?", "type": "yes_no"}]


def with_decisions(decisions: list[dict[str, Any]]) -> dict[str, Any]:
    return {"yes_no": YES_NO, "candidacy": QUESTION, "decisions": decisions}


def test_the_clinic_decisions_have_record_titles_and_messages() -> None:
    decisions = content.consent_content().decisions
    assert [d.value for d in decisions] == ["go_ahead", "decline", "talk_to_doctor"]
    assert [d.record_title for d in decisions] == [
        "Wants to go ahead",
        "Does not want to go ahead",
        "Wants to talk to the doctor first",
    ]
    assert all(d.recorded_message in content.templates() for d in decisions)
    assert [d.value for d in decisions if d.flag_note] == ["talk_to_doctor"]


def test_a_decision_is_found_by_its_stored_value() -> None:
    found = content.consent_content().decision("decline")
    assert found is not None and found.title == "Not go ahead"
    assert content.consent_content().decision("maybe") is None and content.consent_content().decision(None) is None


def test_a_new_decision_needs_only_content() -> None:
    parsed = parse_content(
        with_decisions(
            [
                {
                    "value": "later",
                    "title": "Later",
                    "record_title": "Decides later",
                    "flag_note": "wants to decide later",
                }
            ]
        ),
        message_names={"recorded_later"},
    )
    [decision] = parsed.decisions
    assert (decision.record_title, decision.flag_note, decision.recorded_message) == (
        "Decides later",
        "wants to decide later",
        "recorded_later",
    )


@pytest.mark.parametrize(
    ("decisions", "message"),
    [
        ([{"value": "go_ahead", "title": "Go ahead"}], "needs a record_title"),
        (
            [{"value": "later", "title": "Later", "record_title": "Decides later"}],
            "'recorded_later' in content/messages",
        ),
        (
            [
                {"value": "go_ahead", "title": "Go ahead", "record_title": "Yes"},
                {"value": "go_ahead", "title": "Yes please", "record_title": "Yes"},
            ],
            "unique",
        ),
        ([], "choices"),
    ],
)
def test_bad_decisions_say_what_is_wrong(decisions: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ContentError, match=message):
        parse_content(with_decisions(decisions))
