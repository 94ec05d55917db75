"""The files under ``content/``: one loader, one error type, and the content version stamped on records.

A clinic edits these files, so every error names the file and the field a clinic
would fix. The content version is a hash over every file a patient's words can
come from, so any change of wording is a new version on the consent records
made after it.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.settings import CONTENT_DIR, PROJECT_ROOT

DOMAIN_FILE = PROJECT_ROOT / "domain.yml"


class ContentError(ValueError):
    """A content file that cannot be used; the message names the file and the field."""


def load_yaml(path: Path) -> Any:
    """Read a YAML content file, naming the file in the error a clinic would see."""
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError as error:
        raise ContentError(f"{path}: file not found") from error
    except yaml.YAMLError as error:
        raise ContentError(f"{path}: not valid YAML: {error}") from error


def clinic_file() -> Path:
    """The clinic facts: ``CLINIC_SETTINGS`` (another file) or ``content/clinic.yml``."""
    return Path(os.environ.get("CLINIC_SETTINGS", CONTENT_DIR / "clinic.yml"))


def versioned_files(content_dir: Path = CONTENT_DIR, domain: Path = DOMAIN_FILE) -> tuple[Path, ...]:
    """Every file a text a patient sees can come from: all of ``content/``, ``domain.yml``, the clinic file."""
    files = {path for path in content_dir.rglob("*") if path.is_file()}
    files.add(domain)
    if content_dir == CONTENT_DIR:
        files.add(clinic_file())
    return tuple(sorted(files))


def version_of(files: tuple[Path, ...], root: Path = PROJECT_ROOT) -> str:
    """SHA-256 over the files' names and bytes, in a fixed order."""
    digest = hashlib.sha256()
    for path in sorted(files):
        name = path.relative_to(root) if path.is_relative_to(root) else path.name
        digest.update(str(name).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


@lru_cache(maxsize=1)
def content_version() -> str:
    """The content version of this process: read once, at start (``bot.content.check``)."""
    return version_of(versioned_files())
