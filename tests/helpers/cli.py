"""``python -m bot ...`` run as a separate process, as an operator runs it."""

from __future__ import annotations

import subprocess
import sys

from bot.settings import PROJECT_ROOT


def run_bot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
