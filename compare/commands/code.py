"""`python -m compare code`: the two styles' lesson files side by side, step by step."""

import argparse
import os
import sys

from compare.commands.options import MAX_WIDTH, between
from compare.errors import CompareError
from compare.language import _
from compare.loc import STEPS
from compare.styles import MODEL_NAMES
from compare.views.code_view import (
    MIN_SIDE_BY_SIDE_WIDTH,
    code_sections,
    render_code,
    section_names,
    view_titles,
)
from compare.views.i18n import LANGUAGES
from compare.views.themes import THEMES, terminal_theme

NAME = "code"
INPUTS = OUTPUTS = ()
MIN_WIDTH = 40  # narrower, the headings and the shortest statements no longer fit


code_width = between(MIN_WIDTH, MAX_WIDTH)


def section_name(text):
    """--step: 1-4, a step's name, imports or extras, as the name `section_names` uses."""
    word = text.strip().lower()
    numbers = {step: str(number) for number, step in enumerate(STEPS, start=1)}
    if word in {"imports", "extras", *numbers.values()}:
        return word
    if word in numbers:
        return numbers[word]
    raise argparse.ArgumentTypeError(
        _(
            "must be 1, 2, 3 or 4 (or define, compile, train, evaluate), imports or "
            "extras, got {text}"
        ).format(text=repr(text))
    )


def add_parser(commands):
    code = commands.add_parser(
        "code",
        help="print the two styles side by side, step by step",
        description="Print keras_impl/cnn.py and raw_tf_impl/cnn.py side by side, each step (define, compile, "
        "train, evaluate) of one next to the same step of the other, read from the files "
        "themselves, after their imports. Side by side where two columns take fewer rows "
        "than one above the other (cnn.py's view: from 148 columns; never below "
        f"{MIN_SIDE_BY_SIDE_WIDTH}); else each step's Keras block stands directly above its "
        "raw twin. Long lines wrap between tokens, indented deeper than the line they "
        "continue (marked ↪); a comment goes on as a comment.",
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
        "--theme",
        choices=THEMES,
        default="auto",
        help="colours for a dark or a light terminal; auto (default): from COLORFGBG "
        "where the terminal sets it, else colours that read on both",
    )
    code.add_argument(
        "--lang",
        choices=LANGUAGES,
        default="en",
        help="language of the headings: en or pt",
    )
    lessons = (*MODEL_NAMES, "checkpoints", "distributed")
    code.add_argument(
        "--lesson",
        choices=lessons,
        default="cnn",
        help="which lesson files to show: cnn (default); cnn_bn_dropout: its step 1, the "
        "other steps cnn's; checkpoints: step 3 the lesson way to checkpoint, from "
        "checkpoints.py; distributed: the lecture's cnn under tf.distribute, every step "
        "from distributed.py",
    )
    # --model, its name before: not every lesson is a model (checkpoints, distributed)
    code.add_argument(
        "--model",
        dest="lesson",
        choices=lessons,
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
    )
    code.add_argument(
        "--step",
        type=section_name,
        metavar="N",
        help="show one section only: 1-4 (or define, compile, train, evaluate), imports, "
        "or extras (where the model has them)",
    )
    code.add_argument(
        "--no-comments",
        dest="comments",
        action="store_false",
        help="hide comments and docstrings (the code stays as it is)",
    )
    code.add_argument(
        "--line-numbers",
        action="store_true",
        help="number each line as in its file (the file is named above each block)",
    )
    code.set_defaults(run=run)


def terminal_width():
    """The terminal's columns, also where stdout is a pipe (`| less -R`) or a file: COLUMNS,
    else the first of stdout, stderr and stdin that is a terminal, else 120."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdecimal() and int(columns) > 0:
        return int(columns)
    for stream in (sys.stdout, sys.stderr, sys.stdin):
        try:
            return os.get_terminal_size(stream.fileno()).columns or 120
        except (AttributeError, OSError, ValueError):
            continue
    return 120


def run(args, say):
    """The code view as text, coloured for a terminal where asked."""

    width = args.width or max(MIN_WIDTH, min(terminal_width(), MAX_WIDTH))
    colour = args.color == "always" or (
        args.color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    )
    if colour:  # the theme's name: dark, light or both
        colour = terminal_theme(os.environ) if args.theme == "auto" else args.theme
    sections = code_sections(args.lesson, comments=args.comments)
    step = None
    if args.step:
        names = section_names(sections)
        if args.step not in names:
            raise CompareError(
                _(
                    "--lesson {lesson} has no {step}: --step takes {choices} for it"
                ).format(lesson=args.lesson, step=args.step, choices=", ".join(names))
            )
        step = names[args.step]
    return render_code(
        view_titles(args.lang), width, colour, sections, step, args.line_numbers
    )
