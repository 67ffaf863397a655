"""The matched pairs: what Keras costs, each style timed on loops of the same kind.

1. per_batch: the lessons as written, one batch per graph call in both styles: Keras'
   `train` (fit on NumPy arrays, keras_impl/cnn.py) and the raw `train` (a Python loop
   over batches calling the `@tf.function` train step, raw_tf_impl/cnn.py).
2. fused: a whole pass over the batches in one graph call in both: Keras with
   `steps_per_execution` (run_in_graph) and the raw train_epoch_in_graph (the Extras).
3. step: each style's own train step (Keras' `train_step`, the raw `train_step`)
   looped inside one graph on one batch already in memory: no input pipeline, no Python
   per step. What Keras' extra graph ops cost, and nothing else.

Each measurement trains `steps` batches of the first `steps * batch_size` images, after
one untimed call that traces it. The timed region runs from the first step to the
last: Keras' from `on_train_batch_begin` of the first batch to `on_train_batch_end` of
the last (fit's data adapter and iterator set-up are outside, as they are paid once per
`fit`), the raw one the whole `one_epoch` call (the epoch's permutation outside). The
rounds interleave the styles and the pairs, the first style alternating, so that drift
of a shared machine hits both alike; each ratio is the median of the rounds' pairwise
ratios with a bootstrap 95% interval.
"""

import dataclasses
import statistics
import time

import keras
import numpy as np

from compare.stats import median_interval, spread
from compare.styles import STYLES

PAIRS = ("per_batch", "fused", "step")  # the views name them (views/speed.py)


@dataclasses.dataclass(frozen=True)
class PairSettings:
    steps: int = 64  # batches per measurement
    rounds: int = 5  # interleaved measurements of each style in each pair
    batch_size: int = 128
    seed: int = 0
    pairs: tuple = tuple(PAIRS)


class StepSpan(keras.callbacks.Callback):
    """Seconds from the first batch's begin to the last batch's end of a fit call."""

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 0:
            self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.end = time.perf_counter()

    @property
    def seconds(self):
        return self.end - self.start


def keras_fit(fused, steps, x, y, batch_size, seed):
    """The Keras lesson's `train` on the images, timed from the first step to the last;
    `fused`: after run_in_graph(model, steps), one graph call for all the batches."""
    cnn = STYLES["keras"].module("cnn")
    model = cnn.compile_model(cnn.build_model(seed))
    model.jit_compile = False  # Keras' "auto" means XLA on a GPU; raw runs without it
    if fused:
        cnn.run_in_graph(model, steps)
    return keras_fit_timer(model, x, y, batch_size)


def keras_fit_timer(model, x, y, batch_size):
    """The Keras lesson's `train` of a compiled `model`, timed from its first step to
    its last."""
    cnn = STYLES["keras"].module("cnn")

    def timed():
        span = StepSpan()
        cnn.train(model, x, y, 1, batch_size, verbose=0, callbacks=[span])
        return span.seconds

    return timed


def raw_train(fused, x, y, batch_size, seed, one_epoch=None):
    """The raw lesson's `train` on the images, its one_epoch call timed; `fused`: the
    Extras' train_epoch_in_graph on tensors already in TensorFlow. `one_epoch`: another
    epoch function in its place (the GPU suite's, with another train step)."""
    import tensorflow as tf

    cnn = STYLES["raw_tf"].module("cnn")
    model = cnn.build_model(seed)
    optimizer = cnn.compile_model(model)
    if one_epoch is None:
        one_epoch = cnn.train_epoch_in_graph if fused else cnn.train_epoch
    if fused:
        x, y = tf.constant(x), tf.constant(y)  # copied to TF once, as fit does
    spans = []

    def timed_epoch(*args):
        start = time.perf_counter()
        result = one_epoch(*args)
        spans.append(time.perf_counter() - start)
        return result

    shuffler = np.random.default_rng(seed)

    def timed():
        cnn.train(model, optimizer, x, y, 1, batch_size, shuffler, 0, timed_epoch)
        return spans[-1]

    return timed


