"""The safety net's one decision: rules first, then the learned layer, biased towards safety.

A red-flag rule that matches is an emergency whatever else is said (it is reviewable and
certain). Otherwise the learned layer decides: an emergency when it is confident, a
*possible* emergency (the patient gets conditional advice and the care team a flag) when it
is unsure, nothing below that. Thoughts of suicide or self-harm, from either layer, add the
crisis line. Used by the NLU component in Rasa and by the evaluation, so both judge alike.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.language.red_flags import SELF_HARM, RedFlag
from bot.language.safety_model import EMERGENCY, POSSIBLE, Judgement

SELF_HARM_AT = 0.3  # the learned layer's self-harm probability from which the crisis line is offered


@dataclass(frozen=True)
class SafetyCheck:
    """The verdict on one message and why."""

    verdict: str | None  # EMERGENCY, POSSIBLE or None
    categories: tuple[str, ...]
    self_harm: bool
    source: str  # "rules", "model" or ""


def decide(
    flags: list[RedFlag], judgement: Judgement | None, dismissed: bool = False, conditional_advice: bool = True
) -> SafetyCheck:
    """Combine the rules' red flags and the learned layer's judgement of the same message.

    ``dismissed``: the rules saw a red-flag phrase and explained it away (negated, a past event,
    someone else's, a question); the learned layer then needs to be sure, not merely unsure.
    ``conditional_advice`` False: an unsure learned layer says nothing (no conditional advice).
    """
    if judgement is not None and judgement.verdict == POSSIBLE and not conditional_advice:
        judgement = replace(judgement, verdict=None)
    model_self_harm = judgement is not None and (
        judgement.self_harm >= SELF_HARM_AT or (judgement.verdict is not None and judgement.category == SELF_HARM)
    )
    if flags:
        categories = tuple(flag.category for flag in flags)
        return SafetyCheck(EMERGENCY, categories, SELF_HARM in categories or model_self_harm, "rules")
    if judgement is None or judgement.verdict is None or (dismissed and judgement.verdict == POSSIBLE):
        return SafetyCheck(None, (), False, "")
    category = SELF_HARM if model_self_harm else judgement.category
    verdict = EMERGENCY if model_self_harm else judgement.verdict
    return SafetyCheck(verdict, (category,), model_self_harm, "model")


__all__ = ["EMERGENCY", "POSSIBLE", "SafetyCheck", "decide"]
