"""The teach-back judge: key ideas in the patient's own words pass, wrong beliefs do not.

The concepts are tested alone (``concepts``): they judge a point the clinic adds in the
content without training answers. ``judge_text`` is what the steps call: the learned layer
for the points it was trained on (measured on the held-out sets by ``make test``).
"""

from __future__ import annotations

import pytest

from bot.content import languages
from bot.language import teachback, teachback_model
from bot.language.teachback import default_judge, judge_text
from bot.settings import PROJECT_ROOT
from devtools import evaluation


def concepts(point_id: str, text: str) -> bool:
    pipeline, judge = default_judge()
    return judge.judge(point_id, pipeline(text))


LABELLED = PROJECT_ROOT / "tests" / "data" / "teachback_answers.yml"


@pytest.mark.parametrize(
    ("point", "answer"),
    [
        ("what_it_does", "it numbs the nerve so the pain signals stop"),
        ("what_it_does", "blocks pain messages"),
        ("common_side_effect", "sorness where they put the needle"),
        ("rare_complication", "an infection"),
        ("wears_off", "No, it can wear off"),
        ("wears_off", "it won't last forever"),
        ("wears_off", "not permanent, just temporary"),
        ("rare_complication", "an infection, and I would not wait and see, I'd call"),
        ("not_a_cure", "it's not a cure, it eases the pain"),
    ],
)
def test_right_answers_pass(point: str, answer: str) -> None:
    assert concepts(point, answer) and judge_text(point, answer)


@pytest.mark.parametrize(
    ("point", "answer"),
    [
        ("what_it_does", "it fixes my spine"),
        ("what_it_does", "no idea"),
        ("common_side_effect", "nerve damage"),
        ("wears_off", "it won't wear off"),
        ("wears_off", "it's permanent"),
        ("not_a_cure", "yes it will cure my MS"),
        ("wears_off", "it is not going to be temporary"),
        ("wears_off", "nah it doesnt really fade"),
        ("rare_complication", "a bad infection, but i'd just wait it out at home"),
        ("rare_complication", "bleeding, which everybody gets so I'd ignore it"),
    ],
)
def test_wrong_answers_do_not_pass(point: str, answer: str) -> None:
    assert not concepts(point, answer) and not judge_text(point, answer)


@pytest.mark.parametrize("answer", ["i dont know", "idk", "no idea", "not sure tbh", "I don't know, sorry"])
def test_i_dont_know_never_passes_whatever_it_resembles(answer: str) -> None:
    assert all(not judge_text(point.id, answer) for point in default_judge()[1].points)


def test_a_point_without_training_answers_is_judged_by_its_concepts(monkeypatch: pytest.MonkeyPatch) -> None:
    learned = teachback_model.load()
    only_one = teachback_model.TeachbackModel({"wears_off": learned.heads["wears_off"]})
    monkeypatch.setattr(teachback_model, "load", lambda: only_one)
    assert not only_one.knows("what_it_does")
    assert judge_text("what_it_does", "blocks pain messages") == concepts("what_it_does", "blocks pain messages")
    assert judge_text("wears_off", "it wears off after a few months")


def test_the_clinics_short_right_answers_pass_whatever_the_learned_layer_says(monkeypatch: pytest.MonkeyPatch) -> None:
    class Never(teachback_model.TeachbackModel):
        def understood(self, point_id: str, text: str) -> bool:
            return False

    monkeypatch.setattr(teachback_model, "load", lambda: Never({"wears_off": None}))
    assert judge_text("wears_off", "nope") and not judge_text("wears_off", "it wears off after a few months")
    assert not teachback.says_dont_know("no, it wears off")


def test_labelled_answers_are_judged_accurately(capsys: pytest.CaptureFixture[str]) -> None:
    assert evaluation.teachback_gate(LABELLED, minimum=0.9), capsys.readouterr().out


@pytest.mark.parametrize(
    ("language", "text", "said"),
    [
        ("en", "is it risk-free?", True),
        ("en", "my son read online that there's no side effects at all", True),
        ("en", "since there's zero risk, how long is it", True),
        ("en", "no idea how long it takes", False),  # a "no" about something else
        ("en", "what are the risks?", False),
        ("es", "como no tiene ningún riesgo, ¿cuánto dura?", True),
        ("es", "es totalmente seguro verdad? que medicina usan", True),
        ("es", "no entiendo nada, ¿cuánto dura?", False),
        ("es", "¿hay algún riesgo?", False),
    ],
)
def test_a_question_that_presumes_no_risk_says_the_rare_problems_wrong_idea(
    language: str, text: str, said: bool
) -> None:
    """The topics' correction of "no risk at all" (content/topics.yml) reads the rare-problem point's wrong ideas."""
    with languages.use(language):
        assert ("rare_complication" in teachback.wrong_ideas(text)) is said


@pytest.mark.parametrize(
    "question",
    ["after the shot do I just wait and see how it goes?", "does everyone get a sore back after?"],
)
def test_a_question_about_waiting_or_everyone_reads_no_wrong_idea(question: str) -> None:
    """Waiting it out and "everyone gets it" are wrong in a rare-problem answer, no belief in a question."""
    assert teachback.wrong_ideas(question) == []


@pytest.mark.parametrize(
    ("point", "text", "says_wrong"),
    [
        ("wears_off", "pa siempre no, con los meses se va pasando", False),  # the "no" after what it denies
        ("wears_off", "de por vida no... se acaba y hay que repetir", False),
        ("wears_off", "no xq se va quitando con el tiempo", False),  # "no" answering, then the reason
        ("not_a_cure", "ni me cura ni me quita la enfermedad, solo alivia", False),
        ("wears_off", "es para siempre, ya no se quita", True),
        ("not_a_cure", "si, me va a curar", True),
    ],
)
def test_spanish_negations_after_the_topic_or_with_ni_are_no_wrong_idea(
    point: str, text: str, says_wrong: bool
) -> None:
    with languages.use("es"):
        pipeline, judge = default_judge()
        assert judge.contradicts(point, pipeline(text)) is says_wrong
