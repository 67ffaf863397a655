"""One training step: the student's train_step against Keras' train_on_batch on the Keras
twin, from the same weights, on the same 3 consecutive batches of 64 digits: the loss and
the right answers of each batch, then each weight after its update.

Tolerances, as tests/test_parity.py justifies them (float32: machine epsilon 6e-8):
- the loss of a batch: the same kernels in the same order, but after an update the weights
  carry the gradients' rounding, and the conv bias gradient sums 64 * 26 * 26 = 43,264
  terms, which two graphs may add in another order: reduction(43,264), 1.2e-5.
- the right answers: counts, equal to one rounding (PER_OP).
- the weights after step k: after_steps(k, lr, 43,264), TRAJECTORY (1e-6 of the largest
  value), or, for the biases, which start at zero and grow by at most the learning rate
  a step, k updates' worth of the gradients' rounding: k * lr * 1.2e-5, of their
  largest value.
"""

import tensorflow as tf

from compare.data import load_digits_28x28
from compare.exercises.grading import Broken, Comparison, Exercise, defined
from compare.exercises.verdict import PER_OP, after_steps, reduction
from compare.language import N_, _
from compare.saved.convert import keras_and_raw_pair
from raw_tf_impl.cnn import CNN, Adam, loss_and_correct

BATCH, STEPS, LEARNING_RATE = 64, 3, 1e-3
VARIABLES = ("conv_kernel", "conv_bias", "dense_kernel", "dense_bias")  # Keras' order
TERMS = BATCH * 26 * 26  # the conv bias gradient: one term per image and position

EXERCISE = Exercise(
    name="train_step",
    title=N_("One training step, under a gradient tape"),
    statement=N_(
        "Write train_step(model, optimizer, images, labels): one mini-batch of "
        "training, as Keras' train_on_batch runs it, returning the batch's mean loss "
        "and its number of right answers. Keras trains its twin from the same weights "
        "on the same 3 batches."
    ),
    concept=N_(
        "Automatic differentiation: the tape records the forward pass, so that "
        "tape.gradient can run it backwards to every weight; the optimizer then moves "
        "each weight against its gradient."
    ),
    lesson="raw_tf_impl/cnn.py: train_step, loss_and_correct, Adam.apply",
    wanted=("train_step",),
    hint=N_(
        "compute the loss under the tape, take its gradient with respect to "
        "model.trainable_variables, apply it once with optimizer.apply, and return the "
        "loss and the right answers"
    ),
)


class NoGradient(ValueError):
    """tape.gradient gave None: the loss was not recorded by the tape."""


class OutOfOrder(ValueError):
    """The gradients or the variables are not in the order the optimizer was built
    with: model.trainable_variables'."""


ERRORS = (
    (
        NoGradient,
        N_(
            "the tape only sees what runs inside `with tf.GradientTape() as tape:`: "
            "compute the loss there, then take the gradient of the loss, not of the "
            "right answers"
        ),
    ),
    (
        OutOfOrder,
        N_(
            "the optimizer keeps its moments in the order of "
            "model.trainable_variables: take the gradients of that list and apply them "
            "to that list"
        ),
    ),
    (
        "non-persistent GradientTape",
        N_(
            "a tape gives one set of gradients: call tape.gradient once, with the loss "
            "and all of model.trainable_variables"
        ),
    ),
)


class CheckedAdam(Adam):
    """The lesson's Adam, which says which gradient is None instead of failing on it."""

    def apply(self, gradients, variables):
        gradients, variables = list(gradients), list(variables)
        for gradient, variable, momentum in zip(
            gradients, variables, self.momentums, strict=True
        ):
            name = variable.name.split(":")[0]
            if gradient is None:
                raise NoGradient(
                    _(
                        "optimizer.apply got None as the gradient of {name}: the "
                        "tape recorded no path to it"
                    ).format(name=name)
                )
            if not gradient.shape == variable.shape == momentum.shape:
                raise OutOfOrder(
                    _(
                        "optimizer.apply got a gradient of shape {gradient} for "
                        "{name}, of shape {variable}, where Adam's moment has shape "
                        "{moment}"
                    ).format(
                        gradient=tuple(gradient.shape),
                        name=name,
                        variable=tuple(variable.shape),
                        moment=tuple(momentum.shape),
                    )
                )
        super().apply(gradients, variables)


