"""SGD with momentum: the student's SGD and keras.optimizers.SGD(learning_rate, momentum)
take the same steps from the same values, on the same gradients; Keras' optimizer is the
answer key (keras/src/optimizers/sgd.py).

Compared (trajectories.py): each variable (a 3x4 kernel and a bias of 4) after each of 6
steps, for two settings of learning rate and momentum, in the order the steps happen;
first with apply called as it is, then inside a tf.function, as the lesson's train_step
calls its optimizer (a velocity kept in a Python list is read once there, when traced).

Tolerance: TRAJECTORY (1e-6 of Keras' largest value). The step is the same two ops as
Keras' (a multiply-subtract, then an add), one rounding each; a velocity is a sum of at
most 6 decayed gradients, so a student who writes it in another order stays within a few
roundings (6e-8 each) of Keras' after 6 steps.
"""

import keras
import numpy as np

from compare.exercises.checks import trajectories
from compare.exercises.checks.trajectories import (
    compared,
    flat,
    gradient_sequence,
    initial_values,
)
from compare.exercises.grading import Comparison, Exercise, defined
from compare.language import N_, _, exact

EXERCISE = Exercise(
    name="sgd_momentum",
    title=N_("Gradient descent with momentum, as Keras' SGD"),
    statement=N_(
        "Write SGD.apply(gradients, variables): one step of "
        "keras.optimizers.SGD(learning_rate, momentum), each variable moved by its "
        "velocity."
    ),
    concept=N_(
        "Momentum: each step keeps a share (momentum) of the step before and adds the "
        "new gradient's, so steps grow along a steady slope and zig-zags cancel."
    ),
    lesson="raw_tf_impl/cnn.py: Adam, Adam.apply",
    wanted=("SGD",),
    hint=N_(
        "compare your step with Keras' rule: velocity = momentum * velocity - "
        "learning_rate * gradient, then the variable moves by the new velocity"
    ),
)

SETTINGS = ((0.01, 0.9), (0.1, 0.5))  # (learning rate, momentum)
ERRORS = trajectories.ERRORS  # a .numpy() or a new tf.Variable inside the tf.function


def twin(gradients_sequence, learning_rate, momentum, mistake=None):
    """The variables after each step of SGD with `mistake` (None: Keras' rule), in
    float64 NumPy."""
    variables = [value.astype(np.float64) for value in initial_values()]
    velocities = [np.zeros_like(value) for value in variables]
    trajectory = []
    for gradients in gradients_sequence:
        for index, gradient in enumerate(gradients):
            g, v = np.asarray(gradient, np.float64), velocities[index]
            if mistake == "plain":
                variables[index] = variables[index] - learning_rate * g
                continue
            if mistake == "late":  # the variable moves first, by the old velocity
                variables[index] = variables[index] + v
            share = {"average": 1 - momentum, "forever": 1.0}.get(mistake, 1.0)
            decay = 1.0 if mistake == "forever" else momentum
            sign = -1.0 if mistake == "uphill" else 1.0
            v = decay * v - sign * share * learning_rate * g
            velocities[index] = v
            if mistake == "nesterov":
                variables[index] = variables[index] + momentum * v - learning_rate * g
            elif mistake != "late":
                variables[index] = variables[index] + v
        trajectory.append(list(variables))
    return trajectory


def setting_label(learning_rate, momentum):
    return _("learning rate {lr}, momentum {momentum}").format(
        lr=exact(learning_rate), momentum=exact(momentum)
    )


def compare(student):
    optimizer_class = defined(student, "SGD")
    sequences = [gradient_sequence(seed) for seed in range(1, len(SETTINGS) + 1)]
    runs = [
        (
            {"learning_rate": lr, "momentum": momentum},
            sequence,
            setting_label(lr, momentum),
        )
        for (lr, momentum), sequence in zip(SETTINGS, sequences, strict=True)
    ]
    pairs = compared(optimizer_class, keras.optimizers.SGD, runs)

    def mistakes():
        def twice(mistake):  # the same mistake called as it is and in a tf.function
            values = flat(
                twin(sequence, lr, momentum, mistake)
                for (lr, momentum), sequence in zip(SETTINGS, sequences, strict=True)
            )
            return values + values

        half = len(pairs) // 2
        return [
            (
                N_(
                    "Keras' velocity takes the whole learning_rate * gradient, with no "
                    "(1 - momentum) factor: it is not a moving average"
                ),
                twice("average"),
            ),
            (
                N_(
                    "the velocity keeps momentum times its last value: assign the new "
                    "velocity to its tf.Variable, or momentum plays no part"
                ),
                twice("plain"),
            ),
            (
                N_(
                    "update the velocity first, then move the variable by the new "
                    "velocity: moved by the old one, every step lags one behind"
                ),
                twice("late"),
            ),
            (
                N_(
                    "that is Nesterov's momentum (SGD(nesterov=True)); Keras' default "
                    "moves the variable by the new velocity alone"
                ),
                twice("nesterov"),
            ),
            (
                N_(
                    "the step goes downhill, against the gradient: the velocity "
                    "subtracts learning_rate * gradient and the variable adds the "
                    "velocity"
                ),
                twice("uphill"),
            ),
            (
                N_(
                    "the old velocity is multiplied by momentum: without it, the "
                    "velocity adds up every gradient and never forgets"
                ),
                twice("forever"),
            ),
            (
                N_(
                    "right when called directly, but inside a tf.function (as the "
                    "lesson's train_step runs it) the velocities never change: Python "
                    "values are read once, when traced; keep them in their "
                    "tf.Variables "
                    "and change them with assign"
                ),
                [None] * half + twice("plain")[half:],
            ),
        ]

    return Comparison(pairs, mistakes)
