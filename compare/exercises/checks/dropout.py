"""Dropout: the student's dropout(x, rate, training, seed) beside keras.layers.Dropout on
the same 200,000 positive values, at rates 0.2 and 0.5 (at 0.5 keeping and dropping are
equally likely, so a rate taken for the keep probability shows only at 0.2).

- training=False: Keras returns x itself, so the output must equal x exactly (tolerance 0).
- training=True: Keras draws its mask from its own generator, so masks are compared by
  their statistics, measured on each output the same way. The fraction of units zeroed
  is a binomial proportion: the student's and Keras' differ by chance with a standard
  deviation sqrt(2 * rate * (1 - rate) / n), 0.0013 at rate 0.2 for n = 200,000; 5 of
  them (a false alarm once in 1.7 million) is the tolerance. The survivors' scale, output
  / x where the output is not 0 (x is never 0), is one constant for every unit: one
  rounding of x / (1 - rate) each way, within PER_OP.
- training=True twice with the same seed: the same mask (tolerance 0), as the lesson's
  model needs (its seed is a variable it bumps once per step).

The mistaken twins reproduce each mistake's scale and expected fraction; a fraction
drawn by the student counts as the twin's when it lies within 5 standard deviations of
the twin's expectation.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from compare.exercises.grading import Comparison, Exercise, defined
from compare.exercises.verdict import PER_OP, Broken, as_array
from compare.language import N_, _, number

EXERCISE = Exercise(
    name="dropout",
    title=N_("Dropout, as Keras' Dropout layer applies it"),
    statement=N_(
        "Write dropout(x, rate, training, seed): in training, zero each unit with "
        "probability rate and scale the others up; in inference, leave x as it is."
    ),
    concept=N_(
        "Regularisation: dropping random units in training keeps the network from "
        "relying on any one of them; in inference every unit counts."
    ),
    lesson="raw_tf_impl/cnn_bn_dropout.py: dropout, CNNBatchNormDropout.__call__",
    wanted=("dropout",),
    hint=N_(
        "in training, zero each unit with probability rate and divide the others by "
        "1 - rate; in inference, return x as it is"
    ),
)

STATELESS = N_(
    "the same seed must give the same mask: draw it with "
    "tf.random.stateless_uniform(shape, seed), not from a generator that keeps state"
)
ERRORS = (
    ("Random ops require a seed", STATELESS),  # tf.random.uniform under determinism
    (
        "seed must have shape [2]",
        N_(
            "a stateless random op takes the seed as a tensor of 2 integers: pass the "
            "`seed` argument as it is"
        ),
    ),
)

SHAPE = (500, 400)  # 200,000 units
RATES = (0.2, 0.5)
SIGMAS = 5  # chance exceeds 5 standard deviations once in 1.7 million


def units():
    """The input: positive values, so that a zero in the output is a dropped unit."""
    rng = np.random.default_rng(0)
    return tf.constant(rng.uniform(0.5, 1.5, size=SHAPE).astype(np.float32))


def checked(output, x, what):
    """The output as an array shaped like x, or one line saying it is not."""
    output = as_array(output, what)
    if output.shape != tuple(x.shape):
        raise Broken(
            _("{what} has shape {yours}; Keras' has shape {keras}").format(
                what=what, yours=tuple(output.shape), keras=tuple(x.shape)
            )
        )
    return output


def zeroed(output):
    """The fraction of units the output zeroes."""
    return float(np.mean(output == 0))


def scale(output, x):
    """The smallest and largest output / x over the units that survive."""
    kept = output != 0
    if not kept.any():
        return np.zeros(2)
    ratio = output[kept] / np.asarray(x, np.float64)[kept]
    return np.array([ratio.min(), ratio.max()])


def by_chance(drawn, expected):
    """The student's drawn fraction where chance explains its distance from a twin's
    `expected` fraction, else `expected` itself (which a draw does not hit)."""
    spread = math.sqrt(expected * (1 - expected) / math.prod(SHAPE))
    return drawn if abs(drawn - expected) <= SIGMAS * spread else expected


def compare(student):
    dropout = defined(student, "dropout")
    x = units()
    pairs, drawn = [], []
    for index, rate in enumerate(RATES):
        seed = tf.constant([7, index], tf.int64)
        layer = keras.layers.Dropout(rate, seed=index)
        words = {"rate": number(rate, 1)}

        what = _("rate {rate}, training=False: the output").format(**words)
        inference = checked(dropout(x, rate, False, seed), x, what)
        pairs.append((what, inference, layer(x, training=False), 0.0))

        what = _("rate {rate}, training=True: the output").format(**words)
        training = checked(dropout(x, rate, True, seed), x, what)
        keras_training = as_array(layer(x, training=True), what)
        spread = math.sqrt(2 * rate * (1 - rate) / math.prod(SHAPE))
        pairs.append(
            (
                _(
                    "rate {rate}, training=True: the fraction of units zeroed (a "
                    "random count: {sigmas} standard deviations allowed)"
                ).format(sigmas=SIGMAS, **words),
                zeroed(training),
                zeroed(keras_training),
                SIGMAS * spread / zeroed(keras_training),
            )
        )
        pairs.append(
            (
                _(
                    "rate {rate}, training=True: the survivors' scale, output / x "
                    "(smallest and largest)"
                ).format(**words),
                scale(training, x),
                scale(keras_training, x),
                PER_OP,
            )
        )
        what = _("rate {rate}, training=True: a second call with the same seed").format(
            **words
        )
        again = checked(dropout(x, rate, True, seed), x, what)
        pairs.append((what, again, training, 0.0))
        drawn.append((rate, inference, zeroed(training)))

    def mistakes():
        def twin(inference, fraction, factor):
            """Per rate: the inference output, the expected fraction zeroed and the
            survivors' scale of a mistaken dropout (None: not compared)."""
            values = []
            for rate, yours, fraction_drawn in drawn:
                expected = fraction(rate)
                values += [
                    inference(rate, yours),
                    None if expected is None else by_chance(fraction_drawn, expected),
                    None if factor(rate) is None else np.full(2, factor(rate)),
                    None,
                ]
            return values

        def unchanged(rate, yours):
            return x

        def dropped(rate, yours):  # the student's own mask, scaled as in training
            return np.where(yours != 0, np.asarray(x, np.float64) / (1 - rate), 0.0)

        def keep(rate):
            return 1 - rate

        def inverted(rate):
            return 1 / (1 - rate)

        return [
            (
                N_(
                    "in inference (training=False) dropout does nothing: return x "
                    "unchanged, every unit kept and none scaled"
                ),
                twin(dropped, lambda rate: rate, inverted),
            ),
            (
                N_(
                    "`rate` is the probability of dropping a unit, not of keeping it: "
                    "a unit survives with probability 1 - rate"
                ),
                twin(unchanged, keep, lambda rate: None),
            ),
            (
                N_(
                    "divide the surviving units by the keep probability 1 - rate, so "
                    "that the expected activation stays the same (inverted dropout, as "
                    "Keras does it)"
                ),
                twin(unchanged, lambda rate: rate, lambda rate: 1.0),
            ),
            (
                N_(
                    "divide the survivors by 1 - rate, don't multiply: a unit kept "
                    "with probability 1 - rate must grow to keep its expected value"
                ),
                twin(unchanged, lambda rate: rate, keep),
            ),
            (
                N_(
                    "divide the survivors by the keep probability 1 - rate, not by rate"
                ),
                twin(unchanged, lambda rate: rate, lambda rate: 1 / rate),
            ),
            (
                STATELESS,
                twin(unchanged, lambda rate: rate, inverted),
            ),
        ]

    return Comparison(pairs, mistakes)
