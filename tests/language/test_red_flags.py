"""Emergency detection by rules, with negation: what must and must not send a patient to the ER."""

from __future__ import annotations

import pytest

from bot.language.matching import compile_phrase, word_key
from bot.language.red_flags import default_detector, detect_text
from bot.settings import PROJECT_ROOT
from devtools import evaluation

LABELLED = PROJECT_ROOT / "tests" / "data" / "red_flags.yml"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I can't breathe", "breathing"),
        ("my throat is closing up", "allergic_swelling"),
        ("since the shot I can't move my left leg", "weakness_numbness"),
        ("I have a fever and my back pain is severe", "infection"),
        ("i want to kill myself", "self_harm"),
        ("Passed out in the kitchen", "fainting"),
        ("my husband is having chest pain", "chest_pain"),  # "is" is not "was": a tense, not a lemma
        ("a heavy pressure in the centre of my chest for an hour", "chest_pain"),  # where in the chest, as people say
        ("my daughter is convulsing please", "seizure"),
        ("the baby ate grandma's heart pills", "overdose_poisoning"),
        ("where am i", "confusion"),  # the whole message (an anchored phrase)
        ("the pain is a 10, can't stand up", "severe_pain"),
        ("how many of my pills would stop my heart", "self_harm"),  # seeking a lethal amount
        ("i keep thinking about death and i have a plan now", "self_harm"),  # a plan
        ("thats it for me, for good this time", "self_harm"),  # a farewell that is not the chat's
        ("I want it over with. not the injection, I mean me", "self_harm"),
        ("been cutting my thighs again", "self_harm"),
        ("honestly they'd all be better off without me", "self_harm"),  # a burden (NIMH)
        ("if it goes wrong in there, do me a favour and don't save me", "self_harm"),  # asking not to be saved
        ("the man in bed 2 isn't rousing at all, even when we shout", "unresponsive"),  # "difficulty arousing"
        ("mum's very hard to rouse since she came home", "unresponsive"),
        ("my brother wont wake up", "unresponsive"),
        ("He is not responding", "unresponsive"),  # a person first, then not responding
        ("my dad isnt responding to me at all", "unresponsive"),
        ("I shot him", "harm_to_others"),  # "shot" the verb, next to the person
        ("going to shoot them all", "harm_to_others"),
        ("i dont want to be here anymore", "self_harm"),
        ("honestly kms", "self_harm"),  # texting for "kill myself", as typed
        ("he says the neighbours are demons and he has to kill them tonight", "harm_to_others"),
        ("his body is seizing", "seizure"),
        ("no wee at all since this morning, my bladder feels full to bursting and I cannot go", "bladder_bowel"),
        ("the parts i sit on have gone numb since the injection", "bladder_bowel"),  # saddle numbness
        # a worry or a question word before "but" does not explain away what follows it
        ("not too worried, but i cant rouse her at all tonight", "unresponsive"),
        ("Don't mean to bother you, but he's gasping for air", "breathing"),  # "Do n't": no question
        ("Couldn't feel my legs when I woke up just now", "weakness_numbness"),
        # someone who suddenly becomes confused (NHS 111 Wales): on waking, or since a nap or a fall
        ("grandpa woke up all disorientated and agitated", "confusion"),
        ("night shift: my resident is waking up confused and pulling at things", "confusion"),
        ("she's been muddled ever since her fall on the stairs", "confusion"),
        ("he's stabbing her, hurry", "harm_to_others"),  # "stabbing" after someone
        ("a guy is killing her in the car park, help", "harm_to_others"),
        ("tried to walk to the car and fell, legs just folded", "weakness_numbness"),  # not able to stand
    ],
)
def test_red_flags_are_found(text: str, category: str) -> None:
    assert category in {flag.category for flag in detect_text(text)}


