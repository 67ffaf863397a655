"""What `python -m compare` shows and writes beside its table: the width its tables fit,
the --plot PNG, the --report page and --tensorboard's curves."""

import argparse
from pathlib import Path

from compare.commands.options import Parser, at_most
from compare.language import _
from compare.safety import atomic
from compare.views import fitted, plots


def table_width(text):
    """--width: auto (the terminal's columns, else 100: fitted.terminal_width), or from
    fitted.MIN_WIDTH on, where each column still holds a few words a line."""
    if text == "auto":
        return fitted.terminal_width()
    width = at_most(fitted.MAX_WIDTH)(text)
    if width < fitted.MIN_WIDTH:
        raise argparse.ArgumentTypeError(
            _("must be at least {minimum}, got {text}").format(
                minimum=fitted.MIN_WIDTH, text=repr(text)
            )
        )
    return width


def figure_options():
    """--width, --plot, --report and --tensorboard, as a parent parser."""
    options = Parser(add_help=False)
    output = options.add_argument_group("output")
    output.add_argument(
        "--width",
        type=table_width,
        default="auto",
        metavar="COLUMNS",
        help=f"fit the tables to this many columns, {fitted.MIN_WIDTH} to "
        f"{fitted.MAX_WIDTH} (default auto: the terminal's, else {fitted.DEFAULT_WIDTH})",
    )
    output.add_argument(
        "--plot",
        type=Path,
        metavar="FILE.png",
        help="save the training curves (loss and accuracy per epoch, train and test, both "
        "styles) as a PNG; the test set is then scored after every epoch, "
        "outside the timings (its time is measured and left out)",
    )
    output.add_argument(
        "--report",
        type=Path,
        metavar="FILE.html",
        help="write one self-contained HTML page: the table, the curves, lines of code per "
        "step, the concept map and both styles side by side (scores the test "
        "set after every epoch, like --plot)",
    )
    output.add_argument(
        "--tensorboard",
        type=Path,
        metavar="DIR",
        help="write live curves for TensorBoard (tensorboard --logdir DIR): Keras with "
        "keras.callbacks.TensorBoard in DIR/keras, raw TF with tf.summary in "
        "DIR/raw_tf, the same tags (epoch_loss, epoch_accuracy, epoch_learning_rate) at "
        "the same steps, in train/ and, for the test set scored after every epoch "
        "(like --plot), validation/. DIR must be new or empty; with --repeats, the "
        "first run's",
    )
    return options


def write_figures(report, args, say):
    """The --plot PNG and the --report HTML page, where asked for (and where
    --tensorboard's curves are)."""
    if args.plot:
        png = plots.png_bytes(plots.training_curves(report["results"], args.lang))
        atomic.replace(args.plot, png, "--plot")
        say(_("Wrote {path}").format(path=args.plot))
    if args.report:
        from compare.views.html_report import render_html

        atomic.replace(args.report, render_html(report, args.lang), "--report")
        say(_("Wrote {path}").format(path=args.report))
    if args.tensorboard:
        say(
            _(
                "Wrote TensorBoard's curves in {path}: tensorboard --logdir {path}"
            ).format(path=args.tensorboard)
        )
