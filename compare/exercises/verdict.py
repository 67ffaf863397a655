"""What the grader says about a student's code: right, or where it first differs from
Keras and by how much, against a float32 tolerance, with a hint keyed to the mistake.

Tolerances, as tests/test_parity.py justifies them (float32: machine epsilon 6e-8):
- PER_OP: the same few ops in the same order agree to about one rounding each: 1e-6 of
  the largest value compared.
- reduction(n): a sum of n terms, which two graphs may add in another order, differs by
  about sqrt(n) roundings: sqrt(n) * 6e-8 of the largest value.
- TRAJECTORY: several Adam steps from equal weights; a step moves a weight by at most the
  learning rate, and 1e-5 of relative difference in the gradients changes it by 1e-8:
  the weights stay within 1e-6 of Keras' after 20 steps.
- after_steps(k, learning_rate, n): a weight after k Adam steps on gradients that sum n
  terms each. Adam moves a weight by about the learning rate at most, whatever the
  gradient's scale, so gradients off by reduction(n) of themselves change a step by at
  most learning_rate * reduction(n): after k steps, k times that, relative to the
  weight's largest value, where that exceeds TRAJECTORY (for the biases, which start at
  zero and stay small beside that drift).
"""

import math
from dataclasses import dataclass

import numpy as np

from compare.language import N_, _, number, scientific

EPSILON = 6e-8  # float32's machine epsilon, rounded up
PER_OP = 1e-6
TRAJECTORY = 1e-6
NEAR_MISTAKE = 1e-4  # a grader's own mistaken twin reproduces the mistake to this


def reduction(terms):
    """The tolerance for a sum of `terms` numbers added in another order."""
    return max(PER_OP, math.sqrt(terms) * EPSILON)


def after_steps(steps, learning_rate, terms, keras):
    """The tolerance of a weight after `steps` Adam updates on gradients that sum
    `terms` numbers, relative to Keras' value `keras` of it: TRAJECTORY, or `steps`
    learning rates times the gradients' rounding, whichever is larger (the latter for
    the biases, which start at zero)."""
    scale = float(np.abs(keras).max())
    drift = steps * learning_rate * reduction(terms)
    return max(TRAJECTORY, drift / scale) if scale else TRAJECTORY


class Unwritten(Exception):
    """The student's part still raises NotImplementedError."""


class Broken(Exception):
    """The student's code cannot be compared: it raises, misses a name, returns the wrong
    shape. The message is the one line the student reads; `hint` (an English message)
    replaces the exercise's own hint where the check knows the mistake."""

    def __init__(self, message, hint=None):
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class Difference:
    """Where the student's numbers first leave Keras': `what` (translated), the largest
    difference and Keras' largest value there, and the tolerance relative to it."""

    what: str
    largest: float
    scale: float
    tolerance: float

    def line(self):
        relative = self.largest / self.scale if self.scale else math.inf
        return _(
            "{what}: off by up to {largest}, {relative} times Keras' largest value "
            "({scale}); float32's rounding explains at most {tolerance} times"
        ).format(
            what=self.what,
            largest=amount(self.largest),
            scale=amount(self.scale),
            relative=ratio(relative),
            tolerance=scientific(self.tolerance),
        )


@dataclass(frozen=True)
class Verdict:
    """The grader's answer, in the current language: `status` is right, wrong, unwritten,
    broken or timeout; `detail` the first difference or the error; `hint` what to look at."""

    status: str
    detail: str = ""
    hint: str = ""

    @property
    def passed(self):
        return self.status == "right"

    def text(self, heading):
        """The verdict as the student reads it: `heading` and the status, then the first
        difference (or the error) and the hint, each on its own line."""
        lines = [f"{heading}: {_(STATUS_WORDS[self.status])}"]
        if self.detail:
            label = _("first difference") if self.status == "wrong" else _("detail")
            lines.append(f"  {label}: {self.detail}")
        if self.hint:
            lines.append(f"  {_('hint')}: {self.hint}")
        return "\n".join(lines)


STATUS_WORDS = {
    "right": N_("right"),
    "wrong": N_("not yet right"),
    "unwritten": N_("not written yet"),
    "broken": N_("does not run"),
    "timeout": N_("too slow"),
}


def amount(value):
    """A value as the language writes it: 4 decimals from 0.001 to 10,000 (0.2812),
    else in scientific notation (3.1E-5)."""
    if math.isfinite(value) and 1e-3 <= abs(value) < 1e4:
        return number(value, 4)
    return scientific(value) if math.isfinite(value) else str(value)


def ratio(value):
    """A ratio as the language writes it: 2.00 or 0.14 from 0.01 up, else 5.8E-4."""
    if math.isfinite(value) and value >= 0.01:
        return number(value, 2)
    return scientific(value) if math.isfinite(value) else str(value)


def as_array(value, what):
    """`value` as a float64 NumPy array, or a Broken line saying what it is."""
    try:
        array = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
        return array.astype(np.float64)
    except (TypeError, ValueError) as error:
        raise Broken(
            _("{what} is not a number or a tensor: {error}").format(
                what=what, error=error
            )
        ) from None


def difference(what, yours, keras, tolerance):
    """The Difference between the student's `yours` and Keras' `keras`, or None where
    they agree within `tolerance` of Keras' largest value. A shape that differs is Broken:
    there is nothing to compare number for number."""
    yours, keras = as_array(yours, what), as_array(keras, what)
    if yours.shape != keras.shape:
        raise Broken(
            _("{what} has shape {yours}; Keras' has shape {keras}").format(
                what=what, yours=tuple(yours.shape), keras=tuple(keras.shape)
            )
        )
    scale = float(np.abs(keras).max()) if keras.size else 0.0
    if not np.all(np.isfinite(yours)):
        return Difference(what, math.inf, scale, tolerance)
    largest = float(np.abs(yours - keras).max()) if keras.size else 0.0
    if largest <= tolerance * max(scale, EPSILON):
        return None
    return Difference(what, largest, scale, tolerance)


def first_difference(pairs):
    """The first Difference among `pairs`: (what, yours, keras, tolerance), in order."""
    for what, yours, keras, tolerance in pairs:
        found = difference(what, yours, keras, tolerance)
        if found:
            return found
    return None


def agrees(yours, twin):
    """Whether the student's values match a mistaken twin's, pair by pair: `yours` and
    `twin` are lists of arrays in the same order (None in `twin`: not compared)."""
    try:
        return all(
            theirs is None or difference("", mine, theirs, NEAR_MISTAKE) is None
            for mine, theirs in zip(yours, twin, strict=True)
        )
    except Broken:
        return False
