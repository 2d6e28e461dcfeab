"""aeutils.compat: one helper per backend difference."""

import keras
import numpy as np
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


def _build(seed, width=8, learning_rate=1e-2):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(12,))
    hidden = keras.layers.Dense(width, activation="relu")(inputs)
    hidden = keras.layers.Dropout(0.2, seed=seed)(hidden)  # a random-generator state too
    model = keras.Model(inputs, keras.layers.Dense(12)(hidden))
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="mse",
        steps_per_execution=compat.steps_per_execution(4),
    )
    return model


def _data(n=70, seed=0):
    return np.random.default_rng(seed).random((n, 12), dtype="float32")


def _weights(model):
    return [keras.ops.convert_to_numpy(v) for v in model.weights]


def test_trainer_gives_the_models_that_build_and_fit_give():
    # On JAX and PyTorch a model's first fit draws one more shuffle than later fits do (the
    # docstring says so): there the same weights need the same order, shuffle=False.
    shuffle = keras.backend.backend() == "tensorflow"
    train = compat.trainer(_build)
    trained = {}
    for seed, n in [(0, 70), (1, 53), (0, 70)]:  # different sizes; seed 0 again after seed 1
        x = _data(n, seed)
        fit = dict(epochs=3, batch_size=16, verbose=0, shuffle=shuffle)
        trained[seed, n] = model = train(seed, x, x, **fit)
        alone = _build(seed)
        alone.fit(x, x, **fit)
        for ours, theirs in zip(_weights(model), _weights(alone), strict=True):
            np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    assert trained[0, 70] is not trained[1, 53]  # new models, not the shared one
    assert all(m is not train.shared["model"] for m in trained.values())


def test_trainer_compiles_the_training_step_once():
    train = compat.trainer(_build)
    x = _data()
    train(0, x, x, epochs=1, batch_size=16, verbose=0)
    step = train.shared["model"].train_function
    train(1, x, x, epochs=1, batch_size=16, verbose=0)
    assert train.shared["model"].train_function is step


def test_a_model_trained_later_leaves_the_earlier_ones_alone():
    train = compat.trainer(_build)
    x = _data()
    first = train(0, x, x, epochs=2, batch_size=16, verbose=0)
    before = _weights(first)
    train(1, x, x, epochs=2, batch_size=16, verbose=0)
    for now, then in zip(_weights(first), before, strict=True):
        np.testing.assert_array_equal(now, then)


@pytest.mark.parametrize(
    "other",
    [
        lambda seed: _build(seed, width=9),  # another architecture
        lambda seed: _build(seed, learning_rate=1e-3),  # other optimizer settings
    ],
)
def test_trainer_refuses_a_model_of_another_kind(other):
    train = compat.trainer(lambda seed: _build(seed) if seed == 0 else other(seed))
    x = _data()
    train(0, x, x, epochs=1, batch_size=16, verbose=0)
    with pytest.raises(ValueError, match="differs from the first one"):
        train(1, x, x, epochs=1, batch_size=16, verbose=0)


def test_trainer_refuses_what_it_cannot_train():
    with pytest.raises(TypeError, match="build must be a function"):
        compat.trainer("not a function")
    x = _data()
    with pytest.raises(TypeError, match="keras.Model"):
        compat.trainer(lambda seed: "a model")(0, x, x)
    uncompiled = compat.trainer(
        lambda seed: keras.Sequential([keras.Input((12,)), keras.layers.Dense(12)])
    )
    with pytest.raises(ValueError, match="compiled"):
        uncompiled(0, x, x)
