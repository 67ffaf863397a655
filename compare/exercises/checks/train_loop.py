"""The training loop: the student's train against Keras' fit on the Keras twin, from the
same weights, on the same shuffled mini-batches (keras_impl/cnn.py's
train_in_seeded_order: fit on seeded_batches, the order np.random.default_rng(seed) gives):
300 digits in batches of 64, the last of 44, for 2 epochs. Compared in order: each
epoch's loss and accuracy as fit's history reports them, then the weights at the end of
the epoch (Keras' from a callback, the student's from a run of that many epochs).

Tolerances, as tests/test_parity.py justifies them (float32: machine epsilon 6e-8):
- the loss of an epoch: the weights carry the gradients' rounding, and the conv bias
  gradient sums 64 * 26 * 26 = 43,264 terms, which two graphs may add in another order:
  reduction(43,264), 1.2e-5.
- the accuracy: one borderline prediction may fall on the other side after float32
  rounding: 1 / 300.
- the weights after k steps: after_steps(k, lr, 43,264), TRAJECTORY (1e-6 of the largest
  value), or, for the biases, which start at zero and grow by at most the learning rate
  a step, k updates' worth of the gradients' rounding: k * lr * 1.2e-5, of their
  largest value.
"""

import math
from collections.abc import Mapping

import keras
import numpy as np

from compare.data import load_digits_28x28
from compare.exercises.checks.train_step import (  # the same CNN, batches and Adam
    BATCH,
    LEARNING_RATE,
    TERMS,
    VARIABLES,
    weights,
)
from compare.exercises.grading import Broken, Comparison, Exercise, defined
from compare.exercises.verdict import after_steps, reduction
from compare.language import N_, _
from compare.saved.convert import keras_and_raw_pair
from keras_impl.cnn import train_in_seeded_order
from raw_tf_impl.cnn import train_step

IMAGES, EPOCHS, SEED = 300, 2, 3
STEPS = math.ceil(IMAGES / BATCH)  # per epoch: 4 of 64 images and 1 of 44

EXERCISE = Exercise(
    name="train_loop",
    title=N_("The training loop that fit hides"),
    statement=N_(
        "Write train(model, optimizer, x_train, y_train, epochs, batch_size, seed): "
        "epochs of shuffled mini-batches, one train_step each, returning the history "
        "of the loss and the accuracy per epoch, as Keras' fit does. Keras' fit trains "
        "its twin from the same weights on the same batches."
    ),
    concept=N_(
        "Epochs and mini-batches: each epoch visits every image once, in a new random "
        "order; the epoch's loss is the mean over its images, accumulated batch by "
        "batch."
    ),
    lesson="raw_tf_impl/cnn.py: train, train_epoch",
    wanted=("train",),
    hint=N_(
        "each epoch: a new permutation from the run's one generator, every mini-batch "
        "including the shorter last one, and totals started afresh: the loss summed as "
        "the batch's mean times its size, then divided by the number of images"
    ),
)


def restart(model, optimizer, initial):
    """The raw model back at the `initial` weights and Adam at step 0: the same objects,
    so that train_step's graph is traced once."""
    for name, value in zip(VARIABLES, initial, strict=True):
        getattr(model, name).assign(value)
    optimizer.iterations.assign(0)
    for moment in (*optimizer.momentums, *optimizer.velocities):
        moment.assign(np.zeros(moment.shape, np.float32))


def history_of(result):
    """The student's history as two lists, one value per epoch, or one line saying what
    came back instead."""
    if not isinstance(result, Mapping) or not {"loss", "accuracy"} <= result.keys():
        raise Broken(
            _(
                'train returned {what}; return the history: {{"loss": [...], '
                '"accuracy": [...]}}'
            ).format(what=type(result).__name__)
        )
    for key in ("loss", "accuracy"):
        try:
            count = len(result[key])
        except TypeError:
            raise Broken(
                _(
                    'history["{key}"] is {what}: make it a list, one value per epoch'
                ).format(key=key, what=type(result[key]).__name__)
            ) from None
        if count != EPOCHS:
            raise Broken(
                _(
                    'history["{key}"] holds {count} values after {epochs} epochs: one '
                    "value per epoch"
                ).format(key=key, count=count, epochs=EPOCHS)
            )
    return result["loss"], result["accuracy"]


def keras_run(x, y):
    """The Keras twin trained by fit on seeded_batches: its history, and its weights at
    each epoch's end."""
    keras_model, raw_model, optimizer = keras_and_raw_pair(0, LEARNING_RATE)
    ends = []
    snapshot = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: ends.append(
            [weight.numpy() for weight in keras_model.trainable_weights]
        )
    )
    history = train_in_seeded_order(
        keras_model, x, y, EPOCHS, BATCH, seed=SEED, verbose=0, callbacks=[snapshot]
    )
    return history, ends, raw_model, optimizer


def graders_run(model, optimizer, x, y, orders, drop_last=False, own_labels=True):
    """The lesson's loop over the given `orders` (one per epoch), possibly mistaken:
    per epoch the batches' mean losses, sizes and right answers, and the weights at its
    end."""
    epochs = []
    for order in orders:
        losses, sizes, correct = [], [], []
        stop = len(order) - len(order) % BATCH if drop_last else len(order)
        for start in range(0, stop, BATCH):
            batch = order[start : start + BATCH]
            labels = y[batch] if own_labels else y[start : start + len(batch)]
            loss, right = train_step(model, optimizer, x[batch], labels)
            losses.append(float(loss))
            sizes.append(len(batch))
            correct.append(float(right))
        epochs.append((np.array(losses), np.array(sizes), sum(correct), weights(model)))
    return epochs