def batches():
    digits = load_digits_28x28()
    return [
        (digits.x_train[start : start + BATCH], digits.y_train[start : start + BATCH])
        for start in range(0, STEPS * BATCH, BATCH)
    ]


def weights(model):
    return [getattr(model, name).numpy() for name in VARIABLES]


def loss_and_correct_of(result):
    """The student's (loss, correct), or one line saying what came back instead."""
    try:
        loss, correct = result
    except (TypeError, ValueError):
        raise Broken(
            _("train_step returned {what}; return two values: (loss, correct)").format(
                what=type(result).__name__
            )
        ) from None
    return loss, correct


def raw_twin(initial, step, data):
    """A raw model from the `initial` weights, trained on `data` by `step`, a mistaken
    train_step: the loss, right answers and weights of each step, as the pairs order
    them."""
    model = CNN(seed=1)
    for name, value in zip(VARIABLES, initial, strict=True):
        getattr(model, name).assign(value)
    optimizer = Adam(model.trainable_variables, LEARNING_RATE)
    values = []
    for images, labels in data:
        loss, correct = step(model, optimizer, tf.constant(images), tf.constant(labels))
        values += [loss.numpy(), correct.numpy(), *weights(model)]
    return values


def without_update(model, optimizer, images, labels):
    return loss_and_correct(model, images, labels, training=True)


def updated_twice(model, optimizer, images, labels):
    with tf.GradientTape() as tape:
        loss, correct = loss_and_correct(model, images, labels, training=True)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply(gradients, model.trainable_variables)
    optimizer.apply(gradients, model.trainable_variables)
    return loss, correct


def traced(function):
    """The student's tf.function traced without AutoGraph, which train_step's straight
    code does not need: an error then names the student's own line (AutoGraph rewrites
    it as "in user code:"), and AutoGraph does not warn that the graded code, which runs
    under a name not on disk, has no source file to convert."""
    python_function = getattr(function, "python_function", None)
    if python_function is None:  # not a tf.function: run as written
        return function
    return tf.function(python_function, autograph=False)


def compare(student):
    train_step = traced(defined(student, "train_step"))
    data = batches()
    keras_model, raw_model, _optimizer = keras_and_raw_pair(0, LEARNING_RATE)
    initial = weights(raw_model)
    optimizer = CheckedAdam(raw_model.trainable_variables, LEARNING_RATE)
    pairs = []
    for step, (images, labels) in enumerate(data, start=1):
        keras_model.reset_metrics()  # Keras < 3.15 reports a running mean otherwise
        logs = keras_model.train_on_batch(images, labels, return_dict=True)
        result = train_step(
            raw_model, optimizer, tf.constant(images), tf.constant(labels)
        )
        loss, correct = loss_and_correct_of(result)
        what = _("the loss of batch {batch}").format(batch=step)
        pairs.append((what, loss, logs["loss"], reduction(TERMS)))
        what = _("the right answers in batch {batch}").format(batch=step)
        pairs.append((what, correct, logs["accuracy"] * len(labels), PER_OP))
        for name, yours, keras in zip(
            VARIABLES, weights(raw_model), keras_model.trainable_weights, strict=True
        ):
            keras = keras.numpy()
            what = _("step {step}: {name} after the update").format(
                step=step, name=name
            )
            tolerance = after_steps(step, LEARNING_RATE, TERMS, keras)
            pairs.append((what, yours, keras, tolerance))

    def mistakes():
        keras = [pair[2] for pair in pairs]
        per_step = 2 + len(VARIABLES)
        summed = [
            value * BATCH if index % per_step == 0 else value
            for index, value in enumerate(keras)
        ]
        swapped = list(keras)
        for start in range(0, len(keras), per_step):
            swapped[start], swapped[start + 1] = keras[start + 1], keras[start]
        return [
            (
                N_(
                    "the weights never change: the gradients only say which way to "
                    "move; the optimizer makes the update"
                ),
                raw_twin(initial, without_update, data),
            ),
            (
                N_(
                    "each batch updates the weights once: call optimizer.apply once "
                    "per step (each call also advances Adam's step count)"
                ),
                raw_twin(initial, updated_twice, data),
            ),
            (
                N_(
                    "the loss is the batch's mean, as Keras reports it: the epoch loop "
                    "weights it by the batch size, not train_step"
                ),
                summed,
            ),
            (
                N_("return the loss first, then the right answers: (loss, correct)"),
                swapped,
            ),
        ]

    return Comparison(pairs, mistakes)
