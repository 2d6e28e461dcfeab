"""What differs between Keras backends, hidden behind one helper each.

The course's lesson code is written once, in Keras 3 (``keras.ops``, ``keras.random``), and runs
on TensorFlow, JAX and PyTorch. Where a Keras API accepts a setting on some backends only, the
helper here picks the setting each backend accepts and says why, so the notebooks need no
``if backend == ...`` of their own.

Introduced in notebook 01 (``steps_per_execution``); ``trainer`` in notebook 10.
``tf_data_without_autotune`` is called by ``data.load_mnist``: no notebook calls it itself.
"""

from __future__ import annotations

import functools
import sys

from . import _checks

_NO_AUTOTUNE = "_aeutils_without_autotune"  # marks the wrapped input pipeline


def steps_per_execution(requested: int = 32) -> int:
    """``requested`` batches per call into the backend, or 1 on PyTorch.

    ``compile(steps_per_execution=N)`` lets TensorFlow and JAX run N batches in one compiled
    call, which saves most of the per-batch overhead of a small model. Keras's PyTorch trainer
    runs eagerly and refuses any N other than 1 (a ValueError at ``fit``), so there the answer
    is 1; the numbers a model reaches do not depend on it.
    """
    requested = _checks.integer(requested, "requested", minimum=1)
    import keras

    return 1 if keras.backend.backend() == "torch" else requested


def tf_data_without_autotune() -> bool:
    """On TensorFlow, feed NumPy arrays to ``fit``, ``evaluate`` and ``predict`` without
    tf.data's autotuner; return True where that is how Keras now feeds them.

    On the TensorFlow backend Keras turns NumPy arrays into a tf.data pipeline, one iterator
    per epoch and per ``predict`` or ``evaluate`` call. With autotuning on (tf.data's default),
    each iterator starts a thread that re-tunes the pipeline after 10 ms, 20 ms, 40 ms and so
    on, doubling the wait up to a minute. With TensorFlow 2.21, deleting the iterator waits
    until that thread's current wait is over: each epoch ends only at the next of those
    moments, so an 18 s epoch took 20.5 s, and past 82 s an epoch can wait up to a minute
    more, with the cores idle meanwhile. Slicing arrays already in memory needs no tuning.
    Without it the batches are the same, in the same order, so no number changes: only the
    waits go.

    It wraps Keras's array adapter (a private class, ``ArrayDataAdapter``) once per process.
    It does nothing, and returns False, when Keras is not imported yet (importing it here would
    fix the backend before a notebook chooses one), on JAX and PyTorch (which read NumPy
    arrays without tf.data), or when this Keras has no such adapter; training is then as
    correct as before, only slower on TensorFlow.
    """
    if "keras" not in sys.modules:
        return False
    import keras

    if keras.backend.backend() != "tensorflow":
        return False
    try:
        from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter
    except ImportError:  # moved in another Keras version
        return False
    original = getattr(ArrayDataAdapter, "get_tf_dataset", None)
    if original is None:
        return False
    if getattr(original, _NO_AUTOTUNE, False):
        return True
    import tensorflow as tf

    @functools.wraps(original)
    def get_tf_dataset(self):
        options = tf.data.Options()
        options.autotune.enabled = False
        return original(self).with_options(options)

    setattr(get_tf_dataset, _NO_AUTOTUNE, True)
    ArrayDataAdapter.get_tf_dataset = get_tf_dataset
    return True


def _without(value, keys=("name", "seed")):
    """``value`` (a config: dicts, lists) without the entries under ``keys``, at any depth.

    Names are numbered by Keras (``dense_3``, ``auc_1``) and seeds only decide initial values,
    which the trainer copies; neither makes two models train differently.
    """
    if isinstance(value, dict):
        return {k: _without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list | tuple):
        return [_without(v, keys) for v in value]
    return value


