"""Batch norm: the student's BatchNorm beside keras.layers.BatchNormalization() built on the
same input shape (8, 10, 10, 32), both given the same gamma, beta and moving statistics
(none of them trivial). Three training calls on different batches, each followed by its
output, moving_mean and moving_variance (in the order Keras produces them), then an
inference call: its output, and the moving statistics, which it must leave alone.

Tolerance: each channel's mean and variance reduce n = 8 * 10 * 10 = 800 values, which
another graph may add in another order: reduction(800), sqrt(800) * 6e-8 = 1.7e-6 of the
largest value, for the outputs and the moving statistics alike (the normalisation after
the statistics is a few element-wise ops, one rounding each). The batch is small on
purpose: the unbiased variance differs from Keras' by n / (n - 1), 1.3e-3, far above it.

The mistaken twins run the same calls in NumPy (float64), each with one mistake.
"""

import keras
import numpy as np
import tensorflow as tf

from compare.exercises.grading import Comparison, Exercise, defined
from compare.exercises.verdict import as_array, reduction
from compare.language import N_, _

EXERCISE = Exercise(
    name="batch_norm",
    title=N_("Batch normalisation, as Keras' BatchNormalization"),
    statement=N_(
        "Write BatchNorm.__call__(x, training): normalise each channel with the batch's "
        "statistics in training, updating their moving averages, and with the moving "
        "averages in inference."
    ),
    concept=N_(
        "Normalisation: each channel is centred and scaled to a steady range, which "
        "lets the network train faster; in inference the model cannot depend on the "
        "batch, so it uses averages gathered in training."
    ),
    lesson="raw_tf_impl/cnn_bn_dropout.py: BatchNorm",
    wanted=("BatchNorm",),
    hint=N_(
        "per channel: in training, the batch's mean and biased variance, the moving "
        "statistics updated first; in inference, the moving statistics; then "
        "normalise, scale by gamma and shift by beta"
    ),
)

AXES = N_(
    "one mean and one variance per channel: reduce over the batch, height and width "
    "(axes 0, 1 and 2), leaving shape (channels,)"
)
ERRORS = (
    (
        "are incompatible",
        AXES,
    ),  # a (10, 10, 32) or (1, 1, 1, 32) mean assigned to (32,)
    ("Incompatible shapes", AXES),  # a (B,) mean subtracted from (B, H, W, C)
)

SHAPE = (8, 10, 10, 32)  # B, height, width, channels: 800 values per channel
CHANNELS = SHAPE[-1]
TRAINING_CALLS = 3
MOMENTUM, EPSILON = 0.99, 1e-3  # Keras' defaults
TOLERANCE = reduction(SHAPE[0] * SHAPE[1] * SHAPE[2])


def state():
    """gamma, beta, moving_mean and moving_variance: none of them the defaults."""
    rng = np.random.default_rng(1)
    return {
        name: rng.uniform(low, high, CHANNELS).astype(np.float32)
        for name, low, high in (
            ("gamma", 0.5, 1.5),
            ("beta", -0.5, 0.5),
            ("moving_mean", -0.2, 0.2),
            ("moving_variance", 0.5, 2.0),
        )
    }


def batches():
    """3 training batches and an inference batch, each channel with its own mean and
    spread, different in each batch."""
    rng = np.random.default_rng(2)
    return [
        rng.normal(
            rng.uniform(-1, 1, CHANNELS), rng.uniform(0.5, 2, CHANNELS), SHAPE
        ).astype(np.float32)
        for _call in range(TRAINING_CALLS + 1)
    ]


def labels():
    """What is compared after each call, in order."""
    names = []
    for call in range(1, TRAINING_CALLS + 1):
        words = {"call": call}
        names += [
            _("training call {call}: the output").format(**words),
            _("training call {call}: moving_mean after it").format(**words),
            _("training call {call}: moving_variance after it").format(**words),
        ]
    return names + [
        _("the inference call: the output"),
        _("the inference call: moving_mean after it"),
        _("the inference call: moving_variance after it"),
    ]


def run(layer, moving, inputs):
    """The outputs and moving statistics after each call of `layer(x, training)`;
    `moving()` reads the moving statistics."""
    values = []
    for call, x in enumerate(inputs):
        output = layer(tf.constant(x), call < TRAINING_CALLS)
        values += [output, *moving()]
    return values


def keras_values(start, inputs):
    layer = keras.layers.BatchNormalization()
    layer.build(SHAPE)
    for name, value in start.items():
        getattr(layer, name).assign(value)

    def call(x, training):
        return layer(x, training=training)

    def moving():
        return [layer.moving_mean.numpy(), layer.moving_variance.numpy()]

    return run(call, moving, inputs)


