"""An epoch timer both styles accept: a Keras callback whose hooks the raw loop calls too.

Keras calls `on_train_batch_begin(batch)` before each graph call (one batch, or
`steps_per_execution` of them); the raw lesson's `train` has no hook per batch, so the
harness, which runs it an epoch at a time, calls only `on_epoch_end` (and
`on_train_batch_begin` when it splits an epoch into calls of the Extras' loop). TensorFlow runs a graph call synchronously on the CPU, so a timestamp taken
when a call begins marks the end of the one before, without forcing an extra host sync.
Work the harness does between epochs that is not training (scoring the test set for the
curves) is excluded through `exclude`.

Tracing is an estimate, the difference of two timings, so it comes with its noise level
(`trace_noise_seconds`); the views show an estimate that does not stand above its noise
as "< noise (±X s)", never as a negative time.
"""

import time
from itertools import pairwise

import keras

from compare.stats import trace_noise_level


class EpochTimer(keras.callbacks.Callback):
    def __init__(self, samples_per_epoch, batch_size):
        super().__init__()
        self.samples_per_epoch, self.batch_size = samples_per_epoch, batch_size
        self.start = time.perf_counter()
        self.excluded = 0.0  # seconds spent on work that is not training
        self.first_call_end = self.last_call_begin = None  # (batch, time), 1st epoch
        self.epoch_ends, self.epochs_done = [], []

    def now(self):
        """Training time: the clock less what was excluded."""
        return time.perf_counter() - self.excluded

    def exclude(self, seconds):
        self.excluded += seconds

    def on_train_batch_begin(self, batch, logs=None):
        if batch > 0 and not self.epoch_ends:
            mark = (batch, self.now())
            self.first_call_end = self.first_call_end or mark
            self.last_call_begin = mark

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_ends.append(self.now())
        self.epochs_done.append(epoch + 1)

    @property
    def train_seconds(self):
        return self.now() - self.start

    @property
    def first_epoch_seconds(self):  # None when no epoch ran (a resumed run was done)
        return self.epoch_ends[0] - self.start if self.epoch_ends else None

    @property
    def steady_samples_per_second(self):
        """Throughput after the first epoch or, with one epoch, over its graph calls
        after the first up to the last (which may hold a partial batch); None when there
        is nothing to measure."""
        if len(self.epoch_ends) > 1:
            samples = self.samples_per_epoch * (len(self.epoch_ends) - 1)
            return samples / (self.epoch_ends[-1] - self.epoch_ends[0])
        if (
            self.first_call_end is None
            or self.last_call_begin[0] == self.first_call_end[0]
        ):
            return None
        (first_batch, first_time), (last_batch, last_time) = (
            self.first_call_end,
            self.last_call_begin,
        )
        return (last_batch - first_batch) * self.batch_size / (last_time - first_time)

    @property
    def first_call_samples(self):
        """The samples the first graph call trained: one batch for Keras' default; the
        whole epoch where the timer heard no call begin in it (the raw lesson's loop,
        which has no per-batch hook: its tracing is then the first epoch's extra time)."""
        if self.first_call_end is None:
            return self.samples_per_epoch
        return self.first_call_end[0] * self.batch_size

    @property
    def trace_seconds(self):
        """What the first graph call costs beyond the same work at steady speed: tracing
        the Python code into a graph, optimising it, first-time allocations. A difference
        of two timings: noise can make it small or even negative (see trace_noise_seconds).
        None when there is no steady speed to subtract."""
        steady = self.steady_samples_per_second
        if steady is None:
            return None
        if self.first_call_end is None:  # no call boundary heard: the first epoch
            return self.first_epoch_seconds - self.samples_per_epoch / steady
        first_batches, end = self.first_call_end
        return end - self.start - first_batches * self.batch_size / steady

    @property
    def trace_noise_seconds(self):
        """How far trace_seconds can be off by chance: the range of the steady epochs'
        durations (slowest minus fastest), scaled to the first call's work, and at least
        the estimate's own size where it is negative. None when it is not known: fewer
        than two steady epochs and an estimate that is not negative."""
        durations = [end - begin for begin, end in pairwise(self.epoch_ends)]
        measured = None
        if len(durations) > 1:
            share = self.first_call_samples / self.samples_per_epoch
            measured = (max(durations) - min(durations)) * share
        return trace_noise_level(self.trace_seconds, measured)
