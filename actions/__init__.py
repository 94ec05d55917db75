"""Custom actions run by the Rasa SDK action server: thin classes over the plain Python in ``bot/``."""

from actions import answers, consent, safety, session  # noqa: F401  (all of start-up, then:)
from bot.rasa import heap

heap.freeze_startup()
