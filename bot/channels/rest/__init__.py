"""The REST channel: a development and integration channel, closed to anyone the server cannot trust.

``rules`` says who may call and what a request must look like (plain Python); ``channel`` is
the Rasa input channel that applies it (enabled in credentials.yml).
"""
