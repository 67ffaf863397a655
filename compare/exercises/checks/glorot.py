"""Glorot uniform: the student's draw against a draw with Keras' own fans, from the same
generator state; Keras computes the fans (keras.src.initializers.random_initializers)."""

import math

import tensorflow as tf
from keras.src.initializers.random_initializers import compute_fans

from compare.exercises.grading import Comparison, Exercise, defined
from compare.exercises.verdict import PER_OP
from compare.language import N_, _

EXERCISE = Exercise(
    name="glorot",
    title=N_("Keras' Glorot uniform initialiser, by hand"),
    statement=N_(
        "Write glorot_uniform(rng, shape): the initial weights Keras gives a Dense or a "
        "Conv2D kernel of that shape, drawn from the generator rng."
    ),
    concept=N_(
        "Initialisation: weights start small and random, scaled by the layer's fans so "
        "that signals keep their size from layer to layer."
    ),
    lesson="raw_tf_impl/cnn.py: glorot_uniform, CNN.__init__",
    wanted=("glorot_uniform",),
    hint=N_(
        "compare your limit with sqrt(6 / (fan_in + fan_out)), the fans as Keras counts "
        "them, and draw once with rng.uniform"
    ),
)

SHAPES = (
    (3, 3, 1, 32),
    (5408, 10),
    (3, 3, 32, 64),
)  # the lecture's CNN, and a 2nd conv


def draw(seed, shape, limit, low=None):
    generator = tf.random.Generator.from_seed(seed)
    return generator.uniform(shape, minval=-limit if low is None else low, maxval=limit)


def limit(fan_in, fan_out, numerator=6.0):
    return math.sqrt(numerator / (fan_in + fan_out))


def compare(student):
    glorot_uniform = defined(student, "glorot_uniform")
    pairs = []
    for seed, shape in enumerate(SHAPES):
        yours = glorot_uniform(tf.random.Generator.from_seed(seed), shape)
        keras = draw(seed, shape, limit(*compute_fans(shape)))
        what = _("the kernel of shape {shape}").format(shape=shape)
        pairs.append((what, yours, keras, PER_OP))

    def mistakes():
        def twin(fans, numerator=6.0, low=None):
            return [
                draw(seed, shape, limit(*fans(shape), numerator), low)
                for seed, shape in enumerate(SHAPES)
            ]

        def generator_normal(seed, shape):
            stddev = limit(*compute_fans(shape), numerator=2.0)
            return tf.random.Generator.from_seed(seed).normal(shape, stddev=stddev)

        return [
            (
                N_(
                    "a convolution's fans count its 3x3 window as well as its "
                    "channels: an output sees the whole window of every channel in, "
                    "an input feeds the whole window of every channel out"
                ),
                twin(lambda shape: shape[-2:]),
            ),
            (
                N_(
                    "Glorot's limit counts both fans, in and out; counting fan_in "
                    "alone gives He's initialiser"
                ),
                twin(lambda shape: (compute_fans(shape)[0], 0)),
            ),
            (
                N_(
                    "sqrt(2 / (fan_in + fan_out)) is the standard deviation of "
                    "Glorot's normal; a uniform of the same spread reaches sqrt(3) "
                    "times as far"
                ),
                twin(compute_fans, numerator=2.0),
            ),
            (
                N_("the range is symmetric: from -limit to limit, not from 0"),
                twin(compute_fans, low=0.0),
            ),
            (
                N_("Keras' default draws from a uniform: rng.uniform, not rng.normal"),
                [generator_normal(seed, shape) for seed, shape in enumerate(SHAPES)],
            ),
        ]

    return Comparison(pairs, mistakes)
