"""Train and evaluate one implementation on a dataset, measuring what the table reports."""

import dataclasses
import math
import statistics
import time
from pathlib import Path

import keras
import numpy as np

import keras_impl
import keras_impl.checkpoints
import keras_impl.cnn_bn_dropout
import keras_impl.distributed
import raw_tf_impl
import raw_tf_impl.checkpoints
import raw_tf_impl.cnn_bn_dropout
import raw_tf_impl.distributed
from compare.checkpointing import implementation_folder
from compare.errors import CompareError
from compare.loc import (
    DISTRIBUTED_FILES,
    IMPLEMENTATION_FILES,
    VARIANT_FILES,
    count_lines,
    lines_per_step,
)
from compare.timing import EpochTimer


@dataclasses.dataclass(frozen=True)
class Config:
    epochs: int = 3
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0
    steps_per_execution: int | None = (
        None  # batches per graph call; None: each style's default
    )
    jit_compile: bool | str = (
        "auto"  # Keras only: XLA (Keras' "auto" leaves it off on CPUs)
    )
    model: str = "cnn"  # or "cnn_bn_dropout"
    strategy: str = "none"  # or "mirrored", "multiworker" (see compare/distribute.py)
    devices: int | None = (
        None  # mirrored: replicas (default: every GPU, else 2 logical CPU devices)
    )
    worker_timeout: int = 600  # multiworker: seconds a worker waits for its peers
    checkpoint_dir: str | None = (
        None  # save after every epoch into, and go on from, <dir>/<implementation>-<model>
    )


class TrainingDiverged(CompareError):
    """The loss became NaN or infinite."""


def parameter_count(variables):
    return int(sum(np.prod(variable.shape) for variable in variables))


class TrainingWatch(keras.callbacks.Callback):
    """Notes the epochs trained (a resumed run starts past 0) and where a Keras loss first becomes NaN or
    infinite; TerminateOnNaN, after it, then stops fit. (The raw loop says where in its FloatingPointError.)"""

    def __init__(self):
        super().__init__()
        self.epoch, self.where, self.epochs_done = 0, None, []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_done.append(epoch + 1)

    def on_train_batch_end(self, batch, logs=None):
        loss = float(logs["loss"])
        if self.where is None and not math.isfinite(loss):
            self.where = (
                f"the loss became {loss} in epoch {self.epoch + 1}, step {batch + 1}"
            )


def diverged(implementation, where, lr):
    return TrainingDiverged(
        f"{implementation} training diverged: {where} (--lr {lr}); try a lower --lr"
    )


def check_finite(implementation, history, test_loss, lr):
    losses = history.get("loss", [])  # empty where a resumed run had no epoch left
    for epoch, loss in enumerate(losses + [test_loss]):
        if not math.isfinite(loss):
            when = f"epoch {epoch + 1}" if epoch < len(losses) else "evaluation"
            raise diverged(implementation, f"the loss became {loss} in {when}", lr)


MODELS = {  # each variant's step 1; compile, train and evaluate are cnn.py's for both models
    "keras": {
        "cnn": keras_impl.build_model,
        "cnn_bn_dropout": keras_impl.cnn_bn_dropout.build_model,
    },
    "raw_tf": {
        "cnn": raw_tf_impl.build_model,
        "cnn_bn_dropout": raw_tf_impl.cnn_bn_dropout.build_model,
    },
}


def build(implementation, config):
    """Steps 1-2 (define, compile) of one implementation: (model, trainable variables, train, evaluate),
    with steps 3-4 as closures over the model. Each style keeps its own default for
    steps_per_execution: Keras 1, raw TF a whole epoch."""
    if config.strategy != "none":
        return build_distributed(implementation, config)
    checkpoints = (
        {
            "checkpoint_dir": implementation_folder(
                Path(config.checkpoint_dir), implementation, config.model
            )
        }
        if config.checkpoint_dir
        else {}
    )
    if implementation == "keras":
        model = MODELS["keras"][config.model](config.seed)
        keras_impl.compile_model(
            model,
            config.lr,
            steps_per_execution=config.steps_per_execution or 1,
            jit_compile=config.jit_compile,
        )
        train = keras_impl.checkpoints.train if checkpoints else keras_impl.train
        options = (
            {"seed": config.seed, **checkpoints} if checkpoints else {}
        )  # fit's own shuffle needs no seed
        return (
            model,
            model.trainable_weights,
            lambda x, y, **run_options: train(model, x, y, **options, **run_options),
            lambda x, y: keras_impl.evaluate(model, x, y, config.batch_size),
        )
    model = MODELS["raw_tf"][config.model](config.seed)
    optimizer = raw_tf_impl.compile_model(model, config.lr)
    train = raw_tf_impl.checkpoints.train if checkpoints else raw_tf_impl.train
    return (
        model,
        model.trainable_variables,
        lambda x, y, **options: train(
            model,
            optimizer,
            x,
            y,
            seed=config.seed,
            steps_per_execution=config.steps_per_execution,
            **checkpoints,
            **options,
        ),
        lambda x, y: raw_tf_impl.evaluate(model, x, y, config.batch_size),
    )


