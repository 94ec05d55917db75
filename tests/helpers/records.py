"""Consent-record data the tests share."""

from __future__ import annotations

from typing import Any

# A payload as the code before the typed record wrote it: the shape every stored record has.
STORED_PAYLOAD: dict[str, Any] = {
    "candidacy": [
        {
            "id": "blood_thinners",
            "question": "Do you take a blood thinner?",
            "answer": "yes",
            "said": "yes, warfarin",
            "flagged": True,
            "flag_note": "takes a blood thinner",
        },
        {
            "id": "condition",
            "question": "What condition is it for?",
            "answer": "MS",
            "said": "MS",
            "flagged": False,
            "flag_note": "",
        },
    ],
    "teachback": [
        {
            "id": "wears_off",
            "summary": "that the effect may wear off",
            "answers": ["it's forever", "it fades"],
            "attempts": 2,
            "result": "understood",
        },
        {
            "id": "not_a_cure",
            "summary": "that it is not a cure",
            "answers": ["it cures it", "no idea"],
            "attempts": 2,
            "result": "review",
        },
    ],
    "decision": "talk_to_doctor",
    "topics_asked": ["ask_duration", "ask_cure"],
    "supersedes": 7,
}
