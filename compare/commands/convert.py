"""`python -m compare convert`: a .keras file into a raw SavedModel folder or back, by an
explicit weight mapping (compare/saved/convert.py)."""

import contextlib
import sys
from pathlib import Path

from tabulate import tabulate

from compare.language import _
from compare.quiet import load_tensorflow_quietly
from compare.saved.convert import convert
from compare.styles import FLAGS

NAME = "convert"
INPUTS = ("model",)
OUTPUTS = ()
CREATES = ("destination",)  # --output DEST: convert refuses an existing one


def add_parser(commands):
    convert_command = commands.add_parser(
        "convert",
        help="turn a .keras file into a raw SavedModel folder, or back, by an explicit weight mapping",
        description="Copy the weights of the lecture's cnn or cnn_bn_dropout from one style's export into a new "
        "model of the other style and save it: a .keras file becomes a SavedModel folder "
        "(--to raw), a SavedModel folder a .keras file (--to keras). Each Keras weight maps to one "
        "raw variable of the same shape; a model that does not map is refused. The table shows the "
        "mapping. Options go after `convert`.",
    )
    convert_command.add_argument(
        "--model",
        type=Path,
        required=True,
        metavar="SRC",
        help="a .keras file or a SavedModel folder (holding saved_model.pb) that this "
        "project exported; any other is refused before it runs",
    )
    convert_command.add_argument(
        "--to", choices=tuple(FLAGS), required=True, help="the style to convert to"
    )
    convert_command.add_argument(
        "--output",
        dest="destination",
        type=Path,
        required=True,
        metavar="DEST",
        help="the new .keras file (--to keras) or SavedModel folder (--to raw); an "
        "existing one is never overwritten",
    )
    convert_command.add_argument("--quiet", action="store_true", help="no progress")
    convert_command.set_defaults(run=run)


def run(args, say):
    """Convert and save; returns the weight mapping as a table."""

    load_tensorflow_quietly()
    # Keras' messages go to stderr: they never mix with the table.
    with contextlib.redirect_stdout(sys.stderr):
        report = convert(args.model, FLAGS[args.to], args.destination)
    say(_("Wrote {path}").format(path=args.destination))
    headers = [_("Keras weight"), _("Raw variable"), _("Shape")]
    rows = [
        [weight["keras"], weight["raw_tf"], " x ".join(map(str, weight["shape"]))]
        for weight in report["weights"]
    ]
    return (
        f"{report['model']}: {report['source']} -> {report['destination']}\n\n"
        f"{tabulate(rows, headers, tablefmt='rounded_outline')}\n"
    )
