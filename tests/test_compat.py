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


def _build(seed, width=8, learning_rate=1e-2, activation="relu", metrics=()):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(12,))
    hidden = keras.layers.Dense(width, activation=activation)(inputs)
    hidden = keras.layers.Dropout(0.2, seed=seed)(hidden)  # a random-generator state too
    model = keras.Model(inputs, keras.layers.Dense(12)(hidden))
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="mse",
        metrics=[m() for m in metrics],
        steps_per_execution=compat.steps_per_execution(4),
    )
    return model


def _data(n=70, seed=0):
    return np.random.default_rng(seed).random((n, 12), dtype="float32")


def _weights(model):
    return [keras.ops.convert_to_numpy(v) for v in model.weights]


def test_trainer_gives_the_models_that_build_and_fit_give():
    # On JAX a model's first fit draws one more shuffle than later fits do (the docstring
    # says so): there the same weights need the same order, shuffle=False.
    tensorflow = keras.backend.backend() == "tensorflow"
    train = compat.trainer(_build)
    trained = {}
    for seed, n in [(0, 70), (1, 53), (0, 70)]:  # different sizes; seed 0 again after seed 1
        x = _data(n, seed)
        fit = dict(epochs=3, batch_size=16, verbose=0, shuffle=tensorflow)
        trained[seed, n] = model = train(seed, x, x, **fit)
        alone = _build(seed)
        history = alone.fit(x, x, **fit)
        for ours, theirs in zip(_weights(model), _weights(alone), strict=True):
            if tensorflow:  # the same to the last bit
                np.testing.assert_array_equal(ours, theirs)
            else:
                np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
        assert int(model.optimizer.iterations) == int(alone.optimizer.iterations)
        assert model.history.history.keys() == history.history.keys()
        np.testing.assert_allclose(model.history.history["loss"], history.history["loss"], 1e-5)
    assert trained[0, 70] is not trained[1, 53]  # new models, not the shared one
    assert all(m is not train.shared.get("model") for m in trained.values())


def test_trainer_compiles_the_training_step_once(monkeypatch):
    # Keras calls train_step's Python code only while it traces (TensorFlow) or compiles
    # (JAX) the step; PyTorch runs it eagerly at every step, and there the trainer only fits.
    if keras.backend.backend() == "torch":
        pytest.skip("PyTorch compiles nothing: the trainer builds and fits")
    traced = []
    functional = type(_build(0))
    step = functional.train_step
    monkeypatch.setattr(
        functional, "train_step", lambda self, *a, **k: traced.append(1) or step(self, *a, **k)
    )
    train = compat.trainer(_build)
    x = _data(64)  # four full batches: one shape throughout
    train(0, x, x, epochs=1, batch_size=16, verbose=0)
    first = len(traced)
    assert first > 0
    train(1, x, x, epochs=2, batch_size=16, verbose=0)
    train(2, x, x, epochs=1, batch_size=16, verbose=0)
    assert len(traced) == first


def test_a_model_trained_later_leaves_the_earlier_ones_alone():
    train = compat.trainer(_build)
    x = _data()
    first = train(0, x, x, epochs=2, batch_size=16, verbose=0)
    before = _weights(first)
    train(1, x, x, epochs=2, batch_size=16, verbose=0)
    for now, then in zip(_weights(first), before, strict=True):
        np.testing.assert_array_equal(now, then)


@pytest.mark.parametrize(
    "other, what",
    [
        (lambda seed: _build(seed, width=9), "architecture"),
        (lambda seed: _build(seed, activation="tanh"), "architecture"),
        (lambda seed: _build(seed, learning_rate=1e-3), "optimizer settings"),
    ],
)
def test_trainer_refuses_a_model_of_another_kind(other, what):
    if keras.backend.backend() == "torch":
        pytest.skip("PyTorch: the trainer builds and fits each model, whatever its kind")
    train = compat.trainer(lambda seed: _build(seed) if seed == 0 else other(seed))
    x = _data()
    train(0, x, x, epochs=1, batch_size=16, verbose=0)
    with pytest.raises(ValueError, match=f"whose {what} differ"):
        train(1, x, x, epochs=1, batch_size=16, verbose=0)


def test_numbered_metric_names_are_not_a_difference():
    train = compat.trainer(lambda seed: _build(seed, metrics=[keras.metrics.MeanAbsoluteError]))
    x = _data()
    train(0, x, x, epochs=1, batch_size=16, verbose=0)
    model = train(1, x, x, epochs=1, batch_size=16, verbose=0)  # its metric is numbered "_1"
    assert "mean_absolute_error" in model.history.history


def test_trainer_refuses_what_it_cannot_train():
    with pytest.raises(TypeError, match="build must be a function"):
        compat.trainer("not a function")
    x = _data()
    with pytest.raises(TypeError, match="keras.Model"):
        compat.trainer(lambda seed: "a model")(0, x, x)

    def uncompiled(seed):
        return keras.Sequential([keras.Input((12,)), keras.layers.Dense(12)])

    with pytest.raises(ValueError, match="compiled"):
        compat.trainer(uncompiled)(0, x, x)

    def unbuilt(seed):
        model = keras.Sequential([keras.layers.Dense(12)])  # no Input: no weights yet
        model.compile(optimizer="adam", loss="mse")
        return model

    with pytest.raises(ValueError, match="keras.Input"):
        compat.trainer(unbuilt)(0, x, x)


def test_tf_data_without_autotune_acts_on_tensorflow_only():
    assert compat.tf_data_without_autotune() is (keras.backend.backend() == "tensorflow")


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="only TensorFlow feeds arrays through tf.data"
)
@pytest.mark.parametrize("shuffle", [False, True])
def test_without_autotune_the_batches_are_the_same_in_the_same_order(shuffle):
    import tensorflow as tf
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    assert compat.tf_data_without_autotune()
    assert compat.tf_data_without_autotune()  # a second call leaves the one wrapper
    wrapped = ArrayDataAdapter.get_tf_dataset
    original = wrapped.__wrapped__
    assert not hasattr(original, "__wrapped__")
    x = np.arange(50 * 3, dtype="float32").reshape(50, 3)
    y = np.arange(50, dtype="float32")
    adapter = ArrayDataAdapter(x, y, batch_size=8, shuffle=shuffle)
    batches = {}
    for name, get in [("original", original), ("without autotune", wrapped)]:
        tf.random.set_seed(0)
        dataset = get(adapter)
        batches[name] = [np.asarray(b) for _, b in dataset.as_numpy_iterator()]
    assert dataset.options().autotune.enabled is False
    assert len(batches["original"]) == 7
    for a, b in zip(batches["original"], batches["without autotune"], strict=True):
        np.testing.assert_array_equal(a, b)
    if shuffle:  # the comparison above saw a shuffled order, not the plain one
        assert not np.array_equal(np.concatenate(batches["original"]), y)
