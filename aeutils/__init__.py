"""aeutils: the plumbing behind the *Autoencoders with Keras* notebooks.

Loading MNIST, quick/full mode, noise, plots, metrics and the results files live
here so that each notebook can show only what it teaches: the models.

Import the modules you need, e.g. ``from aeutils import config, data, plotting``.
Importing ``aeutils`` does not import TensorFlow or Keras.
"""

__version__ = "0.1.0"

__all__ = ["config", "data", "metrics", "noise", "plotting", "results"]
