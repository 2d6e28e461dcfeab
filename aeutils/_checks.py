"""Shared input checks for aeutils' public functions (internal)."""

from __future__ import annotations

import numbers

import numpy as np


def image_array(x, name: str = "x") -> np.ndarray:
    """Return ``x`` as a float ndarray after checking it holds finite values in [0, 1].

    Also refuses images divided by 255 twice (``x / 255`` of images already in [0, 1]): a
    non-constant array whose every value lies in (0, 1/255] (1/255 with a relative tolerance
    of a few units of the dtype's rounding, since float32 ``1 / 255`` lies just above float64
    ``1 / 255``). A constant array is accepted, e.g. a flat near-black prediction
    ``np.full_like(x, 0.002)``. The limit: a non-constant array with all its values in
    (0, 1/255], say a model's faint near-black output, is refused as "divided by 255 twice".
    """
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)  # accepts tensors that implement __array__
        except Exception as err:
            raise TypeError(f"{name} must be an array, got {type(x).__name__}") from err
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{name} must hold floats in [0, 1], got dtype {x.dtype} "
            "(divide uint8 images by 255 first, as data.load_mnist does)"
        )
    if x.size == 0:
        raise ValueError(f"{name} is empty (shape {x.shape})")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinite values")
    low, high = float(x.min()), float(x.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got values from {low:.4g} to {high:.4g}")
    # float32(1) / 255 rounds to just above float64 1/255: allow the dtype's rounding
    twice = (1.0 / 255.0) * (1.0 + 4.0 * float(np.finfo(x.dtype).eps))
    if 0.0 < high <= twice and low < high:
        raise ValueError(
            f"{name} has no value above 1/255 (values from {low:.3g} to {high:.3g}): it looks "
            "divided by 255 twice; data.load_mnist already returns images in [0, 1]"
        )
    return x


_UNBATCHED = ((784,), (28, 28), (28, 28, 1))
"""Shapes of one MNIST image without its batch axis."""


def batch(x: np.ndarray, name: str = "x") -> np.ndarray:
    """Refuse an unbatched image: metrics score the first axis as the images.

    (784,) would be 784 one-pixel images, (28, 28) 28 one-row images and (28, 28, 1) 28
    one-row images with a channel axis: silently wrong figures, so all three are errors that
    say to pass ``x[None]`` for one image.
    """
    if x.ndim < 2 or x.shape in _UNBATCHED:
        raise ValueError(
            f"{name} has shape {x.shape}, which reads as one unbatched image: metrics take a "
            "batch (N, ...) and score each of its N images; for one image pass x[None]"
        )
    return x


def as_images(x, name: str = "x") -> np.ndarray:
    """Return ``x`` (N, 784), (N, 28, 28) or (N, 28, 28, 1) as (N, 28, 28) images in [0, 1]."""
    x = image_array(x, name)
    if x.ndim == 2 and x.shape[1] == 784:
        return x.reshape(-1, 28, 28)
    if x.ndim == 3 and x.shape[1:] == (28, 28):
        return x
    if x.ndim == 4 and x.shape[1:] == (28, 28, 1):
        return x[..., 0]
    hint = " (for one image, pass x[None], a batch of one)" if x.shape in _UNBATCHED else ""
    raise ValueError(
        f"{name} must be a batch of MNIST images of shape (N, 784), (N, 28, 28) or "
        f"(N, 28, 28, 1), got {x.shape}{hint}"
    )


def real_number(value, name: str, *, minimum: float | None = None) -> float:
    """Return ``value`` as a finite float (>= ``minimum`` if given)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} ({value!r})")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def integer(value, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int (>= ``minimum`` if given); bools are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value
