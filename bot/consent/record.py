"""What a consent record holds, as typed fields: one definition for the steps that write it and all its readers.

``ConsentPayload.to_json()`` is exactly the JSON the consent store has hashed since its
first record, and ``from_json()`` reads every record written before, so stored records
keep loading and their hash chain keeps verifying. The steps keep the same fields in
their slots (an item's JSON under its id, without the id), as Rasa stores slots as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

UNDERSTOOD = "understood"
REVIEW = "review"
# How a teach-back point ended: explained in the patient's own words, chosen from choices, or missed.
OWN_WORDS = "own_words"
CHOSEN = "chosen"
MISSED = "missed"


@dataclass(frozen=True)
class CandidacyAnswer:
    """One candidacy question as asked, the answer read from the patient's words, and any flag for the care team."""

    id: str
    question: str
    answer: str
    said: str
    flagged: bool
    flag_note: str  # why it was flagged; empty when not flagged
    how: str = ""  # "typed", "button" or "confirmed" (bot.consent.candidacy); empty on records before it was kept

    def to_json(self) -> dict[str, Any]:
        data = {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "said": self.said,
            "flagged": self.flagged,
            "flag_note": self.flag_note,
        }
        return {**data, "how": self.how} if self.how else data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CandidacyAnswer:
        return cls(
            str(data["id"]),
            str(data["question"]),
            str(data["answer"]),
            str(data["said"]),
            bool(data["flagged"]),
            str(data["flag_note"]),
            str(data.get("how") or ""),
        )


@dataclass(frozen=True)
class TeachbackResult:
    """One understanding point: the patient's answers in order and the result (None while it is still asked)."""

    id: str
    summary: str
    answers: tuple[str, ...]
    attempts: int
    result: str | None  # UNDERSTOOD, REVIEW (the care team goes over it at the visit) or None
    how: str = ""  # OWN_WORDS, CHOSEN or MISSED once there is a result; empty on records before it was kept

    def to_json(self) -> dict[str, Any]:
        data = {
            "id": self.id,
            "summary": self.summary,
            "answers": list(self.answers),
            "attempts": self.attempts,
            "result": self.result,
        }
        return {**data, "how": self.how} if self.how else data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TeachbackResult:
        result = data["result"]
        return cls(
            str(data["id"]),
            str(data["summary"]),
            tuple(str(answer) for answer in data["answers"]),
            int(data["attempts"]),
            None if result is None else str(result),
            str(data.get("how") or ""),
        )


@dataclass(frozen=True)
class Pause:
    """A pause of the consent steps or the resume after it: ``kind`` "paused" or "resumed", the step, when (ISO UTC)."""

    kind: str
    step: str
    at: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "step": self.step, "at": self.at}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Pause:
        return cls(str(data["kind"]), str(data["step"]), str(data["at"]))


@dataclass(frozen=True)
class ConsentPayload:
    """What the care team relies on at the visit: answers with flags, teach-back results, the decision, topics asked.

    ``supersedes`` is the id of the conversation's record before this one (a change of mind), if any.
    ``language`` is the language the patient read the questions in and answered (``bot.content.languages``).
    ``identity`` says how the channel proved who was chatting, so the care team can weigh the patient
    reference: one of ``bot.invitations``' IDENTITY_* words, set only with a patient reference; empty
    when nobody proved it, and on records written before it was kept.
    """

    candidacy: tuple[CandidacyAnswer, ...]
    teachback: tuple[TeachbackResult, ...]
    decision: str
    topics_asked: tuple[str, ...]
    supersedes: int | None
    pauses: tuple[Pause, ...] = ()  # empty on records before pauses were kept
    identity: str = ""  # empty on records before it was kept, and when nobody proved who was chatting
    # The language the patient read and answered in ("es": the questions, points and their words were
    # Spanish); empty on records before it was kept, which were all English.
    language: str = ""

    def to_json(self) -> dict[str, Any]:
        """The stored JSON; a field added later is left out while empty, so older records hash as they always did."""
        data: dict[str, Any] = {
            "candidacy": [answer.to_json() for answer in self.candidacy],
            "teachback": [result.to_json() for result in self.teachback],
            "decision": self.decision,
            "topics_asked": list(self.topics_asked),
            "supersedes": self.supersedes,
        }
        if self.pauses:
            data["pauses"] = [pause.to_json() for pause in self.pauses]
        if self.identity:
            data["identity"] = self.identity
        if self.language:
            data["language"] = self.language
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConsentPayload:
        supersedes = data["supersedes"]
        return cls(
            candidacy=tuple(CandidacyAnswer.from_json(item) for item in data["candidacy"]),
            teachback=tuple(TeachbackResult.from_json(item) for item in data["teachback"]),
            decision=str(data["decision"]),
            topics_asked=tuple(str(topic) for topic in data["topics_asked"]),
            supersedes=None if supersedes is None else int(supersedes),
            pauses=tuple(Pause.from_json(item) for item in data.get("pauses") or []),
            identity=str(data.get("identity") or ""),
            language=str(data.get("language") or ""),
        )


@dataclass(frozen=True)
class RecheckAnswer:
    """One key point asked again before the visit (the reminder's re-check): the question, the patient's own
    words and whether the judge read them as understood. ``answer`` is empty for a point the re-check stopped
    before (a pause): the care team goes over it like a miss.
    """

    point: str
    question: str
    answer: str
    understood: bool

    def to_json(self) -> dict[str, Any]:
        return {"point": self.point, "question": self.question, "answer": self.answer, "understood": self.understood}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RecheckAnswer:
        return cls(str(data["point"]), str(data["question"]), str(data["answer"]), bool(data["understood"]))
