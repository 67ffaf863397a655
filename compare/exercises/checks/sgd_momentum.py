"""SGD with momentum: the student's SGD and keras.optimizers.SGD(learning_rate, momentum)
take the same steps from the same values, on the same gradients; Keras' optimizer is the
answer key (keras/src/optimizers/sgd.py).

Compared: each variable (a 3x4 kernel and a bias of 4) after each of 6 steps, for two
settings of learning rate and momentum, in the order the steps happen; first with apply
called as it is, then inside a tf.function, as the lesson's train_step calls its
optimizer (a velocity kept in a Python list is read once there, when traced).

Tolerance: TRAJECTORY (1e-6 of Keras' largest value). The step is the same two ops as
Keras' (a multiply-subtract, then an add), one rounding each; a velocity is a sum of at
most 6 decayed gradients, so a student who writes it in another order stays within a few
roundings (6e-8 each) of Keras' after 6 steps.
"""

import re
import traceback

import keras
import numpy as np
import tensorflow as tf

from compare.exercises.grading import Comparison, Exercise, defined
from compare.exercises.verdict import TRAJECTORY
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
    lesson="raw_tf_impl/cnn.py: Adam (the same structure: a state per variable)",
    wanted=("SGD",),
    hint=N_(
        "compare your step with Keras' rule: velocity = momentum * velocity - "
        "learning_rate * gradient, then the variable moves by the new velocity"
    ),
)

SETTINGS = ((0.01, 0.9), (0.1, 0.5))  # (learning rate, momentum)
STEPS = 6
NAMES = (N_("the kernel"), N_("the bias"))


class GraphModeError(Exception):
    """The student's apply raised inside a tf.function: TensorFlow's long message cut
    to the student's line and the error itself."""


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


def student_trajectory(optimizer_class, settings, gradients_sequence, in_graph, file):
    """The student's optimizer, built as `optimizer_class(variables, **settings)`, on
    tf.Variables from initial_values(): the values after each step; `in_graph`: apply
    runs inside a tf.function, as the lesson's train_step calls it."""
    variables = [tf.Variable(value) for value in initial_values()]
    optimizer = optimizer_class(variables, **settings)
    # No AutoGraph: it would read apply's source from the disk, not the code graded.
    apply = (
        tf.function(optimizer.apply, autograph=False) if in_graph else optimizer.apply
    )
    trajectory = []
    for gradients in gradients_sequence:
        if in_graph:
            try:
                apply(gradients, variables)
            except Exception as error:  # TensorFlow's message runs to many lines
                raise graph_mode_error(error, file) from None
        else:
            apply(gradients, variables)
        trajectory.append([variable.numpy() for variable in variables])
    return trajectory


def graph_mode_error(error, file):
    """A GraphModeError saying the student's line and the error: the traceback's, or
    that of TensorFlow's message ("in user code: File ..., line N ... Error: ...")."""
    text = str(error).strip()
    found = [
        str(frame.lineno)
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename == file
    ] or re.findall(rf'File "{re.escape(file)}", line (\d+)', text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    last = lines[-1] if lines else type(error).__name__
    if not re.match(r"\w+(Error|Exception)\b", last):
        last = f"{type(error).__name__}: {last}"
    where = _("line {line}: ").format(line=found[-1]) if found else ""
    return GraphModeError(
        _("{where}{error} (inside a tf.function)").format(where=where, error=last)
    )


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
    file = getattr(student, "__file__", "<student>")
    sequences = [gradient_sequence(seed) for seed in range(1, len(SETTINGS) + 1)]
    keras_values, labels, yours = [], [], {False: [], True: []}
    for (lr, momentum), sequence in zip(SETTINGS, sequences, strict=True):
        optimizer = keras.optimizers.SGD(learning_rate=lr, momentum=momentum)
        keras_values.append(keras_trajectory(optimizer, sequence))
        labels.append(step_labels(setting_label(lr, momentum)))
    for in_graph in (False, True):
        for (lr, momentum), sequence in zip(SETTINGS, sequences, strict=True):
            settings = {"learning_rate": lr, "momentum": momentum}
            yours[in_graph].append(
                student_trajectory(optimizer_class, settings, sequence, in_graph, file)
            )
    pairs = []
    for in_graph in (False, True):
        for index, trajectory in enumerate(yours[in_graph]):
            names = in_graph_labels(labels[index]) if in_graph else labels[index]
            pairs += labelled_pairs(names, trajectory, keras_values[index], TRAJECTORY)

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
