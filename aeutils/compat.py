"""What differs between Keras backends, hidden behind one helper each.

The course's lesson code is written once, in Keras 3 (``keras.ops``, ``keras.random``), and runs
on TensorFlow, JAX and PyTorch. Where a Keras API accepts a setting on some backends only, the
helper here picks the setting each backend accepts and says why, so the notebooks need no
``if backend == ...`` of their own.

Introduced in notebook 01.
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
