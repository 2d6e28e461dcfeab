"""Metrics computed in NumPy, so that they mean the same whatever Keras backend trained the model.

Every image argument must hold floats in [0, 1] and a batch axis: one unbatched image ((784,),
(28, 28) or (28, 28, 1)) is refused, pass ``x[None]``. Images divided by 255 twice are
refused too: an array that is not constant and whose every value lies in (0, 1/255] raises
ValueError, so a faint non-constant prediction of that kind cannot be scored (a constant one,
such as a flat near-black guess, can).

Introduced in notebook 01.
"""

from __future__ import annotations

import numpy as np

from . import _checks

EPSILON = 1e-7
"""Keras's fuzz factor: predictions are clipped to [EPSILON, 1 - EPSILON] before the log."""


def _same_shape(target: np.ndarray, prediction: np.ndarray) -> None:
    if target.shape != prediction.shape:
        raise ValueError(
            f"prediction of shape {prediction.shape} does not match target of shape {target.shape}"
        )


def binary_crossentropy_per_image(target, prediction) -> np.ndarray:
    """Binary cross-entropy of each image, averaged over its pixels, as Keras computes it.

    Args:
        target: a batch of images in [0, 1], shape (N, ...); one unbatched image, (784,),
            (28, 28) or (28, 28, 1), is refused (pass ``x[None]``).
        prediction: probabilities in [0, 1], the same shape as ``target`` or broadcastable
            to it (e.g. one mean image of shape (784,) for a batch of shape (N, 784)).

    Returns:
        float64 array of shape (N,), in nats per pixel (natural log). Predictions are
        clipped to [EPSILON, 1 - EPSILON] first, like Keras's loss. Introduced in notebook 03.
    """
    target = _checks.batch(_checks.image_array(target, "target"), "target")
    prediction = _checks.image_array(prediction, "prediction")
    try:
        shape = np.broadcast_shapes(prediction.shape, target.shape)
    except ValueError as err:
        raise ValueError(
            f"prediction of shape {prediction.shape} does not match target of shape {target.shape}"
        ) from err
    if shape != target.shape:
        raise ValueError(
            f"prediction of shape {prediction.shape} would broadcast target {target.shape} "
            f"to {shape}"
        )
    p = np.clip(prediction.astype(np.float64), EPSILON, 1.0 - EPSILON)
    t = target.astype(np.float64)
    losses = -(t * np.log(p) + (1.0 - t) * np.log(1.0 - p))
    return losses.reshape(len(t), -1).mean(axis=1)


def binary_crossentropy(target, prediction) -> float:
    """Mean binary cross-entropy per pixel, as Keras's ``binary_crossentropy`` loss reports it.

    Shapes and ranges as for ``binary_crossentropy_per_image``; returns a float in nats per
    pixel, averaged over every pixel of every image. Introduced in notebook 01.
    """
    return float(np.mean(binary_crossentropy_per_image(target, prediction)))


def mean_image_baseline(x_train, x_test) -> float:
    """Binary cross-entropy of the trivial model that predicts the mean training image for all.

    Any autoencoder worth its name must do better. Shapes: (N, ...) and (M, ...) with the
    same image shape; values in [0, 1]. Returns nats per pixel.
    """
    x_train = _checks.batch(_checks.image_array(x_train, "x_train"), "x_train")
    x_test = _checks.batch(_checks.image_array(x_test, "x_test"), "x_test")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise ValueError(
            f"x_train images have shape {x_train.shape[1:]}, x_test images {x_test.shape[1:]}"
        )
    return binary_crossentropy(x_test, x_train.mean(axis=0))


def psnr_per_image(target, prediction, mask=None) -> np.ndarray:
    """Peak signal-to-noise ratio in dB of each image of a batch, for images in [0, 1].

    PSNR = 10 log10(1 / MSE), MSE taken per image (first axis); a perfect image (MSE 0)
    is capped at 100 dB. Shapes: equal batches, (N, ...); one unbatched image, (784,),
    (28, 28) or (28, 28, 1), is refused (it would be scored pixel by pixel or row by row).
    Returns a float64 array (N,).

    ``mask`` (optional, boolean, the shape of ``target``) restricts each image's MSE to the
    pixels where it is True, e.g. the pixels an inpainting method had to fill in (notebook 09);
    every image needs at least one such pixel.
    """
    target = _checks.batch(_checks.image_array(target, "target"), "target")
    prediction = _checks.image_array(prediction, "prediction")
    _same_shape(target, prediction)
    squared = ((target.astype(np.float64) - prediction.astype(np.float64)) ** 2).reshape(
        len(target), -1
    )
    if mask is None:
        mse = np.mean(squared, axis=1)
    else:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise TypeError(f"mask must be a boolean array, got dtype {mask.dtype}")
        if mask.shape != target.shape:
            raise ValueError(
                f"mask of shape {mask.shape} does not match target of shape {target.shape}"
            )
        counts = mask.reshape(len(target), -1).sum(axis=1)
        if np.any(counts == 0):
            raise ValueError(
                f"mask selects no pixel in {int(np.sum(counts == 0))} image(s); each needs one"
            )
        mse = np.sum(squared * mask.reshape(len(target), -1), axis=1) / counts
    return 10.0 * np.log10(1.0 / np.maximum(mse, 1e-10))


def psnr(target, prediction, mask=None) -> float:
    """Peak signal-to-noise ratio in dB for images in [0, 1], averaged over the images.

    The mean of ``psnr_per_image`` (see there for shapes and ``mask``). Introduced in
    notebook 05; ``mask`` in notebook 09.
    """
    return float(np.mean(psnr_per_image(target, prediction, mask)))


def ssim(target, prediction) -> float:
    """Mean structural similarity (SSIM) over a batch of images in [0, 1] (needs scikit-image).

    Uses scikit-image's ``structural_similarity`` with ``data_range=1`` on each image.
    Shapes: equal, (N, 784), (N, 28, 28) or (N, 28, 28, 1). Returns a float in [-1, 1],
    1 for identical images. Introduced in notebook 05.
    """
    from skimage.metrics import structural_similarity

    target = _checks.as_images(target, "target")
    prediction = _checks.as_images(prediction, "prediction")
    _same_shape(target, prediction)
    values = [
        structural_similarity(t, p, data_range=1.0)
        for t, p in zip(target.astype(np.float64), prediction.astype(np.float64), strict=True)
    ]
    return float(np.mean(values))
