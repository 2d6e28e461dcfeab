"""Corrupting images with noise, reproducibly.

Introduced in notebook 05 (denoising); available from notebook 01 on.
"""

from __future__ import annotations

import numpy as np

from . import _checks


def gaussian(x, noise_factor: float = 0.5, *, seed: int = 0, clip: bool = True) -> np.ndarray:
    """Add Gaussian noise: ``x + noise_factor * N(0, 1)``, clipped to [0, 1] by default.

    This is the Keras blog's corruption for its denoising autoencoder (noise factor 0.5).

    Args:
        x: images as floats in [0, 1], any shape, e.g. (N, 784) or (N, 28, 28, 1); images
            divided by 255 twice (not constant, all values in (0, 1/255]) are refused.
        noise_factor: standard deviation of the noise, >= 0 (0 returns a copy of ``x``).
        seed: seed of NumPy's generator; the same seed gives the same noise.
        clip: clip the result to [0, 1] (True keeps it a valid image).

    Returns:
        float32 array of the same shape as ``x``; in [0, 1] when ``clip`` is True.
    """
    x = _checks.image_array(x)
    noise_factor = _checks.real_number(noise_factor, "noise_factor", minimum=0.0)
    seed = _checks.integer(seed, "seed", minimum=0)
    if not isinstance(clip, bool):
        raise TypeError(f"clip must be True or False, got {clip!r}")
    rng = np.random.default_rng(seed)
    noisy = x + noise_factor * rng.standard_normal(x.shape)
    if clip:
        noisy = np.clip(noisy, 0.0, 1.0)
    return noisy.astype(np.float32)
