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

import dataclasses
import math
import statistics
from pathlib import Path

import numpy as np

from compare.harness.callbacks import (
    StopOnNonFiniteLoss,
    TestScores,
    diverged,
    keras_progress,
    loss_became,
)
from compare.harness.checkpointing import implementation_folder
from compare.harness.keras_saves import train_with_atomic_saves
from compare.harness.raw_loop import train_raw
from compare.harness.timing import EpochTimer
from compare.language import _, number
from compare.loc import lesson_lines
from compare.stats import trace_over_runs
from compare.styles import STYLES


@dataclasses.dataclass(frozen=True)
class Config:
    epochs: int = 3
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0
    steps_per_execution: int | None = None  # batches per graph call; None: the style's
    jit_compile: bool | str = "auto"  # Keras only: XLA ("auto" leaves it off on CPUs)
    model: str = "cnn"  # or "cnn_bn_dropout"
    strategy: str = "none"  # or "mirrored", "multiworker" (see distribute.py)
    devices: int | None = None  # mirrored: replicas (default: every GPU, else 2 CPUs)
    worker_timeout: int = 600  # multiworker: seconds a worker waits for its peers
    checkpoint_dir: str | None = None  # saves in <dir>/<implementation>-<model>
    same_start: bool = False  # raw TF starts from the Keras model's initial weights


def parameter_count(variables):
    return int(sum(np.prod(variable.shape) for variable in variables))


def check_finite(implementation, history, test_loss, lr):
    losses = history.get("loss", [])  # empty where a resumed run had no epoch left
    for epoch, loss in enumerate(losses + [test_loss]):
        if not math.isfinite(loss):
            when = (
                _("epoch {epoch}").format(epoch=number(epoch + 1))
                if epoch < len(losses)
                else _("evaluation")
            )
            raise diverged(implementation, loss_became(loss, when), lr)


# One style, built and trained ------------------------------------------------------
@dataclasses.dataclass
class Trainee:
    """One style's model after steps 1-2, with steps 3-4 bound to it. `train(x, y,
    epochs, batch_size, verbose=0, callbacks=())` returns the history."""

    model: object
    variables: list
    train: object
    evaluate: object


def build(implementation, config):
    """Steps 1-2 (define, compile) of one style, as a Trainee."""
    if config.strategy != "none":
        return build_distributed(implementation, config)
    style = STYLES[implementation]
    folder = config.checkpoint_dir and str(
        implementation_folder(Path(config.checkpoint_dir), implementation, config.model)
    )
    cnn, model = (
        style.module("cnn"),
        style.module(config.model).build_model(config.seed),
    )
    if implementation == "keras":
        cnn.compile_model(model, config.lr)
        # The harness's speed settings, which the lesson leaves at Keras' defaults.
        if config.steps_per_execution:
            cnn.run_in_graph(model, config.steps_per_execution)  # the lesson's Extras
        if config.jit_compile != "auto":
            model.jit_compile = config.jit_compile

        def train(x, y, epochs, batch_size, **options):
            if folder:  # keras_impl/checkpoints.py's train, its saves made atomic
                return train_with_atomic_saves(
                    model,
                    x,
                    y,
                    epochs,
                    batch_size,
                    folder,
                    config.model,
                    config.seed,
                    **options,
                )
            return cnn.train_in_seeded_order(
                model, x, y, epochs, batch_size, config.seed, **options
            )

        return Trainee(
            model,
            model.trainable_weights,
            train,
            lambda x, y: cnn.evaluate(model, x, y, config.batch_size),
        )
    if config.same_start:  # Keras' Glorot draw from the same seed, copied across
        from compare.saved.convert import build_model as build_keras
        from compare.saved.convert import copy_weights

        keras_model = build_keras("keras", config.model, seed=config.seed)
        copy_weights(config.model, keras_model, model, "raw_tf", "--same-start")
    optimizer = cnn.compile_model(model, config.lr)
    settings = {
        "checkpoint_dir": folder,
        "steps_per_execution": config.steps_per_execution,
    }
    return Trainee(
        model,
        model.trainable_variables,
        lambda x, y, epochs, batch_size, **options: train_raw(
            model,
            optimizer,
            x,
            y,
            epochs,
            batch_size,
            config.seed,
            {**settings, **options},
        ),
        lambda x, y: cnn.evaluate(model, x, y, config.batch_size),
    )


