"""Custom Rasa input channels of the project (website socket, SMS).

Rasa loads each one from credentials.yml by its dotted class path.
"""
