"""Shared helpers: quiet TensorFlow, determinism, and copying weights Keras -> raw."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

FASHION_MNIST_DEBIAN = Path("/usr/share/datasets/fashion-mnist")


def copy_keras_weights(keras_model, raw_model):
    """Give the raw model the Keras model's weights, by an explicit layer -> variable mapping."""
    conv, dense = keras_model.layers[0], keras_model.layers[3]
    for raw_variable, keras_variable in [
        (raw_model.conv_kernel, conv.kernel),
        (raw_model.conv_bias, conv.bias),
        (raw_model.dense_kernel, dense.kernel),
        (raw_model.dense_bias, dense.bias),
    ]:
        raw_variable.assign(keras_variable.numpy())


def keras_and_raw_pair(seed=0, learning_rate=1e-3):
    """A compiled Keras model and a raw model + Adam starting from the same weights."""
    import keras_impl
    import raw_tf_impl

    keras_model = keras_impl.compile_model(keras_impl.build_model(seed), learning_rate)
    raw_model = raw_tf_impl.build_model(seed + 1)  # a different draw, then overwritten
    copy_keras_weights(keras_model, raw_model)
    return keras_model, raw_model, raw_tf_impl.compile_model(raw_model, learning_rate)


@pytest.fixture(scope="session", autouse=True)
def op_determinism():
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()


@pytest.fixture(scope="session")
def digits():
    from compare.data import load_digits_28x28

    return load_digits_28x28()


@pytest.fixture
def batch(digits):
    """64 real images and labels."""
    return digits.x_train[:64], digits.y_train[:64]
