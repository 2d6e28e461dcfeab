"""Unit tests of aeutils.noise."""

import numpy as np
import pytest

from aeutils import noise


@pytest.fixture
def images():
    return np.random.default_rng(0).random((20, 784)).astype(np.float32)


def test_seeded_clipped_same_shape(images):
    a = noise.gaussian(images, 0.5, seed=3)
    b = noise.gaussian(images, 0.5, seed=3)
    c = noise.gaussian(images, 0.5, seed=4)
    assert a.shape == images.shape and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.min() == 0.0 and a.max() == 1.0


def test_noise_level_matches_the_factor():
    flat = np.full((200, 784), 0.5, np.float32)
    noisy = noise.gaussian(flat, 0.1, seed=0, clip=False)
    assert abs(float(np.std(noisy - flat)) - 0.1) < 0.002
    np.testing.assert_array_equal(noise.gaussian(flat, 0.0), flat)


def test_unclipped_leaves_the_range(images):
    assert noise.gaussian(images, 0.5, clip=False).max() > 1.0


def test_input_is_not_modified(images):
    before = images.copy()
    noise.gaussian(images, 0.5)
    np.testing.assert_array_equal(images, before)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"x": np.zeros((2, 784), np.uint8)}, TypeError, "divide uint8"),
        ({"x": np.full((2, 784), 2.0)}, ValueError, r"\[0, 1\]"),
        ({"x": np.full((2, 784), np.nan)}, ValueError, "NaN"),
        ({"noise_factor": -0.1}, ValueError, "noise_factor"),
        ({"noise_factor": "0.5"}, TypeError, "noise_factor"),
        ({"seed": True}, TypeError, "seed"),
        ({"clip": 1}, TypeError, "clip"),
    ],
)
def test_bad_input(images, kwargs, error, message):
    args = {"x": images, **kwargs}
    x = args.pop("x")
    with pytest.raises(error, match=message):
        noise.gaussian(x, **args)


def test_float32_images_divided_by_255_twice_are_refused(images):
    images[:, 0] = 1.0  # a maximum of exactly 1, as data.load_mnist's images have
    twice = images / 255
    assert twice.dtype == np.float32 and float(twice.max()) > 1 / 255  # float32 rounds up
    with pytest.raises(ValueError, match="255 twice"):
        noise.gaussian(twice)


def test_a_constant_near_black_image_is_accepted():
    flat = np.full((2, 784), 0.002, np.float32)
    np.testing.assert_array_equal(noise.gaussian(flat, 0.0), flat)
