"""aeutils: the plumbing behind the *Autoencoders with Keras* notebooks.

Loading MNIST, quick/full mode, noise, plots, metrics, the one call that records a run's
numbers, and the lesson models that later notebooks reuse once a notebook has taught them
live here, so that each notebook can show only what it teaches.

Import the modules you need, e.g. ``from aeutils import config, data, plotting``.
Importing ``aeutils`` does not import TensorFlow or Keras; ``callbacks``, ``models``,
``autodiff`` and ``compat`` import Keras when they are imported.

The course's maintainers' tools (the runner, the tables, the classroom command) live in the
checkout's ``tools/`` folder, outside this package; nothing here imports them.
"""

__version__ = "0.2.0"

__all__ = [
    "autodiff",
    "callbacks",
    "compat",
    "config",
    "data",
    "environment",
    "metrics",
    "models",
    "noise",
    "plotting",
    "references",
    "results",
]
