"""`python -m compare bench`: how fast each style trains, against what the machine can do.

Every variant (an implementation with its speed settings) runs in its own worker process, one
per batch size, so peak memory (RSS) is measured per process and no run inherits another's
warm caches. Repeats are interleaved (keras, raw, keras, raw, ...) so that drift of a shared
machine hits all variants alike. One more worker then measures the machine's floors (fp32
matmul peak, memory bandwidth, the dispatch floor: compare/bench/floors.py), from which
each variant's epoch is reported as a multiple of its roofline (compare/bench/roofline.py),
and the matched pairs (compare/harness/pairs.py), each ratio with its interval.
"""

import contextlib
import dataclasses
import importlib.metadata
import math
import multiprocessing
import os
import platform
import resource
import signal
import statistics
import tempfile
import time

from compare.bench.flops import training_flops_per_sample
from compare.errors import CompareError
from compare.harness.backends import missing as missing_backend
from compare.language import N_, _, language, number, set_language
from compare.safety.children import die_with_parent
from compare.stats import spread, trace_over_runs
from compare.styles import STYLES

EPOCH = "epoch"  # steps_per_execution: all of an epoch's batches in one graph call
VARIANTS = {  # name: (implementation, changes from the style's defaults, description)
    "keras": (
        "keras",
        {},
        "Keras fit, 1 batch per graph call, on seeded_batches (tf.data, the raw loop's "
        "order), as the table trains",
    ),
    "keras_fit_shuffle": (
        "keras",
        {"fit_shuffle": True},
        "Keras fit, 1 batch per graph call, on NumPy arrays with fit's own shuffle: the "
        "lesson's train as written",
    ),
    "keras_fused": (
        "keras",
        {"steps_per_execution": EPOCH},
        "Keras fit, steps_per_execution = the epoch's batches (run_in_graph)",
    ),
    "keras_steps32": (
        "keras",
        {"steps_per_execution": 32},
        "Keras fit, steps_per_execution=32",
    ),
    "keras_tf_data": (
        "keras",
        {"steps_per_execution": 32, "tf_data": True},
        "Keras fit on tf.data (shuffle, batch, prefetch), steps_per_execution=32",
    ),
    "keras_xla": (
        "keras",
        {"steps_per_execution": 32, "jit_compile": True},
        "Keras fit, steps_per_execution=32, jit_compile=True (XLA)",
    ),
    "raw": (
        "raw_tf",
        {},
        "raw TF, the lesson's loop: 1 batch per @tf.function call",
    ),
    "raw_plus_bias": (
        "raw_tf",
        {"plus_bias": True},
        "raw TF, the lesson's loop, the conv bias added with + instead of "
        "tf.nn.bias_add: its gradient then a Sum apart from the conv's (an op choice)",
    ),
    "raw_fused": (
        "raw_tf",
        {"steps_per_execution": EPOCH},
        "raw TF, the whole epoch in one graph call (train_epoch_in_graph's loop)",
    ),
    "keras_no_nan_stop": (
        "keras",
        {"no_nan_stop": True},
        "Keras fit, defaults, without the divergence stop (the price of stopping at a NaN loss)",
    ),
    "keras_checkpoints": (
        "keras",
        {"checkpoints": True},
        "Keras fit with BackupAndRestore after every epoch, on seeded_batches",
    ),
    "raw_checkpoints": (
        "raw_tf",
        {"checkpoints": True},
        "raw TF, defaults, tf.train.Checkpoint after every epoch",
    ),
    "keras_jax": (
        "keras",
        {"backend": "jax"},
        "Keras fit, defaults, on the JAX backend",
    ),
    "keras_torch": (
        "keras",
        {"backend": "torch"},
        "Keras fit, defaults, on the PyTorch backend",
    ),
    "torch": ("torch", {}, "PyTorch eager, the same CNN (an outside reference)"),
}
DEFAULT_VARIANTS = (
    "keras",
    "keras_fit_shuffle",
    "keras_fused",
    "raw",
    "raw_plus_bias",
    "raw_fused",
)
MACHINE = "machine"  # the worker that measures the machine's floors and the pairs


class BenchError(CompareError):
    """A worker that failed or died."""


NO_TORCH = N_("PyTorch is not installed")  # a reason kept in the report


