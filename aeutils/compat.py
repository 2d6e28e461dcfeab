"""What differs between Keras backends, hidden behind one helper each.

The course's lesson code is written once, in Keras 3 (``keras.ops``, ``keras.random``), and runs
on TensorFlow, JAX and PyTorch. Where a Keras API accepts a setting on some backends only, the
helper here picks the setting each backend accepts and says why, so the notebooks need no
``if backend == ...`` of their own.

Introduced in notebook 01 (``steps_per_execution``); ``trainer`` in notebook 10.
"""

from __future__ import annotations

from . import _checks


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


def _signature(model) -> tuple:
    """What must match for two models to share one compiled training step."""
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"build must return a keras.Model, got {type(model).__name__}")
    if not getattr(model, "compiled", False) or model.optimizer is None:
        raise ValueError("build must return a compiled model: call model.compile(...) in build")
    optimizer = {k: v for k, v in model.optimizer.get_config().items() if k != "name"}
    compiled = {k: v for k, v in model.get_compile_config().items() if k != "optimizer"}
    variables = [(tuple(v.shape), str(v.dtype)) for v in model.variables]
    return type(model), repr(optimizer), repr(compiled), repr(variables)


def trainer(build):
    """``train = trainer(build)``; then ``train(seed, x, y, **fit_kwargs)`` returns a trained model.

    ``train(seed, x, y, ...)`` gives the model that ``model = build(seed)`` followed by
    ``model.fit(x, y, ...)`` gives: a new, independent model, trained the same way. On
    TensorFlow its weights are the same to the last bit. On JAX and PyTorch, a model's first
    ``fit`` takes more from the random generator that shuffles the data than its later fits
    do, so the images come in another random order (with ``shuffle=False``, the weights are
    the same again).

    What differs is the cost. TensorFlow and JAX compile a new model's training step the
    first time it trains, about a second for the course's small models; PyTorch compiles
    nothing. A notebook that trains many models of one architecture pays that once per model.
    Here one shared model, compiled once, does all the training: each call copies the new
    model's initial state into it (weights, random-generator states, a reset optimizer), fits,
    and copies the trained state back into the new model.

    ``build(seed)`` must return a compiled ``keras.Model``, and every call must give the same
    architecture, loss and optimizer settings; a model that differs is refused with a
    ValueError. Callbacks passed to ``fit`` see the shared model, not the returned one.
    """
    if not callable(build):
        raise TypeError(f"build must be a function seed -> compiled model, got {build!r}")
    shared = {}

    def train(seed, x, y=None, **fit_kwargs):
        model = build(seed)
        signature = _signature(model)
        if not shared:
            worker = build(seed)
            worker.optimizer.build(worker.trainable_variables)
            start = [_value(v) for v in worker.optimizer.variables]
            shared.update(model=worker, signature=signature, optimizer_start=start)
        elif signature != shared["signature"]:
            raise ValueError(
                f"build({seed!r}) returned a model that differs from the first one (architecture, "
                "loss or optimizer settings): a trainer trains models of one kind only; make "
                "another trainer for this one"
            )
        worker = shared["model"]
        for target, source in zip(worker.variables, model.variables, strict=True):
            target.assign(source.value)
        for target, value in zip(
            worker.optimizer.variables, shared["optimizer_start"], strict=True
        ):
            target.assign(value)
        worker.fit(x, y, **fit_kwargs)
        model.optimizer.build(model.trainable_variables)
        for target, source in zip(model.variables, worker.variables, strict=True):
            target.assign(source.value)
        for target, source in zip(
            model.optimizer.variables, worker.optimizer.variables, strict=True
        ):
            target.assign(source.value)
        return model

    train.shared = shared
    return train


def _value(variable):
    """A copy of a Keras variable's current value, as a NumPy array."""
    import keras

    return keras.ops.convert_to_numpy(variable.value).copy()
