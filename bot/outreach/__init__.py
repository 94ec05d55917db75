"""Messages the assistant starts itself: when they may go out, and that each goes out at most once.

Three kinds are counted per number: the invitation text (staff send it; it is counted,
never held), the re-check reminder before the procedure, and the patient's own copy by
SMS. Reminders and copies are sent by ``runner.py`` from rows in ``store.py``.

When (``timing.py``): texts a health-care provider sends without prior express consent
rely on the FCC's health-care exemption (Declaratory Ruling and Order, FCC 15-72, July 10,
2015; codified by FCC 20-186 among the wireless exemptions of 47 CFR 64.1200(a)(9)): at
most one message a day and three a week per number, concise (generally one text of 160
characters or less), the provider's name and contact in it, and an opt-out by STOP honoured
at once: nothing after STOP. Quiet hours follow 47 CFR 64.1200(c)(1) (written for telephone
solicitations, kept here for every text the assistant starts): only between 8 a.m. and
9 p.m. the patient's local time (taken as the clinic's time zone).

At most once: a message is a row with a fixed id (one reminder per invitation, one copy
per record); a server sends only a row it claimed with a conditional UPDATE, and a claim
whose server died is marked ``unknown`` and never re-sent, so several servers sharing
one database never text a patient twice.
"""

from __future__ import annotations

# What a row of ``outreach`` / ``outreach_days`` is.
KIND_INVITATION = "invitation"  # the invitation text (bot/invitations/send.py): counted, never held
KIND_REMINDER = "reminder"  # the re-check before the procedure: a Rasa turn, texted
KIND_COPY = "copy"  # the patient's own copy link by SMS
KINDS = (KIND_INVITATION, KIND_REMINDER, KIND_COPY)

# The text of the turn a reminder runs; the re-check actions start only for a live reminder
# (``store.is_live_reminder``), so a patient typing it starts nothing.
RECHECK_PAYLOAD = "/EXTERNAL_recheck"
# Message metadata of that turn.
REMINDER_KEY = "reminder"  # the outreach id of the reminder that started the turn
PROCEDURE_DATE_KEY = "procedure_date"  # the procedure date, ISO (YYYY-MM-DD)
