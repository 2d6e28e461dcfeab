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
            layer or model on flat inputs, e.g. an encoder). Called on backend tensors, so it
            must compute with ``keras.ops`` (or the backend's ops), not NumPy.
        x: the points, a float array (N, D). Keep N small: the result holds N * K * D numbers.

    Returns:
        float32 ndarray (N, K, D).

    Raises:
        TypeError / ValueError for a non-float or non-(N, D) ``x``, or when ``fn`` does not
        return an (N, K) batch; TypeError when ``fn`` returns no backend tensor (it computed
        with NumPy, which cannot be differentiated); ValueError when ``fn`` mixes the rows
        (e.g. subtracts the batch mean or reorders the batch), whose per-row Jacobian the
        backends' batched methods would get wrong; NotImplementedError on a backend other
        than TensorFlow, JAX or PyTorch.

    The rows' independence is checked with one extra gradient, of ``sum(r * fn(x))`` for a
    fixed random ``r`` (N, K), against the same sum taken over the per-row Jacobians. The
    tolerance, 1e-2 of the derivatives' size, leaves room for GPUs' reduced-precision
    (TF32) matrix products; a coupling between rows weaker than that can go unnoticed.
    """
    x = _as_batch(x)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        zero = tf.UnconnectedGradients.ZERO  # an output that does not depend on x: zeros
        xt = tf.convert_to_tensor(x)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(xt)
            out = fn(xt)
            weights = _check_output(out, x)
            projection = _projection(out, weights)
        result = tape.batch_jacobian(out, xt, unconnected_gradients=zero)
        gradient = tape.gradient(projection, xt, unconnected_gradients=zero)
        del tape
    elif backend == "jax":
        import jax
        import jax.numpy as jnp

        weights = _check_output(fn(jnp.asarray(x)), x)
        result = jax.vmap(jax.jacrev(lambda row: fn(row[None])[0]))(x)
        gradient = jax.grad(lambda v: _projection(fn(v), weights))(jnp.asarray(x))
    elif backend == "torch":
        import torch

        xt = keras.ops.convert_to_tensor(x)  # a torch tensor on the device Keras uses
        weights = _check_output(fn(xt), x)
        rows = [torch.autograd.functional.jacobian(lambda r: fn(r[None])[0], r) for r in xt]
        result = torch.stack(rows)
        xg = xt.detach().clone().requires_grad_(True)
        projection = _projection(fn(xg), weights)
        gradient = None
        if projection.requires_grad:  # else an output that does not depend on x
            (gradient,) = torch.autograd.grad(projection, xg, allow_unused=True)
        if gradient is None:
            gradient = torch.zeros_like(xg)
    else:
        raise NotImplementedError(
            f"jacobian() supports the tensorflow, jax and torch backends, not {backend!r}"
        )
    result = np.asarray(keras.ops.convert_to_numpy(result), dtype=np.float32)
    _check_rows_independent(result, keras.ops.convert_to_numpy(gradient), weights)
    return result


def _check_output(out, x: np.ndarray) -> np.ndarray:
    """Check that ``out`` is an (N, K) backend tensor; return fixed random weights (N, K)."""
    if not keras.ops.is_tensor(out):
        raise TypeError(
            "fn must compute with keras.ops (e.g. keras.ops.tanh, not np.tanh) so that it can be "
            f"differentiated: it returned a {type(out).__module__}.{type(out).__name__}, not a "
            f"{keras.backend.backend()} tensor"
        )
    shape = tuple(keras.ops.shape(out))
    if len(shape) != 2 or shape[0] != x.shape[0]:
        raise ValueError(
            f"fn must map a batch (N, D) to a batch of vectors (N, K); for x of shape {x.shape} "
            f"it returned shape {shape}"
        )
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


def _projection(out, weights: np.ndarray):
    """``sum(weights * out)``, a scalar whose gradient mixes every row's derivatives."""
    return keras.ops.sum(
        keras.ops.multiply(out, keras.ops.cast(weights, keras.backend.standardize_dtype(out.dtype)))
    )


def _check_rows_independent(result: np.ndarray, gradient, weights: np.ndarray) -> None:
    """Refuse a ``fn`` whose rows interact: its per-row Jacobians do not add up to the gradient.

    For rows treated independently, d sum(r * fn(x)) / d x[n] = sum_j r[n, j] J[n, j, :]
    exactly. A function that mixes rows adds the cross-row derivatives to the left side (and
    the batched Jacobians miss them or put them in the wrong place), so the two differ.
    """
    gradient = np.asarray(gradient, dtype=np.float64)
    jac = result.astype(np.float64)
    expected = np.einsum("nj,nji->ni", weights, jac)
    terms = np.einsum("nj,nji->ni", np.abs(weights), np.abs(jac))
    scale = max(float(np.max(terms)), float(np.max(np.abs(gradient))))
    if float(np.max(np.abs(gradient - expected))) > 1e-2 * scale:
        raise ValueError(
            "fn must treat each example (row) of the batch independently, as a layer or an "
            "encoder does: its output for one row depends on other rows (e.g. it subtracts the "
            "batch mean, normalises over the batch or reorders the rows), and the Jacobian "
            "of one row alone would come out wrong, so it is refused"
        )
