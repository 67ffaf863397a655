"""Exercise: inverted dropout, as Keras' Dropout applies it (the reference solution)."""

import tensorflow as tf


def dropout(x, rate, training, seed):
    #: x with dropout applied, as keras.layers.Dropout(rate) does. In training
    #: (training is True), zero each unit with probability `rate` and divide the units
    #: that survive by the keep probability 1 - rate, so that the expected activation
    #: stays the same. In inference (training is False), return x unchanged. Draw the
    #: mask without state: tf.random.stateless_uniform(shape, seed) gives the same
    #: numbers for the same seed (a tensor of 2 integers).
    # BEGIN SOLUTION
    if not training:
        return x  # inference: every unit, unscaled
    keep = tf.random.stateless_uniform(tf.shape(x), seed=seed) >= rate  # x's shape
    return tf.where(keep, x / (1 - rate), tf.zeros_like(x))
    # END SOLUTION
