"""The lecture's CNN the Keras way: define, compile, train, evaluate.

Four calls do everything: `Sequential` builds the layers, `compile` picks the loss, the
optimizer and the metric, `fit` runs the training loop, `evaluate` scores the model.
Its twin, written without Keras, is raw_tf_impl/cnn.py: same steps, same order.
"""

import math

import keras
import numpy as np
import tensorflow as tf  # tf.data, for the Extras' seeded batches
from keras import layers  # the lecture's `from tensorflow.keras import layers`


# Step 1: define ----------------------------------------------------------------
def build_model(seed=0, input_shape=(28, 28, 1), num_classes=10):
    """Conv(32, 3x3) + ReLU -> max-pool 2x2 -> flatten -> dense softmax."""
    keras.utils.set_random_seed(seed)  # seeds the Glorot initialisers and fit's shuffle
    return keras.Sequential(
        [
            layers.Input(shape=input_shape),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )


# Step 2: compile ---------------------------------------------------------------
def compile_model(model, learning_rate=1e-3):
    """Choose the optimizer, the loss and the metric."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


# Step 3: train -----------------------------------------------------------------
def train(model, x_train, y_train, epochs, batch_size, verbose=1, callbacks=()):
    """`fit` runs the whole loop: epochs x shuffled mini-batches, running loss and
    accuracy. Returns the history: {"loss": [...], "accuracy": [...]}, one per epoch."""
    history = model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        shuffle=True,
        verbose=verbose,
        callbacks=list(callbacks),
    )
    return history.history


# Step 4: evaluate --------------------------------------------------------------
def evaluate(model, x_test, y_test, batch_size):
    """Mean loss and accuracy on data the model has not seen."""
    return model.evaluate(
        x_test, y_test, batch_size=batch_size, verbose=0, return_dict=True
    )


# Extras: the loop inside the graph ---------------------------------------------
def run_in_graph(model, steps):
    """fit then runs `steps` mini-batches per graph call, so Python does not run per
    batch; with all of an epoch's batches, the whole epoch is one call: the raw
    lesson's train_epoch_in_graph, the same idea. Call it after compile_model (which
    sets 1) and before the first fit (which traces the loop)."""
    model.steps_per_execution = steps


# Extras: the raw loop's batch order --------------------------------------------
def seeded_batches(x, y, batch_size, seed, epochs, first_epoch=0):
    """fit's mini-batches in the raw loop's order, as a tf.data pipeline: epoch e (from
    0) takes the (e+1)-th permutation drawn from numpy's default_rng(seed), as the raw
    loop's shuffler does. fit's own shuffle draws from TF's random state; this order
    depends on the seed and the epoch alone, so both styles see the same batches, and
    a run resumed at `first_epoch` sees those of an uninterrupted one."""
    shuffler = np.random.default_rng(seed)
    orders = [shuffler.permutation(len(x)) for _ in range(epochs)][first_epoch:]
    orders = np.array(orders, dtype=np.int64).reshape(-1, len(x))  # (epochs left, N)
    images, labels = tf.constant(x), tf.constant(y)  # copied to TF once
    return (
        tf.data.Dataset.from_tensor_slices(orders)  # one epoch each
        .flat_map(
            lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size)
        )
        .map(lambda batch: (tf.gather(images, batch), tf.gather(labels, batch)))
        .prefetch(tf.data.AUTOTUNE)
    )


def train_in_seeded_order(
    model,
    x_train,
    y_train,
    epochs,
    batch_size,
    seed=0,
    verbose=1,
    callbacks=(),
    first_epoch=0,
):
    """`train`, the batches taken from seeded_batches instead of fit's shuffle."""
    batches = seeded_batches(x_train, y_train, batch_size, seed, epochs, first_epoch)
    history = model.fit(
        batches,
        epochs=epochs,
        initial_epoch=first_epoch,
        shuffle=False,  # the batches come shuffled
        steps_per_epoch=math.ceil(len(x_train) / batch_size),
        verbose=verbose,
        callbacks=list(callbacks),
    )
    return history.history