@dataclasses.dataclass(frozen=True)
class BenchConfig:
    dataset: str = "auto"
    data_dir: str | None = None
    train_samples: int | None = None
    test_samples: int | None = None
    batch_sizes: tuple = (128,)
    repeats: int = 3
    epochs: int = 2  # the first is warm-up; steady throughput comes from the others
    variants: tuple = DEFAULT_VARIANTS
    seed: int = 0
    model: str = "cnn"
    pair_steps: int = 64  # the matched pairs: batches per measurement
    pair_rounds: int = 7  # interleaved rounds per pair (0: not measured)
    profile_dir: str | None = None  # where a profiler trace of each style is written


# Measurements, run inside the worker processes --------------------------------------
def peak_rss_mb():
    return (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )  # Linux reports KiB


def timed_inference(evaluate, dataset):
    """Test-set samples per second of `evaluate`, after one call that traces it."""
    evaluate(dataset.x_test, dataset.y_test)
    start = time.perf_counter()
    evaluate(dataset.x_test, dataset.y_test)
    return len(dataset.x_test) / (time.perf_counter() - start)


def keras_tf_data_train(model, seed):
    """fit on a tf.data pipeline instead of the seeded batches: shuffle, batch, prefetch."""
    import tensorflow as tf

    def train(x, y, epochs, batch_size, verbose=0, callbacks=()):
        pipeline = (
            tf.data.Dataset.from_tensor_slices((x, y))
            .shuffle(len(x), seed=seed)
            .batch(batch_size)
            .prefetch(tf.data.AUTOTUNE)
        )
        return model.fit(
            pipeline, epochs=epochs, verbose=verbose, callbacks=callbacks, shuffle=False
        ).history

    return train


def keras_fit_shuffle_train(model):
    """keras_impl.cnn.train as a Keras user writes it: NumPy arrays, fit's own shuffle."""
    from keras_impl import cnn

    return lambda x, y, epochs, batch_size, **options: cnn.train(
        model, x, y, epochs, batch_size, **options
    )


def plus_bias_cnn():
    """The lesson's CNN class with its conv bias added by `+` (AddV2) instead of
    tf.nn.bias_add (BiasAdd, as Keras' Conv2D): the same maths, other kernels. oneDNN
    fuses BiasAdd's gradient into the conv's filter gradient; AddV2's is a Sum apart."""
    import tensorflow as tf

    cnn = STYLES["raw_tf"].module("cnn")

    class PlusBiasCNN(cnn.CNN):
        def __call__(self, images, training=False):
            x = tf.nn.conv2d(images, self.conv_kernel, 1, "VALID")
            x = tf.nn.relu(x + self.conv_bias)
            x = tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")
            x = tf.reshape(x, [-1, self.flat_size])
            return x @ self.dense_kernel + self.dense_bias

    return PlusBiasCNN


def train_tensorflow_variant(variant, dataset, batch_size, epochs, seed, model="cnn"):
    """One training run of a Keras or raw TF variant, through the same harness as the
    main table (compare.harness.training.timed_training): the same callbacks, the same
    timer, unless the variant changes one of them."""
    from compare.harness.training import Config, build, timed_training

    implementation, options, _ = VARIANTS[variant]
    steps = options.get("steps_per_execution")
    if steps == EPOCH:
        steps = math.ceil(len(dataset.x_train) / batch_size)
    with tempfile.TemporaryDirectory() as checkpoint_dir:
        config = Config(
            epochs=epochs,
            batch_size=batch_size,
            seed=seed,
            model=model,
            steps_per_execution=steps,
            jit_compile=options.get("jit_compile", "auto"),
            checkpoint_dir=checkpoint_dir if options.get("checkpoints") else None,
        )
        trainee = build(implementation, config)
        if options.get("plus_bias"):
            trainee.model.__class__ = plus_bias_cnn()  # before anything traces it
        if options.get("tf_data"):
            trainee.train = keras_tf_data_train(trainee.model, seed)
        if options.get("fit_shuffle"):
            trainee.train = keras_fit_shuffle_train(trainee.model)
        nan_stop = not options.get("no_nan_stop")
        _, timer = timed_training(
            implementation, trainee, dataset, config, nan_stop=nan_stop
        )
    return {
        "trace_seconds": timer.trace_seconds,
        "trace_noise_seconds": timer.trace_noise_seconds,
        "steady_samples_per_second": timer.steady_samples_per_second,
        "inference_samples_per_second": timed_inference(trainee.evaluate, dataset),
        "graph_calls_per_epoch": math.ceil(
            len(dataset.x_train) / batch_size / (steps or 1)
        ),
    }


