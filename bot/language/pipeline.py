"""The project's own spaCy pipeline, built from ``spacy.blank("en")``.

No model is downloaded: a medical product should not run third-party uploads
of models. The pipeline is a lookup lemmatizer (tables from spacy-lookups-data,
saved with the pipeline so they are not needed at run time) and an entity ruler
whose patterns live in ``content/entity_patterns.yml``. Rasa's ``SpacyNLP``
loads the saved folder named in ``config.yml``.

Build it with ``python -m bot pipeline build`` (``make`` does this when the patterns change).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.content.entity_patterns import PATTERNS_FILE, entity_patterns
from bot.settings import PROJECT_ROOT

PIPELINE_DIR = PROJECT_ROOT / "build" / "spacy" / "en_rhizotomy"


def ruler_patterns(path: Path = PATTERNS_FILE) -> list[dict[str, Any]]:
    """Entity ruler patterns from the content file: one lower-case phrase pattern per word or phrase."""
    return [
        {"label": label, "pattern": phrase.lower()}
        for label, phrases in entity_patterns(path).items()
        for phrase in phrases
    ]


def build_pipeline(patterns_path: Path = PATTERNS_FILE) -> Any:
    """A blank English pipeline with the lookup lemmatizer and the entity ruler."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    nlp.initialize()  # loads the lookup tables from spacy-lookups-data
    ruler.add_patterns(ruler_patterns(patterns_path))  # type: ignore[attr-defined]
    nlp.meta["name"] = "rhizotomy"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = "Blank English + lookup lemmatizer + entity ruler (project-built)"
    nlp.meta["sources"] = [{"name": "spacy-lookups-data", "license": "MIT"}]
    nlp.meta["patterns_sha256"] = patterns_digest(patterns_path)
    return nlp


def patterns_digest(patterns_path: Path = PATTERNS_FILE) -> str:
    """Hash of the pattern file, stored in the pipeline's meta to know when to rebuild."""
    return hashlib.sha256(patterns_path.read_bytes()).hexdigest()


def is_current(out_dir: Path = PIPELINE_DIR, patterns_path: Path = PATTERNS_FILE) -> bool:
    """Whether the saved pipeline was built from the current patterns."""
    import json

    meta = out_dir / "meta.json"
    if not meta.exists():
        return False
    return bool(json.loads(meta.read_text()).get("patterns_sha256") == patterns_digest(patterns_path))


def build(out_dir: Path = PIPELINE_DIR, patterns_path: Path = PATTERNS_FILE) -> Path:
    """Build and save the pipeline to ``out_dir``."""
    nlp = build_pipeline(patterns_path)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out_dir)
    return out_dir


@lru_cache(maxsize=1)
def load(path: Path = PIPELINE_DIR) -> Any:
    """The saved pipeline (for code that runs outside Rasa, such as tests and commands)."""
    import spacy

    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `make spacy` (python -m bot pipeline build)")
    return spacy.load(path)
