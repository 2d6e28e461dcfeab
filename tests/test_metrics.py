"""Unit tests of aeutils.metrics."""

import math

import numpy as np
import pytest

from aeutils import metrics


def test_binary_crossentropy_by_hand():
    target = np.array([[1.0, 0.0, 0.5]])
    prediction = np.array([[0.8, 0.1, 0.5]])
    expected = -(math.log(0.8) + math.log(0.9) + math.log(0.5)) / 3
    assert metrics.binary_crossentropy(target, prediction) == pytest.approx(expected)


def test_binary_crossentropy_per_image():
    target = np.array([[1.0, 0.0], [1.0, 1.0]])
    prediction = np.array([[0.5, 0.5], [1.0, 1.0]])
    per_image = metrics.binary_crossentropy_per_image(target, prediction)
    assert per_image.shape == (2,)
    assert per_image[0] == pytest.approx(math.log(2))
    assert per_image[1] == pytest.approx(-math.log(1 - metrics.EPSILON))
    assert metrics.binary_crossentropy(target, prediction) == pytest.approx(per_image.mean())


def test_binary_crossentropy_is_clipped_like_keras():
    value = metrics.binary_crossentropy(np.ones((1, 4)), np.zeros((1, 4)))
    assert value == pytest.approx(-math.log(metrics.EPSILON))


def test_mean_image_baseline():
    x_train = np.array([[0.0, 1.0], [1.0, 1.0]])
    x_test = np.array([[1.0, 1.0]])
    expected = metrics.binary_crossentropy(x_test, np.array([0.5, 1.0]))
    assert metrics.mean_image_baseline(x_train, x_test) == pytest.approx(expected)
    assert expected == pytest.approx(-math.log(0.5) / 2, rel=1e-5)


def test_psnr():
    target = np.zeros((2, 4, 4))
    assert metrics.psnr(target, target + 0.1) == pytest.approx(20.0)
    assert metrics.psnr(target, target) == pytest.approx(100.0)


def test_ssim():
    rng = np.random.default_rng(0)
    images = rng.random((3, 28, 28))
    assert metrics.ssim(images, images) == pytest.approx(1.0)
    noisy = np.clip(images + rng.normal(0, 0.3, images.shape), 0, 1)
    assert metrics.ssim(images, noisy) < 0.9
    assert metrics.ssim(images.reshape(3, 784), noisy.reshape(3, 784)) == pytest.approx(
        metrics.ssim(images, noisy)
    )


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: metrics.binary_crossentropy(np.zeros((2, 3)), np.zeros((2, 4))), ValueError),
        (lambda: metrics.binary_crossentropy(np.zeros((3,)), np.zeros((2, 3))), ValueError),
        (lambda: metrics.binary_crossentropy(np.zeros((2, 3)), np.full((2, 3), 1.5)), ValueError),
        (lambda: metrics.binary_crossentropy(np.zeros((2, 3), int), np.zeros((2, 3))), TypeError),
        (lambda: metrics.mean_image_baseline(np.zeros((2, 3)), np.zeros((2, 4))), ValueError),
        (lambda: metrics.psnr(np.zeros((2, 3)), np.zeros((3, 3))), ValueError),
        (lambda: metrics.ssim(np.zeros((2, 784)), np.zeros((3, 784))), ValueError),
        (lambda: metrics.ssim(np.zeros((2, 30, 30)), np.zeros((2, 30, 30))), ValueError),
    ],
)
def test_bad_input(call, error):
    with pytest.raises(error):
        call()


@pytest.mark.parametrize("shape", [(784,), (28, 28), (28, 28, 1)])
def test_one_unbatched_image_is_refused_not_scored_per_pixel(shape):
    rng = np.random.default_rng(0)
    clean = rng.random(shape)
    noisy = np.clip(clean + 0.05, 0, 1)
    for metric in (
        metrics.psnr,
        metrics.psnr_per_image,
        metrics.binary_crossentropy,
        metrics.binary_crossentropy_per_image,
        metrics.mean_image_baseline,
        metrics.ssim,
    ):
        with pytest.raises(ValueError, match=r"x\[None\]"):
            metric(clean, noisy)
    # as a batch of one it is scored as one image
    assert metrics.psnr(clean[None], noisy[None]) == pytest.approx(
        10 * np.log10(1 / np.mean((clean - noisy) ** 2))
    )


def test_images_divided_by_255_twice_are_refused():
    images = np.random.default_rng(0).random((4, 784)) / 255
    with pytest.raises(ValueError, match="255 twice"):
        metrics.psnr(images, images)
    assert metrics.psnr(np.zeros((2, 784)), np.zeros((2, 784))) == pytest.approx(100.0)


@pytest.fixture
def images():
    """Float32 images in [0, 1] with a maximum of exactly 1, as data.load_mnist returns them."""
    x = np.random.default_rng(0).random((4, 784)).astype(np.float32)
    x[:, 0] = 1.0
    return x


def test_float32_images_divided_by_255_twice_are_refused(images):
    twice = images / 255
    assert twice.dtype == np.float32 and float(twice.max()) > 1 / 255  # float32 rounds up
    for call in (
        lambda: metrics.psnr(twice, twice),
        lambda: metrics.psnr_per_image(images, twice),
        lambda: metrics.binary_crossentropy(images, twice),
        lambda: metrics.binary_crossentropy_per_image(twice, images),
    ):
        with pytest.raises(ValueError, match="255 twice"):
            call()


def test_a_constant_near_black_prediction_is_scored(images):
    flat = np.full_like(images, 0.002)
    mse = np.mean((images.astype(np.float64) - 0.002) ** 2, axis=1)
    assert metrics.psnr(images, flat) == pytest.approx(np.mean(10 * np.log10(1 / mse)), rel=1e-6)
    bce = -(images * np.log(0.002) + (1 - images) * np.log(0.998)).mean()
    assert metrics.binary_crossentropy(images, flat) == pytest.approx(bce, rel=1e-5)


def test_psnr_on_masked_pixels_only():
    target = np.zeros((2, 4))
    prediction = np.array([[0.1, 0.0, 0.0, 0.0], [0.0, 0.0, 0.01, 0.01]])
    mask = np.array([[True, False, False, False], [False, False, True, True]])
    # image 1: MSE 0.01 on its one masked pixel (20 dB); image 2: 1e-4 (40 dB)
    assert metrics.psnr(target, prediction, mask=mask) == pytest.approx(30.0)
    assert metrics.psnr(target, prediction, mask=np.ones((2, 4), bool)) == pytest.approx(
        metrics.psnr(target, prediction)
    )


@pytest.mark.parametrize(
    "mask, error",
    [
        (np.ones((2, 4), dtype=np.float32), TypeError),  # weights, not a boolean mask
        (np.ones((2, 3), dtype=bool), ValueError),
        (np.array([[True] * 4, [False] * 4]), ValueError),  # an image with nothing to score
    ],
)
def test_psnr_refuses_a_bad_mask(mask, error):
    with pytest.raises(error):
        metrics.psnr(np.zeros((2, 4)), np.zeros((2, 4)), mask=mask)


def test_psnr_per_image_and_its_mean():
    target = np.zeros((2, 4))
    prediction = np.array([[0.1] * 4, [0.01] * 4])
    per_image = metrics.psnr_per_image(target, prediction)
    np.testing.assert_allclose(per_image, [20.0, 40.0])
    assert metrics.psnr(target, prediction) == pytest.approx(per_image.mean())
