"""`python -m compare code`: the two styles' lesson files side by side, step by step."""

import argparse
import os
import shutil
import sys

from compare.commands.options import MAX_WIDTH, at_most
from compare.styles import MODEL_NAMES
from compare.views.code_view import MIN_SIDE_BY_SIDE_WIDTH
from compare.views.i18n import LANGUAGES

NAME = "code"
OUTPUTS = ()
MIN_WIDTH = 40  # narrower, the headings and the shortest statements no longer fit


def code_width(text):
    width = at_most(MAX_WIDTH)(text)
    if width < MIN_WIDTH:
        raise argparse.ArgumentTypeError(f"must be at least {MIN_WIDTH}, got {text!r}")
    return width


def add_parser(commands):
    code = commands.add_parser(
        "code",
        help="print the two implementations side by side, step by step",
        description="Print keras_impl/cnn.py and raw_tf_impl/cnn.py side by side, each step (define, compile, "
        "train, evaluate) of one next to the same step of the other, read from the files "
        f"themselves. Below {MIN_SIDE_BY_SIDE_WIDTH} columns the two are stacked; long lines wrap.",
    )
    code.add_argument(
        "--width",
        type=code_width,
        metavar="COLUMNS",
        help=f"the width to fit, {MIN_WIDTH} to {MAX_WIDTH} (default: the terminal's, "
        "else 120)",
    )
    code.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="syntax colours: auto (default) colours a terminal only",
    )
    code.add_argument(
        "--lang",
        choices=LANGUAGES,
        default="en",
        help="language of the headings: en or pt",
    )
    code.add_argument(
        "--model",
        choices=(*MODEL_NAMES, "checkpoints", "distributed"),
        default="cnn",
        help="which model's step 1 to show (the other steps are shared); checkpoints: step 3 "
        "the lesson way to checkpoint, from checkpoints.py; distributed: the seed's cnn "
        "under tf.distribute, every step from distributed.py",
    )
    code.set_defaults(run=run)


def run(args, say):
    """The code view as text, coloured for a terminal where asked."""
    from compare.views.code_view import implementation_steps, render_code
    from compare.views.i18n import step_titles

    width = args.width or shutil.get_terminal_size((120, 40)).columns
    colour = args.color == "always" or (
        args.color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    )
    steps = implementation_steps(args.model)
    return render_code(step_titles(args.lang), width, colour, steps)
