"""Exercise: Keras' Glorot uniform initialiser, by hand (the reference solution)."""

import math


def glorot_uniform(rng, shape):
    #: The initial kernel of `shape`, drawn as Keras' default initialiser draws it:
    #: uniform in [-limit, limit] with limit = sqrt(6 / (fan_in + fan_out)). A dense
    #: kernel (inputs, units) has fan_in = inputs and fan_out = units. A convolution's
    #: kernel (height, width, channels in, channels out) sees a window of height x width
    #: pixels per channel. Draw with rng.uniform(shape, minval, maxval): rng is a
    #: tf.random.Generator.
    # BEGIN SOLUTION
    window = math.prod(shape[:-2])  # 3 * 3 for a convolution, 1 for a dense layer
    fan_in, fan_out = shape[-2] * window, shape[-1] * window
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(shape, minval=-limit, maxval=limit)
    # END SOLUTION
