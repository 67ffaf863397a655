"""The exercises, from easy to hard: each a module of compare/exercises/checks/ and a
reference solution in exercises/."""

import importlib

from compare.errors import CompareError
from compare.language import _

ORDER = (
    "glorot",
    "cross_entropy",
    "forward",
    "keras_model",
    "dropout",
    "evaluate",
    "train_step",
    "sgd_momentum",
    "adam",
    "train_loop",
    "batch_norm",
)


def check_module(name):
    """The check module of exercise `name`, or one line naming the exercises."""
    if name not in ORDER:
        raise CompareError(
            _("no exercise {name}: the exercises are {names}").format(
                name=name, names=", ".join(ORDER)
            )
        )
    # Deferred: each check imports TensorFlow and Keras, which `list` does not need.
    return importlib.import_module(f"compare.exercises.checks.{name}")


def position(name):
    return ORDER.index(name) + 1
