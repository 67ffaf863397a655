"""The seed's CNN the Keras way: define, compile, train, evaluate.

Four calls do everything: `Sequential` builds the layers, `compile` picks the loss, the
optimizer and the metric, `fit` runs the training loop, `evaluate` scores the model.
Its twin, written without Keras, is raw_tf_impl/cnn.py: same steps, same order.
"""

import math

import keras
import numpy as np
from keras import layers  # the seed's `from tensorflow.keras import layers`


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


# Extras: the raw loop's batch order --------------------------------------------
class SeededBatches(keras.utils.PyDataset):
    """fit's mini-batches in the raw loop's order: epoch e (from 0) takes the (e+1)-th
    permutation drawn from numpy's default_rng(seed), as the raw loop's shuffler does.
    fit's own shuffle draws from TF's random state; this order depends on the seed and
    the epoch alone, so both styles see the same batches, and a run resumed in a new
    process sees those of an uninterrupted one."""

    def __init__(self, x, y, batch_size, seed):
        super().__init__()
        self.x, self.y, self.batch_size, self.seed = x, y, batch_size, seed
        self.order = np.arange(len(x))

    def shuffle_for(self, epoch, logs=None):  # fit calls it as each epoch begins
        shuffler = np.random.default_rng(self.seed)
        for _ in range(epoch + 1):  # replays the epochs before: cheap beside an epoch
            self.order = shuffler.permutation(len(self.x))

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        start = index * self.batch_size
        batch = self.order[start : start + self.batch_size]
        return self.x[batch], self.y[batch]


def train_in_seeded_order(
    model, x_train, y_train, epochs, batch_size, seed=0, verbose=1, callbacks=()
):
    """`train`, the batches taken from SeededBatches instead of fit's shuffle."""
    batches = SeededBatches(x_train, y_train, batch_size, seed)
    reshuffle = keras.callbacks.LambdaCallback(on_epoch_begin=batches.shuffle_for)
    history = model.fit(
        batches,
        epochs=epochs,
        shuffle=False,  # True would shuffle the batches' order again
        verbose=verbose,
        callbacks=[reshuffle, *callbacks],
    )
    return history.history
