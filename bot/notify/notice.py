"""What an on-call notice says: a flag of some kind is waiting, since when, whether the clinic is open, a link.

Built from the flag's id, kind and time only, never from the row: the patient's message, number
and conversation cannot end up in a text, a mail or a webhook because they are never handed here.
The link leads to the console, which asks the on-call person to sign in before showing anything.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from bot.content.clinic import Clinic

TITLES = {"emergency": "EMERGENCY", "callback": "Callback request"}


@dataclass(frozen=True)
class Notice:
    kind: str
    flag_id: int
    created_at: dt.datetime  # aware, UTC
    clinic_open: bool | None  # None: the clinic's hours could not be read
    link: str
    local_time: str  # created_at as the clinic's clock shows it, for people

    def subject(self) -> str:
        return f"{TITLES.get(self.kind, self.kind)} flag #{self.flag_id} is waiting"

    def text(self) -> str:
        """One short text, fit for an SMS (plain ASCII) and a mail body."""
        opening = {True: "clinic open now", False: "clinic CLOSED now", None: "clinic hours unknown"}[self.clinic_open]
        return f"{self.subject()} (came in {self.local_time}, {opening}). Sign in to see it: {self.link}"

    def payload(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "flag_id": self.flag_id,
            "created_at": self.created_at.astimezone(dt.timezone.utc).isoformat(timespec="seconds"),
            "clinic_open": self.clinic_open,
            "link": self.link,
        }

    def body(self) -> bytes:
        """The webhook's JSON body, exactly the bytes that are signed and sent."""
        return json.dumps(self.payload(), separators=(",", ":"), sort_keys=True).encode("utf-8")


def build(flag_id: int, kind: str, created_at: dt.datetime, console_url: str, clinic: Clinic | None) -> Notice:
    """The notice of flag ``flag_id``; ``clinic`` None when its facts could not be read (hours then unknown)."""
    if created_at.tzinfo is None:  # every stored time is UTC (SQLite keeps no zone)
        created_at = created_at.replace(tzinfo=dt.timezone.utc)
    if clinic is None:
        local, clinic_open = created_at.astimezone(dt.timezone.utc), None
    else:
        local, clinic_open = created_at.astimezone(clinic.timezone), clinic.is_open(created_at)
    return Notice(
        kind=kind,
        flag_id=flag_id,
        created_at=created_at,
        clinic_open=clinic_open,
        link=f"{console_url}/flags/{flag_id}",
        local_time=f"{local:%a %d %b %H:%M} {local.tzname() or 'UTC'}",
    )
