"""The safety net's one decision: rules first, then the learned layer, biased towards safety.

A red-flag rule that matches is an emergency (it is reviewable and deterministic); where the
learned layer scores it lower than any real emergency the rules caught in training, the advice
is conditional instead of "call 911" (never silence).
Otherwise the learned layer decides: an emergency when it is confident, a *possible* emergency
(the patient gets conditional advice and the care team a flag) when it is unsure, nothing below
that. Thoughts of suicide or self-harm, from either layer (the learned layer's self-harm head
alone suffices: a missed crisis costs more than an unneeded crisis line), make it an emergency
with the crisis line. Used by the NLU component in Rasa and by the evaluation, so both judge alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.language.language_id import ENGLISH, SPANISH
from bot.language.red_flags import SELF_HARM, RedFlag, RedFlagDetector
from bot.language.safety_model import EMERGENCY, POSSIBLE, Judgement

# Whether an unsure verdict gets conditional advice, as served (the NLU component's default).
CONDITIONAL_ADVICE = True
RULES = "rules"  # a SafetyCheck's source: a red-flag rule matched
MODEL = "model"  # the learned layer alone
SELF_HARM_AT = 0.3  # the learned layer's self-harm probability from which the crisis line is offered


@dataclass(frozen=True)
class SafetyCheck:
    """The verdict on one message and why."""

    verdict: str | None  # EMERGENCY, POSSIBLE or None
    categories: tuple[str, ...]
    self_harm: bool
    source: str  # RULES, MODEL or ""

    @property
    def offers_crisis_line(self) -> bool:
        """Whether the reply gives 988: a self-harm verdict, or an unsure one whose likeliest kind is self-harm.

        The unsure one's reply is conditional ("if you are having thoughts of suicide..."), so a veiled
        farewell the layer cannot be sure of still hears of the crisis line, and a worry it mistook
        for one is not told it is in crisis.
        """
        return self.self_harm or (self.verdict == POSSIBLE and SELF_HARM in self.categories)


def rule_flags(detector: RedFlagDetector, doc: Any, language: str) -> tuple[list[RedFlag], bool]:
    """The rules' red flags in ``doc`` and whether they dismissed one, by the rules of its language.

    The English rules are English words and English cues ("no", "last year"): on a Spanish message they
    would match cognates ("convulsiones") and miss the negation around them ("nunca ha tenido"), so a
    Spanish message meets only the Spanish rules (content/red_flags.yml ``spanish``: direct statements of
    self-harm, someone who does not respond, a bone that shows, which the learned layer once missed) and
    the learned layer, trained on Spanish too. Any
    other language keeps the English rules: short English is sometimes taken for another language
    ("slurred speech"), and there the rules can only add a catch.
    """
    return detector.assess(doc, language)


def decide(
    flags: list[RedFlag],
    judgement: Judgement | None,
    dismissed: bool = False,
    conditional_advice: bool = CONDITIONAL_ADVICE,
) -> SafetyCheck:
    """Combine the rules' red flags and the learned layer's judgement of the same message.

    ``dismissed``: the rules saw a red-flag phrase and explained it away (negated, a past event,
    someone else's, a question); the learned layer then needs to be sure, not merely unsure.
    ``conditional_advice`` False: an unsure learned layer says nothing (no conditional advice).
    A rule's hit is "call 911" unless the learned layer doubts it (``Judgement.doubts_rules``: a
    score below every real emergency the rules caught in training, and no sign of self-harm):
    then the advice is conditional, so "can you overdose on the numbing medicine?" is not told
    to call 911, and "I lost consciousness for a bit just now", which the layer also scores low,
    still hears that if it is happening now and severe, 911 is the number.
    """
    if judgement is not None and judgement.verdict == POSSIBLE and not conditional_advice:
        judgement = replace(judgement, verdict=None)
    # The self-harm head, trained for it, offers the crisis line; the category head too, but only on
    # a sure emergency: on an unsure one it names self-harm for fears and worries it has no kind for.
    model_self_harm = judgement is not None and (
        judgement.self_harm >= SELF_HARM_AT or (judgement.verdict == EMERGENCY and judgement.category == SELF_HARM)
    )
    if flags:
        categories = tuple(flag.category for flag in flags)
        self_harm = SELF_HARM in categories or model_self_harm
        doubted = conditional_advice and not self_harm and judgement is not None and judgement.doubts_rules
        return SafetyCheck(POSSIBLE if doubted else EMERGENCY, categories, self_harm, RULES)
    if judgement is None or (
        not model_self_harm and (judgement.verdict is None or (dismissed and judgement.verdict == POSSIBLE))
    ):
        return SafetyCheck(None, (), False, "")
    if model_self_harm and conditional_advice and judgement.verdict is None:
        # The self-harm head alone, the emergency head below even "unsure": low mood, a goodbye, a decision
        # that sounds final. 988 is offered conditionally (with 911 if in danger), not as a crisis: on the
        # held-out set that took 14 look-alikes off "call 911" and left one self-harm message with 988.
        return SafetyCheck(POSSIBLE, (SELF_HARM,), False, MODEL)
    category = SELF_HARM if model_self_harm else judgement.category
    verdict = EMERGENCY if model_self_harm else judgement.verdict
    return SafetyCheck(verdict, (category,), model_self_harm, MODEL)


# The content message (content/messages.yml) that answers each kind of verdict; a language
# other than English adds its suffix ("emergency_es") when the content has that message.
REPLY_EMERGENCY = "emergency"
REPLY_SELF_HARM = "emergency_self_harm"
REPLY_POSSIBLE = "emergency_possible"
REPLY_POSSIBLE_SELF_HARM = "emergency_possible_self_harm"
REPLY_POISONING = "emergency_poisoning"
POISONING = "overdose_poisoning"
REPLY_LANGUAGES = (SPANISH,)
EMERGENCY_INTENT = "emergency"


def reply_name(check: SafetyCheck, language: str = ENGLISH) -> str:
    """The message that answers ``check``: the crisis line, Poison Control or conditional advice first.

    Self-harm outranks the rest (988 as well as 911); a poisoning adds Poison Control; an
    unsure verdict gets the conditional advice, with 988 when its likeliest kind is self-harm.
    Spanish gets the Spanish message.
    """
    if check.self_harm:
        name = REPLY_SELF_HARM
    elif check.verdict == POSSIBLE:
        name = REPLY_POSSIBLE_SELF_HARM if check.offers_crisis_line else REPLY_POSSIBLE
    elif POISONING in check.categories:
        name = REPLY_POISONING
    else:
        name = REPLY_EMERGENCY
    return f"{name}_{language}" if language in REPLY_LANGUAGES else name


def topic_beside_advice(
    check: SafetyCheck, ranking: Iterable[Mapping[str, Any]], is_topic: Callable[[str | None], bool]
) -> str | None:
    """The topic question a message asked when the safety net answered it only with conditional advice.

    "How risky is this overall? I don't want to put her through more" can worry the learned layer enough for
    "if this is happening now and severe, call 911", which replaces the message's intent; the classifier's
    reading is next in the ranking. When that is a topic (not ``nlu_fallback``, which the fallback
    classifier puts there when unsure), the patient asked it and is answered after the advice, the
    conditional crisis line included (the self-harm head's worry about "what's the name of the medicine?
    my son keeps asking" is offered 988 and is answered). Only when the learned layer alone was unsure: a
    red-flag phrase a rule found ("I can't breathe, is that a side effect?") and a sure emergency are
    answered with the advice alone.
    """
    if check.verdict != POSSIBLE or check.source != MODEL:
        return None
    read = [item.get("name") for item in ranking if item.get("name") != EMERGENCY_INTENT][:1]
    return str(read[0]) if read and is_topic(read[0]) else None


__all__ = [
    "EMERGENCY",
    "MODEL",
    "POSSIBLE",
    "RULES",
    "SafetyCheck",
    "decide",
    "reply_name",
    "rule_flags",
    "topic_beside_advice",
]
