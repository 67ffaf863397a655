"""Parity: from equal weights, the Keras and the raw TensorFlow model are the same model.

Tolerances, all float32 (machine epsilon 6e-8):
- forward pass and loss: both run the same TensorFlow kernels in the same order (conv2d, bias,
  relu, max-pool, matmul, log-softmax), so they agree to about one rounding per op: 1e-6.
- gradients: the bias gradients sum up to 64 * 26 * 26 = 43,264 terms, which the two graphs may
  reduce in different orders; sqrt(43,264) * 6e-8 ~ 1.2e-5 of the gradient's scale bounds that.
- 20 Adam steps: each step moves a weight by at most lr = 1e-3 times (m / sqrt(v)); a relative
  gradient difference of 1e-5 changes that by ~1e-8 per step, so 20 steps stay well under 1e-6.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import keras_and_raw_pair

import keras_impl
import raw_tf_impl
from raw_tf_impl.cnn import sparse_categorical_crossentropy, train_batches

pytestmark = pytest.mark.lesson  # the parity core: `pytest -m lesson`

PER_OP = 1e-6
REDUCTION = 1.2e-5
AFTER_20_STEPS = 1e-6
VARIABLE_PAIRS = (
    "conv_kernel",
    "conv_bias",
    "dense_kernel",
    "dense_bias",
)  # Keras' weight order


def raw_variables(raw_model):
    return [getattr(raw_model, name) for name in VARIABLE_PAIRS]


def test_same_probabilities_and_logits(batch):
    """Keras' softmax output equals softmax(raw logits); the raw logits are those behind Keras' softmax."""
    images, _ = batch
    keras_model, raw_model, _ = keras_and_raw_pair()
    keras_probabilities = keras_model(images).numpy()
    raw_logits = raw_model(tf.constant(images))
    np.testing.assert_allclose(
        tf.nn.softmax(raw_logits).numpy(), keras_probabilities, rtol=0, atol=PER_OP
    )
    np.testing.assert_allclose(
        raw_logits.numpy(),
        keras_model(images)._keras_logits.numpy(),
        rtol=PER_OP,
        atol=PER_OP,
    )


def test_same_loss_and_gradients(batch):
    """Keras' compiled loss and the hand-written loss agree, and so do the gradients of every variable."""
    images, labels = batch
    keras_model, raw_model, _ = keras_and_raw_pair()
    with tf.GradientTape() as tape:
        keras_loss = keras_model.compute_loss(
            x=images, y=labels, y_pred=keras_model(images)
        )
    keras_gradients = tape.gradient(keras_loss, keras_model.trainable_weights)
    with tf.GradientTape() as tape:
        raw_loss = sparse_categorical_crossentropy(
            labels, raw_model(tf.constant(images))
        )
    raw_gradients = tape.gradient(raw_loss, raw_variables(raw_model))

    assert float(raw_loss) == pytest.approx(float(keras_loss), rel=PER_OP)
    for name, keras_gradient, raw_gradient in zip(
        VARIABLE_PAIRS, keras_gradients, raw_gradients, strict=True
    ):
        scale = np.abs(keras_gradient.numpy()).max()
        assert scale > 0, name
        np.testing.assert_allclose(
            raw_gradient.numpy(),
            keras_gradient.numpy(),
            rtol=0,
            atol=REDUCTION * scale,
            err_msg=name,
        )


def test_twenty_adam_steps_same_weights_and_losses(digits):
    """20 steps of Keras' Adam and of the hand-written Adam, on the same batches, end at the same weights."""
    keras_model, raw_model, optimizer = keras_and_raw_pair()
    images, labels = tf.constant(digits.x_train), tf.constant(digits.y_train)
    keras_losses, raw_losses = [], []
    for step in range(20):
        indices = np.arange(64 * step, 64 * (step + 1))
        keras_model.reset_metrics()  # the batch's loss, not a running mean (Keras < 3.15)
        keras_logs = keras_model.train_on_batch(
            digits.x_train[indices], digits.y_train[indices], return_dict=True
        )
        keras_losses.append(keras_logs["loss"])
        raw_loss_sum, _ = train_batches(
            raw_model, optimizer, images, labels, indices, batch_size=64
        )
        raw_losses.append(float(raw_loss_sum) / len(indices))

    np.testing.assert_allclose(raw_losses, keras_losses, rtol=REDUCTION)
    assert (
        raw_losses[-1] < raw_losses[0] - 0.5
    )  # it did learn: the comparison is not of two frozen models
    keras_steps = int(
        np.asarray(keras_model.optimizer.iterations)
    )  # Keras 3.3: no int()
    assert int(optimizer.iterations) == keras_steps == 20
    for name, keras_weight, raw_weight in zip(
        VARIABLE_PAIRS,
        keras_model.trainable_weights,
        raw_variables(raw_model),
        strict=True,
    ):
        np.testing.assert_allclose(
            raw_weight.numpy(),
            keras_weight.numpy(),
            rtol=0,
            atol=AFTER_20_STEPS,
            err_msg=name,
        )


