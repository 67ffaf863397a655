"""The seed's CNN in pure TensorFlow: define, compile, train, evaluate.

Everything Keras hides is written out: the variables and their initialisation, the
forward pass, the loss, Adam, the training loop and the metrics. No Keras anywhere.
Its twin is keras_impl/cnn.py: same steps, same order, same numbers.
"""

import math

import numpy as np
import tensorflow as tf


# Step 1: define ----------------------------------------------------------------
def glorot_uniform(rng, shape, fan_in, fan_out):
    """Keras' default kernel initialiser: U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out))."""
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(shape, minval=-limit, maxval=limit)


class CNN(tf.Module):
    """Conv(32, 3x3) + ReLU -> max-pool 2x2 -> flatten -> dense; returns logits."""

    def __init__(self, seed=0, input_shape=(28, 28, 1), num_classes=10):
        super().__init__()
        height, width, channels = input_shape
        self.flat_size = (
            (height - 2) // 2 * ((width - 2) // 2) * 32
        )  # 13 * 13 * 32 = 5408
        rng = tf.random.Generator.from_seed(seed)
        self.conv_kernel = tf.Variable(  # (3, 3, 1, 32); fans count the 3x3 window
            glorot_uniform(
                rng, (3, 3, channels, 32), fan_in=9 * channels, fan_out=9 * 32
            ),
            name="conv_kernel",
        )
        self.conv_bias = tf.Variable(tf.zeros([32]), name="conv_bias")
        self.dense_kernel = tf.Variable(  # (5408, 10)
            glorot_uniform(
                rng, (self.flat_size, num_classes), self.flat_size, num_classes
            ),
            name="dense_kernel",
        )
        self.dense_bias = tf.Variable(tf.zeros([num_classes]), name="dense_bias")

    def __call__(
        self, images, training=False
    ):  # (B, 28, 28, 1); no layer here uses `training`
        x = tf.nn.conv2d(
            images, self.conv_kernel, strides=1, padding="VALID"
        )  # (B, 26, 26, 32)
        x = tf.nn.relu(x + self.conv_bias)  # (B, 26, 26, 32)
        x = tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")  # (B, 13, 13, 32)
        x = tf.reshape(x, [-1, self.flat_size])  # (B, 5408)
        return (
            x @ self.dense_kernel + self.dense_bias
        )  # (B, 10) logits; softmax lives in the loss


def build_model(seed=0, input_shape=(28, 28, 1), num_classes=10):
    return CNN(seed, input_shape, num_classes)


# Step 2: compile (loss + optimizer) --------------------------------------------
def sparse_categorical_crossentropy(labels, logits):
    """Mean cross-entropy from logits: log-softmax in one stable op, as Keras does behind softmax."""
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
    )


class Adam(tf.Module):
    """Adam exactly as Keras computes it (keras/src/optimizers/adam.py)."""

    def __init__(
        self, variables, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7
    ):
        super().__init__()
        self.learning_rate, self.beta_1, self.beta_2, self.epsilon = (
            learning_rate,
            beta_1,
            beta_2,
            epsilon,
        )
        self.iterations = tf.Variable(0, dtype=tf.int64)
        self.momentums = [
            tf.Variable(tf.zeros_like(v)) for v in variables
        ]  # first moments m
        self.velocities = [
            tf.Variable(tf.zeros_like(v)) for v in variables
        ]  # second moments v

    def apply(self, gradients, variables):
        step = tf.cast(self.iterations + 1, tf.float32)
        # Bias correction folded into the step size rather than applied to m and v.
        alpha = (
            self.learning_rate
            * tf.sqrt(1 - self.beta_2**step)
            / (1 - self.beta_1**step)
        )
        for gradient, variable, m, v in zip(
            gradients, variables, self.momentums, self.velocities
        ):
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
    """Mean loss and number of right answers on one batch. `training` goes to the model explicitly:
    batch normalisation and dropout behave differently in training and in evaluation."""
    logits = model(images, training=training)
    predictions = tf.argmax(logits, axis=1, output_type=labels.dtype)
    correct = tf.reduce_sum(tf.cast(predictions == labels, tf.float32))
    return sparse_categorical_crossentropy(labels, logits), correct


