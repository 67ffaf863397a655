"""The exercises in a notebook: `check(NAME)` grades what the notebook defines, in the
kernel, with a time limit; and the notebook's own texts (its title and how it works)."""

import contextlib
import signal
import sys
import types

from compare.exercises.catalog import check_module
from compare.exercises.grading import grade
from compare.exercises.runner import TIME_LIMIT
from compare.exercises.verdict import Verdict
from compare.language import N_, _
from compare.quiet import load_tensorflow_quietly

load_tensorflow_quietly()  # before a cell imports it: no C++ start-up lines in the notebook

TITLE = N_("Exercises: the lecture's CNN by hand, graded by Keras")
HOW = N_(
    "Each exercise leaves one piece of the lesson for you to write, where the cell "
    "says YOUR CODE HERE. Run that cell, then the check cell under it: it runs your "
    "code beside Keras from the same weights and batches, and says whether the numbers "
    "agree within float32's rounding, or where they first differ, by how much, with a "
    "hint. The exercises go from easy to hard; each says where the lesson shows the "
    "idea."
)
NEEDS = N_(
    "The checks need this project (keras-vs-tf) installed: run `pip install -e .` in "
    "its folder, then open this notebook there. The same exercises as files: `python "
    "-m compare exercise list`."
)


class OutOfTime(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds):
    """Stop the block after `seconds` (a SIGALRM: the kernel's main thread only)."""

    def stop(_signal, _frame):
        raise OutOfTime

    before = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)


def verdict_of(name, namespace, seconds=TIME_LIMIT):
    """The Verdict of exercise `name` on the definitions in `namespace` (a dict)."""
    check = check_module(name)
    try:
        with time_limit(seconds):
            return grade(check, types.SimpleNamespace(**namespace), "<notebook>")
    except OutOfTime:
        return Verdict(
            "timeout",
            _("stopped after {seconds} s: a loop that never ends?").format(
                seconds=seconds
            ),
        )


def check(name, seconds=TIME_LIMIT):
    """Grade exercise `name` on what the calling notebook defines, and print it."""
    namespace = sys._getframe(1).f_globals  # the notebook's variables
    verdict = verdict_of(name, namespace, seconds)
    print(verdict.text(_("Exercise {name}").format(name=name)))
