"""The stock baseline: a `rasa init --no-prompt` bot trained with Rasa's default config.

Built once per Rasa version under build/bench/ and reused, so `make bench` does
not train it every time (about 3 minutes on 2 cores). Delete the folder to rebuild.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bot.settings import PROJECT_ROOT

BUILD = PROJECT_ROOT / "build" / "bench"
BIN = Path(sys.executable).parent
TRAIN_TIMEOUT = 1800


def rasa_version() -> str:
    from rasa.version import __version__

    return str(__version__)


def folder() -> Path:
    return BUILD / f"stock-rasa-{rasa_version()}"


def model_path() -> Path | None:
    models = sorted((folder() / "models").glob("*.tar.gz"))
    return models[-1] if models else None


def ensure(log: Callable[[str], None] = print) -> Path:
    """The trained stock model, made now if it is not cached yet."""
    found = model_path()
    if found is not None:
        return found
    target = folder()
    scratch = target.with_name(target.name + ".tmp")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    log(f"==> creating the stock baseline with `rasa init --no-prompt` in {scratch} (trains once, ~3 min)")
    started = time.monotonic()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    with (scratch.parent / f"{target.name}.train.log").open("wb") as handle:
        subprocess.run(
            [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(scratch)],
            cwd=scratch,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=TRAIN_TIMEOUT,
        )
    if not list((scratch / "models").glob("*.tar.gz")):
        raise RuntimeError(f"rasa init did not train a model; see {handle.name}")
    shutil.rmtree(target, ignore_errors=True)
    scratch.rename(target)
    log(f"    trained in {time.monotonic() - started:.0f} s")
    found = model_path()
    assert found is not None
    return found


if __name__ == "__main__":
    print(ensure())