@pytest.mark.parametrize(
    "text",
    [
        "no chest pain, just sore",
        "no pain in the middle of my chest, only where the needle went",
        "can it cause nerve damage?",
        "what if I feel numb afterwards?",
        "I had an allergic reaction to penicillin years ago",
        "is shortness of breath a side effect",
        "I don't have a fever",
        "I had a seizure in 2009 after a head injury, none since",
        "my dad had chest pain last week",
        "family history: dad died of a heart attack at 60",
        "suppose my husband has a seizure after he gets home",
        "where am i supposed to park",
        "my back is not responding to the tablets",
        "my husband isnt responding to the baclofen anymore",
        "it's the same shot they gave her for her knee",  # "shot" the injection, not the verb
        "can my mom come in the room? I don't want to be alone in there",
        "I read online that needles near the spine can paralyze you",  # what the injection might do
        "scary stories online about spinal injections causing paralysis",
        "how much of the numbing medicine do you use?",
        "scared im gonna be paralyzed after it",  # a fear, typed as one says it ("gon na")
        "so scared ill be numb forever",  # "I'll" typed without its apostrophe
        "the traffic on 5th gives me a heart attack",  # a figure of speech
        "so the numbness is gone for good?",
        "thats it for me tonight, bye",  # leaving the chat
        "I think the best thing I can do is go through with it",  # a decision, not the self going
        "the best thing for me is for it to disappear",  # the pain, not the self
        "say my husband has a seizure on the drive home, what do I do",  # a hypothetical
        "after his surgery last year he was hard to rouse for a day",  # a past event
        "what a rousing speech the doctor gave us",
        "it is 40 km to the clinic, can I drive back myself?",  # "km" is not "kms"
        "and the nerves, does the injection kill them?",  # the injection, not a person
        "my aunt says a needle in the spine can leave you paralysed",
        "is there any danger of paralysis with it?",
        "lying flat is hard, my back seizes up after ten minutes",  # a muscle that locks
        "my bladder is full, back in a minute",
        "Isn't shortness of breath a side effect?",  # a negative question still asks
        "where do i sit when i get there",
        "will I be confused after the procedure?",  # a question about oneself, not a sudden change
        "I woke up confused about whether I can eat before it",  # the instructions, not the mind
        "mum has dementia and most days she doesn't know her own name, can she still consent?",  # not sudden
        "is it normal to feel muddled since the injection?",
        "a stabbing pain down her leg when she bends",  # a kind of pain, not an attack
        "this wait is killing him, he hates hospitals",  # a figure of speech
        "have you ever had a reaction to local anaesthetic?",  # a question about someone's history
        "last night I dreamt I couldn't move my legs after it",  # a dream
        "grandad choked on a sweet last easter but he was fine",  # a past event
    ],
)
def test_look_alikes_are_not_emergencies(text: str) -> None:
    assert detect_text(text) == []


def test_self_harm_is_explained_away_only_as_a_past_event() -> None:
    """A question about ending one's life is a warning sign; an attempt years ago, for a form, is history."""
    assert [flag.category for flag in detect_text("what if I want to end my life")] == ["self_harm"]
    assert detect_text("I attempted suicide in 2009, well for years now") == []


def test_a_question_taken_back_after_a_dash_does_not_explain_away_what_follows() -> None:
    """A dash between words breaks the sentence, and "no wait" negates nothing; a hyphen in a word is no break."""
    assert [f.category for f in detect_text("is it normal for - no wait hes convulsing")] == ["seizure"]
    assert detect_text("is it normal to have a seizure - asking for my records") == []
    assert [f.category for f in detect_text("thinking about self-harm again tonight")] == ["self_harm"]


def test_anchored_phrases_match_only_the_whole_message() -> None:
    assert compile_phrase("^ where am i $") == compile_phrase("where am i")
    assert detect_text("  Where am I?? ") and not detect_text("so where am i meant to go after")


def test_phrases_compile_to_lemma_slots() -> None:
    pattern = compile_phrase("can|cannot not? *2 breathe")
    assert pattern[0] == {"NORM": {"IN": ["can", "cannot"]}}
    assert pattern[1]["OP"] == "?" and len(pattern) == 5
    assert word_key("Passed") == "pass" and word_key("n't") == "not"
    with pytest.raises(ValueError):
        compile_phrase("word? *2")


def test_a_hyphenated_word_is_refused_with_the_spelling_that_matches() -> None:
    """spaCy splits "short-term" into three tokens: as one slot word it would silently never match."""
    with pytest.raises(ValueError, match="short -\\? term"):
        compile_phrase("temporary|short-term")


def test_an_exact_word_inside_a_slot_is_refused() -> None:
    """ "=" makes the whole slot exact; "suppose|=say" once meant a cue that never matched "say"."""
    with pytest.raises(ValueError, match="inside a slot"):
        compile_phrase("suppose|=say my")


def test_years_and_exact_words_compile_to_their_own_slots() -> None:
    assert compile_phrase("YEAR") == [{"TEXT": {"REGEX": r"^(19|20)\d\d$"}}]
    assert compile_phrase("=had|Was") == [{"LOWER": {"IN": ["had", "was"]}}]


def test_labelled_set_meets_the_safety_targets(capsys: pytest.CaptureFixture[str]) -> None:
    """100% recall on red flags, at most 5% false alarms on look-alikes (rules alone; make test adds the model)."""
    assert evaluation.red_flag_gate(LABELLED, None, min_recall=1.0, max_false_alarms=0.05), capsys.readouterr().out


def test_a_no_after_a_red_flag_denies_nothing() -> None:
    """The rules read no negation after a phrase: "¿no?" asks for agreement; a bare "no" may lack its "?"."""
    pipeline, detector = default_detector()
    for text in ("me quiero morir", "me quiero morir no?", "me quiero morir no", "me quiero morir, no."):
        assert detector.assess(pipeline(text), "es")[0], text
