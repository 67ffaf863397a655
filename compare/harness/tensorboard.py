"""--tensorboard DIR: live curves for both styles, as a Keras user gets them.

Keras writes them with its own callback, keras.callbacks.TensorBoard; the raw loop writes
the same scalars with tf.summary: the same tags (epoch_loss, epoch_accuracy,
epoch_learning_rate; the test scores as validation's epoch_loss and epoch_accuracy) at
the same steps (the epoch, from 0), so TensorBoard overlays the two runs:

    DIR/keras/train   DIR/keras/validation   DIR/raw_tf/train   DIR/raw_tf/validation

The test scores reach both writers in the epoch's logs as val_loss and val_accuracy
(TestScores puts them there, as fit's validation_data does). Writing is left out of the
timings, as scoring the test set is, and each epoch's scalars are flushed at once.
"""

import contextlib
import time
from pathlib import Path

import keras
import tensorflow as tf

RUNS = ("train", "validation")  # the folders Keras' callback writes in its log_dir


@contextlib.contextmanager
def untimed(timer):
    """The block's time is left out of `timer`'s (compare/harness/timing.py)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        timer.exclude(time.perf_counter() - start)


class KerasCurves(keras.callbacks.TensorBoard):
    """Keras' own callback, lean: no graph (histograms and profiling are off by
    default); its hooks are left out of the timings, and each epoch is flushed."""

    def __init__(self, log_dir, timer):
        super().__init__(str(log_dir), write_graph=False)
        self.timer = timer

    def on_train_begin(self, logs=None):
        with untimed(self.timer):
            super().on_train_begin(logs)

    def on_train_batch_end(self, batch, logs=None):  # with no batch writer: a no-op
        with untimed(self.timer):
            super().on_train_batch_end(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        with untimed(self.timer):
            super().on_epoch_end(epoch, logs)
            for writer in self._writers.values():  # Keras' own, made as it writes
                writer.flush()

    def on_train_end(self, logs=None):
        with untimed(self.timer):
            super().on_train_end(logs)


class RawCurves:
    """The raw loop's twin of KerasCurves, with tf.summary: each epoch's logs as
    epoch_<name> scalars at step `epoch`, the val_ ones in validation/ without their
    prefix, and the learning rate in train/ (the raw Adam keeps it constant)."""

    def __init__(self, log_dir, learning_rate, timer):
        self.log_dir, self.learning_rate = Path(log_dir), learning_rate
        self.timer = timer
        self.writers = {}

    def on_epoch_end(self, epoch, logs):
        with untimed(self.timer):
            scalars = {run: {} for run in RUNS}
            for name, value in logs.items():
                validation = name.startswith("val_")
                scalars[RUNS[validation]][name.removeprefix("val_")] = value
            scalars["train"]["learning_rate"] = self.learning_rate
            for run, values in scalars.items():
                if values:
                    self.write(run, values, epoch)

    def write(self, run, values, epoch):
        if run not in self.writers:  # made when first needed, as Keras does
            folder = str(self.log_dir / run)
            self.writers[run] = tf.summary.create_file_writer(folder)
        with self.writers[run].as_default():
            for name, value in values.items():
                tf.summary.scalar(f"epoch_{name}", value, step=epoch)
        self.writers[run].flush()
