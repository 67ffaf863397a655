"""cnn_bn_dropout: hand-written batch normalisation and dropout against Keras' layers.

Tolerances as in test_parity.py (float32, ~1e-6 per op; 1.2e-5 of the scale for gradients whose
sums run over up to 43,264 terms); batch statistics add one such reduction per channel.
"""

import math

import numpy as np
import pytest
import tensorflow as tf

import keras_impl
import keras_impl.cnn_bn_dropout
import raw_tf_impl
import raw_tf_impl.cnn_bn_dropout
from compare.saved.convert import copy_weights, weight_pairs
from raw_tf_impl.cnn import (
    loss_and_correct,
    sparse_categorical_crossentropy,
    train_step,
)
from raw_tf_impl.cnn_bn_dropout import dropout

pytestmark = pytest.mark.lesson  # the parity core: `pytest -m lesson`

PER_OP = 1e-6
REDUCTION = 1.2e-5
WEIGHTS = ("conv_kernel", "conv_bias", "dense_kernel", "dense_bias")


def pair(dropout_rate, seed=0):
    """A compiled Keras cnn_bn_dropout and a raw one with its weights and batch-norm state copied."""
    keras_model = keras_impl.compile_model(
        keras_impl.cnn_bn_dropout.build_model(seed, dropout_rate=dropout_rate)
    )
    raw_model = raw_tf_impl.cnn_bn_dropout.build_model(
        seed + 1, dropout_rate=dropout_rate
    )
    batch_norm = keras_model.layers[1]
    # Non-trivial batch-norm state, so that inference really uses it.
    rng = np.random.default_rng(seed)
    for variable, low, high in [
        (batch_norm.gamma, 0.5, 1.5),
        (batch_norm.beta, -0.2, 0.2),
        (batch_norm.moving_mean, -0.1, 0.1),
        (batch_norm.moving_variance, 0.5, 2.0),
    ]:
        variable.assign(rng.uniform(low, high, size=variable.shape).astype("float32"))
    copy(keras_model, raw_model)
    return keras_model, raw_model, raw_tf_impl.compile_model(raw_model)


def keras_and_raw_variables(keras_model, raw_model):
    """(Keras weight, raw variable) in Keras' order, by compare's one weight mapping."""
    return [
        (keras_variable, raw_variable)
        for _, keras_variable, _, raw_variable in weight_pairs(
            "cnn_bn_dropout", keras_model, raw_model
        )
    ]


def copy(keras_model, raw_model):
    copy_weights("cnn_bn_dropout", keras_model, raw_model, "raw_tf", "the test's pair")


def test_inference_mode_same_outputs(batch):
    """training=False: the moving statistics normalise, dropout is off, outputs agree."""
    images, _ = batch
    keras_model, raw_model, _ = pair(dropout_rate=0.5)
    keras_probabilities = keras_model(images, training=False).numpy()
    raw_probabilities = tf.nn.softmax(
        raw_model(tf.constant(images), training=False)
    ).numpy()
    np.testing.assert_allclose(raw_probabilities, keras_probabilities, atol=PER_OP)


def test_training_mode_same_outputs_loss_gradients_and_moving_statistics(batch):
    """training=True with dropout rate 0: batch statistics, loss, every gradient, updated moving stats."""
    images, labels = batch
    keras_model, raw_model, _ = pair(dropout_rate=0.0)
    with tf.GradientTape() as tape:
        keras_output = keras_model(images, training=True)
        keras_loss = keras_model.compute_loss(x=images, y=labels, y_pred=keras_output)
    keras_gradients = tape.gradient(keras_loss, keras_model.trainable_weights)
    with tf.GradientTape() as tape:
        raw_logits = raw_model(tf.constant(images), training=True)
        raw_loss = sparse_categorical_crossentropy(labels, raw_logits)
    raw_variables = [
        raw
        for keras, raw in keras_and_raw_variables(keras_model, raw_model)
        if keras.trainable
    ]
    raw_gradients = tape.gradient(raw_loss, raw_variables)

    np.testing.assert_allclose(
        tf.nn.softmax(raw_logits).numpy(), keras_output.numpy(), atol=PER_OP
    )
    assert float(raw_loss) == pytest.approx(float(keras_loss), rel=REDUCTION)
    for keras_gradient, raw_gradient in zip(
        keras_gradients, raw_gradients, strict=True
    ):
        scale = np.abs(keras_gradient.numpy()).max()
        np.testing.assert_allclose(
            raw_gradient.numpy(), keras_gradient.numpy(), atol=REDUCTION * scale
        )
    for keras_variable, raw_variable in keras_and_raw_variables(keras_model, raw_model)[
        3:5
    ]:  # moving stats
        np.testing.assert_allclose(
            raw_variable.numpy(), keras_variable.numpy(), rtol=PER_OP, atol=PER_OP
        )


