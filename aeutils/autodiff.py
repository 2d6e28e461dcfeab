"""Per-example Jacobians by automatic differentiation, on whichever Keras backend is active.

Keras 3's ``keras.ops`` has no gradient operation: training differentiates through
``fit()``, but a notebook that wants the Jacobian of an encoder with respect to its input
must ask the backend itself (``tf.GradientTape``, ``jax.jacrev``, ``torch.autograd``). This
module is the one place where that difference lives, so the notebooks stay backend-neutral.
Importing it imports Keras. The course's tests run it on TensorFlow, the default backend; the
JAX and PyTorch branches run when the tests run under those backends.

Introduced in notebook 07 (contractive autoencoder), to check a closed-form Jacobian.
"""

from __future__ import annotations

import keras
import numpy as np


def _as_batch(x) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except Exception as err:
            raise TypeError(f"x must be an array, got {type(x).__name__}") from err
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"x must hold floats, got dtype {x.dtype}")
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(
            f"x must be a non-empty batch of flat vectors (N, D), got shape {x.shape}; "
            "for one vector pass x[None]"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinite values")
    return x.astype(np.float32)


def jacobian(fn, x) -> np.ndarray:
    """The Jacobian of ``fn`` at each row of ``x``: ``J[n, j, i] = d fn(x)[n, j] / d x[n, i]``.

    Args:
        fn: a function of a batch, (N, D) -> (N, K), that treats rows independently (a Keras
            layer or model on flat inputs, e.g. an encoder). Called on backend tensors.
        x: the points, a float array (N, D). Keep N small: the result holds N * K * D numbers.

    Returns:
        float32 ndarray (N, K, D).

    Raises:
        TypeError / ValueError for a non-float or non-(N, D) ``x``, or when ``fn`` does not
        return an (N, K) batch; NotImplementedError on a backend other than TensorFlow, JAX
        or PyTorch.
    """
    x = _as_batch(x)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        xt = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            out = fn(xt)
        _check_output(out, x)
        result = tape.batch_jacobian(out, xt)
    elif backend == "jax":
        import jax

        _check_output(fn(x), x)
        result = jax.vmap(jax.jacrev(lambda row: fn(row[None])[0]))(x)
    elif backend == "torch":
        import torch

        xt = keras.ops.convert_to_tensor(x)  # a torch tensor on the device Keras uses
        _check_output(fn(xt), x)
        rows = [torch.autograd.functional.jacobian(lambda r: fn(r[None])[0], r) for r in xt]
        result = torch.stack(rows)
    else:
        raise NotImplementedError(
            f"jacobian() supports the tensorflow, jax and torch backends, not {backend!r}"
        )
    return np.asarray(keras.ops.convert_to_numpy(result), dtype=np.float32)


def _check_output(out, x: np.ndarray) -> None:
    shape = tuple(keras.ops.shape(out))
    if len(shape) != 2 or shape[0] != x.shape[0]:
        raise ValueError(
            f"fn must map a batch (N, D) to a batch of vectors (N, K); for x of shape {x.shape} "
            f"it returned shape {shape}"
        )
