"""Custom actions run by the Rasa SDK action server: thin classes over the plain Python in ``bot/``."""

from bot import content

content.check()  # first: a typo in content/ stops the action server at start, naming the file and the field

from actions import answers, consent, recheck, safety, session  # noqa: E402, F401  (all of start-up, then:)
from bot.rasa import heap  # noqa: E402

heap.freeze_startup()
