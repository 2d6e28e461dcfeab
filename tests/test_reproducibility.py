"""The course's promise: the same code on the same machine gives the same numbers, bit for bit.

Training is seeded (keras.utils.set_random_seed) and, on TensorFlow's CPU kernels, does not
depend on how many threads run it or on what else loads the machine. This test trains a
small autoencoder on real MNIST twice in fresh processes, once with TensorFlow's default
thread pools and once with a single thread, and requires identical losses.
"""

import os
import subprocess
import sys

import pytest

SCRIPT = """
import os, sys
os.environ["KERAS_BACKEND"] = "tensorflow"
import tensorflow as tf
if sys.argv[1] == "1":
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
import keras
from aeutils import data
keras.utils.set_random_seed(42)
(x, _), (x_test, _) = data.load_mnist(flatten=True, train_limit=4096, test_limit=1024)
image = keras.Input(shape=(784,))
code = keras.layers.Dense(32, activation="relu")(image)
model = keras.Model(image, keras.layers.Dense(784, activation="sigmoid")(code))
model.compile(optimizer="adam", loss="binary_crossentropy")
history = model.fit(x, x, epochs=2, batch_size=256, validation_data=(x_test, x_test), verbose=0)
print(repr(history.history["val_loss"][-1]))
"""


def _train(threads: str) -> str:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, threads],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    if done.returncode != 0 and "MNIST" in done.stderr:
        pytest.skip("no MNIST on this machine: " + done.stderr.strip().splitlines()[-1])
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_training_is_bit_identical_across_runs_and_thread_counts():
    assert _train("default") == _train("1")
