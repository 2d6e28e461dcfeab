"""Unit tests of aeutils._checks, the input checks behind every public function."""

import numpy as np
import pytest

from aeutils import _checks


def _images(dtype):
    """Images in [0, 1] with a maximum of exactly 1, as data.load_mnist returns them."""
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype(dtype)
    x[:, 0, 0, 0] = 1.0
    return x


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_images_divided_by_255_twice_are_refused_whatever_the_rounding(dtype):
    x = _images(dtype)
    assert _checks.image_array(x) is x
    with pytest.raises(ValueError, match="255 twice"):
        _checks.image_array(x / dtype(255))
    with pytest.raises(ValueError, match="255 twice"):
        _checks.image_array(x / 255 * 0.5)  # images whose max was below 1


@pytest.mark.parametrize("value", [0.0, 0.002, 1 / 255, 0.5, 1.0])
def test_a_constant_array_is_accepted(value):
    flat = np.full((2, 784), value, np.float32)
    assert _checks.image_array(flat) is flat


def test_the_documented_limit_a_faint_non_constant_array_is_refused():
    # a faint near-black prediction, not divided twice, is still refused: every value in
    # (0, 1/255] and not constant is what the guard cannot tell apart (see the docstring)
    faint = np.linspace(0.0005, 1 / 255, 2 * 784, dtype=np.float32).reshape(2, 784)
    with pytest.raises(ValueError, match="255 twice"):
        _checks.image_array(faint)
    # one value just above 1/255 (beyond float32 rounding) and it is accepted
    faint[0, 0] = 1.01 / 255
    assert _checks.image_array(faint) is faint


@pytest.mark.parametrize("shape", [(784,), (28, 28), (28, 28, 1)])
def test_batch_refuses_one_unbatched_image(shape):
    with pytest.raises(ValueError, match=r"x\[None\]"):
        _checks.batch(np.zeros(shape))
    one = np.zeros((1, *shape))  # the same image as a batch of one
    assert _checks.batch(one) is one


@pytest.mark.parametrize("shape", [(2, 784), (1, 28, 28), (5, 28, 28, 1), (2, 3)])
def test_batches_pass(shape):
    x = np.zeros(shape)
    assert _checks.batch(x) is x
