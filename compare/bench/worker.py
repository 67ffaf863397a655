"""The benchmark's worker processes (compare/bench/bench.py starts them): each trains
or measures in a process of its own, so that peak memory is its own and no run inherits
another's warm caches; the parent talks to it through `Worker`."""

import contextlib
import math
import os
import resource
import signal
import tempfile
import time

from compare import data
from compare.bench.floors import measure_floors
from compare.bench.profile import profile_steps
from compare.bench.torch_reference import torch_available, train_torch
from compare.bench.variants import EPOCH, NO_TORCH, VARIANTS, BenchError
from compare.harness.backends import missing as missing_backend
from compare.language import _, language, set_language
from compare.quiet import load_tensorflow_quietly
from compare.request import Request
from compare.safety.children import die_with_parent
from compare.styles import STYLES


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
    from compare.harness.trainers import trainer
    from compare.harness.training import timed_training

    style, options, _ = VARIANTS[variant]
    steps = options.get("steps_per_execution")
    if steps == EPOCH:
        steps = math.ceil(len(dataset.x_train) / batch_size)
    with tempfile.TemporaryDirectory() as checkpoint_dir:
        request = Request(
            epochs=epochs,
            batch_size=batch_size,
            seed=seed,
            model=model,
            steps_per_execution=steps,
            jit_compile=options.get("jit_compile", "auto"),
            checkpoint_dir=checkpoint_dir if options.get("checkpoints") else None,
        )
        trainee = trainer(style).build(request)
        if options.get("plus_bias"):
            trainee.model.__class__ = plus_bias_cnn()  # before anything traces it
        if options.get("tf_data"):
            trainee.train = keras_tf_data_train(trainee.model, seed)
        if options.get("fit_shuffle"):
            trainee.train = keras_fit_shuffle_train(trainee.model)
        nan_stop = not options.get("no_nan_stop")
        _, timer = timed_training(style, trainee, dataset, request, nan_stop=nan_stop)
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
        backend = VARIANTS.get(role, ("", {}))[1].get("backend")
        if role == "torch":
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
        dataset = data.load_dataset(
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
