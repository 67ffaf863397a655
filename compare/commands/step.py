"""`python -m compare step`: one mini-batch through both styles from the same weights,
side by side (compare/step.py, worded by compare/views/step_view.py)."""

import contextlib
import sys

from compare import study
from compare.commands.options import (
    MAX_SEED,
    at_most,
    data_options,
    non_negative_int,
    output_options,
    positive_float,
)
from compare.quiet import load_tensorflow_quietly
from compare.request import Request
from compare.step import step
from compare.styles import MODEL_NAMES
from compare.views.step_view import render_step

NAME = "step"
INPUTS = ("data_dir",)
OUTPUTS = ("output",)
MAX_BATCH = (
    1024  # a batch to look at; larger ones only cost memory (~88 MB per conv map)
)


def add_parser(commands):
    step = commands.add_parser(
        "step",
        help="one mini-batch through both styles from the same weights, side by side",
        parents=[
            data_options(sample_flags="train"),
            output_options(
                "or json (every number unrounded, with its tolerance)",
                formats=("table", "markdown", "json"),
            ),
        ],
        description="Give the raw model the Keras model's initial weights, take the raw "
        "loop's first mini-batch at --seed, and run one forward and backward pass and one "
        "Adam step in each style. Shows each layer's output shape in both (the raw ones "
        "read from the traced graph of the raw model's __call__), the loss, the logits, "
        "each variable's gradient norm, the weights after the step, and the largest "
        "difference between the two styles, against float32 rounding. Options go after "
        "`step`.",
    )
    options = step.add_argument_group("the step")
    options.add_argument(
        "--batch-size",
        type=at_most(MAX_BATCH),
        default=32,
        metavar="N",
        help=f"images in the mini-batch, at most {MAX_BATCH:,} and at most the number of "
        "training images (default 32)",
    )
    options.add_argument(
        "--seed",
        type=at_most(MAX_SEED, non_negative_int),
        default=0,
        help=f"seeds the Keras initial weights and the batch's draw, 0 to {MAX_SEED} "
        "(default 0)",
    )
    options.add_argument(
        "--lr",
        type=positive_float,
        default=1e-3,
        help="the learning rate of both Adams (default 0.001)",
    )
    options.add_argument(
        "--model",
        choices=MODEL_NAMES,
        default="cnn",
        help="cnn (default): the lecture's network; cnn_bn_dropout: with batch norm and "
        "dropout, here at rate 0 (the styles' random masks differ)",
    )
    step.set_defaults(run=run)


def run(args, say):
    """The step, in the language main set from --lang; returns the rendered report."""

    request = Request(
        dataset=args.dataset,
        data_dir=args.data_dir,
        train_samples=args.train_samples,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        model=args.model,
    )
    dataset = study.load_and_describe(request, say)  # checks --batch-size against it
    load_tensorflow_quietly()  # after parsing and the data: bad input answers at once
    with contextlib.redirect_stdout(sys.stderr):  # Keras' prints never mix with it
        report = step(dataset, request, say)
    return render_step(report, args.format)
