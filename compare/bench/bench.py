"""`python -m compare bench`: how fast each style trains, against what the machine can do.

Every variant (an implementation with its speed settings) runs in its own worker process, one
per batch size, so peak memory (RSS) is measured per process and no run inherits another's
warm caches. Repeats are interleaved (keras, raw, keras, raw, ...) so that drift of a shared
machine hits all variants alike. One more worker measures the machine: the compute limit (the
raw training step on one resident batch, looped inside a single graph: no input pipeline, no
Python per step) and the fp32 matmul peak.
"""

import dataclasses
import importlib.metadata
import multiprocessing
import os
import platform
import resource
import statistics
import tempfile
import time

from compare.bench.flops import training_flops_per_sample
from compare.errors import CompareError
from compare.harness.backends import missing as missing_backend
from compare.language import N_, _, language, number, set_language
from compare.stats import spread, throughput_ratio, trace_over_runs

VARIANTS = {  # name: (implementation, changes from the style's defaults, description)
    "keras": (
        "keras",
        {},
        "Keras fit, defaults (1 batch per graph call), the seeded batches, as the table",
    ),
    "keras_fit_shuffle": (
        "keras",
        {"fit_shuffle": True},
        "Keras fit, defaults, on NumPy arrays with fit's own shuffle (keras_impl.cnn.train)",
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
    "raw": ("raw_tf", {}, "raw TF, defaults (a whole epoch per graph call)"),
    "raw_per_step": (
        "raw_tf",
        {"steps_per_execution": 1},
        "raw TF, one batch per graph call (the harness splits the epoch)",
    ),
    "keras_no_nan_stop": (
        "keras",
        {"no_nan_stop": True},
        "Keras fit, defaults, without the divergence stop (the price of stopping at a NaN loss)",
    ),
    "keras_checkpoints": (
        "keras",
        {"checkpoints": True},
        "Keras fit with BackupAndRestore after every epoch, batches from the seeded PyDataset",
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
DEFAULT_VARIANTS = ("keras", "keras_steps32", "raw", "raw_per_step")
LIMITS = "limits"  # the worker that measures the machine
LIMIT_SAMPLES = 30_000  # samples per compute-limit measurement
MATMUL_SIZE, MATMUL_PRODUCTS = 1024, 20


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


def train_tensorflow_variant(variant, dataset, batch_size, epochs, seed, model="cnn"):
    """One training run of a Keras or raw TF variant, through the same harness as the
    main table (compare.harness.training.timed_training): the same callbacks, the same
    timer, unless the variant changes one of them."""
    from compare.harness.training import Config, build, timed_training

    implementation, options, _ = VARIANTS[variant]
    with tempfile.TemporaryDirectory() as checkpoint_dir:
        config = Config(
            epochs=epochs,
            batch_size=batch_size,
            seed=seed,
            model=model,
            steps_per_execution=options.get("steps_per_execution"),
            jit_compile=options.get("jit_compile", "auto"),
            checkpoint_dir=checkpoint_dir if options.get("checkpoints") else None,
        )
        trainee = build(implementation, config)
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
    }


def resident_batch_steps(dataset, batch_size):
    """One training step (forward, backward, Adam) of each style on one batch already in memory."""
    import tensorflow as tf

    import keras_impl
    import raw_tf_impl
    from raw_tf_impl.cnn import train_step

    images, labels = (
        tf.constant(dataset.x_train[:batch_size]),
        tf.constant(dataset.y_train[:batch_size]),
    )
    model = raw_tf_impl.build_model(seed=0)
    optimizer = raw_tf_impl.compile_model(model)
    keras_model = keras_impl.compile_model(keras_impl.build_model(seed=0))
    keras_model.optimizer.build(
        keras_model.trainable_variables
    )  # fit would do this before tracing
    return {
        "raw_tf": lambda: train_step(model, optimizer, images, labels),
        "keras": lambda: keras_model.train_step((images, labels)),
    }, len(images)


def looped(step, batch_size):
    """`step` repeated inside one graph with tf.range (no input pipeline, no Python per step),
    traced and warmed up; returns a function that times one such loop in samples/s."""
    import tensorflow as tf

    steps = max(10, LIMIT_SAMPLES // batch_size)

    @tf.function
    def repeated_steps():
        for _step in tf.range(steps):
            step()
        return tf.constant(0)

    repeated_steps()

    def samples_per_second():
        start = time.perf_counter()
        repeated_steps().numpy()
        return steps * batch_size / (time.perf_counter() - start)

    return samples_per_second


def graph_ops(step):
    """Operations in the graph of one step, nested function bodies included."""
    import tensorflow as tf

    graph = tf.function(step).get_concrete_function().graph
    return len(graph.get_operations()) + sum(
        len(function.graph.get_operations())
        for function in graph._functions.values()
        if hasattr(function, "graph")
    )


class Limits:
    """What the machine can do, measured by the limits worker: the compute limit (the raw step
    looped in one graph), Keras' own train_step looped the same way (which separates what Keras
    adds per step from what fit's loop adds), graph sizes and the matmul peak."""

    def __init__(self, dataset, batch_size):
        self.steps, samples = resident_batch_steps(dataset, batch_size)
        self.timers = {
            implementation: looped(step, samples)
            for implementation, step in self.steps.items()
        }

    def compute_limits(self):
        return {
            "samples_per_second": self.timers["raw_tf"](),
            "keras_train_step_samples_per_second": self.timers["keras"](),
        }

    def machine(self):
        return {
            "matmul_peak_gflops_per_second": matmul_peak_gflops(),
            "graph_ops_per_training_step": {
                name: graph_ops(step) for name, step in self.steps.items()
            },
        }


def matmul_peak_gflops():
    """The best of 3 timings of chained fp32 1024x1024 matmuls (each depends on the last, so
    none can be skipped): 2 n^3 FLOPs each."""
    import tensorflow as tf

    factor = (
        tf.random.stateless_normal([MATMUL_SIZE, MATMUL_SIZE], seed=[0, 0])
        / MATMUL_SIZE**0.5
    )
    start_matrix = tf.random.stateless_normal([MATMUL_SIZE, MATMUL_SIZE], seed=[0, 1])

    @tf.function
    def chained_products():
        product = start_matrix
        for _product in tf.range(MATMUL_PRODUCTS):
            product = tf.matmul(product, factor)
        return product

    chained_products()
    timings = []
    for _attempt in range(3):
        start = time.perf_counter()
        chained_products().numpy()
        timings.append(time.perf_counter() - start)
    return 2 * MATMUL_SIZE**3 * MATMUL_PRODUCTS / min(timings) / 1e9


def serve(connection, role, config, batch_size, lang="en"):
    """A worker's life: load TensorFlow and the data, say ready, answer commands until "stop".
    It speaks `lang`, the parent's language (a spawned process starts in English)."""
    set_language(lang)
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
        limits = Limits(dataset, batch_size) if role == LIMITS else None
        connection.send(("ready", None))
        while (command := connection.recv()) != "stop":
            if command == "limit":
                answer = limits.compute_limits()
            elif command == "machine":
                answer = limits.machine()
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
            args=(child_end, role, config, batch_size, language()),
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


def summarise(variant, batch_size, runs, limits, rss_mb, flops_per_sample):
    """One result row: medians over the repeats. The machine's speed drifts, so efficiency is the
    median of each run's throughput over the compute limit measured just before it."""
    implementation, _, description = VARIANTS[variant]
    steady = spread([run["steady_samples_per_second"] for run in runs])
    efficiencies = [
        run["steady_samples_per_second"] / limit for run, limit in zip(runs, limits)
    ]
    return {
        "implementation": implementation,
        "variant": variant,
        "description": description,
        "batch_size": batch_size,
        **trace_over_runs(runs),  # the median, and its noise level
        "steady_samples_per_second": {
            **steady,
            "runs": [run["steady_samples_per_second"] for run in runs],
        },
        "compute_limit_samples_per_second": statistics.median(limits),
        "efficiency": statistics.median(efficiencies),
        "inference_samples_per_second": statistics.median(
            run["inference_samples_per_second"] for run in runs
        ),
        "peak_rss_mb": rss_mb,
        "gflops_per_second": steady["median"] * flops_per_sample / 1e9,
    }


def bench_batch_size(config, batch_size, measure_machine, say):
    """All variants at one batch size, in fresh workers: (rows, compute limits, ratio, machine figures)."""
    context = multiprocessing.get_context("spawn")
    roles = (*config.variants, LIMITS)
    workers = {
        role: Worker(context, role, config, batch_size) for role in roles
    }  # start up in parallel
    try:
        for worker in workers.values():
            worker.wait_ready()
        machine = workers[LIMITS].ask("machine") if measure_machine else None
        limits, runs = [], {variant: [] for variant in config.variants}
        for repeat in range(config.repeats):
            say(
                _(
                    "batch {batch_size}, repeat {repeat} of {repeats}: compute limit, "
                    "{variants}"
                ).format(
                    batch_size=batch_size,
                    repeat=number(repeat + 1),
                    repeats=number(config.repeats),
                    variants=", ".join(config.variants),
                )
            )
            limits.append(workers[LIMITS].ask("limit"))
            for variant in config.variants:
                if not workers[variant].unavailable:
                    runs[variant].append(workers[variant].ask("train"))
        peak_rss = {
            role: worker.ask("stop")
            for role, worker in workers.items()
            if not worker.unavailable
        }
    finally:
        for worker in workers.values():
            worker.close()
    raw_limits = [repeat["samples_per_second"] for repeat in limits]
    limit = {
        **{
            key: statistics.median(repeat[key] for repeat in limits)
            for key in limits[0]
        },
        "runs": raw_limits,
    }
    flops = training_flops_per_sample()
    rows = [
        summarise(
            variant, batch_size, runs[variant], raw_limits, peak_rss[variant], flops
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
    ratio = (
        throughput_ratio(runs["raw"], runs["keras"])
        if runs.get("raw") and runs.get("keras")
        else None
    )
    return rows, limit, ratio, machine


def bench(config, say=lambda message: None):
    """The whole benchmark as a JSON-ready dict: machine, results, compute limits and ratios."""
    results, limits, ratios, machine = [], [], [], machine_description()
    flops = training_flops_per_sample()
    for index, batch_size in enumerate(config.batch_sizes):
        rows, limit, ratio, measured = bench_batch_size(
            config, batch_size, measure_machine=index == 0, say=say
        )
        results += rows
        machine.update(measured or {})
        limits.append(
            {
                "batch_size": batch_size,
                **limit,
                "gflops_per_second": limit["samples_per_second"] * flops / 1e9,
            }
        )
        if ratio is not None:
            ratios.append({"batch_size": batch_size, "raw_over_keras": ratio})
    return {
        "machine": machine,
        "config": dataclasses.asdict(config),
        "flops_per_training_sample": flops,
        "compute_limits": limits,
        "results": results,
        "ratios": ratios,
    }