def build_distributed(implementation, config):
    """build() under a tf.distribute strategy: the lecture's CNN, `batch_size` being the
    global batch. Both lessons take `callbacks` themselves (each its `fit`)."""
    if implementation == "keras" and keras_on_jax():
        return build_on_jax(config)
    from compare.harness.distribute import peers_answer, read_tf_config, strategy_for

    strategy, distributed = (
        strategy_for(config),
        STYLES[implementation].module("distributed"),
    )
    model = distributed.build_model(strategy, config.seed)
    if implementation == "keras":
        distributed.compile_model(strategy, model, config.lr)
        train = lambda x, y, epochs, batch_size, **options: distributed.train(  # noqa: E731
            model, x, y, epochs, batch_size, **options
        )
        return Trainee(
            model,
            model.trainable_weights,
            train,
            lambda x, y: distributed.evaluate(model, x, y, config.batch_size),
        )
    optimizer = distributed.compile_model(strategy, model, config.lr)
    train = lambda x, y, epochs, batch_size, **options: distributed.train(  # noqa: E731
        strategy,
        model,
        optimizer,
        x,
        y,
        epochs,
        batch_size,
        seed=config.seed,
        **options,
    )
    evaluate = lambda x, y: distributed.evaluate(model, x, y, config.batch_size)  # noqa: E731
    if config.strategy == "multiworker":  # a peer gone mid-run: one line
        index = read_tf_config()[1]
        train, evaluate = peers_answer(train, index), peers_answer(evaluate, index)
    return Trainee(model, model.trainable_variables, train, evaluate)


def keras_on_jax():
    import keras

    return keras.backend.backend() == "jax"


def build_on_jax(config):
    """build() for Keras on JAX past one device: keras.distribution's DataParallel over
    every JAX device of every process (distributed_jax.py; the process has joined its
    cluster before, compare/harness/backend_run.py)."""
    lesson = STYLES["keras"].module("distributed_jax")
    model = lesson.compile_model(lesson.build_model(config.seed), config.lr)
    return Trainee(
        model,
        model.trainable_weights,
        lambda x, y, epochs, batch_size, **options: lesson.train(
            model, x, y, epochs, batch_size, **options
        ),
        lambda x, y: lesson.evaluate(model, x, y, config.batch_size),
    )


def timed_training(
    implementation,
    trainee,
    dataset,
    config,
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
    timer = EpochTimer(len(dataset.x_train), config.batch_size)
    harness = [StopOnNonFiniteLoss(implementation, config.lr)] if nan_stop else []
    harness.append(timer)
    scores = (
        TestScores(trainee.evaluate, dataset.x_test, dataset.y_test, timer)
        if curves
        else None
    )
    if implementation == "keras":  # the raw loop prints its own line (EpochLine)
        verbose, progress = keras_progress(verbose, config.epochs)
        harness += progress
    if scores:  # the callbacks after it see the test scores in the epoch's logs
        harness.append(scores)
    if tensorboard:
        from compare.harness.tensorboard import tensorboard_callback

        harness.append(
            tensorboard_callback(implementation, tensorboard, config.lr, timer)
        )
    history = trainee.train(
        dataset.x_train,
        dataset.y_train,
        config.epochs,
        config.batch_size,
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
    implementation,
    dataset,
    config,
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
    trainee = build(implementation, config)
    history, timer = timed_training(
        implementation,
        trainee,
        dataset,
        config,
        verbose,
        curves,
        callbacks,
        tensorboard=tensorboard,
    )
    train_seconds = timer.train_seconds
    scores = trainee.evaluate(dataset.x_test, dataset.y_test)
    check_finite(implementation, history, scores["loss"], config.lr)
    extra = {}
    if export_dir:
        from compare.saved.export import export_model

        extra["exported_to"] = str(
            export_model(
                implementation,
                trainee.model,
                export_dir,
                config.model,
                dataset.x_train.shape[1:],
            )
        )
    if config.checkpoint_dir:
        extra["resumed_after_epoch"] = (
            timer.epochs_done[0] - 1 if timer.epochs_done else "all"
        )
    if weights is not None:
        weights.update(
            {
                f"{implementation}/{index}": variable.numpy()
                for index, variable in enumerate(trainee.variables)
            }
        )
    loc = lesson_lines(
        implementation,
        config.model,
        config.strategy,
        bool(config.checkpoint_dir),
        "distributed_jax" if implementation == "keras" and keras_on_jax() else None,
    )
    return {
        "implementation": implementation,
        "model": config.model,
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
    """One result from repeated runs of an implementation: the medians of the timings
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
