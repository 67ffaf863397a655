"""Grading one exercise: the student's code runs beside Keras from the same weights and
batches, and the first tensor that differs beyond float32's tolerance is named, with a
hint where it matches one of the mistakes students make.

Each exercise's module (compare/exercises/checks/) holds an `EXERCISE` and a
`compare(student)` that returns a Comparison: the pairs to compare in order and the
grader's own mistaken twins, each reproducing one typical mistake.
"""

import linecache
import re
import sys
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

from compare.exercises.verdict import (
    Broken,
    Unwritten,
    Verdict,
    agrees,
    as_array,
    first_difference,
    ratio,
)
from compare.language import _


@dataclass(frozen=True)
class Exercise:
    """One exercise: its file name in exercises/, the names the student's code defines,
    and the texts (English, translated where shown)."""

    name: str
    title: str
    statement: str
    concept: str
    lesson: str  # where in the lesson to look: a file and a name in it
    wanted: tuple
    hint: str  # the hint when no known mistake matches


@dataclass
class Comparison:
    """`pairs`: (what, yours, keras, tolerance) in the order the code computes them;
    `mistakes`: a function returning (hint, values) for each mistaken twin, its values in
    the order of `pairs` (None where the twin says nothing). A check module's ERRORS
    holds (exception type, or text in its message; hint) for mistakes that raise."""

    pairs: list
    mistakes: object = list


def defined(student, name):
    """The student's `name`, or one line saying it is missing."""
    try:
        return getattr(student, name)
    except AttributeError:
        raise Broken(
            _("your code defines no `{name}`: keep the starter's names").format(
                name=name
            )
        ) from None


def source_name(filename):
    """The name the student's code runs under: not a file on disk, so that AutoGraph and
    tracebacks read the lines graded (from linecache), never a file of the same name."""
    return f"<{filename}>"


def load(source, filename):
    """The student's code run as a module, its lines in linecache so that tf.function and
    tracebacks can read them; no bytecode is written."""
    name = source_name(filename)
    module = types.ModuleType("student_exercise")  # no __file__: AutoGraph then
    # finds the source in linecache (with one, it looks for that file and gives up)
    lines = source.splitlines(keepends=True)
    linecache.cache[name] = (len(source), None, lines, name)
    sys.modules[module.__name__] = module
    try:
        code = compile(source, name, "exec", dont_inherit=True)
    except SyntaxError as error:
        raise Broken(
            _("line {line}: {message}").format(line=error.lineno, message=error.msg)
        ) from None
    exec(code, module.__dict__)
    return module


LIBRARIES = tuple(
    {str(Path(__file__).parents[1]), sys.prefix, sys.base_prefix, sys.exec_prefix}
)
# TensorFlow's op errors name the kernel inside: {{function_node __wrapped__...}} first,
# [Op:Reshape] last. The student reads only what went wrong.
TF_INTERNALS = re.compile(
    r"\{\{function_node [^}]*\}\}\s*|\s*\[Op:[^\]]*\].*$|\s*for '\{\{node .*$", re.M
)


def student_lines(error, filename):
    """The line numbers, innermost last, of the student's frames in the traceback: their
    file's, or in a notebook those outside the project and the Python installation."""
    frames = traceback.extract_tb(error.__traceback__)
    own = [frame.lineno for frame in frames if frame.filename == filename]
    if own or filename.startswith("<") and filename != "<notebook>":
        return own
    return [
        frame.lineno
        for frame in frames
        if not frame.filename.startswith(LIBRARIES) and "<frozen" not in frame.filename
    ]


def error_line(error, filename):
    """The exception as one line: its type, message and the student's line that raised."""
    text = TF_INTERNALS.sub("", str(error)).strip()
    lines = student_lines(error, filename)
    if text.startswith("in user code:"):  # AutoGraph's: its frames, then the error
        inside = re.findall(rf'File "{re.escape(filename)}", line (\d+)', text)
        lines = [int(line) for line in inside] or lines
        text = text.splitlines()[-1].strip()
        text = text.split(": ", 1)[1] if re.match(r"\w+: ", text) else text
    message = text.splitlines()[0] if text else ""
    where = _("line {line}: ").format(line=lines[-1]) if lines else ""
    return f"{where}{type(error).__name__}" + (f": {message}" if message else "")


def grade(check, student, filename="<notebook>"):
    """The Verdict of `check` (a module of compare/exercises/checks/) on `student` (a
    module or namespace holding the student's definitions), whose code runs under the
    name `filename` (source_name of its file; a notebook's cells have their own)."""
    exercise = check.EXERCISE
    try:
        comparison = check.compare(student)
        found = first_difference(comparison.pairs)
    except Unwritten:
        return Verdict("unwritten", _("the part marked YOUR CODE HERE still raises"))
    except Broken as error:
        return Verdict("broken", str(error), _(error.hint or exercise.hint))
    except (Exception, SystemExit) as error:  # the code raised: one line, a hint
        if type(error) is NotImplementedError and not str(error):  # the starter's raise
            return Verdict(
                "unwritten", _("the part marked YOUR CODE HERE still raises")
            )
        hint = next(
            (
                _(hint)
                for known, hint in getattr(check, "ERRORS", ())
                if (isinstance(known, str) and known in str(error))
                or (isinstance(known, type) and isinstance(error, known))
            ),
            _(exercise.hint),
        )
        return Verdict("broken", error_line(error, filename), hint)
    if found is None:
        largest = max(
            (
                relative_error(yours, keras)
                for _what, yours, keras, _t in comparison.pairs
            ),
            default=0.0,
        )
        return Verdict(
            "right",
            _(
                "equal to Keras in {count} comparisons (largest difference: {largest} "
                "times Keras' largest value)"
            ).format(count=len(comparison.pairs), largest=ratio(largest)),
        )
    yours = [pair[1] for pair in comparison.pairs]
    hint = next(
        (hint for hint, twin in comparison.mistakes() if agrees(yours, twin)),
        exercise.hint,
    )
    return Verdict("wrong", found.line(), _(hint))


def relative_error(yours, keras):
    yours, keras = as_array(yours, ""), as_array(keras, "")
    scale = abs(keras).max() if keras.size else 0.0
    return float(abs(yours - keras).max() / scale) if scale else 0.0
