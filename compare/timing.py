"""An epoch timer both implementations accept: a Keras callback whose hooks the raw loop calls too.

TensorFlow runs eagerly-called functions synchronously on the CPU, so a timestamp taken when
batch k begins marks the end of batch k - 1 without forcing an extra host sync.
"""

import math
import time

import keras


class EpochTimer(keras.callbacks.Callback):
    def __init__(self, samples_per_epoch, batch_size):
        super().__init__()
        self.samples_per_epoch, self.batch_size = samples_per_epoch, batch_size
        self.start = time.perf_counter()
        self.last_batch = math.ceil(samples_per_epoch / batch_size) - 1
        self.first_step_end = self.last_batch_begin = None
        self.epoch_ends = []

    def on_train_batch_begin(self, batch, logs=None):
        if self.epoch_ends:
            return
        if batch == 1:  # the first step (tracing included) is over
            self.first_step_end = time.perf_counter()
        if batch == self.last_batch:  # may be a partial batch, which a loop may trace again
            self.last_batch_begin = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_ends.append(time.perf_counter())

    @property
    def trace_seconds(self):
        """The first training step: tracing the function into a graph, then running it once."""
        return None if self.first_step_end is None else self.first_step_end - self.start

    @property
    def first_epoch_seconds(self):
        return self.epoch_ends[0] - self.start

    @property
    def steady_samples_per_second(self):
        """Throughput after the first epoch or, with one epoch, over its full batches after the first."""
        if len(self.epoch_ends) > 1:
            samples = self.samples_per_epoch * (len(self.epoch_ends) - 1)
            return samples / (self.epoch_ends[-1] - self.epoch_ends[0])
        if self.last_batch < 2:  # fewer than three batches: nothing steady to measure
            return None
        return (self.last_batch - 1) * self.batch_size / (self.last_batch_begin - self.first_step_end)
