"""The GPU suite: compare/harness/pairs.py's matched pairs over a grid of speed knobs.

The grid: XLA off and on x batch 128 and 1024 x float32 and mixed float16, and in each
of these cells the three pairs, measured as pairs.py measures them (the timed region
and the rounds are pairs.py's; see its docstring):

- per_batch: each lesson's `train` as written, one batch per graph call. Timed, Keras:
  from `on_train_batch_begin` of the first batch to `on_train_batch_end` of the last;
  raw: the whole `one_epoch` call (train_epoch; the epoch's permutation outside).
- fused: all the batches in one graph call. Keras: `steps_per_execution` = steps
  (run_in_graph), timed as above; raw: train_epoch_in_graph (train_batches), the whole
  `one_epoch` call.
- step: each style's train step looped `steps` times in one graph (tf.range) on one
  batch already in memory; the whole loop call.

Each measurement trains `steps` batches, after one untimed call that traces (and with
XLA, compiles) it. Within a cell the rounds interleave the styles and the pairs, the
first style alternating; the raw/Keras ratio is the median of the rounds' pairwise
ratios (Keras seconds / raw seconds: above 1, raw is faster) with a bootstrap 95%
interval. Where the data has fewer than steps x batch images, they are repeated: every
step costs the same whichever images it takes. TensorFlow's op determinism is off while
the suite runs (Keras refuses XLA under it), and back as it was after.

How each knob is turned, the lesson files unchanged:

- XLA compiles the train step in both styles and leaves the loop around it to
  TensorFlow, as Keras does. Keras: `model.jit_compile` set before the first fit (and
  set to False when off: on a GPU, compile's default "auto" turns XLA on); its step
  pair loops `tf.function(train_step, jit_compile=True)`. Raw:
  `tf.function(train_step.python_function, jit_compile=True)`, called by copies of
  the lesson's train_epoch and train_batches whose global `train_step` is that step
  (`rebound`).
- Mixed precision. Keras: the global policy "mixed_float16" while the cell's models
  are built and run (compile then wraps Adam in LossScaleOptimizer), restored after
  the cell. Raw: the lesson is float32 only, so the raw mixed cells run
  RawMixedFloat16Step (compare/bench/suite_raw.py), in the harness, not the lesson: the lesson's
  forward pass, loss and accuracy on float16 casts of the images and the variables,
  logits cast to float32 before the loss, float32 variables and the lesson's float32
  Adam, and the dynamic loss scale of Keras' LossScaleOptimizer (initial 2**15,
  halved and the step skipped on non-finite gradients, doubled after 2000 finite
  steps), so that both styles do the same work per step.

On a GPU the default grid (8 cells, 24 pairs, 200 steps x 5 rounds) is sized to take
under 8 minutes (estimated, about 4 to 5: not yet run on a GPU; each row keeps its
cell's wall seconds); `python -m compare.bench.suite` runs it and prints the table.
On a CPU use a reduced grid (tests/test_suite.py): float16 convolutions there are
about 20 times slower than float32 ones, and XLA compiles slowly.
"""

import argparse
import contextlib
import dataclasses
import json
import time

import numpy as np
from tabulate import tabulate

from compare import data
from compare.bench.suite_raw import raw_one_epoch, raw_step, raw_step_name
from compare.harness.pairs import (
    PAIRS,
    PairSettings,
    interleaved,
    keras_fit_timer,
    looped,
    pair_result,
    raw_train,
)
from compare.styles import STYLES


@dataclasses.dataclass(frozen=True)
class SuiteOptions:
    steps: int = 200  # batches per measurement
    rounds: int = 5  # interleaved measurements of each style in each pair
    batch_sizes: tuple = (128, 1024)
    xla: tuple = (False, True)
    mixed_precision: tuple = (False, True)
    pairs: tuple = tuple(PAIRS)
    seed: int = 0

    def cells(self):
        return [
            Cell(xla, batch_size, mixed)
            for batch_size in self.batch_sizes
            for xla in self.xla
            for mixed in self.mixed_precision
        ]


@dataclasses.dataclass(frozen=True)
class Cell:
    xla: bool
    batch_size: int
    mixed_precision: bool

    @property
    def policy(self):
        return "mixed_float16" if self.mixed_precision else "float32"


