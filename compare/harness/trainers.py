"""The two styles behind one interface: what the harness does with a style's model.

compare/styles.py is the registry (each style's name, flag and lesson package); this
module says how the harness trains one, with the same methods for both, so the rest of
the harness never asks which style it holds. `trainer(name)` gives the style's Trainer:

- `build(request)`: the lecture's CNN (or its BN/dropout variant), defined and compiled,
  as a Trainee whose `train` and `evaluate` take the harness's callbacks;
- `compile`, `fit`, `evaluate`, `trainable`, `all_weights`: the steps, for models the
  harness builds itself (the ResNet50 of compare/transfer);
- `progress` and `curves`: the callbacks that print each epoch and write TensorBoard's
  curves.
"""

import abc
import dataclasses
from pathlib import Path

from compare.harness.callbacks import keras_progress
from compare.harness.checkpointing import style_folder
from compare.harness.distribute import peers_answer, read_tf_config, strategy_for
from compare.harness.keras_saves import train_with_atomic_saves
from compare.harness.raw_loop import train_raw
from compare.harness.tensorboard import KerasCurves, RawCurves
from compare.loc import lesson_lines
from compare.saved.convert import build_model as build_keras
from compare.saved.convert import copy_weights
from compare.styles import KERAS, RAW_TF, STYLES


@dataclasses.dataclass
class Trainee:
    """One style's model after steps 1-2, with steps 3-4 bound to it. `train(x, y,
    epochs, batch_size, verbose=0, callbacks=())` returns the history."""

    model: object
    variables: list
    train: object
    evaluate: object


class Trainer(abc.ABC):
    """What the harness calls on a style. `fit` takes the batches in the seeded order
    both styles share (keras_impl.cnn.seeded_batches) unless `lesson_order`, where the
    Keras lesson's own `fit(shuffle=True)` draws them."""

    style = None  # the registry's Style

    def lesson(self, name="cnn"):
        return self.style.module(name)

    def build(self, request):
        """Steps 1-2 of the lecture's CNN, as a Trainee (with `request.strategy`, under
        tf.distribute: `build_distributed`)."""
        if request.strategy != "none":
            return self.build_distributed(request)
        model = self.lesson(request.model).build_model(request.seed)
        optimizer = self.compile(model, request.lr, request)
        folder = request.checkpoint_dir and str(
            style_folder(Path(request.checkpoint_dir), self.style.name, request.model)
        )

        def train(x, y, epochs, batch_size, verbose=0, callbacks=()):
            return self.fit(
                model,
                optimizer,
                x,
                y,
                epochs,
                batch_size,
                request.seed,
                verbose=verbose,
                callbacks=callbacks,
                checkpoint_dir=folder,
                model_name=request.model,
                steps_per_execution=request.steps_per_execution,
            )

        return Trainee(
            model,
            self.trainable(model),
            train,
            lambda x, y: self.evaluate(model, x, y, request.batch_size),
        )

    def lines(self, request, distributed=None):
        """The lines of code a run of `request` reads, per step (compare/loc.py)."""
        return lesson_lines(
            self.style.name,
            request.model,
            request.strategy,
            bool(request.checkpoint_dir),
            distributed,
        )

    def evaluate(self, model, x, y, batch_size):
        """Step 4: {"loss": ..., "accuracy": ...} on `x`, `y`."""
        return self.lesson().evaluate(model, x, y, batch_size)

    # What each style answers its own way.
    @abc.abstractmethod
    def compile(self, model, lr, request=None):
        """Step 2 (again after any change to `trainable`); returns the optimizer the
        raw loop needs, None for Keras."""

    @abc.abstractmethod
    def fit(self, model, optimizer, x, y, epochs, batch_size, seed, **options):
        """Step 3; returns the history {"loss": [...], "accuracy": [...]}."""

    @abc.abstractmethod
    def build_distributed(self, request):
        """`build` under `request.strategy`."""

    @abc.abstractmethod
    def progress(self, verbose, epochs):
        """(the verbose level to train with, the callbacks that print each epoch)."""

    @abc.abstractmethod
    def curves(self, log_dir, lr, timer):
        """The callback that writes TensorBoard's curves in `log_dir` (DIR/<style>)."""

    @abc.abstractmethod
    def trainable(self, model):
        """The variables training changes now."""

    @abc.abstractmethod
    def all_weights(self, model):
        """Every variable of the model, frozen or not."""


