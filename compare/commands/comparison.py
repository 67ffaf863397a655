"""`python -m compare`: train both styles on the same data and print the comparison
(compare/study.py), with its figures; its own options, and which of them combine."""

import argparse
import contextlib
import dataclasses
import sys
from pathlib import Path

from compare.commands.figures import figure_options, write_figures
from compare.commands.options import (
    MAX_COUNT,
    MAX_REPLICAS,
    MAX_SEED,
    MAX_TIMEOUT,
    ONLY_CHOICES,
    Parser,
    at_most,
    data_options,
    host_and_port,
    non_negative_int,
    output_options,
    positive_float,
    positive_int,
    seeds_and_speed_options,
)
from compare.errors import CompareError
from compare.harness.backends import BACKENDS
from compare.harness.distribute import (
    MAX_DEVICES,
    STRATEGIES,
    merge_worker_reports,
    read_tf_config,
    save_worker_report,
)
from compare.harness.local_workers import run_local_workers, worker_argv
from compare.language import _
from compare.quiet import load_tensorflow_quietly
from compare.request import Request, check_request
from compare.safety.paths import check_empty_folder
from compare.study import compare
from compare.styles import MODEL_NAMES, chosen
from compare.views.i18n import LANGUAGES
from compare.views.report import render

# The paths this command reads, writes, creates (safety/paths.py).
INPUTS = ("data_dir",)
OUTPUTS = ("output", "plot", "report", "worker_report")
CREATES = ("export", "checkpoint_dir", "tensorboard")


def backend_list(text):

    names = tuple(text.split(","))
    unknown = [name for name in names if name not in BACKENDS]
    if unknown:
        raise argparse.ArgumentTypeError(
            _("unknown backend {name} (choose from {choices})").format(
                name=repr(unknown[0]), choices=", ".join(BACKENDS)
            )
        )
    return names