def device_name():
    """The first GPU's name ("NVIDIA H100 80GB HBM3"), else "CPU"."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    details = tf.config.experimental.get_device_details(gpus[0])
    return details.get("device_name") or tf.test.gpu_device_name() or gpus[0].name


@contextlib.contextmanager
def op_determinism_off():
    """TensorFlow's op determinism off inside, as it was after. Keras refuses XLA under
    it (model_supports_jit), and it may pick slower GPU kernels: the suite times the
    defaults. TensorFlow has no public switch to turn it off, hence the internal one."""
    from tensorflow.python.framework import config

    was_on = config.is_op_determinism_enabled()
    config.disable_op_determinism()
    try:
        yield
    finally:
        if was_on:
            config.enable_op_determinism()


@contextlib.contextmanager
def keras_policy(name):
    """Keras' global dtype policy set to `name` inside, the previous one restored after."""
    import keras

    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def repeated(x, y, count):
    """The first `count` images and labels, the data repeated where it has fewer."""
    if len(x) >= count:
        return x[:count], y[:count]
    order = np.arange(count) % len(x)
    return x[order], y[order]


# Keras ---------------------------------------------------------------------------
def keras_model(cell, seed, steps_per_execution=None):
    """The Keras lesson's model, compiled, XLA as the cell says, built under the policy
    in force (keras_policy)."""
    cnn = STYLES["keras"].module("cnn")
    model = cnn.compile_model(cnn.build_model(seed))
    model.jit_compile = cell.xla  # explicit: on a GPU, compile's "auto" is XLA on
    if model.jit_compile != cell.xla:  # Keras turns it off where it cannot compile
        raise RuntimeError("Keras did not take jit_compile=True: no XLA cells here")
    if steps_per_execution:
        cnn.run_in_graph(model, steps_per_execution)
    return model


def keras_resident_step(model, images, labels, xla):
    """Keras' train_step on one resident batch, as pairs.resident_batch_steps calls it;
    with XLA the step compiled alone, as fit compiles it."""
    import tensorflow as tf

    model.optimizer.build(model.trainable_variables)  # as fit does first

    def step():
        return model.train_step((images, labels))

    return tf.function(step, jit_compile=True) if xla else step


# One cell ------------------------------------------------------------------------
def cell_timers(pair, cell, x, y, steps, seed):
    """{"keras": timed, "raw_tf": timed} for one pair in one cell, each timing one
    measurement of `steps` batches in seconds, on the first `steps` x batch images;
    made under the cell's policy."""
    import tensorflow as tf

    batch_size = cell.batch_size
    if pair == "step":
        images, labels = tf.constant(x[:batch_size]), tf.constant(y[:batch_size])
        raw = STYLES["raw_tf"].module("cnn")
        model = raw.build_model(seed)
        optimizer = raw.compile_model(model)
        step = raw_step(cell)
        keras_step = keras_resident_step(
            keras_model(cell, seed), images, labels, cell.xla
        )
        return {
            "keras": looped(keras_step, steps),
            "raw_tf": looped(lambda: step(model, optimizer, images, labels), steps),
        }
    images, labels = x[: steps * batch_size], y[: steps * batch_size]
    fused = pair == "fused"
    model = keras_model(cell, seed, steps if fused else None)
    return {
        "keras": keras_fit_timer(model, images, labels, batch_size),
        "raw_tf": raw_train(
            fused,
            images,
            labels,
            batch_size,
            seed,
            raw_one_epoch(raw_step(cell), fused),
        ),
    }


def measure_cell(cell, x, y, options, say):
    """The rows of one cell, one per pair; `x` and `y` hold steps x batch images."""
    settings = PairSettings(
        options.steps, options.rounds, cell.batch_size, options.seed, options.pairs
    )
    start = time.perf_counter()
    with keras_policy(cell.policy):
        clocks = {
            pair: cell_timers(pair, cell, x, y, options.steps, options.seed)
            for pair in options.pairs
        }
        seconds = interleaved(clocks, options.rounds, lambda m: say(f"  round {m}"))
    wall = time.perf_counter() - start
    rows = []
    for pair in options.pairs:
        rows.append(
            {
                "xla": cell.xla,
                "batch_size": cell.batch_size,
                "precision": cell.policy,
                "pair": pair,
                "steps": options.steps,
                "rounds": options.rounds,
                "raw_step": raw_step_name(cell),
                **pair_result(seconds[pair], settings),
                "cell_seconds": wall,  # the whole cell: building, tracing, rounds
            }
        )
    return rows


