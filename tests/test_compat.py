"""aeutils.compat: one helper per backend difference."""

import keras
import pytest

from aeutils import compat


def test_steps_per_execution_is_one_only_on_torch():
    expected = 1 if keras.backend.backend() == "torch" else 32
    assert compat.steps_per_execution(32) == expected
    assert compat.steps_per_execution(1) == 1


@pytest.mark.parametrize("bad, error", [(0, ValueError), (2.5, TypeError), (True, TypeError)])
def test_steps_per_execution_refuses_bad_values(bad, error):
    with pytest.raises(error):
        compat.steps_per_execution(bad)
