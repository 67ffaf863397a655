"""Fixtures for every test: quiet TensorFlow, op determinism, the digits dataset.
Shared helpers live in helpers.py."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402


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