def resident_batch_steps(x, y, batch_size, seed=0):
    """One training step (forward, backward, Adam) of each style on one batch already
    in memory: {"keras": call, "raw_tf": call}."""
    import tensorflow as tf

    images, labels = tf.constant(x[:batch_size]), tf.constant(y[:batch_size])
    raw, keras_cnn = STYLES["raw_tf"].module("cnn"), STYLES["keras"].module("cnn")
    model = raw.build_model(seed)
    optimizer = raw.compile_model(model)
    keras_model = keras_cnn.compile_model(keras_cnn.build_model(seed))
    keras_model.optimizer.build(keras_model.trainable_variables)  # as fit does first
    return {
        "keras": lambda: keras_model.train_step((images, labels)),
        "raw_tf": lambda: raw.train_step(model, optimizer, images, labels),
    }


def looped(step, steps):
    """`step` repeated `steps` times inside one graph (tf.range: no Python per step),
    traced by the first call; returns a function timing one loop in seconds."""
    import tensorflow as tf

    @tf.function
    def repeated_steps():
        for _ in tf.range(steps):
            step()
        return tf.constant(0)

    def timed():
        start = time.perf_counter()
        repeated_steps().numpy()
        return time.perf_counter() - start

    return timed


def graph_ops(step):
    """Operations in the graph of one step, nested function bodies included."""
    import tensorflow as tf

    graph = tf.function(step).get_concrete_function().graph
    return len(graph.get_operations()) + sum(
        len(function.graph.get_operations())
        for function in graph._functions.values()
        if hasattr(function, "graph")
    )


def timers(pair, x, y, settings):
    """{"keras": timed, "raw_tf": timed} for one pair, each timing one measurement of
    `settings.steps` batches in seconds."""
    steps, batch_size, seed = settings.steps, settings.batch_size, settings.seed
    if pair == "step":
        return {
            style: looped(step, steps)
            for style, step in resident_batch_steps(x, y, batch_size, seed).items()
        }
    images, labels = x[: steps * batch_size], y[: steps * batch_size]
    fused = pair == "fused"
    return {
        "keras": keras_fit(fused, steps, images, labels, batch_size, seed),
        "raw_tf": raw_train(fused, images, labels, batch_size, seed),
    }


def summary(seconds, settings):
    """One style's measurements: samples/s (median, min, max, each round) and the
    median microseconds per step."""
    samples = settings.steps * settings.batch_size
    rates = [samples / value for value in seconds]
    return {
        "samples_per_second": {**spread(rates), "runs": rates},
        "microseconds_per_step": statistics.median(seconds) / settings.steps * 1e6,
    }


def measure_pairs(x, y, settings=PairSettings(), say=lambda message: None):
    """The pairs measured on the images `x` and labels `y`: a JSON-ready dict with the
    settings and, per pair, each style's summary and the raw/Keras ratio."""
    if len(x) < settings.steps * settings.batch_size:
        raise ValueError("fewer images than steps x batch size")
    clocks = {pair: timers(pair, x, y, settings) for pair in settings.pairs}
    seconds = interleaved(clocks, settings.rounds, say)
    results = {pair: pair_result(seconds[pair], settings) for pair in settings.pairs}
    return {**dataclasses.asdict(settings), "results": results}


def interleaved(clocks, rounds, say=lambda message: None):
    """{pair: {style: [seconds, ...]}}: one untimed call of each clock (it traces the
    loop), then `rounds` rounds, each timing every pair's two styles, the first style
    alternating."""
    for pair_clocks in clocks.values():
        for timed in pair_clocks.values():
            timed()
    seconds = {pair: {"keras": [], "raw_tf": []} for pair in clocks}
    for round_index in range(rounds):
        say(f"{round_index + 1}/{rounds}")
        order = ("keras", "raw_tf") if round_index % 2 == 0 else ("raw_tf", "keras")
        for pair, pair_clocks in clocks.items():
            for style in order:
                seconds[pair][style].append(pair_clocks[style]())
    return seconds


def pair_result(seconds, settings):
    """One pair's two summaries and its raw/Keras ratio (Keras' time over raw's, round
    by round) with its bootstrap interval."""
    ratios = [k / r for k, r in zip(seconds["keras"], seconds["raw_tf"], strict=True)]
    return {
        "keras": summary(seconds["keras"], settings),
        "raw_tf": summary(seconds["raw_tf"], settings),
        "raw_over_keras": {**median_interval(ratios), "runs": ratios},
    }
