"""Rule-based phrase matching on spaCy docs, shared by the emergency detector and the teach-back judge.

Content files write a phrase as space-separated token slots:

- ``chest|heart``: any of these words, in any inflection (``hurt`` matches
  "hurts", "hurting"): each word is compared by its lemma;
- ``my?``: an optional slot;
- ``*3``: a gap of up to three tokens (commas included, never across a sentence end);
- ``ENT:MEDICINE``: any token that the entity ruler tagged with that label;
- ``YEAR``: a year written in digits, 1900 to 2099 ("in 2009");
- ``=had|was``: these exact words, not compared by lemma (a tense matters: "was" is not "is");
- ``^`` first and ``$`` last: the phrase opens or closes the message (punctuation aside), so that
  "^ where am i $" is the whole message and "where am I supposed to park" is not it.

The spec is compiled into a spaCy ``Matcher`` pattern, so matching stays fast and
a clinic edits words, not code. Negation is checked in the clause before a match:
"no chest pain" is negated, "I can't breathe" is not (its "not" is inside the phrase);
and, for answers (``PhraseMatcher(denied_after=True)``), right after it where a "no" closes the clause,
as Spanish says it ("para siempre no").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Pieces of English contractions whose lemma is not a word: "ca" + "n't" -> can not.
_CONTRACTION_NORMS = {"ca": "can", "wo": "will", "sha": "shall", "n't": "not", "nt": "not"}

# Spanish "ni", "nunca", "tampoco" negate as "nor", "never" do ("ni me cura"); "sin" is left out on
# purpose, as "without" would be if an emergency read "sin poder respirar".
NEGATION_CUES = frozenset(
    {"no", "not", "never", "without", "deny", "nor", "neither", "none", "nothing", "zero", "ni", "nunca", "tampoco"}
)
CLAUSE_BREAKS = frozenset(
    {
        ",",
        ".",
        ";",
        "!",
        "?",
        "...",
        "\u2026",
        "but",
        "though",
        "although",
        "however",
        "except",
        "and",
        "pero",
        "aunque",
    }
)
# Spanish puts a "no" after what it denies when it ends the clause: "para siempre no", "cura no, alivio sí".
POSTPOSED_NEGATIONS = frozenset({"no", "tampoco"})
NEGATION_WINDOW = 5
# "No, it can wear off": a sentence-initial "no" before these answers a yes/no
# question and negates nothing ("no chest pain" still negates).
ANSWER_PARTICLES = frozenset({"no", "nope", "nah"})
_ANSWER_FOLLOWERS = frozenset(
    {
        ",",
        "it",
        "its",
        "it's",
        "i",
        "i'd",
        "i'll",
        "i'm",
        "im",
        "the",
        "my",
        "some",
        "but",
        "you",
        "that",
        "this",
        "not",
        "they",
        "we",
        "he",
        "she",
        "just",
        "only",
        "there",
        "because",
        "cause",
        "probably",
        "definitely",
        "of",
        "wait",  # "no wait, he's seizing": taking back what was being said
        "porque",  # "no porque se va pasando": the reason for the answer
        "xq",
        "pq",
        "pues",
        "-",
        ".",
    }
)
# A dash standing between words breaks a sentence off ("is it normal for - no wait, he's seizing").
DASHES = frozenset({"-", "--", "\u2013", "\u2014"})
# What an answer particle may follow: a sentence end, or such a dash.
_ANSWER_OPENS = frozenset({".", "!", "?"}) | DASHES
# Typos: an unknown word of at least this length may stand for a pattern word
# one edit away (two edits from FUZZY_TWO_EDITS letters on), same first letter.
FUZZY_MIN_LENGTH = 5
FUZZY_TWO_EDITS = 8
_PATTERN_WORDS: set[str] = set()


@lru_cache(maxsize=1)
def _lemma_table() -> Mapping[str, str]:
    """The lookup lemma table of spacy-lookups-data (the same one the saved pipeline carries)."""
    from spacy.lookups import load_lookups

    return load_lookups("en", ["lemma_lookup"]).get_table("lemma_lookup")  # type: ignore[no-any-return]


def word_key(word: str) -> str:
    """The form two words share when they are the same word: lower-case lemma."""
    lower = word.lower()
    if lower in _CONTRACTION_NORMS:
        return _CONTRACTION_NORMS[lower]
    return str(_lemma_table().get(lower, lower)).lower()


@lru_cache(maxsize=1)
def _lemmas() -> frozenset[str]:
    return frozenset(str(lemma).lower() for lemma in _lemma_table().values())


def _is_known(lower: str) -> bool:
    """An English word the lemma table knows, as an inflected form (a key) or a lemma."""
    return lower in _lemma_table() or lower in _lemmas()


def _edits(left: str, right: str, limit: int) -> int:
    """Optimal-string-alignment distance (a swap of two letters is one edit), cut off above ``limit``."""
    if abs(len(left) - len(right)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(right) + 1))
    for i, a in enumerate(left, 1):
        current = [i] + [0] * len(right)
        for j, b in enumerate(right, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
            if i > 1 and j > 1 and a == right[j - 2] and left[i - 2] == b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@lru_cache(maxsize=8192)
def _correct(lower: str, vocabulary_size: int) -> str:
    """The pattern word an unknown word is a typo of, or the word itself."""
    if len(lower) < FUZZY_MIN_LENGTH or not lower.isalpha() or lower in _PATTERN_WORDS or _is_known(lower):
        return lower
    limit = 2 if len(lower) >= FUZZY_TWO_EDITS else 1
    best, best_distance = lower, limit + 1
    for word in sorted(_PATTERN_WORDS):
        if word[0] == lower[0] and len(word) >= FUZZY_MIN_LENGTH - 1:
            distance = _edits(lower, word, limit)
            if distance < best_distance:
                best, best_distance = word, distance
    return best


def token_key(token: Any) -> str:
    """``word_key`` of a spaCy token, typos of pattern words corrected ("sorness" is "soreness")."""
    return _key(token.lower_, len(_PATTERN_WORDS))


@lru_cache(maxsize=65536)
def _key(lower: str, vocabulary_size: int) -> str:
    """``token_key`` by lower-case text (most messages repeat the same few hundred words)."""
    return word_key(_correct(lower, vocabulary_size))


ANCHORS = ("^", "$")


_HYPHENATED = re.compile(r"\w-\w")


def compile_phrase(spec: str) -> list[dict[str, Any]]:
    """Turn one phrase spec into a spaCy Matcher token pattern (its anchors are checked on each hit)."""
    pattern: list[dict[str, Any]] = []
    for slot in spec.split():
        if slot in ANCHORS:
            continue
        if slot.startswith("*"):
            gap = int(slot[1:] or 1)
            pattern.extend({"TEXT": {"NOT_IN": [".", "!", "?", "\n"]}, "OP": "?"} for _ in range(gap))
            continue
        optional = slot.endswith("?") and len(slot) > 1
        slot = slot[:-1] if optional else slot
        if slot.startswith("ENT:"):
            token: dict[str, Any] = {"ENT_TYPE": slot[4:]}
        elif slot == "YEAR":
            token = {"TEXT": {"REGEX": r"^(19|20)\d\d$"}}
        elif slot.startswith("="):
            token = {"LOWER": {"IN": [word.lower() for word in slot[1:].split("|") if word]}}
        else:
            alternatives = [word.lower() for word in slot.split("|") if word]
            joined = [word for word in alternatives if _HYPHENATED.search(word)]
            if joined:
                # the tokenizer splits "short-term" into three tokens, so the word would never match
                raise ValueError(f"phrase '{spec}': write '{joined[0]}' as '{' -? '.join(joined[0].split('-'))}'")
            exact = [word for word in alternatives if word.startswith("=")]
            if exact:
                # "=" makes a whole slot exact; inside one ("done|=gone") it would be a word that never occurs
                raise ValueError(f"phrase '{spec}': '{exact[0]}' inside a slot; put '=' before the slot's first word")
            _PATTERN_WORDS.update(alternatives)
            words = sorted({word_key(word) for word in alternatives})
            token = {"NORM": {"IN": words}}  # PhraseMatcher.hits sets each token's norm to its key
        if optional:
            token["OP"] = "?"
        pattern.append(token)
    if not any("OP" not in token for token in pattern):
        raise ValueError(f"phrase '{spec}' has no required word")
    return pattern


def is_negated(
    doc: Any,
    start: int,
    end: int | None = None,
    phrase_words: frozenset[str] = frozenset(),
    window: int = NEGATION_WINDOW,
) -> bool:
    """Whether the words at ``start:end`` are negated.

    A negation cue counts in the same clause within ``window`` tokens before the
    match ("no chest pain"), or inside the match where the phrase itself has no
    such word ("throat is fine, no swelling"; but not "can't breathe", whose
    phrase asks for the "not").
    """
    for index in range(start - 1, max(start - window, 0) - 1, -1):
        key = token_key(doc[index])
        if key in CLAUSE_BREAKS or doc[index].text in CLAUSE_BREAKS:
            break
        if key in NEGATION_CUES and not _is_answer_particle(doc, index):
            return True
    for index in range(start, end if end is not None else start):
        key = token_key(doc[index])
        if key in NEGATION_CUES and key not in phrase_words:
            return True
    return False


def denied_after(doc: Any, end: int) -> bool:
    """A negation right after the match that closes its clause ("para siempre no, se quita").

    Not before a question mark: "me quiero matar no?" asks for agreement (a tag question), it denies nothing.
    """
    if end >= len(doc) or doc[end].lower_ not in POSTPOSED_NEGATIONS:
        return False
    if end + 1 == len(doc):
        return True
    after = doc[end + 1]
    return after.text != "?" and (after.text in CLAUSE_BREAKS or token_key(after) in CLAUSE_BREAKS)


def _is_answer_particle(doc: Any, index: int) -> bool:
    """A sentence-initial "no" that answers a question ("No, it can wear off")."""
    if doc[index].lower_ not in ANSWER_PARTICLES or index + 1 >= len(doc):
        return False
    at_start = index == 0 or doc[index - 1].text in _ANSWER_OPENS
    return at_start and doc[index + 1].lower_ in _ANSWER_FOLLOWERS


@dataclass(frozen=True)
class Hit:
    """One phrase found in a message."""

    label: str
    start: int
    end: int
    text: str
    negated: bool


def _phrase_words(spec: str) -> frozenset[str]:
    return frozenset(
        word_key(word) for slot in spec.split() if slot not in ANCHORS for word in slot.rstrip("?").split("|") if word
    )


def _anchored(doc: Any, start: int, end: int, opens: bool, closes: bool) -> bool:
    """Whether a hit at ``start:end`` opens and closes the message where its phrase asks (``^`` / ``$``)."""
    return (not opens or all(token.is_punct or token.is_space for token in doc[:start])) and (
        not closes or all(token.is_punct or token.is_space for token in doc[end:])
    )


class PhraseMatcher:
    """Finds labelled phrase specs in spaCy docs, with negation marked on each hit."""

    def __init__(self, vocab: Any, phrases: Mapping[str, Iterable[str]], denied_after: bool = False) -> None:
        """``denied_after``: a "no" closing the clause after a match negates it too ("para siempre no"), for
        answers; the red-flag rules leave it off, so "me quiero morir no" stays an emergency."""
        from spacy.matcher import Matcher

        self._denied_after = denied_after
        self._matcher = Matcher(vocab)
        self._phrases: dict[str, tuple[str, frozenset[str], bool, bool]] = {}
        for label, specs in phrases.items():
            for number, spec in enumerate(specs):
                key = f"{label}\t{number}"
                self._matcher.add(key, [compile_phrase(spec)])
                slots = spec.split()
                self._phrases[key] = (label, _phrase_words(spec), slots[:1] == ["^"], slots[-1:] == ["$"])

    def hits(self, doc: Any) -> list[Hit]:
        """All matches in ``doc``: per label and start, the longest one."""
        for token in doc:  # the matcher compares norms in C; a Python attribute cost 0.6 ms a message
            token.norm_ = token_key(token)
        found: dict[tuple[str, int], Hit] = {}
        for match_id, start, end in self._matcher(doc):
            label, words, opens, closes = self._phrases[doc.vocab.strings[match_id]]
            if (opens or closes) and not _anchored(doc, start, end, opens, closes):
                continue
            negated = is_negated(doc, start, end, words) or (self._denied_after and denied_after(doc, end))
            hit = Hit(label, start, end, doc[start:end].text, negated)
            previous = found.get((label, start))
            if previous is None or hit.end > previous.end:
                found[(label, start)] = hit
        return sorted(found.values(), key=lambda hit: (hit.start, hit.label))

    def labels(self, doc: Any, include_negated: bool = False) -> set[str]:
        """Labels with at least one (non-negated, unless asked) hit."""
        return {hit.label for hit in self.hits(doc) if include_negated or not hit.negated}
