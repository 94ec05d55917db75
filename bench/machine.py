"""What the figures were measured on: date, commit, machine, and how busy it was."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from bot.settings import PROJECT_ROOT


def commit() -> str:
    """The short commit of the working tree (read-only), '+dirty' is not checked."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() or "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


def load_average() -> tuple[float, float, float]:
    """1, 5 and 15 minute load averages, as `uptime` prints them."""
    try:
        return os.getloadavg()
    except OSError:
        return (0.0, 0.0, 0.0)


def describe() -> dict[str, Any]:
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit(),
        "nproc": os.cpu_count() or 0,
        "memory_gb": memory_gb(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
    }


def load_text(load: tuple[float, float, float] | None = None) -> str:
    one, five, fifteen = load or load_average()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"
