"""Custom actions run by the Rasa SDK action server: thin classes over the plain Python in ``bot/``."""