def test_twenty_steps_same_weights_and_moving_statistics(digits):
    """20 Adam steps (dropout rate 0) on the same batches, train_on_batch beside the raw
    lesson's train_step: weights, gamma/beta and moving stats agree."""
    keras_model, raw_model, optimizer = pair(dropout_rate=0.0)
    for step in range(20):
        indices = np.arange(64 * step, 64 * (step + 1))
        images, labels = digits.x_train[indices], digits.y_train[indices]
        keras_model.reset_metrics()  # the batch's loss, not a running mean (Keras < 3.15)
        keras_loss = keras_model.train_on_batch(images, labels, return_dict=True)[
            "loss"
        ]
        raw_loss, _ = train_step(raw_model, optimizer, images, labels)
        assert float(raw_loss) == pytest.approx(keras_loss, rel=REDUCTION)
    for keras_variable, raw_variable in keras_and_raw_variables(keras_model, raw_model):
        np.testing.assert_allclose(
            raw_variable.numpy(),
            keras_variable.numpy(),
            atol=1e-6,
            err_msg=keras_variable.path,
        )
    assert not np.allclose(raw_model.batch_norm.moving_mean.numpy(), 0)


def test_dropout_zeroes_about_rate_and_keeps_the_mean():
    """On 200,000 ones at rate 0.3: the zero fraction is within 5 standard errors of 0.3
    (sqrt(0.3 * 0.7 / n) = 0.001) and the mean within 5 standard errors of 1 (std of the scaled
    values sqrt(0.3 / 0.7) = 0.65, so 0.0015)."""
    n, rate = 200_000, 0.3
    dropped = dropout(tf.ones([n]), rate, seed=tf.constant([7, 0], tf.int64)).numpy()
    assert abs((dropped == 0).mean() - rate) < 5 * math.sqrt(rate * (1 - rate) / n)
    assert abs(dropped.mean() - 1) < 5 * math.sqrt(rate / (1 - rate) / n)
    assert set(np.unique(dropped)) == {0.0, np.float32(1 / (1 - rate))}


def test_dropout_mask_is_stateless_and_seeded():
    x = tf.ones([1000])
    same = [dropout(x, 0.5, tf.constant([1, 2], tf.int64)).numpy() for _ in range(2)]
    other = dropout(x, 0.5, tf.constant([1, 3], tf.int64)).numpy()
    np.testing.assert_array_equal(same[0], same[1])
    assert not np.array_equal(same[0], other)


def test_the_training_flag_trap(digits):
    """Evaluating with training=True (batch statistics, dropout on) gives another accuracy than
    the correct training=False: the mistake the explicit flag is there to teach."""
    model = raw_tf_impl.cnn_bn_dropout.build_model(seed=0)
    optimizer = raw_tf_impl.compile_model(model)
    raw_tf_impl.train(
        model,
        optimizer,
        digits.x_train,
        digits.y_train,
        epochs=2,
        batch_size=64,
        verbose=0,
    )
    images, labels = tf.constant(digits.x_test), tf.constant(digits.y_test)
    _, right_way = loss_and_correct(model, images, labels, training=False)
    _, trap = loss_and_correct(model, images, labels, training=True)
    assert float(right_way) != float(trap)
    assert float(right_way) / len(labels) > 0.5
