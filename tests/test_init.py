"""The raw model is initialised like Keras: Glorot-uniform kernels, zero biases, seeded."""

import math

import numpy as np
import pytest

import keras_impl
import raw_tf_impl

pytestmark = pytest.mark.lesson  # the parity core: `pytest -m lesson`

# (variable, fan_in, fan_out): the conv fans count the 3x3 window, as Keras' GlorotUniform does.
KERNELS = [("conv_kernel", 9 * 1, 9 * 32), ("dense_kernel", 5408, 10)]


@pytest.mark.parametrize("name, fan_in, fan_out", KERNELS)
def test_kernels_are_glorot_uniform(name, fan_in, fan_out):
    """Inside +-limit, mean 0 and variance limit^2 / 3, within 5 standard errors of the sample estimates."""
    kernel = getattr(raw_tf_impl.build_model(seed=0), name).numpy().ravel()
    limit = math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(kernel).max() <= limit
    assert (
        np.abs(kernel).max() > 0.9 * limit
    )  # actually spread over the range, not squeezed
    variance = limit**2 / 3
    assert abs(kernel.mean()) < 5 * math.sqrt(variance / kernel.size)
    # The sample variance of U(-a, a) has relative standard error sqrt(0.8 / n).
    assert kernel.var() == pytest.approx(variance, rel=5 * math.sqrt(0.8 / kernel.size))


@pytest.mark.parametrize("name, fan_in, fan_out", KERNELS)
def test_kernels_have_keras_bounds_and_scale(name, fan_in, fan_out):
    """Keras' own kernels for the same layer have the same bound and a matching spread."""
    keras_layer = keras_impl.build_model(seed=0).layers[
        0 if name == "conv_kernel" else 3
    ]
    keras_kernel = keras_layer.kernel.numpy()
    raw_kernel = getattr(raw_tf_impl.build_model(seed=0), name).numpy()
    assert keras_kernel.shape == raw_kernel.shape
    limit = math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(keras_kernel).max() <= limit
    assert raw_kernel.std() == pytest.approx(
        keras_kernel.std(), rel=5 * math.sqrt(0.8 / raw_kernel.size)
    )


def test_biases_start_at_zero():
    model = raw_tf_impl.build_model(seed=3)
    assert not model.conv_bias.numpy().any() and not model.dense_bias.numpy().any()


def test_same_seed_same_weights_other_seed_other_weights():
    first, again, other = (raw_tf_impl.build_model(seed) for seed in (7, 7, 8))
    for a, b, c in zip(
        first.trainable_variables,
        again.trainable_variables,
        other.trainable_variables,
        strict=True,
    ):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        if a.name.startswith(("conv_kernel", "dense_kernel")):
            assert not np.array_equal(a.numpy(), c.numpy())


def test_parameter_count_is_the_lecture_models():
    """conv 3*3*1*32 + 32 = 320, dense 5408*10 + 10 = 54,090: 54,410 in both."""
    raw_count = sum(
        int(np.prod(v.shape)) for v in raw_tf_impl.build_model().trainable_variables
    )
    assert raw_count == keras_impl.build_model().count_params() == 54_410
