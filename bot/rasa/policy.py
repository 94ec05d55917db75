"""A backstop to Rasa's RulePolicy for the first message of a session the action server could not start.

A session starts with ``action_session_start``, one of the action server's actions (it puts the
clinic's facts into slots). When that server is down the start fails: Rasa logs the action
without the ``action_listen`` it ends with, so the patient's first message follows
``action_session_start``. Rasa writes every rule as starting after ``action_listen``, so no rule
matches that turn: RulePolicy falls back to ``action_default_fallback``, which says nothing and
drops the message, and an emergency as the first message of a session went unanswered.

This policy is a second RulePolicy, trained on the same rules, that speaks only in that turn:
it predicts what the rules predict for the conversation as if the session had started. In any
other turn it predicts nothing, so RulePolicy alone decides, as before. Configured in config.yml
after RulePolicy, with a lower priority, no fallback of its own and no second contradiction check.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker


def as_if_session_started(tracker: DialogueStateTracker, domain: Domain) -> DialogueStateTracker | None:
    """A copy of ``tracker`` with ``action_listen`` before its latest message, when that message follows
    a session start that failed (``action_session_start`` right before it); None for any other conversation.

    Looks only at the end of the conversation (every prediction asks): the copy is made only then.
    """
    newest_first = reversed(tracker.events)
    back = next((i for i, event in enumerate(newest_first) if isinstance(event, UserUttered)), None)
    before = next(newest_first, None)  # the event right before that message
    if back is None or not (isinstance(before, ActionExecuted) and before.action_name == ACTION_SESSION_START_NAME):
        return None
    events = list(tracker.events)
    events.insert(len(events) - 1 - back, ActionExecuted(ACTION_LISTEN_NAME))
    return DialogueStateTracker.from_events(tracker.sender_id, events, domain.slots, domain=domain)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT, is_trainable=True)
class SessionStartBackstopPolicy(RulePolicy):
    """The rules, for the turn a failed session start left without ``action_listen``; silent in every other."""

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """The rules' prediction for the conversation as if its session had started, else nothing."""
        started = as_if_session_started(tracker, domain)
        if started is None:
            return self._prediction(self._default_predictions(domain))
        return super().predict_action_probabilities(started, domain, rule_only_data, **kwargs)
