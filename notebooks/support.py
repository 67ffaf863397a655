"""What the notebooks need beyond TensorFlow, Keras, NumPy and matplotlib, small enough
to travel inside them: notebooks/build.py copies this file into each notebook's setup
cell, so a notebook runs as uploaded to Colab, without the project installed.

- `%%lesson NAME` runs a cell inside the module NAME, one per lesson file: the Keras
  and raw styles each keep their own build_model, train, ..., whatever the order in
  which the cells run.
- `number` and `scientific` write numbers as LANG does ("0,8853" in Brazil), the same
  strings as compare.language's Babel formats (a test checks).
- After this file, build.py appends compare.quiet's `stderr_silenced`, which keeps
  TensorFlow's C++ start-up logs out of the notebook as it does for the command line.
"""

import contextlib  # noqa: F401  (contextlib, os: for the appended stderr_silenced)
import decimal
import itertools
import linecache
import os  # noqa: F401
import sys
import types

LANG = globals().get("LANG", "en")  # run again, this cell keeps the notebook's own
_cells = itertools.count(1)


def lesson(name, cell):
    """%%lesson NAME: the cell runs in the module NAME, made on first use."""
    module = sys.modules.setdefault(name, types.ModuleType(name))
    shell = globals().get("get_ipython", lambda: None)()
    run = shell.execution_count if shell else next(_cells)  # the cell's In [n]
    filename = f"<{name}, In [{run}]>"
    # AutoGraph reads a function's source back: keep the cell where `inspect` looks.
    linecache.cache[filename] = (len(cell), None, cell.splitlines(True), filename)
    exec(compile(cell, filename, "exec"), module.__dict__)
    globals()[name] = module  # the notebook calls keras_cnn.train, raw_cnn.train, ...


def _swap_marks(text):
    """1,234.5 as Brazil writes it, 1.234,5; English keeps it."""
    return text.translate(str.maketrans(",.", ".,")) if LANG == "pt" else text


def number(value, decimals=0):
    """`value` grouped in thousands, with `decimals` digits after the decimal mark."""
    exact = decimal.Decimal(str(value))  # rounds half to even on the written value
    return _swap_marks(f"{exact:,.{decimals}f}")


def scientific(value, digits=2):
    """A tiny `value` with `digits` significant digits: 1.2E-7, or 1,2E-7."""
    if value == 0:
        return number(0)
    mantissa, exponent = f"{value:.{digits - 1}E}".split("E")
    return _swap_marks(f"{mantissa}E{int(exponent)}")


if "get_ipython" in globals():  # in a notebook, not when a test imports this file
    get_ipython().register_magic_function(lesson, "cell")  # noqa: F821
