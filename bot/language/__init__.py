"""Understanding what a patient wrote: spaCy pipeline, normalising, phrase rules, red flags, teach-back.

Plain Python over spaCy docs; nothing here imports Rasa.
"""
