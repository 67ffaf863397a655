"""The callbacks the harness adds to both styles. Keras calls every hook; the raw loop,
run an epoch at a time by raw_loop.py, calls `on_epoch_end` (and `on_train_batch_begin`
when the harness splits epochs into graph calls)."""

import math
import time

import keras

from compare.errors import CompareError
from compare.harness.raw_saves import save_epoch
from compare.language import _, number


class TrainingDiverged(CompareError):
    """The loss became NaN or infinite."""


def diverged(style, where, lr):
    """`where`: "the loss became nan in epoch 2", already in the user's language."""
    return TrainingDiverged(
        _("{style} training diverged: {where} (--lr {lr}); try a lower --lr").format(
            style=style, where=where, lr=lr
        )
    )


def loss_became(loss, when):
    """ "the loss became nan in epoch 2", `when` already in the user's language."""
    return _("the loss became {loss} in {when}").format(loss=loss, when=when)


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Keras' TerminateOnNaN, saying where: Keras reports each batch's running loss (one
    scalar read per graph call, as TerminateOnNaN reads it), the raw loop each epoch's."""

    def __init__(self, style, lr):
        super().__init__()
        self.style, self.lr, self.epoch = style, lr, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.check(
            logs["loss"],
            _("epoch {epoch}, step {step}").format(
                epoch=number(self.epoch + 1), step=number(batch + 1)
            ),
        )

    def on_epoch_end(self, epoch, logs=None):
        self.check(logs["loss"], _("epoch {epoch}").format(epoch=number(epoch + 1)))

    def check(self, loss, where):
        loss = float(loss)
        if not math.isfinite(loss):
            raise diverged(self.style, loss_became(loss, where), self.lr)


class EpochLine(keras.callbacks.Callback):
    """One progress line per epoch, the same for both styles and in the user's language
    (Keras' own lines are English): "Epoch 2/3: loss 0.3412, accuracy 0.8801"."""

    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        print(
            _("Epoch {epoch}/{epochs}: loss {loss}, accuracy {accuracy}").format(
                epoch=epoch + 1,
                epochs=self.epochs,
                loss=number(float(logs["loss"]), 4),
                accuracy=number(float(logs["accuracy"]), 4),
            )
        )


def keras_progress(verbose, epochs):
    """fit's `verbose` and the callbacks for the harness's progress levels: 1 is Keras'
    bar (on a terminal, in English), 2 a line per epoch in the user's language."""
    return (0, [EpochLine(epochs)]) if verbose == 2 else (verbose, [])


class TestScores(keras.callbacks.Callback):
    """The test set scored after every epoch, for the curves; its time is excluded from
    the timer's, so the timings are those of a run without curves. The scores join the
    epoch's logs as val_loss and val_accuracy, as fit's validation_data puts them, for
    the callbacks after this one (TensorBoard's)."""

    def __init__(self, evaluate, x_test, y_test, timer):
        super().__init__()
        self.evaluate, self.data, self.timer = evaluate, (x_test, y_test), timer
        self.history = {"val_loss": [], "val_accuracy": []}

    def on_epoch_end(self, epoch, logs=None):
        start = time.perf_counter()
        scores = self.evaluate(*self.data)
        for name in ("loss", "accuracy"):
            self.history[f"val_{name}"].append(float(scores[name]))
            if logs is not None:
                logs[f"val_{name}"] = float(scores[name])
        self.timer.exclude(time.perf_counter() - start)


class SaveFiniteEpochs:
    """The raw checkpoint (raw_tf_impl.checkpoints.EpochCheckpoint) saved after each epoch
    whose loss is finite: a diverged epoch is never kept (Keras never reaches its epoch
    end: the divergence stop raises at the batch). Each save is flushed to the disk, and
    one that fails (a full disk) is one line (compare/harness/raw_saves.py)."""

    def __init__(self, checkpoint, last_saved=0):
        self.checkpoint, self.last_saved = checkpoint, last_saved

    def on_epoch_end(self, epoch, logs):
        if math.isfinite(logs["loss"]):
            save_epoch(self.checkpoint, epoch + 1, self.last_saved)
            self.last_saved = epoch + 1
