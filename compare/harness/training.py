"""Train and evaluate one style on a dataset, measuring what the table reports.

The lessons hold only the lesson; what the harness needs around them is added here, the
same way for both styles:
- Keras: `fit` (keras_impl.cnn) gets the harness's callbacks;
- raw TF: raw_tf_impl.cnn.train runs one epoch at a time, and the same callbacks hear
  each epoch's end in between, as fit's would.
The callbacks are the epoch timer, the divergence stop, the test-set scores for the
curves (excluded from the timings), the checkpoint saves and the Ctrl-C stop. Both
styles take their batches in the same seeded order (keras_impl.cnn.seeded_batches, a
tf.data pipeline), with or without checkpoints, so a checkpointed run gives the numbers
of a plain one.
"""

import math
import statistics

import numpy as np

from compare.harness.callbacks import (
    StopOnNonFiniteLoss,
    TestScores,
    diverged,
    loss_became,
)
from compare.harness.timing import EpochTimer
from compare.harness.trainers import trainer
from compare.language import _, number
from compare.saved.export import export_model
from compare.stats import trace_over_runs


def parameter_count(variables):
    return int(sum(np.prod(variable.shape) for variable in variables))


def check_finite(style, history, test_loss, lr):
    losses = history.get("loss", [])  # empty where a resumed run had no epoch left
    for epoch, loss in enumerate(losses + [test_loss]):
        if not math.isfinite(loss):
            when = (
                _("epoch {epoch}").format(epoch=number(epoch + 1))
                if epoch < len(losses)
                else _("evaluation")
            )
            raise diverged(style, loss_became(loss, when), lr)


# One style, trained under the harness's callbacks -----------------------------------
def timed_training(
    style,
    trainee,
    dataset,
    request,
    verbose=0,
    curves=False,
    callbacks=(),
    nan_stop=True,
    tensorboard=None,
):
    """Step 3 under the harness's callbacks: (history, timer). The main table and bench
    both train through here, so they pay for the same things: the divergence stop (one
    scalar read per Keras graph call) and nothing else unless asked (curves, checkpoints,
    the Ctrl-C stop among `callbacks`, TensorBoard's curves in the folder `tensorboard`,
    which need the curves' test scores)."""
    timer = EpochTimer(len(dataset.x_train), request.batch_size)
    harness = [StopOnNonFiniteLoss(style, request.lr)] if nan_stop else []
    harness.append(timer)
    scores = (
        TestScores(trainee.evaluate, dataset.x_test, dataset.y_test, timer)
        if curves
        else None
    )
    verbose, progress = trainer(style).progress(verbose, request.epochs)
    harness += progress
    if scores:  # the callbacks after it see the test scores in the epoch's logs
        harness.append(scores)
    if tensorboard:
        harness.append(trainer(style).curves(tensorboard, request.lr, timer))
    history = trainee.train(
        dataset.x_train,
        dataset.y_train,
        request.epochs,
        request.batch_size,
        verbose=verbose,
        callbacks=[*harness, *callbacks],
    )
    history = {
        name: [float(value) for value in values] for name, values in history.items()
    }
    if scores:
        history.update(scores.history)
    return history, timer


def run(
    style,
    dataset,
    request,
    verbose=1,
    curves=False,
    weights=None,
    callbacks=(),
    export_dir=None,
    tensorboard=None,
):
    """Build, compile, train and evaluate one style; return its measured results.
    With `curves`, the test set is also scored after every epoch (not timed). A dict
    passed as `weights` receives the final values of the trainable variables;
    `callbacks` hear each epoch's end, after the checkpoint is saved. With `export_dir`,
    the trained model is saved there as its style does (compare/saved/export.py); with
    `tensorboard` (and `curves`), TensorBoard's curves are written in that folder
    (compare/harness/tensorboard.py)."""
    trainee = trainer(style).build(request)
    history, timer = timed_training(
        style,
        trainee,
        dataset,
        request,
        verbose,
        curves,
        callbacks,
        tensorboard=tensorboard,
    )
    train_seconds = timer.train_seconds
    scores = trainee.evaluate(dataset.x_test, dataset.y_test)
    check_finite(style, history, scores["loss"], request.lr)
    extra = {}
    if export_dir:
        extra["exported_to"] = str(
            export_model(
                style,
                trainee.model,
                export_dir,
                request.model,
                dataset.x_train.shape[1:],
            )
        )
    if request.checkpoint_dir:
        extra["resumed_after_epoch"] = (
            timer.epochs_done[0] - 1 if timer.epochs_done else "all"
        )
    if weights is not None:
        weights.update(
            {
                f"{style}/{index}": variable.numpy()
                for index, variable in enumerate(trainee.variables)
            }
        )
    loc = trainer(style).lines(request)
    return {
        "implementation": style,
        "model": request.model,
        "loc": loc,
        "params": parameter_count(trainee.variables),
        "trace_seconds": timer.trace_seconds,
        "trace_noise_seconds": timer.trace_noise_seconds,
        "first_epoch_seconds": timer.first_epoch_seconds,
        "steady_samples_per_second": timer.steady_samples_per_second,
        "train_seconds": train_seconds,
        "epoch_end_seconds": [end - timer.start for end in timer.epoch_ends],
        "test_loss": float(scores["loss"]),
        "test_accuracy": float(scores["accuracy"]),
        "history": history,
        **extra,
    }


TIMED_FIELDS = (
    "trace_seconds",
    "trace_noise_seconds",
    "first_epoch_seconds",
    "steady_samples_per_second",
    "train_seconds",
)


def median_of_runs(runs):
    """One result from repeated runs of a style: the medians of the timings
    (tracing with a noise level that also counts how far the runs' estimates spread),
    each run's timings under "runs", and the scores of the first run (op determinism
    makes them all equal)."""
    result = dict(runs[0])
    if "unavailable" in result:
        return result
    for field in TIMED_FIELDS:
        values = [run.get(field) for run in runs]
        result[field] = None if None in values else statistics.median(values)
    result.update(trace_over_runs(runs))
    if len(runs) > 1:
        result["runs"] = [
            {field: run.get(field) for field in TIMED_FIELDS} for run in runs
        ]
    return result
