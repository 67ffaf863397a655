"""The lecture's CNN in pure TensorFlow: define, compile, train, evaluate.

Everything Keras hides is written out: the variables and their initialisation, the
forward pass, the loss, Adam, the training loop and the metrics. No Keras anywhere.
Its twin is keras_impl/cnn.py: same steps, same order, same numbers.
"""

import math

import numpy as np
import tensorflow as tf


# Step 1: define ----------------------------------------------------------------
def glorot_uniform(rng, shape, fan_in, fan_out):
    """Keras' default kernel initialiser: U(-limit, limit), limit = sqrt(6 / fans)."""
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(shape, minval=-limit, maxval=limit)


class CNN(tf.Module):
    """Conv(32, 3x3) + ReLU -> max-pool 2x2 -> flatten -> dense; returns logits."""

    def __init__(self, seed=0, input_shape=(28, 28, 1), num_classes=10):
        super().__init__()
        height, width, channels = input_shape
        self.flat_size = (height - 2) // 2 * ((width - 2) // 2) * 32  # 13 * 13 * 32
        rng = tf.random.Generator.from_seed(seed)
        # The fans of a convolution count its 3x3 window.
        conv_init = glorot_uniform(rng, (3, 3, channels, 32), 9 * channels, 9 * 32)
        self.conv_kernel = tf.Variable(conv_init, name="conv_kernel")  # (3, 3, 1, 32)
        self.conv_bias = tf.Variable(tf.zeros([32]), name="conv_bias")  # (32,)
        dense_shape = (self.flat_size, num_classes)  # (5408, 10)
        dense_init = glorot_uniform(rng, dense_shape, *dense_shape)
        self.dense_kernel = tf.Variable(dense_init, name="dense_kernel")
        self.dense_bias = tf.Variable(tf.zeros([num_classes]), name="dense_bias")

    def __call__(self, images, training=False):  # (B, 28, 28, 1); `training` unused
        x = tf.nn.conv2d(images, self.conv_kernel, 1, "VALID")  # (B, 26, 26, 32)
        # bias_add, as Keras' Conv2D: oneDNN then fuses the bias into the conv gradient
        x = tf.nn.relu(tf.nn.bias_add(x, self.conv_bias))  # (B, 26, 26, 32)
        x = tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")  # (B, 13, 13, 32)
        x = tf.reshape(x, [-1, self.flat_size])  # (B, 5408)
        return x @ self.dense_kernel + self.dense_bias  # (B, 10) logits: no softmax


def build_model(seed=0, input_shape=(28, 28, 1), num_classes=10):
    """The CNN above, its weights drawn from `seed`."""
    return CNN(seed, input_shape, num_classes)


# Step 2: compile (loss + optimizer) --------------------------------------------
def sparse_categorical_crossentropy(labels, logits):
    """Mean cross-entropy from logits: log-softmax in one stable op, as Keras computes
    it behind a softmax output."""
    per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
    return tf.reduce_mean(per_example)


class Adam(tf.Module):
    """Adam exactly as Keras computes it (keras/src/optimizers/adam.py)."""

    def __init__(
        self, variables, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7
    ):
        super().__init__()
        self.learning_rate, self.beta_1, self.beta_2 = learning_rate, beta_1, beta_2
        self.epsilon = epsilon
        self.iterations = tf.Variable(0, dtype=tf.int64)
        self.momentums = [tf.Variable(tf.zeros_like(v)) for v in variables]  # m
        self.velocities = [tf.Variable(tf.zeros_like(v)) for v in variables]  # v

    def apply(self, gradients, variables):
        step = tf.cast(self.iterations + 1, tf.float32)
        # Bias correction folded into the step size rather than applied to m and v.
        correction = tf.sqrt(1 - self.beta_2**step) / (1 - self.beta_1**step)
        alpha = self.learning_rate * correction
        moments = zip(gradients, variables, self.momentums, self.velocities)
        for gradient, variable, m, v in moments:
            m.assign_add((gradient - m) * (1 - self.beta_1))
            v.assign_add((tf.square(gradient) - v) * (1 - self.beta_2))
            # epsilon outside the sqrt, as in Keras (the paper's eps-hat).
            variable.assign_sub(m * alpha / (tf.sqrt(v) + self.epsilon))
        self.iterations.assign_add(1)


def compile_model(model, learning_rate=1e-3):
    """The loss is the function above; the optimizer holds its state per variable."""
    return Adam(model.trainable_variables, learning_rate)


# Step 3: train -----------------------------------------------------------------
def loss_and_correct(model, images, labels, training):
    """Mean loss and number of right answers on one batch. `training` goes to the
    model: batch norm and dropout behave differently in training and evaluation."""
    logits = model(images, training=training)  # (B, 10)
    predictions = tf.argmax(logits, axis=1, output_type=labels.dtype)  # (B,)
    correct = tf.reduce_sum(tf.cast(predictions == labels, tf.float32))
    return sparse_categorical_crossentropy(labels, logits), correct


