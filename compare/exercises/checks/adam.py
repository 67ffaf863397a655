"""Adam: the student's Adam and keras.optimizers.Adam take the same steps from the same
values, on the same gradients; Keras' optimizer is the answer key
(keras/src/optimizers/adam.py).

Compared (trajectories.py): each variable (a 3x4 kernel and a bias of 4) after each of 6
steps, with Keras' defaults (the lesson's) and with other hyper-parameters (learning
rate 0.05, beta_1 0.8, beta_2 0.99, epsilon 1e-3, as tests/test_parity.py), in the order
the steps happen; first with apply called as it is, then inside a tf.function, as the
lesson's train_step calls it (a Python step counter is read once there, when traced).
The large epsilon shows where it goes: inside or outside the square root, and against
the bias-corrected v of the paper, where Keras' folded step size effectively scales it
by 1 / sqrt(1 - beta_2^t). The second setting's gradients are positive (Adam treats a
gradient and its opposite alike), so that a v built from the raw gradient stays positive
and its mistake can be recognised: with mixed signs it ends in NaN.

Tolerance: TRAJECTORY (1e-6 of Keras' largest value). The step is Keras' few ops, one
rounding each, and moves a weight by at most about the learning rate: 6 steps stay
within a few roundings (6e-8 each) of Keras', as tests/test_parity.py's 20 steps do.
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
from compare.language import N_, _, exact, scientific

EXERCISE = Exercise(
    name="adam",
    title=N_("Adam's update, as Keras computes it"),
    statement=N_(
        "Write Adam.apply(gradients, variables): one step of keras.optimizers.Adam, the "
        "optimizer the lesson compiles with: the moving averages m and v of each "
        "gradient and of its square, then the bias-corrected step."
    ),
    concept=N_(
        "Adam: each weight moves by its gradient's running average over the square "
        "root of its squared gradient's running average, about the learning rate "
        "whatever the gradient's scale; the bias correction makes up for m and v "
        "starting at zero."
    ),
    lesson="raw_tf_impl/cnn.py: Adam",
    wanted=("Adam",),
    hint=N_(
        "compare your order with Keras': m and v first, then each variable moves "
        "with the new ones by the bias-corrected step size, then iterations counts "
        "the step"
    ),
)

ERRORS = (
    *trajectories.ERRORS,  # a .numpy() or a new tf.Variable inside the tf.function
    (
        "EagerTensor of dtype int64",
        N_(
            "iterations counts in int64: cast the step number to float32 (tf.cast) "
            "before raising beta_1 and beta_2 to it"
        ),
    ),
)

DEFAULTS = {"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
OTHERS = {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-3}
SETTINGS = (DEFAULTS, OTHERS)


def gradients_for(index):
    """Setting 0: gradients of both signs; setting 1: positive ones (see above)."""
    return gradient_sequence(seed=index + 1, scale=0.1, positive=index == 1)


def setting_label(settings):
    return _(
        "learning rate {lr}, beta_1 {beta_1}, beta_2 {beta_2}, epsilon {epsilon}"
    ).format(
        lr=exact(settings["learning_rate"]),
        beta_1=exact(settings["beta_1"]),
        beta_2=exact(settings["beta_2"]),
        epsilon=scientific(settings["epsilon"], digits=1),
    )


def twin(sequence, learning_rate, beta_1, beta_2, epsilon, mistake=None):
    """The variables after each step of Adam with `mistake` (None: Keras' formula), in
    float64 NumPy."""
    variables = [value.astype(np.float64) for value in initial_values()]
    momentums = [np.zeros_like(value) for value in variables]
    velocities = [np.zeros_like(value) for value in variables]
    beta_m, beta_v = (beta_2, beta_1) if mistake == "swapped" else (beta_1, beta_2)
    swap = mistake == "swapped_correction"
    top, bottom = (beta_1, beta_2) if swap else (beta_2, beta_1)
    trajectory = []
    for number, gradients in enumerate(sequence, start=1):
        t = 1 if mistake == "frozen" else number  # the step the correction sees
        alpha = learning_rate * np.sqrt(1 - top**t) / (1 - bottom**t)
        if mistake == "uncorrected":
            alpha = learning_rate
        for index, gradient in enumerate(gradients):
            g = np.asarray(gradient, np.float64)
            m, v = momentums[index], velocities[index]
            if mistake == "late":  # the variable moves first, with the old m and v
                variables[index] = variables[index] - alpha * m / (np.sqrt(v) + epsilon)
            m = beta_m * m + g if mistake == "sum" else m + (g - m) * (1 - beta_m)
            v = v + ((g if mistake == "unsquared" else g * g) - v) * (1 - beta_v)
            momentums[index], velocities[index] = m, v
            if mistake == "paper":
                m_hat, v_hat = m / (1 - beta_1**t), v / (1 - beta_2**t)
                step = learning_rate * m_hat / (np.sqrt(v_hat) + epsilon)
            elif mistake == "inside":
                step = alpha * m / np.sqrt(v + epsilon)
            elif mistake == "gradient":
                step = alpha * g / (np.sqrt(v) + epsilon)
            elif mistake == "late":
                step = 0.0  # already moved
            else:
                step = alpha * m / (np.sqrt(v) + epsilon)
            variables[index] = variables[index] - step
        trajectory.append(list(variables))
    return trajectory


EVERY_SETTING = range(len(SETTINGS))


def compare(student):
    optimizer_class = defined(student, "Adam")
    sequences = [gradients_for(index) for index in range(len(SETTINGS))]
    runs = [
        (settings, sequence, setting_label(settings))
        for settings, sequence in zip(SETTINGS, sequences, strict=True)
    ]
    pairs = compared(optimizer_class, keras.optimizers.Adam, runs)
    per_setting = len(pairs) // (2 * len(SETTINGS))

    def mistakes():
        def values(mistake, swap=False, settings=EVERY_SETTING):
            """The twin's values for one run (called as it is, or in a tf.function),
            None for the settings left out; `swap`: beta_1 and beta_2 swapped."""
            found = []
            for index, (hyper, sequence) in enumerate(
                zip(SETTINGS, sequences, strict=True)
            ):
                if index not in settings:
                    found += [None] * per_setting
                    continue
                if swap:
                    hyper = {
                        **hyper,
                        "beta_1": hyper["beta_2"],
                        "beta_2": hyper["beta_1"],
                    }
                found += flat([twin(sequence, **hyper, mistake=mistake)])
            return found

        def twice(mistake, **options):  # called as it is and in a tf.function
            once = values(mistake, **options)
            return once + once

        swapped = N_(
            "beta_1 goes with m, the gradient's average, and with 1 - beta_1^t; "
            "beta_2 with v, the squared gradient's, and with sqrt(1 - beta_2^t)"
        )
        return [
            (
                N_(
                    "Keras adds epsilon outside the square root: sqrt(v) + epsilon, "
                    "not sqrt(v + epsilon)"
                ),
                twice("inside"),
            ),
            (
                N_(
                    "m and v start at zero, so early on they fall short of the "
                    "averages: the bias correction makes up for it, and Keras folds "
                    "it into the step size alpha"
                ),
                twice("uncorrected"),
            ),
            (
                N_(
                    "that is the paper's bias correction, of m and v; Keras folds "
                    "it into the step size alpha instead and adds epsilon to the "
                    "uncorrected sqrt(v): a large epsilon shows the difference"
                ),
                twice("paper"),
            ),
            (
                N_(
                    "the step number t is 1 at the first update and must grow by "
                    "one at every call: the bias correction depends on it"
                ),
                twice("frozen"),
            ),
            (swapped, twice("swapped")),
            (swapped, twice("swapped_correction")),
            (swapped, twice(None, swap=True)),
            (
                N_(
                    "v is the average of the squared gradient (tf.square), not of the "
                    "gradient: with the raw gradient, v goes negative and sqrt(v) is NaN"
                ),
                twice("unsquared", settings=(1,)),
            ),
            (
                N_(
                    "the variable moves by the average m, not by this step's gradient "
                    "alone"
                ),
                twice("gradient"),
            ),
            (
                N_(
                    "update m and v first, then move the variable with the new ones: "
                    "with the old ones every step lags one behind"
                ),
                twice("late"),
            ),
            (
                N_(
                    "m is a moving average: it moves towards the gradient by (1 - "
                    "beta_1) of the gap, it does not add the whole gradient"
                ),
                twice("sum"),
            ),
            (
                N_(
                    "right when called directly, but inside a tf.function (as the "
                    "lesson's train_step runs it) the step number stays at 1: a Python "
                    "counter is read once, when traced; compute t from self.iterations"
                ),
                [None] * (len(pairs) // 2) + values("frozen"),
            ),
        ]

    return Comparison(pairs, mistakes)