def _signature(model) -> dict:
    """What must match for two models to share one compiled training step, part by part."""
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"build must return a keras.Model, got {type(model).__name__}")
    if not getattr(model, "compiled", False) or model.optimizer is None:
        raise ValueError("build must return a compiled model: call model.compile(...) in build")
    if not model.built or not model.variables:
        raise ValueError(
            "build must return a model whose weights exist already: start it with keras.Input"
        )
    layers = [  # every layer inside, nested models opened (their configs hold the names)
        (type(layer).__name__, layer.get_config())
        for layer in model._flatten_layers(include_self=False)
        if not isinstance(layer, keras.Model)
    ]
    variables = [(tuple(v.shape), str(v.dtype), v.trainable) for v in model.variables]
    compiled = {k: v for k, v in model.get_compile_config().items() if k != "optimizer"}
    return {
        "architecture": repr(_without([type(model).__name__, layers, variables])),
        "optimizer settings": repr(_without(model.optimizer.get_config())),
        "loss and compile settings": repr(_without(compiled)),
    }


def trainer(build):
    """``train = trainer(build)``; then ``train(seed, x, y, **fit_kwargs)`` returns a trained model.

    ``train(seed, x, y, ...)`` gives the model that ``model = build(seed)`` followed by
    ``model.fit(x, y, ...)`` gives: a new, independent model, trained the same way, with its
    ``history``. On TensorFlow its weights are the same to the last bit. On JAX, a model's
    first ``fit`` (or ``evaluate``) on arrays takes one shuffled pass's worth from NumPy's
    random generator to build the loss, which later fits skip; with ``shuffle=True`` the
    images then come in a different, equally random order. On PyTorch ``train`` simply builds
    and fits, since PyTorch compiles nothing.

    What differs is the cost. TensorFlow and JAX compile a new model's training step the
    first time it trains, about a second for the course's small models. A notebook that trains
    many models of one architecture pays that once per model. Here one shared model, compiled
    once, does all the training: each call copies the new model's initial state into it
    (weights, random-generator states, a reset optimizer), fits, and copies the trained state
    back into the new model. The first call builds the shared model with ``build(seed)`` too,
    so ``build`` should set the random seed itself (``keras.utils.set_random_seed``), as the
    course's do: otherwise that extra build uses up random draws.

    ``build(seed)`` must return a compiled, built ``keras.Model`` (one that starts with
    ``keras.Input``), and every call must give the same architecture, loss and optimizer
    settings (names and seeds may differ); a model that differs is refused with a ValueError
    that names what differs. Callbacks passed to ``fit`` see the shared model, not the
    returned one.
    """
    if not callable(build):
        raise TypeError(f"build must be a function seed -> compiled model, got {build!r}")
    import keras

    shared = {}

    def train(seed, x, y=None, **fit_kwargs):
        model = build(seed)
        signature = _signature(model)
        if keras.backend.backend() == "torch":  # nothing to compile: no sharing needed
            model.fit(x, y, **fit_kwargs)
            return model
        if not shared:
            worker = build(seed)
            worker.optimizer.build(worker.trainable_variables)
            start = [_value(v) for v in worker.optimizer.variables]
            shared.update(model=worker, signature=signature, optimizer_start=start)
        differs = [part for part, text in signature.items() if text != shared["signature"][part]]
        if differs:
            raise ValueError(
                f"build({seed!r}) returned a model whose {' and '.join(differs)} differ from "
                "the first one's: a trainer trains models of one kind only; make another "
                "trainer for this kind"
            )
        worker = shared["model"]
        _copy(model.variables, worker.variables)
        for target, value in zip(
            worker.optimizer.variables, shared["optimizer_start"], strict=True
        ):
            target.assign(value)
        history = worker.fit(x, y, **fit_kwargs)
        model.optimizer.build(model.trainable_variables)
        _copy(worker.variables, model.variables)
        _copy(worker.optimizer.variables, model.optimizer.variables)
        history.set_model(model)
        model.history = history
        return model

    train.shared = shared
    return train


def _copy(sources, targets) -> None:
    for target, source in zip(targets, sources, strict=True):
        target.assign(source.value)


def _value(variable):
    """A copy of a Keras variable's current value, as a NumPy array."""
    import keras

    return keras.ops.convert_to_numpy(variable.value).copy()