def build_distributed(implementation, config):
    """build() under a tf.distribute strategy: the seed's CNN, `batch_size` being the global batch."""
    from compare.distribute import strategy_for

    strategy = strategy_for(config)
    if implementation == "keras":
        model = keras_impl.distributed.build_model(strategy, config.seed)
        keras_impl.distributed.compile_model(strategy, model, config.lr)
        return (
            model,
            model.trainable_weights,
            lambda x, y, **options: keras_impl.distributed.train(
                model, x, y, **options
            ),
            lambda x, y: keras_impl.distributed.evaluate(
                model, x, y, config.batch_size
            ),
        )
    model = raw_tf_impl.distributed.build_model(strategy, config.seed)
    optimizer = raw_tf_impl.distributed.compile_model(strategy, model, config.lr)
    return (
        model,
        model.trainable_variables,
        lambda x, y, **options: raw_tf_impl.distributed.train(
            strategy, model, optimizer, x, y, seed=config.seed, **options
        ),
        lambda x, y: raw_tf_impl.distributed.evaluate(model, x, y, config.batch_size),
    )


def model_lines(implementation, model, strategy="none"):
    """Lines of code per step. For cnn_bn_dropout, define is its own file's step 1, the other steps
    are cnn.py's (reused unchanged) and the total counts both files. Under a strategy, each step is
    distributed.py's and the total counts it and cnn.py, which it reuses."""
    lines = lines_per_step(IMPLEMENTATION_FILES[implementation])
    if strategy != "none":
        distributed = lines_per_step(DISTRIBUTED_FILES[implementation])
        return {**distributed, "total": lines["total"] + distributed["total"]}
    if model == "cnn":
        return lines
    variant = count_lines(VARIANT_FILES[implementation].read_text())
    return {
        **lines,
        "define": variant["define"],
        "total": lines["total"] + sum(variant.values()),
    }


def run(
    implementation,
    dataset,
    config,
    verbose=1,
    curves=False,
    weights=None,
    callbacks=(),
    export_dir=None,
):
    """Build, compile, train and evaluate one implementation; return its measured results.
    With `curves`, the test set is also scored after every epoch (and the epochs take longer).
    A dict passed as `weights` receives the final values of the trainable variables; `callbacks`
    get each epoch's end, after the checkpoint is saved. With `export_dir`, the trained model is
    saved there as its style does (compare/predict.py)."""
    model, variables, train, evaluate = build(implementation, config)
    timer, watch = EpochTimer(len(dataset.x_train), config.batch_size), TrainingWatch()
    validation = {"validation_data": (dataset.x_test, dataset.y_test)} if curves else {}
    try:
        history = train(
            dataset.x_train,
            dataset.y_train,
            epochs=config.epochs,
            batch_size=config.batch_size,
            verbose=verbose,
            callbacks=[timer, watch, *callbacks],
            **validation,
        )
    except FloatingPointError as error:  # the raw loop's check
        raise diverged(implementation, error, config.lr) from None
    except (
        RuntimeError
    ):  # Keras' TerminateOnNaN(raise_error=True), after the watch noted where
        if watch.where is None:
            raise
        raise diverged(implementation, watch.where, config.lr) from None
    train_seconds = time.perf_counter() - timer.start
    scores = evaluate(dataset.x_test, dataset.y_test)
    history = {
        name: [float(value) for value in values] for name, values in history.items()
    }
    check_finite(implementation, history, scores["loss"], config.lr)
    exported = {}
    if export_dir:
        from compare.predict import export_model

        exported = {
            "exported_to": str(
                export_model(
                    implementation,
                    model,
                    export_dir,
                    config.model,
                    dataset.x_train.shape[1:],
                )
            )
        }
    if weights is not None:
        weights.update(
            {
                f"{implementation}/{index}": variable.numpy()
                for index, variable in enumerate(variables)
            }
        )
    return {
        "implementation": implementation,
        "model": config.model,
        "loc": model_lines(implementation, config.model, config.strategy),
        "params": parameter_count(variables),
        "trace_seconds": timer.trace_seconds,
        "first_epoch_seconds": timer.first_epoch_seconds,
        "steady_samples_per_second": timer.steady_samples_per_second,
        "train_seconds": train_seconds,
        "test_loss": float(scores["loss"]),
        "test_accuracy": float(scores["accuracy"]),
        "history": history,
        **exported,
        **(
            {
                "resumed_after_epoch": watch.epochs_done[0] - 1
                if watch.epochs_done
                else "all"
            }
            if config.checkpoint_dir
            else {}
        ),
    }


TIMED_FIELDS = (
    "trace_seconds",
    "first_epoch_seconds",
    "steady_samples_per_second",
    "train_seconds",
)


def median_of_runs(runs):
    """One result from repeated runs of an implementation: the medians of the timings, each run's
    timings under "runs", and the scores of the first run (op determinism makes them all equal)."""
    result = dict(runs[0])
    if "unavailable" in result:
        return result
    for field in TIMED_FIELDS:
        values = [run[field] for run in runs]
        result[field] = None if None in values else statistics.median(values)
    if len(runs) > 1:
        result["runs"] = [{field: run[field] for field in TIMED_FIELDS} for run in runs]
    return result
