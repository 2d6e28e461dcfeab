"""Keras callbacks the notebooks share. Importing this module imports Keras.

Introduced in notebook 01.
"""

from __future__ import annotations

import time

import keras


class EpochTimer(keras.callbacks.Callback):
    """Measures the wall time of every epoch of a ``fit``, validation included.

    Pass one to ``fit(..., callbacks=[timer])``; afterwards ``timer.seconds`` holds one entry
    per epoch and ``timer.total`` their sum. ``results.write(..., epoch_seconds=timer.seconds)``
    then records at which measured time a curve first reached its reference, instead of
    assuming that every epoch took as long as the average one.
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
