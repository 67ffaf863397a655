"""An optimizer's steps, the student's against Keras', for the exercises sgd_momentum
and adam: the same variables (a 3x4 kernel and a bias of 4) from the same values, on
the same gradients, compared after each of 6 steps; first with apply called as it is,
then inside a tf.function, as the lesson's train_step calls its optimizer (a Python
value is read once there, when traced).

Tolerance: TRAJECTORY (1e-6 of Keras' largest value); each exercise says why it holds.
"""

import keras
import tensorflow as tf

from compare.exercises.verdict import TRAJECTORY
from compare.language import N_, _

STEPS = 6
NAMES = (N_("the kernel"), N_("the bias"))


class GraphModeError(Exception):
    """The student's apply raised inside a tf.function: the error's type and message,
    said to come from there, raised with its traceback so that the grader finds the
    student's line in it."""

    @classmethod
    def of(cls, error):
        # {where} stays empty: the grader puts the student's line in front.
        message = _("{where}{error} (inside a tf.function)").format(
            where="", error=f"{type(error).__name__}: {error}"
        )
        return cls(message).with_traceback(error.__traceback__)


ERRORS = (
    (
        GraphModeError,
        N_(
            "apply runs inside a tf.function, as the lesson's train_step calls it: use "
            "TensorFlow ops and the variables' assign methods, not .numpy() or new "
            "tf.Variables"
        ),
    ),
)


def initial_values(seed=0):
    """A kernel (3, 4) and a bias (4,), as NumPy float32 arrays."""
    generator = tf.random.Generator.from_seed(seed)
    kernel = generator.normal((3, 4), stddev=0.5)  # (3, 4)
    bias = generator.normal((4,), stddev=0.1)  # (4,)
    return [kernel.numpy(), bias.numpy()]


def gradient_sequence(seed=1, steps=STEPS, scale=1.0, positive=False):
    """`steps` lists of gradients, one per variable of initial_values()."""
    generator = tf.random.Generator.from_seed(seed)
    shapes = [value.shape for value in initial_values()]
    sequence = []
    for _step in range(steps):
        if positive:
            gradients = [generator.uniform(s, scale / 10, scale) for s in shapes]
        else:
            gradients = [generator.normal(s, stddev=scale) for s in shapes]
        sequence.append(gradients)
    return sequence


def keras_trajectory(optimizer, gradients_sequence):
    """Keras' optimizer on keras.Variables from initial_values(): the values after each
    step."""
    variables = [keras.Variable(value) for value in initial_values()]
    trajectory = []
    for gradients in gradients_sequence:
        optimizer.apply(gradients, variables)
        trajectory.append([variable.numpy() for variable in variables])
    return trajectory


def student_trajectory(optimizer_class, settings, gradients_sequence, in_graph):
    """The student's optimizer, built as `optimizer_class(variables, **settings)`, on
    tf.Variables from initial_values(): the values after each step; `in_graph`: apply
    runs inside a tf.function, as the lesson's train_step calls it."""
    variables = [tf.Variable(value) for value in initial_values()]
    optimizer = optimizer_class(variables, **settings)
    # No AutoGraph, which apply's straight code does not need: an error then raises
    # from the student's own line, not as AutoGraph's "in user code:" message.
    apply = (
        tf.function(optimizer.apply, autograph=False) if in_graph else optimizer.apply
    )
    trajectory = []
    for gradients in gradients_sequence:
        if in_graph:
            try:
                apply(gradients, variables)
            except Exception as error:  # said to come from the tf.function
                raise GraphModeError.of(error) from None
        else:
            apply(gradients, variables)
        trajectory.append([variable.numpy() for variable in variables])
    return trajectory


def labelled_pairs(labels, yours, keras_values, tolerance):
    """(what, yours, keras, tolerance) for each step and variable, in order."""
    return [
        (label, mine, theirs, tolerance)
        for step, mine_step, theirs_step in zip(
            labels, yours, keras_values, strict=True
        )
        for label, mine, theirs in zip(step, mine_step, theirs_step, strict=True)
    ]


def step_labels(setting, steps=STEPS):
    """For each step, a label per variable: "{setting}, step 2: the kernel after the
    update"."""
    return [
        [
            _("{setting}, step {step}: {variable} after the update").format(
                setting=setting, step=step, variable=_(name)
            )
            for name in NAMES
        ]
        for step in range(1, steps + 1)
    ]


def in_graph_labels(labels):
    return [
        [_("in a tf.function, {what}").format(what=label) for label in step]
        for step in labels
    ]


def flat(trajectories):
    """Values per pair, in the pairs' order, from [setting][step][variable]."""
    return [
        value for trajectory in trajectories for step in trajectory for value in step
    ]


def compared(optimizer_class, keras_class, runs):
    """The pairs of the student's `optimizer_class` against `keras_class`, both built
    with the same settings, for each run: (settings, gradients sequence, the settings'
    label). First every run with apply called as it is, then every run inside a
    tf.function; in each, the variables after each step."""
    keras_values, labels = [], []
    for settings, sequence, label in runs:
        keras_values.append(keras_trajectory(keras_class(**settings), sequence))
        labels.append(step_labels(label))
    pairs = []
    for in_graph in (False, True):
        for (settings, sequence, _label), theirs, names in zip(
            runs, keras_values, labels, strict=True
        ):
            yours = student_trajectory(optimizer_class, settings, sequence, in_graph)
            names = in_graph_labels(names) if in_graph else names
            pairs += labelled_pairs(names, yours, theirs, TRAJECTORY)
    return pairs