def seeded_orders(seed=SEED):
    shuffler = np.random.default_rng(seed)
    return [shuffler.permutation(IMAGES) for _epoch in range(EPOCHS)]


def one_prediction(accuracy):
    """The tolerance of an accuracy, relative to it: one borderline prediction."""
    return (1 + 1e-6) / IMAGES / max(float(accuracy), 1 / IMAGES)


def compare(student):
    train = defined(student, "train")
    digits = load_digits_28x28()
    x, y = digits.x_train[:IMAGES], digits.y_train[:IMAGES]
    history, ends, model, optimizer = keras_run(x, y)
    initial = weights(model)
    # The weights after epoch 1 from a run of 1 epoch, the rest from a run of 2.
    train(model, optimizer, x, y, 1, BATCH, seed=SEED)
    after_first = weights(model)
    restart(model, optimizer, initial)
    losses, accuracies = history_of(train(model, optimizer, x, y, EPOCHS, BATCH, SEED))
    yours_after = [after_first, weights(model)]
    pairs = []
    for epoch in range(EPOCHS):
        what = _("the loss of epoch {epoch}").format(epoch=epoch + 1)
        pairs.append((what, losses[epoch], history["loss"][epoch], reduction(TERMS)))
        keras_accuracy = history["accuracy"][epoch]
        what = _("the accuracy of epoch {epoch}").format(epoch=epoch + 1)
        pairs.append(
            (what, accuracies[epoch], keras_accuracy, one_prediction(keras_accuracy))
        )
        steps = (epoch + 1) * STEPS
        for name, yours, keras_weight in zip(
            VARIABLES, yours_after[epoch], ends[epoch], strict=True
        ):
            what = _("{name} after epoch {epoch}").format(name=name, epoch=epoch + 1)
            tolerance = after_steps(steps, LEARNING_RATE, TERMS, keras_weight)
            pairs.append((what, yours, keras_weight, tolerance))

    def mistakes():
        def run(orders, **mistake):
            restart(model, optimizer, initial)
            return graders_run(model, optimizer, x, y, orders, **mistake)

        def values(epochs, loss=None, accuracy=None, compare_weights=True):
            """The twin's values in the pairs' order; loss(epochs, e) and accuracy(...)
            give epoch e's (None: the right formula), compare_weights=False: None."""
            out = []
            for epoch, (_losses, _sizes, _correct, end) in enumerate(epochs):
                out += [
                    (loss or mean_loss)(epochs, epoch),
                    (accuracy or mean_accuracy)(epochs, epoch),
                    *(end if compare_weights else [None] * len(VARIABLES)),
                ]
            return out

        orders = seeded_orders()
        right = run(orders)
        by_size = N_(
            "the epoch's loss is the mean over its images: add each batch's mean times "
            "its size, then divide by the number of images (the last batch is smaller)"
        )
        return [
            (
                N_(
                    "each epoch draws a new order from the run's one generator: "
                    "create it once, before the epochs, not in each"
                ),
                values(run([orders[0]] * EPOCHS)),
            ),
            (
                N_(
                    "fit shuffles the images every epoch: take each epoch's order from "
                    "the generator's permutation, not 0, 1, 2, ..."
                ),
                values(run([np.arange(IMAGES)] * EPOCHS)),
            ),
            (
                N_(
                    "the last, shorter mini-batch counts too: 300 images in batches of "
                    "64 make 4 full batches and one of 44"
                ),
                values(
                    run(orders, drop_last=True),
                    loss=lambda *_unused: None,
                    accuracy=lambda *_unused: None,
                ),
            ),
            (
                N_(
                    "take the images and the labels with the same indices of the "
                    "order, so that each image keeps its label"
                ),
                values(run(orders, own_labels=False)),
            ),
            (
                by_size,  # the mean of the batches' means
                values(
                    right,
                    loss=lambda epochs, e: epochs[e][0].mean(),
                    accuracy=lambda *_unused: None,
                    compare_weights=False,
                ),
            ),
            (
                by_size,  # each batch's mean times batch_size, the last one's too
                values(
                    right,
                    loss=lambda epochs, e: epochs[e][0].sum() * BATCH / IMAGES,
                    accuracy=lambda *_unused: None,
                    compare_weights=False,
                ),
            ),
            (
                N_(
                    "the epoch's loss is the mean over all its images, as fit reports "
                    "it, not the last mini-batch's loss"
                ),
                values(
                    right,
                    loss=lambda epochs, e: epochs[e][0][-1],
                    accuracy=lambda *_unused: None,
                    compare_weights=False,
                ),
            ),
            (
                N_(
                    "start each epoch's running loss and right answers at zero: each "
                    "epoch reports its own images only"
                ),
                values(right, loss=running_loss, accuracy=running_accuracy),
            ),
        ]

    return Comparison(pairs, mistakes)


def mean_loss(epochs, epoch):
    losses, sizes, _correct, _end = epochs[epoch]
    return float((losses * sizes).sum() / sizes.sum())


def mean_accuracy(epochs, epoch):
    _losses, sizes, correct, _end = epochs[epoch]
    return correct / sizes.sum()


def running_loss(epochs, epoch):
    """The loss of a loop that never resets its totals: all epochs so far / images."""
    return sum(mean_loss(epochs, e) for e in range(epoch + 1))


def running_accuracy(epochs, epoch):
    return sum(mean_accuracy(epochs, e) for e in range(epoch + 1))