@tf.function
def train_step(model, optimizer, images, labels):
    """One mini-batch: forward, loss, gradients, Adam update, in one graph call."""
    with tf.GradientTape() as tape:
        loss, correct = loss_and_correct(model, images, labels, training=True)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply(gradients, model.trainable_variables)
    return loss, correct


def train_epoch(model, optimizer, x_train, y_train, order, batch_size):
    """The mini-batches of `order`, one graph call each: the loop the TensorFlow
    guides teach. Returns the epoch's mean loss and accuracy."""
    loss_sum, correct = 0.0, 0.0
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]  # (B,)
        images, labels = x_train[batch], y_train[batch]  # (B, 28, 28, 1) and (B,)
        loss, batch_correct = train_step(model, optimizer, images, labels)
        # Summed as tensors: Python never waits for a batch to finish (on a GPU).
        loss_sum += loss * len(batch)  # the batch's mean times its size
        correct += batch_correct
    return float(loss_sum) / len(order), float(correct) / len(order)


def train(
    model,
    optimizer,
    x_train,
    y_train,
    epochs,
    batch_size,
    seed=0,
    verbose=1,
    one_epoch=train_epoch,
    callbacks=(),
):
    """The loop `fit` hides: epochs x shuffled mini-batches, running loss and accuracy.
    Returns the history: {"loss": [...], "accuracy": [...]}, one value per epoch.
    `seed` may also be a numpy Generator: the shuffling goes on from where it stands.
    `one_epoch=train_epoch_in_graph` (Extras) runs each epoch in one graph call.
    Each callback is a function called as `callback(epoch, logs)` after each epoch,
    as fit calls a Keras callback's `on_epoch_end`."""
    shuffler = np.random.default_rng(seed)  # a Generator passes through unchanged
    history = {"loss": [], "accuracy": []}
    for epoch in range(epochs):
        order = shuffler.permutation(len(y_train))  # a new order every epoch
        loss, accuracy = one_epoch(
            model, optimizer, x_train, y_train, order, batch_size
        )
        history["loss"].append(loss)  # the epoch's mean, as fit's running mean ends
        history["accuracy"].append(accuracy)
        if verbose:
            print(
                f"Epoch {epoch + 1}/{epochs} loss {loss:.4f}",
                f"accuracy {accuracy:.4f}",
            )
        for callback in callbacks:  # e.g. a line in your language, TensorBoard
            callback(epoch, {"loss": loss, "accuracy": accuracy})
    return history


# Step 4: evaluate --------------------------------------------------------------
@tf.function
def evaluate_step(model, images, labels):
    """Forward pass only: no tape, no update, and `training=False`."""
    loss, correct = loss_and_correct(model, images, labels, training=False)
    return loss * tf.cast(tf.size(labels), tf.float32), correct


def evaluate(model, x_test, y_test, batch_size):
    """Mean loss and accuracy on data the model has not seen."""
    loss_sum, correct = 0.0, 0.0
    for start in range(0, len(x_test), batch_size):
        images = x_test[start : start + batch_size]  # (B, 28, 28, 1)
        labels = y_test[start : start + batch_size]  # (B,)
        batch_loss_sum, batch_correct = evaluate_step(model, images, labels)
        loss_sum += batch_loss_sum
        correct += batch_correct
    return {
        "loss": float(loss_sum) / len(x_test),
        "accuracy": float(correct) / len(x_test),
    }


# Extras: the loop inside the graph ---------------------------------------------
@tf.function
def train_batches(model, optimizer, images, labels, indices, batch_size):
    """The mini-batches of `indices`, in order, in one graph call: AutoGraph turns
    the loop over tf.range into a tf.while_loop, so Python does not run per batch.
    Returns the summed loss and the number of right answers."""
    loss_sum, correct = tf.constant(0.0), tf.constant(0.0)
    for start in tf.range(0, tf.size(indices), batch_size):
        batch = indices[start : start + batch_size]  # (B,)
        # (B, 28, 28, 1) and (B,)
        batch_images, batch_labels = tf.gather(images, batch), tf.gather(labels, batch)
        loss, batch_correct = train_step(model, optimizer, batch_images, batch_labels)
        loss_sum += loss * tf.cast(tf.size(batch), tf.float32)
        correct += batch_correct
    return loss_sum, correct


def train_epoch_in_graph(model, optimizer, x_train, y_train, order, batch_size):
    """train_epoch with the loop inside the graph: the whole epoch is one graph call.
    Keras' twin is `steps_per_execution` (keras_impl/cnn.py's Extras): the same idea.
    Use it as train(..., one_epoch=train_epoch_in_graph), with x_train and y_train
    already tensors (tf.constant), or the data is copied to TF every epoch."""
    images = tf.convert_to_tensor(x_train)  # (N, 28, 28, 1); a tensor stays as it is
    labels = tf.convert_to_tensor(y_train)  # (N,)
    loss_sum, correct = train_batches(
        model, optimizer, images, labels, order, batch_size
    )
    return float(loss_sum) / len(order), float(correct) / len(order)
