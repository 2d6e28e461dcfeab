"""One backend's measurement for ``tools.backends``: run in a fresh process per backend.

    KERAS_BACKEND=jax python -m tools.bench_worker IMAGES EPOCHS

Trains notebook 01's dense model, notebook 04's convolutional model and notebook 05's
denoising model on the same MNIST images and prints one line ``RESULT {json}`` with the
seconds of every epoch of each (``aeutils.callbacks.EpochTimer``).
"""

from __future__ import annotations

import json
import sys


def dense():
    """Notebook 01's 784-32-784 model."""
    import keras
    from keras import layers

    image = keras.Input((784,))
    code = layers.Dense(32, activation="relu")(image)
    return keras.Model(image, layers.Dense(784, activation="sigmoid")(code))


def conv(filters, layout):
    """A conv autoencoder: Conv2D + pooling per ``filters``, Conv2D + upsampling per ``layout``."""
    import keras
    from keras import layers

    image = keras.Input((28, 28, 1))
    h = image
    for f in filters:
        h = layers.Conv2D(f, 3, activation="relu", padding="same")(h)
        h = layers.MaxPooling2D(2, padding="same")(h)
    for f, pad in layout:
        h = layers.UpSampling2D(2)(layers.Conv2D(f, 3, activation="relu", padding=pad)(h))
    return keras.Model(image, layers.Conv2D(1, 3, activation="sigmoid", padding="same")(h))


def measure(images: int, epochs: int) -> dict:
    """Per-epoch seconds of the three models on the first ``images`` training images."""
    import keras

    from aeutils import callbacks, data, noise

    (x, _), _ = data.load_mnist(train_limit=images)
    flat = x.reshape(-1, 784)
    noisy = noise.gaussian(x, 0.5, seed=0)
    runs = {
        "dense (01)": (dense, flat, flat, 256),
        "conv (04)": (
            lambda: conv([16, 8, 8], [(8, "same"), (8, "same"), (16, "valid")]),
            x,
            x,
            128,
        ),
        "denoising (05)": (lambda: conv([32, 32], [(32, "same"), (32, "same")]), noisy, x, 128),
    }
    seconds = {}
    for name, (build, inputs, targets, batch) in runs.items():
        keras.utils.set_random_seed(0)
        model = build()
        model.compile(optimizer="adam", loss="binary_crossentropy")
        timer = callbacks.EpochTimer()
        model.fit(inputs, targets, epochs=epochs, batch_size=batch, verbose=0, callbacks=[timer])
        seconds[name] = timer.seconds
    return {"backend": keras.backend.backend(), "keras": keras.__version__, "epochs": seconds}


if __name__ == "__main__":
    if len(sys.argv) != 3 or not all(a.isdigit() for a in sys.argv[1:]):
        sys.exit(__doc__)
    print("RESULT " + json.dumps(measure(int(sys.argv[1]), int(sys.argv[2]))))