def measure_machine(dataset, config, batch_size):
    """The machine worker's measurements: the floors, graph sizes, the matched pairs
    and, where a folder is named, a profiler trace of each style's step."""
    from compare.bench.floors import measure_floors
    from compare.bench.profile import profile_steps
    from compare.harness.pairs import (
        PairSettings,
        graph_ops,
        measure_pairs,
        resident_batch_steps,
    )

    steps = resident_batch_steps(dataset.x_train, dataset.y_train, batch_size)
    machine = {
        "floors": measure_floors(),
        "graph_ops_per_training_step": {
            name: graph_ops(step) for name, step in steps.items()
        },
    }
    if config.pair_rounds:
        settings = PairSettings(
            min(config.pair_steps, len(dataset.x_train) // batch_size),
            config.pair_rounds,
            batch_size,
            config.seed,
        )
        machine["pairs"] = measure_pairs(dataset.x_train, dataset.y_train, settings)
    if config.profile_dir:
        import tensorflow as tf

        machine["profile"] = profile_steps(  # each step one graph call, as in training
            {name: tf.function(step) for name, step in steps.items()},
            os.path.join(config.profile_dir, f"batch-{batch_size}"),
        )
    return machine


def serve(connection, role, config, batch_size, lang="en", parent=None):
    """A worker's life: load TensorFlow and the data, say ready, answer commands until "stop".
    It speaks `lang`, the parent's language (a spawned process starts in English). It dies
    with its `parent`, and leaves Ctrl-C to it (the parent stops its workers)."""
    if parent:
        die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    set_language(lang)
    with contextlib.suppress(BrokenPipeError, EOFError):  # parent gone: nobody to tell
        answer_commands(connection, role, config, batch_size)


def answer_commands(connection, role, config, batch_size):
    try:
        from compare.data import load_dataset
        from compare.quiet import load_tensorflow_quietly

        backend = VARIANTS.get(role, ("", {}))[1].get("backend")
        if role == "torch":
            from compare.bench.torch_reference import torch_available, train_torch

            if not torch_available():
                connection.send(("unavailable", NO_TORCH))
                return
        elif backend and missing_backend(backend):
            connection.send(("unavailable", missing_backend(backend)))
            return
        else:
            if backend:
                os.environ["KERAS_BACKEND"] = backend  # before anything imports Keras
            load_tensorflow_quietly()
            import tensorflow as tf

            if not VARIANTS.get(role, ("", {}))[1].get(
                "jit_compile"
            ):  # Keras refuses XLA under it
                tf.config.experimental.enable_op_determinism()
        dataset = load_dataset(
            config.dataset, config.data_dir, config.train_samples, config.test_samples
        )
        connection.send(("ready", None))
        while (command := connection.recv()) != "stop":
            if command == "machine":
                answer = measure_machine(dataset, config, batch_size)
            elif role == "torch":
                answer = train_torch(dataset, batch_size, config.epochs, config.seed)
            else:
                answer = train_tensorflow_variant(
                    role, dataset, batch_size, config.epochs, config.seed, config.model
                )
            connection.send(("answer", answer))
        connection.send(("answer", peak_rss_mb()))
    except Exception as error:  # reported by the parent as one line
        connection.send(("error", f"{type(error).__name__}: {error}"))


class Worker:
    """The parent's handle on one worker process."""

    def __init__(self, context, role, config, batch_size):
        self.role = role
        self.connection, child_end = context.Pipe()
        self.process = context.Process(
            target=serve,
            args=(child_end, role, config, batch_size, language(), os.getpid()),
            daemon=True,
        )
        self.process.start()
        self.unavailable = None

    def receive(self):
        while not self.connection.poll(1.0):
            if not self.process.is_alive():
                raise BenchError(
                    _("the {role} worker died (exit code {code})").format(
                        role=self.role, code=self.process.exitcode
                    )
                )
        kind, value = self.connection.recv()
        if kind == "error":
            raise BenchError(
                _("the {role} worker failed: {error}").format(
                    role=self.role, error=value
                )
            )
        return kind, value

    def wait_ready(self):
        kind, value = self.receive()
        self.unavailable = value if kind == "unavailable" else None

    def ask(self, command):
        self.connection.send(command)
        return self.receive()[1]

    def close(self):
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(5)
        if self.process.is_alive():  # stuck in native code, deaf to SIGTERM
            self.process.kill()
            self.process.join()


# Putting it together, in the parent process ------------------------------------------
def machine_description():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next(
                line.split(":", 1)[1].strip()
                for line in cpuinfo
                if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    versions = {
        name: importlib.metadata.version(name)
        for name in ("tensorflow", "keras", "numpy")
    }
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        **versions,
    }


def summarise(variant, batch_size, runs, rss_mb, flops_per_sample, roofline_at=None):
    """One result row: medians over the repeats, and the epoch's time at the median
    speed as a multiple of the roofline for its graph calls (`roofline_at(calls)`:
    the roofline's seconds per epoch; None: not measured)."""
    implementation, _, description = VARIANTS[variant]
    steady = spread([run["steady_samples_per_second"] for run in runs])
    calls = runs[0].get("graph_calls_per_epoch")
    row = {
        "implementation": implementation,
        "variant": variant,
        "description": description,
        "batch_size": batch_size,
        **trace_over_runs(runs),  # the median, and its noise level
        "steady_samples_per_second": {
            **steady,
            "runs": [run["steady_samples_per_second"] for run in runs],
        },
        "inference_samples_per_second": statistics.median(
            run["inference_samples_per_second"] for run in runs
        ),
        "peak_rss_mb": rss_mb,
        "gflops_per_second": steady["median"] * flops_per_sample / 1e9,
        "graph_calls_per_epoch": calls,
        "times_roofline": None,  # PyTorch: no graph calls to count
    }
    if roofline_at and calls:
        roofline = roofline_at(calls)
        epoch_seconds = roofline["samples"] / steady["median"]
        row["times_roofline"] = epoch_seconds / roofline["total_seconds"]
    return row


def bench_batch_size(config, batch_size, say):
    """All variants at one batch size, in fresh workers, then the machine worker's
    floors and pairs: (rows, the machine's figures)."""
    from compare.bench.roofline import roofline_seconds_per_epoch

    context = multiprocessing.get_context("spawn")
    roles = (*config.variants, MACHINE)
    workers = {
        role: Worker(context, role, config, batch_size) for role in roles
    }  # start up in parallel
    try:
        for worker in workers.values():
            worker.wait_ready()
        runs = {variant: [] for variant in config.variants}
        for repeat in range(config.repeats):
            say(
                _(
                    "batch {batch_size}, repeat {repeat} of {repeats}: {variants}"
                ).format(
                    batch_size=batch_size,
                    repeat=number(repeat + 1),
                    repeats=number(config.repeats),
                    variants=", ".join(config.variants),
                )
            )
            for variant in config.variants:
                if not workers[variant].unavailable:
                    runs[variant].append(workers[variant].ask("train"))
        say(
            _("batch {batch_size}: the machine's floors and the matched pairs").format(
                batch_size=batch_size
            )
        )
        machine = workers[MACHINE].ask("machine")
        peak_rss = {
            role: worker.ask("stop")
            for role, worker in workers.items()
            if not worker.unavailable
        }
    finally:
        for worker in workers.values():
            worker.close()
    flops = training_flops_per_sample()
    samples = runs_samples(config)

    def roofline_at(calls):
        return roofline_seconds_per_epoch(
            samples, batch_size, machine["floors"], graph_calls=calls
        )

    rows = [
        summarise(
            variant, batch_size, runs[variant], peak_rss[variant], flops, roofline_at
        )
        if runs[variant]
        else {
            "implementation": VARIANTS[variant][0],
            "variant": variant,
            "batch_size": batch_size,
            "unavailable": workers[variant].unavailable,
        }
        for variant in config.variants
    ]
    machine["roofline"] = roofline_at(None)
    return rows, machine


def runs_samples(config):
    """The training images each run trains on per epoch."""
    from compare.data import load_dataset

    dataset = load_dataset(
        config.dataset, config.data_dir, config.train_samples, config.test_samples
    )
    return len(dataset.x_train)


def bench(config, say=lambda message: None):
    """The whole benchmark as a JSON-ready dict: the machine, its floors and roofline,
    the variants' rows and the matched pairs, per batch size."""
    results, machine, per_batch = [], machine_description(), []
    for batch_size in config.batch_sizes:
        rows, measured = bench_batch_size(config, batch_size, say)
        results += rows
        per_batch.append({"batch_size": batch_size, **measured})
    return {
        "machine": machine,
        "config": dataclasses.asdict(config),
        "flops_per_training_sample": training_flops_per_sample(),
        "results": results,
        "by_batch_size": per_batch,
    }
