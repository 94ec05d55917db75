"""The care-team console: a web page where nurses work the flags and read conversations and consent records.

Its own process (``python -m bot console serve``, http://localhost:5080/ by default), on the same
database as the flag log and the consent records; it keeps no second copy of patient data. Staff
accounts, their sessions and the access log are its own tables, created by Alembic migrations
(``bot/console/migrations``). docs/console.md says how a clinic runs it.
"""
