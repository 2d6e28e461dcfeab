"""Every exercise's autograded test must reject made-up answers (see made_up_answers.py).

The probe itself runs while nbmake executes the notebooks; these tests keep the probe wired to
every autograded test cell and check that it tells a range check from a real one.
"""

import json
from pathlib import Path

import made_up_answers
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _autograded_tests(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [
        c
        for c in cells
        if c["cell_type"] == "code"
        and c.get("metadata", {}).get("nbgrader", {}).get("grade")
        and "BEGIN HIDDEN TESTS" in "".join(c["source"])
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_autograded_test_is_probed_with_made_up_answers(path):
    cells = _autograded_tests(path)
    assert cells, f"{path.name} has no autograded test"
    for cell in cells:
        source = "".join(cell["source"])
        assert made_up_answers.answer_names(source), source
        hook = cell["metadata"].get("nbmake", {}).get("post_cell_execute")
        assert hook == made_up_answers.POST_CELL_EXECUTE, (
            f"{path.name}: autograded test cell {cell.get('id')} must carry the nbmake metadata "
            f'{{"post_cell_execute": {made_up_answers.POST_CELL_EXECUTE}}}'
        )


def test_answer_names():
    source = 'for _name in ["a", "b_2"]:\n    assert _name in globals()\n'
    assert made_up_answers.answer_names(source) == ["a", "b_2"]
    with pytest.raises(ValueError, match="not an autograded test"):
        made_up_answers.answer_names("assert x > 0")


@pytest.mark.parametrize(
    "value, fake",
    [
        (0.93, 0.5),
        (0.51, 0.25),
        (3, 4),
        (True, False),
        (None, 0.5),
        ({1: 0.9, 2: 0.1}, {1: 0.5, 2: 0.5}),
        ([0.2, 7], [0.5, 8]),
        ((0.9,), (0.5,)),
    ],
)
def test_made_up_values_keep_type_and_shape(value, fake):
    assert made_up_answers.made_up(value) == fake


def test_made_up_arrays_and_objects():
    assert np.array_equal(made_up_answers.made_up(np.array([0.1, 0.9])), [0.5, 0.5])
    assert np.array_equal(made_up_answers.made_up(np.array([1, 2])), [2, 3])
    assert made_up_answers.made_up(object()) is None
    assert made_up_answers.made_up({"model": object()}) is None


def _probe(test_source, **answers):
    namespace = {"_ih": ["", test_source, "probe"], **answers}
    made_up_answers.probe(namespace)
    return namespace


HEAD = 'for _name in ["share"]:\n    assert _name in globals()\n'


def test_a_range_check_is_caught():
    with pytest.raises(AssertionError, match="passed made-up answers"):
        _probe(HEAD + "assert 0 <= share <= 1\n", share=0.73)


def test_a_recomputing_check_passes_and_the_answer_is_restored():
    namespace = _probe(HEAD + "assert abs(share - 0.73) < 1e-9\n", share=0.73)
    assert namespace["share"] == 0.73


def test_an_answer_that_cannot_be_made_up_is_an_error():
    with pytest.raises(AssertionError, match="nothing was probed"):
        _probe(HEAD + "assert share is not None\n", share=object())
