"""Memory and CPU time of a server process, read from /proc (no psutil needed)."""

from __future__ import annotations

import os
from pathlib import Path


def _status(pid: int) -> dict[str, str]:
    fields = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    except OSError:
        pass
    return fields


def _kib(value: str | None) -> int:
    return int(value.split()[0]) if value else 0


def children(pid: int) -> list[int]:
    """Direct and indirect child processes of ``pid``."""
    found: list[int] = []
    todo = [pid]
    while todo and len(found) < 1000:
        parent = todo.pop()
        try:
            tasks = Path(f"/proc/{parent}/task").iterdir()
            for task in tasks:
                text = (task / "children").read_text().split()
                for child in text:
                    found.append(int(child))
                    todo.append(int(child))
        except OSError:
            continue
    return found


def rss_mb(pid: int) -> float:
    """Current resident set of ``pid`` and its children, in MB."""
    total = sum(_kib(_status(p).get("VmRSS")) for p in [pid, *children(pid)])
    return round(total / 1024, 1)


def peak_rss_mb(pid: int) -> float:
    """The kernel's high-water mark of resident memory (VmHWM) of ``pid`` plus its children's, in MB."""
    total = sum(_kib(_status(p).get("VmHWM")) for p in [pid, *children(pid)])
    return round(total / 1024, 1)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time ``pid`` and its children have used so far, in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in [pid, *children(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks
