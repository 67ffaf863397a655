"""Evaluate: the student's evaluate(model, x_test, y_test, batch_size) on the raw lesson
model against keras_model.evaluate(..., return_dict=True) on its Keras twin, from the same
weights, on 300 test digits in batches of 64 (the last batch holds 44).

The model is the lecture's CNN with batch norm and dropout (cnn_bn_dropout), trained for a
few steps first (by Keras' train_on_batch), so that its moving statistics are far from any
batch's statistics and dropout is on at rate 0.5: evaluating in training mode gives other
numbers. Tolerances:
- the loss: the same forward pass (PER_OP per example), averaged over 300 examples in
  another order (Keras' Mean metric weighs each batch's mean by its size): reduction(300).
- the accuracy: the same count of right answers over the same 300 images; only the last
  rounding of the division can differ: PER_OP.
"""

import numpy as np

from compare.data import load_digits_28x28
from compare.exercises.grading import Comparison, Exercise, defined
from compare.exercises.verdict import PER_OP, Broken, as_array, reduction
from compare.language import N_, _
from compare.saved.convert import keras_and_raw_pair, keras_to_raw
from raw_tf_impl.cnn import loss_and_correct

EXERCISE = Exercise(
    name="evaluate",
    title=N_("Evaluation, the loop that Keras' evaluate hides"),
    statement=N_(
        "Write evaluate(model, x_test, y_test, batch_size): the mean loss and the "
        "accuracy of the model on the test set, batch by batch, as keras_model.evaluate "
        "reports them."
    ),
    concept=N_(
        "Evaluation: the model runs in inference mode on data it has not seen, and "
        "every test image counts the same."
    ),
    lesson="raw_tf_impl/cnn.py: evaluate, evaluate_step, loss_and_correct",
    wanted=("evaluate",),
    hint=N_(
        "sum each batch's mean loss times its number of images and the right answers, "
        "over every batch, with training=False; then divide both by the number of "
        "images"
    ),
)

ERRORS = (
    (
        "required positional argument: 'training'",
        N_(
            "loss_and_correct needs its training argument: the model is being "
            "evaluated, so pass training=False"
        ),
    ),
)

TEST_IMAGES, BATCH_SIZE = 300, 64  # 4 batches of 64 and a last one of 44
TRAINING_STEPS, LEARNING_RATE = 8, 3e-3


def trained_keras_model(digits):
    """The Keras cnn_bn_dropout after a few training steps: moving statistics that are
    no batch's statistics, and a model that has learnt something."""
    keras_model, _raw, _optimizer = keras_and_raw_pair(
        seed=0, learning_rate=LEARNING_RATE, model_name="cnn_bn_dropout"
    )
    for step in range(TRAINING_STEPS):
        batch = slice(BATCH_SIZE * step, BATCH_SIZE * (step + 1))
        keras_model.train_on_batch(digits.x_train[batch], digits.y_train[batch])
    return keras_model


def result(value, key):
    """The student's value for `key` in the dict evaluate returns, or one line."""
    if not isinstance(value, dict) or key not in value:
        raise Broken(
            _(
                "evaluate returns {value}; Keras' evaluate(..., return_dict=True) "
                'returns a dict with "loss" and "accuracy"'
            ).format(value=type(value).__name__)
        )
    return as_array(value[key], key)


def batches(keras_model, images, labels, training):
    """(mean loss, number right, size) of each batch, on a fresh raw twin of the Keras
    model (its dropout seed at the start, as the student's)."""
    model = keras_to_raw(keras_model)
    found = []
    for start in range(0, len(images), BATCH_SIZE):
        batch = slice(start, start + BATCH_SIZE)
        loss, correct = loss_and_correct(model, images[batch], labels[batch], training)
        found.append((float(loss), float(correct), len(labels[batch])))
    return np.array(found)  # (batches, 3)


def compare(student):
    evaluate = defined(student, "evaluate")
    digits = load_digits_28x28()
    keras_model = trained_keras_model(digits)
    images, labels = digits.x_test[:TEST_IMAGES], digits.y_test[:TEST_IMAGES]
    yours = evaluate(keras_to_raw(keras_model), images, labels, BATCH_SIZE)
    keras = keras_model.evaluate(
        images, labels, batch_size=BATCH_SIZE, return_dict=True, verbose=0
    )
    pairs = [
        (
            _("the loss over the test set"),
            result(yours, "loss"),
            keras["loss"],
            reduction(TEST_IMAGES),
        ),
        (
            _("the accuracy over the test set"),
            result(yours, "accuracy"),
            keras["accuracy"],
            PER_OP,
        ),
    ]

    def mistakes():
        evaluation = batches(keras_model, images, labels, training=False)
        losses, right, sizes = evaluation.T
        full = sizes == BATCH_SIZE
        count, slots = TEST_IMAGES, len(sizes) * BATCH_SIZE
        loss = losses @ sizes / count
        trained = batches(keras_model, images, labels, training=True)
        weights = N_(
            "the last batch is shorter: weight each batch by its number of images, "
            "not all batches equally, so that every image counts the same"
        )
        dropped = N_(
            "the last, shorter batch counts too: go through all of x_test, not only "
            "the full batches"
        )
        images_not_slots = N_(
            "divide by the number of images: the last batch is not full, so there "
            "are fewer than batches times batch_size"
        )
        return [
            (
                N_(
                    "evaluation runs the model in inference mode, in which batch "
                    "norm uses its moving statistics and dropout keeps every unit"
                ),
                [trained[:, 0] @ trained[:, 2] / count, trained[:, 1].sum() / count],
            ),
            (weights, [losses.mean(), None]),
            (weights, [loss, (right / sizes).mean()]),
            (
                N_(
                    "weight each batch's mean loss by its own number of images: the "
                    "last batch holds fewer than batch_size"
                ),
                [losses.sum() * BATCH_SIZE / count, None],
            ),
            (dropped, [losses[full] @ sizes[full] / sizes[full].sum(), None]),
            (dropped, [losses[full] @ sizes[full] / count, None]),
            (
                images_not_slots,
                [losses @ sizes / slots, right.sum() / slots],
            ),
            (
                images_not_slots,
                [loss, right.sum() / slots],
            ),
            (
                N_(
                    "the accuracy is the number of right answers divided by the number "
                    "of images, not by the number of batches"
                ),
                [loss, right.sum() / len(sizes)],
            ),
        ]

    return Comparison(pairs, mistakes)