def train_step(model, optimizer, images, labels):
    """One mini-batch: forward, loss, gradients, Adam update."""
    with tf.GradientTape() as tape:
        loss, correct = loss_and_correct(model, images, labels, training=True)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply(gradients, model.trainable_variables)
    return loss, correct


@tf.function
def train_batches(model, optimizer, images, labels, indices, batch_size):
    """The mini-batches of `indices`, in order, in one graph call: AutoGraph turns the loop over
    tf.range into a tf.while_loop, so Python does not run once per batch.
    Returns the summed loss and the number of right answers; stops early at a NaN or infinite loss."""
    loss_sum, correct = tf.constant(0.0), tf.constant(0.0)
    for start in tf.range(0, tf.size(indices), batch_size):
        batch_indices = indices[start : start + batch_size]  # (B,)
        batch_loss, batch_correct = train_step(
            model,
            optimizer,
            tf.gather(images, batch_indices),
            tf.gather(labels, batch_indices),
        )
        loss_sum += batch_loss * tf.cast(tf.size(batch_indices), tf.float32)
        correct += batch_correct
        if not tf.math.is_finite(
            batch_loss
        ):  # diverged: stop at this batch, as Keras' TerminateOnNaN does
            break
    return loss_sum, correct


def train(
    model,
    optimizer,
    x_train,
    y_train,
    epochs,
    batch_size,
    shuffle=True,
    seed=0,
    steps_per_execution=None,
    validation_data=None,
    verbose=1,
    callbacks=(),
    initial_epoch=0,
):
    """The loop `fit` hides: epochs x shuffled mini-batches, running loss and accuracy.
    Each graph call runs `steps_per_execution` batches; None (the default) runs a whole epoch.
    `seed` may also be a numpy Generator (checkpoints.py passes the one it restored)."""
    images, labels = tf.constant(x_train), tf.constant(y_train)  # copied to TF once
    shuffler = np.random.default_rng(seed)  # a Generator passes through unchanged
    samples_per_call = batch_size * (
        steps_per_execution or math.ceil(len(x_train) / batch_size)
    )
    history = {}  # name -> one value per epoch, like fit's History
    for epoch in range(initial_epoch, epochs):
        order = (
            shuffler.permutation(len(x_train)) if shuffle else np.arange(len(x_train))
        )
        loss_sum, correct = 0.0, 0.0  # running sums stay tensors until the epoch's end
        first_step = int(optimizer.iterations)
        for start in range(0, len(order), samples_per_call):
            for callback in callbacks:
                callback.on_train_batch_begin(start // batch_size)
            call_loss_sum, call_correct = train_batches(
                model,
                optimizer,
                images,
                labels,
                order[start : start + samples_per_call],
                batch_size,
            )
            if not tf.math.is_finite(
                call_loss_sum
            ):  # TerminateOnNaN's check; one scalar read per call
                step = int(optimizer.iterations) - first_step
                raise FloatingPointError(
                    f"the loss became {float(call_loss_sum)} in epoch {epoch + 1}, step {step}"
                )
            loss_sum += call_loss_sum
            correct += call_correct
        logs = {
            "loss": float(loss_sum) / len(order),
            "accuracy": float(correct) / len(order),
        }
        if (
            validation_data is not None
        ):  # scores on held-out data after each epoch, like fit's
            logs.update(
                {
                    f"val_{name}": value
                    for name, value in evaluate(
                        model, *validation_data, batch_size
                    ).items()
                }
            )
        for name, value in logs.items():
            history.setdefault(name, []).append(value)
        if verbose:
            print(
                f"Epoch {epoch + 1}/{epochs} - "
                + " - ".join(f"{name}: {value:.4f}" for name, value in logs.items())
            )
        for callback in callbacks:
            callback.on_epoch_end(epoch, logs)
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
        batch_loss_sum, batch_correct = evaluate_step(
            model,
            x_test[start : start + batch_size],
            y_test[start : start + batch_size],
        )
        loss_sum += batch_loss_sum
        correct += batch_correct
    return {
        "loss": float(loss_sum) / len(x_test),
        "accuracy": float(correct) / len(x_test),
    }
