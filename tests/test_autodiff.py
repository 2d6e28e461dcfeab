"""Unit tests of aeutils.autodiff (on the backend the test run uses)."""

import keras
import numpy as np
import pytest

from aeutils import autodiff


def test_jacobian_of_a_sigmoid_layer_matches_its_closed_form():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(5, 3)).astype(np.float32)
    b = rng.normal(size=3).astype(np.float32)
    x = rng.normal(size=(4, 5)).astype(np.float32)

    def layer(v):
        # ops.add, not `+ b`: on torch, a tensor plus a NumPy array is left to NumPy (no autograd)
        return keras.ops.sigmoid(keras.ops.add(keras.ops.matmul(v, w), b))

    jac = autodiff.jacobian(layer, x)
    h = 1 / (1 + np.exp(-(x @ w + b)))
    expected = (h * (1 - h))[:, :, None] * w.T[None]  # J[n, j, i] = h_j (1 - h_j) W_ij
    assert jac.shape == (4, 3, 5) and jac.dtype == np.float32
    np.testing.assert_allclose(jac, expected, rtol=1e-5, atol=1e-6)


def test_jacobian_treats_rows_independently():
    x = np.array([[1.0, 2.0], [3.0, -1.0]], dtype=np.float32)
    jac = autodiff.jacobian(lambda v: keras.ops.square(v), x)  # diag(2 x) per row
    np.testing.assert_allclose(jac[1], np.diag([6.0, -2.0]))


@pytest.mark.parametrize(
    "x, error",
    [
        (np.zeros(5, dtype=np.float32), ValueError),  # one unbatched vector
        (np.zeros((2, 2, 2), dtype=np.float32), ValueError),
        (np.zeros((2, 3), dtype=np.int64), TypeError),
        (np.array([[np.nan, 0.0]]), ValueError),
    ],
)
def test_jacobian_refuses_bad_points(x, error):
    with pytest.raises(error):
        autodiff.jacobian(lambda v: v, x)


def test_jacobian_refuses_a_function_that_is_not_batch_to_vectors():
    x = np.ones((2, 3), dtype=np.float32)
    with pytest.raises(ValueError, match="batch of vectors"):
        autodiff.jacobian(lambda v: keras.ops.sum(v), x)


@pytest.mark.parametrize(
    "fn",
    [
        lambda v: v - keras.ops.mean(v, axis=0, keepdims=True),  # subtracts the batch mean
        lambda v: keras.ops.flip(v, axis=0),  # reorders the batch
        lambda v: keras.ops.multiply(v, keras.ops.sum(v[2])),  # row 2 scales every row
    ],
    ids=["centred-on-the-batch-mean", "batch-reversed", "scaled-by-one-row"],
)
def test_jacobian_refuses_a_function_that_mixes_examples(fn):
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    with pytest.raises(ValueError, match="each example .* independently"):
        autodiff.jacobian(fn, x)


def test_jacobian_of_a_keras_model_matches_each_row_alone():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(8, "relu"), keras.layers.Dense(3, "sigmoid")]
    )
    x = np.random.default_rng(1).normal(size=(5, 6)).astype(np.float32)
    jac = autodiff.jacobian(model, x)
    assert jac.shape == (5, 3, 6)
    for n in range(5):
        np.testing.assert_allclose(jac[n], autodiff.jacobian(model, x[n : n + 1])[0], atol=1e-6)


def test_jacobian_of_a_numpy_function_asks_for_keras_ops():
    x = np.ones((2, 3), dtype=np.float32)
    with pytest.raises(TypeError, match="keras.ops"):
        autodiff.jacobian(lambda v: np.tanh(v), x)