def test_adam_matches_keras_with_other_hyper_parameters():
    """The hand-written Adam follows Keras' formula for any lr, not just the defaults (one variable, 5 steps)."""
    keras_variable, raw_variable = (
        keras.Variable([0.5, -1.0, 2.0]),
        tf.Variable([0.5, -1.0, 2.0]),
    )
    keras_adam = keras.optimizers.Adam(
        learning_rate=0.05, beta_1=0.8, beta_2=0.99, epsilon=1e-3
    )
    raw_adam = raw_tf_impl.cnn.Adam(
        [raw_variable], learning_rate=0.05, beta_1=0.8, beta_2=0.99, epsilon=1e-3
    )
    for step in range(5):
        gradient = tf.constant([0.1, -0.2, 0.3]) * (step + 1)
        keras_adam.apply([gradient], [keras_variable])
        raw_adam.apply([gradient], [raw_variable])
    np.testing.assert_allclose(
        raw_variable.numpy(), keras_variable.numpy(), rtol=PER_OP
    )
    assert not np.allclose(raw_variable.numpy(), [0.5, -1.0, 2.0])


LOOPS = {  # (the Keras side, the raw side): one batch per graph call, or one epoch
    "per batch": (None, raw_tf_impl.cnn.train_epoch),
    "whole epoch in graph": ("epoch", raw_tf_impl.cnn.train_epoch_in_graph),
}


@pytest.mark.parametrize("loop", LOOPS)
def test_two_epochs_on_real_data_same_history_and_scores(digits, loop):
    """The two `train` functions, from equal weights and on the same shuffled batches
    (Keras fit on seeded_batches, the raw loop's order), give the same per-epoch loss and
    accuracy, and the two `evaluate` the same test scores, with one batch per graph call
    (the lessons) and with the whole epoch in one graph call (their Extras:
    steps_per_execution and train_epoch_in_graph). Accuracy may differ by at most one
    borderline prediction (1 / number of images) after float32 rounding."""
    keras_model, raw_model, optimizer = keras_and_raw_pair()
    x, y = digits.x_train, digits.y_train
    keras_steps, one_epoch = LOOPS[loop]
    if keras_steps:
        keras_impl.cnn.run_in_graph(keras_model, math.ceil(len(x) / 64))
    keras_history = keras_impl.cnn.train_in_seeded_order(
        keras_model, x, y, 2, 64, seed=3, verbose=0
    )
    raw_history = raw_tf_impl.train(
        raw_model, optimizer, x, y, 2, 64, seed=3, verbose=0, one_epoch=one_epoch
    )
    np.testing.assert_allclose(
        raw_history["loss"], keras_history["loss"], rtol=REDUCTION
    )
    np.testing.assert_allclose(
        raw_history["accuracy"], keras_history["accuracy"], atol=1 / len(digits.x_train)
    )

    keras_scores = keras_impl.evaluate(
        keras_model, digits.x_test, digits.y_test, batch_size=64
    )
    raw_scores = raw_tf_impl.evaluate(
        raw_model, digits.x_test, digits.y_test, batch_size=64
    )
    assert raw_scores["loss"] == pytest.approx(keras_scores["loss"], rel=REDUCTION)
    assert raw_scores["accuracy"] == pytest.approx(
        keras_scores["accuracy"], abs=1 / len(digits.x_test)
    )
    assert keras_scores["accuracy"] > 0.5  # one epoch on digits learns something real
