"""The lecture's CNN with BatchNormalization and Dropout, the Keras way: step 1, define.

Two ready layers, one line each. Compile, train and evaluate are cnn.py's, unchanged:
`fit` and `evaluate` tell every layer whether it is training.
Its twin is raw_tf_impl/cnn_bn_dropout.py.
"""

import keras
from keras import layers


# Step 1: define ----------------------------------------------------------------
def build_model(seed=0, input_shape=(28, 28, 1), num_classes=10, dropout_rate=0.5):
    """Conv(32, 3x3) -> batch norm -> ReLU -> max-pool 2x2 -> flatten -> dropout
    -> dense softmax."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            layers.Input(shape=input_shape),
            layers.Conv2D(32, (3, 3), use_bias=False),  # batch norm's beta is the bias
            layers.BatchNormalization(),  # momentum 0.99, epsilon 1e-3
            layers.ReLU(),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dropout(dropout_rate),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
