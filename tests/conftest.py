"""Fixtures for every test: quiet TensorFlow, op determinism, the digits dataset.
Shared helpers live in helpers.py."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# Hypothesis: the same examples on every run unless asked to explore, so that CI never
# fails at random. "ci" (the default) is seeded and keeps no database; "explore"
# (HYPOTHESIS_PROFILE=explore) draws new examples each run, ten times as many where a
# test does not set its own count; an example it finds becomes an @example of the test.
settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, print_blob=True
)
settings.register_profile(
    "explore",
    derandomize=False,
    deadline=None,
    max_examples=1000,
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


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