def twin(
    start,
    inputs,
    ddof=0,
    moving_ddof=None,
    swapped=False,
    updated=True,
    epsilon_outside=False,
    epsilon_left_out=False,
    affine=True,
    moving_in_training=None,  # "after" or "before" the update
    batch_in_inference=False,
    updated_in_inference=False,
):
    """The calls of a BatchNorm with one mistake, in NumPy (float64)."""
    mean_moving = start["moving_mean"].astype(np.float64)
    variance_moving = start["moving_variance"].astype(np.float64)
    values = []
    for call, x in enumerate(inputs):
        x = x.astype(np.float64)
        training = call < TRAINING_CALLS
        mean, variance = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2), ddof=ddof)
        before = mean_moving, variance_moving
        if training or updated_in_inference:
            keep = 1 - MOMENTUM if swapped else MOMENTUM
            moving_variance = x.var(
                axis=(0, 1, 2), ddof=ddof if moving_ddof is None else moving_ddof
            )
            if updated:
                mean_moving = mean_moving * keep + mean * (1 - keep)
                variance_moving = variance_moving * keep + moving_variance * (1 - keep)
        if training and moving_in_training:
            mean, variance = (
                (mean_moving, variance_moving)
                if moving_in_training == "after"
                else before
            )
        elif not training and not batch_in_inference:
            mean, variance = mean_moving, variance_moving
        if epsilon_left_out:
            normalised = (x - mean) / np.sqrt(variance)
        elif epsilon_outside:
            normalised = (x - mean) / (np.sqrt(variance) + EPSILON)
        else:
            normalised = (x - mean) / np.sqrt(variance + EPSILON)
        output = normalised * start["gamma"] + start["beta"] if affine else normalised
        values += [output, mean_moving, variance_moving]
    return values


def only(values, keep):
    """`values` with those not in `keep` (indices modulo 3: 0 the output, 1 the moving
    mean, 2 the moving variance) left uncompared; the inference output too, unless kept
    as "inference"."""
    last = len(values) - 3
    return [
        value if index % 3 in keep and (index != last or "inference" in keep) else None
        for index, value in enumerate(values)
    ]


def compare(student):
    module = defined(student, "BatchNorm")(CHANNELS)
    start, inputs = state(), batches()
    for name, value in start.items():
        defined(module, name).assign(value)

    def moving():
        return [
            as_array(defined(module, "moving_mean"), "moving_mean"),
            as_array(defined(module, "moving_variance"), "moving_variance"),
        ]

    yours = run(module, moving, inputs)
    keras = keras_values(start, inputs)
    pairs = [
        (what, mine, theirs, TOLERANCE)
        for what, mine, theirs in zip(labels(), yours, keras, strict=True)
    ]

    def mistakes():
        def mistaken(**mistake):
            return twin(start, inputs, **mistake)

        unbiased = N_(
            "Keras' variance is the biased one: the mean of the squared deviations, "
            "divided by n, not n - 1"
        )
        momentum = N_(
            "momentum is the share of the old moving statistic that stays; the "
            "batch's statistic brings the rest, 1 - momentum"
        )
        never = N_(
            "in training, update moving_mean and moving_variance with .assign: "
            "inference will need them"
        )
        epsilon = N_(
            "epsilon goes inside the square root, added to the variance: "
            "sqrt(variance + epsilon), as Keras computes it"
        )
        batch = N_(
            "in training, normalise with the batch's own mean and variance; the moving "
            "averages are for inference"
        )
        return [
            (unbiased, mistaken(ddof=1)),
            (unbiased, mistaken(moving_ddof=1)),
            (momentum, only(mistaken(swapped=True), {0, 1})),
            (momentum, only(mistaken(swapped=True), {0, 2})),
            (never, only(mistaken(updated=False), {0, 1})),
            (never, only(mistaken(updated=False), {0, 2})),
            (epsilon, mistaken(epsilon_outside=True)),
            (epsilon, mistaken(epsilon_left_out=True)),
            (batch, mistaken(moving_in_training="after")),
            (batch, mistaken(moving_in_training="before")),
            (
                N_(
                    "in inference (training=False), normalise with the moving "
                    "statistics, not with the batch's"
                ),
                mistaken(batch_in_inference=True),
            ),
            (
                N_(
                    "training=False must change what the layer does: in inference, use "
                    "the moving statistics and leave them unchanged"
                ),
                mistaken(batch_in_inference=True, updated_in_inference=True),
            ),
            (
                N_(
                    "after normalising, scale by gamma and shift by beta: the layer's "
                    "learned parameters"
                ),
                mistaken(affine=False),
            ),
        ]

    return Comparison(pairs, mistakes)
