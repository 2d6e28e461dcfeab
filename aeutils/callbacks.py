"""Keras callbacks the notebooks share. Importing this module imports Keras.

Introduced in notebook 01.
"""

from __future__ import annotations

import time

import keras


class EpochTimer(keras.callbacks.Callback):
    """Measures the wall time of every epoch of a ``fit``, validation included.

    Pass one to ``fit(..., callbacks=[timer])``; afterwards ``timer.seconds`` holds one entry
    per epoch and ``timer.total`` their sum. The lessons use it only where time is what they
    teach (notebook 01's ``steps_per_execution``, notebook 11's training cost); the course's
    runner times whole notebooks and cells by itself.
    """

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self._start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)

    @property
    def total(self) -> float:
        """Seconds spent in all epochs so far."""
        return float(sum(self.seconds))
