"""Made-up answers for the autograded exercises: each hidden test must reject them.

A hidden test that only checks a range (``0 <= share <= 1``) gives full marks to a student
who types ``share = 0.5``. ``probe`` runs in the notebook's kernel right after an exercise's
autograded test cell (nbmake's ``post_cell_execute`` cell metadata, set on every such cell and
kept there by ``tests/test_made_up_answers.py``): it replaces each answer the cell names with a
made-up constant of the same type and shape, runs the cell again, requires an AssertionError,
and puts the real answers back.
"""

from __future__ import annotations

import re

import numpy as np

POST_CELL_EXECUTE = ["import made_up_answers", "made_up_answers.probe(globals())"]
"""Every autograded test cell's metadata: ``{"nbmake": {"post_cell_execute": ...}}``."""

_NAMES = re.compile(r"for _name in \[([^\]]*)\]:")


def answer_names(source: str) -> list[str]:
    """The answers an autograded test cell names in its ``for _name in [...]`` line."""
    found = _NAMES.search(source)
    if not found:
        raise ValueError("not an autograded test cell: it has no `for _name in [...]` line")
    return re.findall(r"[\"'](\w+)[\"']", found.group(1))


def _number(value: float) -> float:
    return 0.5 if abs(value - 0.5) > 0.05 else 0.25


def made_up(value):
    """A constant of ``value``'s type and shape that is not ``value``; None for objects.

    Numbers become 0.5 (0.25 when the answer is near 0.5), integers the answer plus one,
    booleans their negation, None 0.5; dicts, lists, tuples and arrays are made up element
    by element. Models, functions and other objects give None: nothing to make up.
    """
    if value is None:
        return 0.5
    if isinstance(value, bool | np.bool_):
        return not value
    if isinstance(value, int | np.integer):
        return int(value) + 1
    if isinstance(value, float | np.floating):
        return _number(float(value))
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value + 1 if value.dtype.kind in "iu" else np.full(value.shape, 0.5)
    if isinstance(value, dict):
        fakes = {key: made_up(item) for key, item in value.items()}
        return None if all(f is None for f in fakes.values()) else fakes
    if isinstance(value, list | tuple):
        fakes = [made_up(item) for item in value]
        return None if all(f is None for f in fakes) else type(value)(fakes)
    return None


def probe(namespace: dict) -> None:
    """Rerun the autograded test cell just executed with made-up answers; it must fail."""
    source = namespace["_ih"][-2]  # the cell before this probe: the autograded test
    names = answer_names(source)
    real = {name: namespace[name] for name in names}
    fakes = {name: made_up(value) for name, value in real.items()}
    fakes = {name: fake for name, fake in fakes.items() if fake is not None}
    if not fakes:
        raise AssertionError(f"no answer among {names} can be made up: nothing was probed")
    try:
        namespace.update(fakes)
        try:
            exec(compile(source, "<autograded test with made-up answers>", "exec"), namespace)
        except AssertionError:
            return
        raise AssertionError(
            f"the autograded test of {names} passed made-up answers {fakes}: it cannot tell a "
            "guess from a computed answer"
        )
    finally:
        namespace.update(real)
