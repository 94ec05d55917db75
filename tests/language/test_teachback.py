"""The teach-back judge: key ideas in the patient's own words pass, wrong beliefs do not."""

from __future__ import annotations

import pytest

from bot.language.teachback import default_judge, judge_text
from bot.settings import PROJECT_ROOT
from devtools import evaluation

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
        ("not_a_cure", "it's not a cure, it eases the pain"),
    ],
)
def test_right_answers_pass(point: str, answer: str) -> None:
    assert judge_text(point, answer)


@pytest.mark.parametrize(
    ("point", "answer"),
    [
        ("what_it_does", "it fixes my spine"),
        ("what_it_does", "no idea"),
        ("common_side_effect", "nerve damage"),
        ("wears_off", "it won't wear off"),
        ("wears_off", "it's permanent"),
        ("not_a_cure", "yes it will cure my MS"),
    ],
)
def test_wrong_answers_do_not_pass(point: str, answer: str) -> None:
    assert not judge_text(point, answer)


def test_each_point_has_one_right_choice_among_its_buttons() -> None:
    _, judge = default_judge()
    for point in judge.points:
        verdicts = [judge_text(point.id, choice) for choice in point.choices]
        assert verdicts[0] and not any(verdicts[1:]), (point.id, verdicts)


def test_labelled_answers_are_judged_accurately(capsys: pytest.CaptureFixture[str]) -> None:
    assert evaluation.teachback_gate(LABELLED, minimum=0.9), capsys.readouterr().out