def root_parser():
    """The parser of `python -m compare`: this command's options; the subcommands are
    added to it by compare/cli.py."""
    parser = Parser(
        prog="python -m compare",
        parents=[
            data_options(),
            output_options(
                "json (the stable interface for scripts, with per-epoch "
                "history) or csv (one row per style, no history)"
            ),
            seeds_and_speed_options(),
            figure_options(),
        ],
        description="Train the same CNN the Keras way and the pure-TensorFlow way, with the same data, "
        "hyper-parameters and seed, and print the lecture's table 'Keras vs pure TensorFlow' "
        "extended with measured rows (lines of code, parameters, timings, test scores). "
        "`python -m compare bench --help` describes the benchmark.",
        epilog="Progress goes to stderr, the report to stdout (or --output). Op determinism is on: "
        "the same flags give the same numbers.",
    )
    training = parser.add_argument_group("training (the same for both styles)")
    training.add_argument(
        "--epochs",
        type=at_most(MAX_COUNT),
        default=3,
        help=f"passes over the data, at most {MAX_COUNT:,} (default 3)",
    )
    training.add_argument(
        "--batch-size",
        type=positive_int,
        default=128,
        help="mini-batch size, at most the number of training images (default 128)",
    )
    training.add_argument(
        "--lr",
        type=positive_float,
        default=1e-3,
        help="Adam learning rate (default 0.001)",
    )
    training.add_argument(
        "--seed",
        type=at_most(MAX_SEED, non_negative_int),
        default=0,
        help=f"seeds the initial weights and the shuffling, 0 to {MAX_SEED} (default 0)",
    )
    training.add_argument(
        "--steps-per-execution",
        type=at_most(MAX_COUNT),
        metavar="N",
        help=f"mini-batches per graph call, for both styles, at most {MAX_COUNT:,} "
        "(default 1, as both lessons are written)",
    )
    training.add_argument("--only", choices=ONLY_CHOICES, help="run one style only")
    training.add_argument(
        "--backends",
        type=backend_list,
        metavar="B1,B2,...",
        help="run the Keras style once per Keras 3 backend (tensorflow, jax, "
        "torch), each in its own process, next to raw TF; a backend that is not "
        "installed gets a column that says so",
    )
    training.add_argument(
        "--model",
        choices=(*MODEL_NAMES, "both"),
        default="cnn",
        help="cnn (default): the lecture's network; cnn_bn_dropout: with BatchNormalization "
        "after the convolution and Dropout(0.5) before the dense layer; both: a "
        "column per style and model",
    )
    distribute = parser.add_argument_group(
        "past one device (tf.distribute; the lecture's cnn only)"
    )
    distribute.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="none",
        help="none (default); mirrored: one replica per device of this machine (every GPU, "
        "else --devices logical CPU devices); multiworker: MultiWorkerMirroredStrategy "
        "over the cluster in TF_CONFIG, or over --workers local processes. --batch-size "
        "is the global batch, split across the replicas",
    )
    distribute.add_argument(
        "--devices",
        type=at_most(MAX_DEVICES),
        metavar="N",
        help=f"mirrored: replicas, at most {MAX_DEVICES} (default: every GPU, else 2 logical "
        "CPU devices)",
    )
    distribute.add_argument(
        "--workers",
        type=at_most(MAX_REPLICAS),
        metavar="N",
        help="multiworker: start N worker processes of this command on 127.0.0.1 and "
        "report worker 0's results and whether all end with the same weights "
        f"(N at most {MAX_REPLICAS})",
    )
    distribute.add_argument(
        "--worker-timeout",
        type=at_most(MAX_TIMEOUT),
        default=600,
        metavar="SECONDS",
        help="multiworker: how long a worker waits for its peers, and --workers for the "
        f"workers to finish, at most {MAX_TIMEOUT} (a week; default 600)",
    )
    distribute.add_argument(
        "--coordinator",
        type=host_and_port,
        metavar="HOST:PORT",
        help="multiworker: where Keras on JAX's processes meet (jax.distributed: process "
        "0 serves there; the process ids are TF_CONFIG's task indexes). Default: worker "
        "0's host in TF_CONFIG, its port + 1; --workers picks a free port",
    )
    distribute.add_argument(
        "--worker-report", type=Path, help=argparse.SUPPRESS
    )  # set by --workers
    checkpoints = parser.add_argument_group("checkpoints and export")
    checkpoints.add_argument(
        "--checkpoint-dir",
        type=Path,
        metavar="DIR",
        help="save each style after every epoch in DIR/<style>-<model>, "
        "each the way its style does it (Keras: BackupAndRestore; raw TF: "
        "tf.train.Checkpoint), and take the batches in the raw loop's seeded order in "
        "both styles. DIR must be new or empty. Ctrl-C or SIGTERM then stops after the "
        "current epoch is saved (exit 130 or 143); a second Ctrl-C stops at once",
    )
    checkpoints.add_argument(
        "--resume",
        action="store_true",
        help="go on from the checkpoints in --checkpoint-dir: the same final weights and "
        "scores as a run never interrupted. The other flags must match the first run's, "
        "except --epochs, which may grow",
    )
    checkpoints.add_argument(
        "--export",
        type=Path,
        metavar="DIR",
        help="after training, save each trained model in DIR (created if missing) as its "
        "style does: keras_<model>.keras (model.save) and raw_tf_<model>/ (a SavedModel "
        "with a serving signature); `python -m compare predict` reads either. Existing "
        "files there are never overwritten",
    )
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        default="en",
        help="language of the table, the figures and the report: en (default) or pt, "
        "the lecture's Portuguese",
    )
    training.add_argument(
        "--repeats",
        type=at_most(MAX_COUNT),
        default=1,
        metavar="N",
        help="train each style N times, interleaved (keras, raw, keras, raw, ...), "
        "and report the median timings and the median of the pairwise raw/Keras "
        f"throughput ratios, N at most {MAX_COUNT:,} (default 1)",
    )
    return parser


def check_worker_flags(args):
    """--workers and TF_CONFIG, before any work; the study checks the rest."""
    if args.workers and args.strategy != "multiworker":
        raise CompareError(
            _("--workers needs --strategy multiworker")
            if args.strategy == "none"
            else _("--workers is for --strategy multiworker")
        )
    if args.strategy == "multiworker" and not args.workers:
        read_tf_config()  # a bad TF_CONFIG fails here


def request_of(args):
    """The study's request: the flags of the same names, and what two of them imply."""
    named = {field.name for field in dataclasses.fields(Request)} & set(vars(args))
    return Request(
        **{name: getattr(args, name) for name in named},
        styles=tuple(chosen(args.only)),
        curves=bool(args.plot or args.report or args.seeds > 1 or args.tensorboard),
    )


def run(args, say):
    """The comparison; returns the rendered report (None for a --workers worker)."""

    request = request_of(args)
    check_request(request)
    check_worker_flags(args)
    check_empty_folder(args.tensorboard, "--tensorboard")
    if args.workers:  # this process only watches: the workers train
        argv, timeout = worker_argv(args.argv), args.worker_timeout + 120
        reports = run_local_workers(argv, args.workers, timeout, say)
        return render(merge_worker_reports(reports), args.format, args.lang, args.width)

    load_tensorflow_quietly()  # after parsing: --help and bad flags answer at once
    weights = {} if args.worker_report else None
    with contextlib.redirect_stdout(sys.stderr):  # progress never mixes with the report
        report = compare(request, say, weights)
        text = render(report, args.format, args.lang, args.width)
    if args.worker_report:  # a worker of --workers: its report goes to the parent
        save_worker_report(report, weights, args.worker_report)
        return None
    args.then = [lambda: write_figures(report, args, say)]  # after the results
    return text