def run_suite(x, y, options=SuiteOptions(), say=lambda message: None):
    """The grid measured on the images `x` and labels `y`: a JSON-ready dict with the
    device, the versions, the options and "cells": one row per (XLA, batch size,
    precision, pair), each with both styles' summaries (pairs.summary: samples/s
    median, min, max and runs; microseconds per step) and the raw/Keras ratio
    (median, bootstrap 95% interval low-high, min, max, runs)."""
    import keras
    import tensorflow as tf

    start = time.perf_counter()
    rows, data = [], {}
    cells = options.cells()
    with op_determinism_off():
        for index, cell in enumerate(cells):
            say(
                f"cell {index + 1}/{len(cells)}: XLA {'on' if cell.xla else 'off'}, "
                f"batch {cell.batch_size}, {cell.policy}"
            )
            if cell.batch_size not in data:  # the cells come batch size by batch size
                count = options.steps * cell.batch_size
                data = {cell.batch_size: repeated(x, y, count)}
            rows.extend(measure_cell(cell, *data[cell.batch_size], options, say))
    return {
        "device": device_name(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "options": dataclasses.asdict(options),
        "seconds": time.perf_counter() - start,
        "cells": rows,
    }


# The table -----------------------------------------------------------------------
def rate(style):
    rates = style["samples_per_second"]
    return f"{rates['median']:,.0f} ({rates['min']:,.0f}-{rates['max']:,.0f})"


def markdown(result):
    """The suite's result as markdown for BENCHMARKS.md: a line on the run, the table
    (one line per cell) and how to read it."""
    headers = (
        "XLA",
        "Batch",
        "Precision",
        "Pair",
        "Keras samples/s: median (min-max)",
        "Raw samples/s: median (min-max)",
        "Keras µs/step",
        "Raw µs/step",
        "Raw/Keras (95% CI)",
    )
    rows = []
    for row in result["cells"]:
        ratio = row["raw_over_keras"]
        rows.append(
            (
                "on" if row["xla"] else "off",
                row["batch_size"],
                row["precision"],
                row["pair"],
                rate(row["keras"]),
                rate(row["raw_tf"]),
                f"{row['keras']['microseconds_per_step']:,.0f}",
                f"{row['raw_tf']['microseconds_per_step']:,.0f}",
                f"{ratio['median']:.2f} ({ratio['low']:.2f}-{ratio['high']:.2f})",
            )
        )
    options = result["options"]
    table = tabulate(rows, headers, tablefmt="github", disable_numparse=True)
    return "\n".join(
        (
            f"Device: {result['device']}; TensorFlow {result['tensorflow']}, Keras "
            f"{result['keras']}; {options['steps']} steps x {options['rounds']} "
            f"interleaved rounds per style and cell; {result['seconds']:.0f} s in all.",
            "",
            table,
            "",
            "Pairs (compare/harness/pairs.py): per_batch, each lesson's `train` as "
            "written, one batch per graph call; fused, Keras `steps_per_execution` vs "
            "the raw `train_epoch_in_graph`; step, each style's train step looped in "
            "one graph on one resident batch. Raw/Keras: the median of the rounds' "
            "Keras time / raw time (above 1: raw is faster), bootstrap 95% interval.",
            "XLA: the train step compiled in both styles (Keras `jit_compile`, set "
            "off explicitly when off; raw `tf.function(jit_compile=True)`), the loop "
            "around it left to TensorFlow. TensorFlow's op determinism is off while "
            "the suite runs (Keras refuses XLA under it).",
            "mixed_float16: Keras' global policy with its LossScaleOptimizer; the raw "
            "lesson is float32 only, so its mixed cells run the harness's "
            "RawMixedFloat16Step (compare/bench/suite.py): the lesson's forward pass "
            "on float16 casts, float32 variables and Adam, Keras' dynamic loss scale.",
        )
    )


def main(argv=None):

    parser = argparse.ArgumentParser(
        description="The matched pairs over XLA x batch x precision."
    )
    parser.add_argument("--dataset", default="auto")
    parser.add_argument("--steps", type=int, default=SuiteOptions.steps)
    parser.add_argument("--rounds", type=int, default=SuiteOptions.rounds)
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args(argv)
    dataset = data.load_dataset(args.dataset)
    options = SuiteOptions(steps=args.steps, rounds=args.rounds)
    result = run_suite(dataset.x_train, dataset.y_train, options, say=print)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=2)
    print(markdown(result))


if __name__ == "__main__":
    main()
