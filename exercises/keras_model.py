"""Exercise: the lecture's CNN with keras.Sequential (the reference solution)."""

import keras
from keras import layers


def build_model(input_shape=(28, 28, 1), num_classes=10):
    #: The raw CNN of raw_tf_impl/cnn.py, rebuilt as a keras.Sequential for images of
    #: input_shape: a convolution of 32 filters of 3x3 with no padding, its bias and a
    #: ReLU; a 2x2 max-pooling; the flattening; a dense layer of num_classes units, and
    #: the softmax that the raw model leaves to its loss. Its weights must have the raw
    #: CNN's shapes, in its order: conv_kernel (3, 3, 1, 32), conv_bias (32,),
    #: dense_kernel (5408, 10), dense_bias (10,). Return the model, not compiled.
    # BEGIN SOLUTION
    return keras.Sequential(
        [
            layers.Input(shape=input_shape),  # (B, 28, 28, 1)
            layers.Conv2D(32, (3, 3), activation="relu"),  # (B, 26, 26, 32)
            layers.MaxPooling2D((2, 2)),  # (B, 13, 13, 32)
            layers.Flatten(),  # (B, 5408)
            # softmax: the probabilities, which the compiled loss turns back into logits
            layers.Dense(num_classes, activation="softmax"),  # (B, 10)
        ]
    )
    # END SOLUTION
