"""The seed's CNN the Keras way: define, compile, train, evaluate.

Four calls do everything: `Sequential` builds the layers, `compile` picks the loss,
the optimizer and the metric, `fit` runs the training loop, `evaluate` scores it.
Its twin, written without Keras, is raw_tf_impl/cnn.py: same steps, same order.
"""

import keras
from keras import (
    layers,
)  # the seed's `from tensorflow.keras import layers`: Keras 3 is tf.keras


# Step 1: define ----------------------------------------------------------------
def build_model(seed=0, input_shape=(28, 28, 1), num_classes=10):
    """Conv(32, 3x3) + ReLU -> max-pool 2x2 -> flatten -> dense softmax."""
    keras.utils.set_random_seed(
        seed
    )  # seeds the Glorot initialisers and fit's shuffling
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
def compile_model(model, learning_rate=1e-3, steps_per_execution=1, jit_compile="auto"):
    """Choose the optimizer, the loss and the metric; the speed options keep Keras' defaults."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
        jit_compile=jit_compile,
    )
    return model


# Step 3: train -----------------------------------------------------------------
def train(
    model,
    x_train,
    y_train,
    epochs,
    batch_size,
    shuffle=True,
    validation_data=None,
    verbose=1,
    callbacks=(),
):
    """`fit` runs the whole loop; returns the per-epoch history. TerminateOnNaN raises at the first
    NaN or infinite loss (fit alone would go on training on NaN weights)."""
    history = model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        shuffle=shuffle,
        validation_data=validation_data,
        verbose=verbose,
        callbacks=[*callbacks, keras.callbacks.TerminateOnNaN(raise_error=True)],
    )
    return (
        history.history
    )  # {"loss": [...], "accuracy": [...]}, and "val_..." with validation_data


# Step 4: evaluate --------------------------------------------------------------
def evaluate(model, x_test, y_test, batch_size):
    """Mean loss and accuracy on data the model has not seen."""
    return model.evaluate(
        x_test, y_test, batch_size=batch_size, verbose=0, return_dict=True
    )