class KerasTrainer(Trainer):
    style = KERAS

    def compile(self, model, lr, request=None):
        """compile_model, then the harness's speed settings, which the lesson leaves at
        Keras' defaults."""
        self.lesson().compile_model(model, lr)
        if request and request.steps_per_execution:
            self.lesson().run_in_graph(model, request.steps_per_execution)  # Extras
        if request and request.jit_compile != "auto":
            model.jit_compile = request.jit_compile

    def fit(self, model, optimizer, x, y, epochs, batch_size, seed, **options):
        """Step 3. `options`: verbose, callbacks, checkpoint_dir (and model_name) for
        keras_impl/checkpoints.py's train with its saves made atomic, lesson_order.
        steps_per_execution was set by `compile`."""
        cnn, verbose = self.lesson(), options.get("verbose", 0)
        callbacks = options.get("callbacks", ())
        if options.get("checkpoint_dir"):
            return train_with_atomic_saves(
                model,
                x,
                y,
                epochs,
                batch_size,
                options["checkpoint_dir"],
                options["model_name"],
                seed,
                verbose=verbose,
                callbacks=callbacks,
            )
        if options.get("lesson_order"):
            return cnn.train(model, x, y, epochs, batch_size, verbose, callbacks)
        return cnn.train_in_seeded_order(
            model, x, y, epochs, batch_size, seed, verbose=verbose, callbacks=callbacks
        )

    def build_distributed(self, request):
        """build() under a tf.distribute strategy: the lecture's CNN, `batch_size` being
        the global batch; on JAX, keras.distribution's DataParallel over every JAX device
        of every process (distributed_jax.py; the process has joined its cluster before,
        compare/harness/backend_run.py)."""
        if keras_on_jax():
            lesson = self.lesson("distributed_jax")
            model = lesson.compile_model(lesson.build_model(request.seed), request.lr)
        else:
            lesson, strategy = self.lesson("distributed"), strategy_for(request)
            model = lesson.build_model(strategy, request.seed)
            lesson.compile_model(strategy, model, request.lr)
        return Trainee(
            model,
            model.trainable_weights,
            lambda x, y, epochs, batch_size, **options: lesson.train(
                model, x, y, epochs, batch_size, **options
            ),
            lambda x, y: lesson.evaluate(model, x, y, request.batch_size),
        )

    def lines(self, request):
        """Under a strategy on JAX, distributed_jax.py is the file read."""
        jax = request.strategy != "none" and keras_on_jax()
        return super().lines(request, "distributed_jax" if jax else None)

    def progress(self, verbose, epochs):
        return keras_progress(verbose, epochs)

    def curves(self, log_dir, lr, timer):
        return KerasCurves(log_dir, timer)

    def trainable(self, model):
        return model.trainable_weights

    def all_weights(self, model):
        return model.weights


class RawTrainer(Trainer):
    style = RAW_TF

    def compile(self, model, lr, request=None):
        """Adam over the variables trainable now. With `request.same_start`, the model
        first takes Keras' Glorot draw from the same seed."""
        if request and request.same_start:
            keras_model = build_keras("keras", request.model, seed=request.seed)
            copy_weights(request.model, keras_model, model, "raw_tf", "--same-start")
        return self.lesson().compile_model(model, lr)

    def fit(self, model, optimizer, x, y, epochs, batch_size, seed, **options):
        """Step 3: the raw lesson's loop, one epoch at a time (raw_loop.py), in the
        seeded order whatever `lesson_order` says; `options` as KerasTrainer.fit's, and
        steps_per_execution (batches per graph call)."""
        return train_raw(model, optimizer, x, y, epochs, batch_size, seed, options)

    def build_distributed(self, request):
        """build() under a tf.distribute strategy; under multiworker, a peer gone
        mid-run is one line (peers_answer)."""
        strategy, lesson = strategy_for(request), self.lesson("distributed")
        model = lesson.build_model(strategy, request.seed)
        optimizer = lesson.compile_model(strategy, model, request.lr)

        def train(x, y, epochs, batch_size, **options):
            return lesson.train(
                strategy,
                model,
                optimizer,
                x,
                y,
                epochs,
                batch_size,
                seed=request.seed,
                **options,
            )

        evaluate = lambda x, y: lesson.evaluate(model, x, y, request.batch_size)  # noqa: E731
        if request.strategy == "multiworker":
            index = read_tf_config()[1]
            train, evaluate = peers_answer(train, index), peers_answer(evaluate, index)
        return Trainee(model, model.trainable_variables, train, evaluate)

    def progress(self, verbose, epochs):
        return verbose, []  # the raw loop prints its own line (EpochLine)

    def curves(self, log_dir, lr, timer):
        return RawCurves(log_dir, lr, timer)

    def trainable(self, model):
        return model.trainable_variables

    def all_weights(self, model):
        return model.variables


TRAINERS = {trainer.style.name: trainer for trainer in (KerasTrainer(), RawTrainer())}
assert set(TRAINERS) == set(STYLES), "every style in the registry has its Trainer"


def keras_on_jax():
    import keras  # heavy: loaded only where a Keras run asks its backend

    return keras.backend.backend() == "jax"


def trainer(name):
    """The Trainer of the style named `name` ("keras" or "raw_tf")."""
    return TRAINERS[name]
