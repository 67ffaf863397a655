"""`python -m compare record --output BENCHMARKS.md`: every figure of BENCHMARKS.md,
measured on this machine in one run and written as one Markdown file: the machine's
floors, the per-op FLOP and byte table with the roofline, the variants as multiples of
it, the matched pairs, the profiler's breakdown, accuracy over seeds with the time to a
target accuracy, and the default comparison's table."""

import contextlib
import shlex
import sys
from pathlib import Path

from compare.bench import floors, profile, roofline
from compare.bench.bench import bench
from compare.bench.variants import BenchConfig
from compare.commands.options import (
    MAX_COUNT,
    at_least_two,
    at_most,
    data_options,
    pair_rounds,
    positive_int,
)
from compare.errors import CompareError
from compare.language import _, language
from compare.quiet import load_tensorflow_quietly
from compare.request import Request
from compare.safety.paths import check_new_folder
from compare.study import compare
from compare.views.bench_view import render_bench
from compare.views.report import render
from compare.views.speed import seeds_table

NAME = "record"
INPUTS = ("data_dir",)
OUTPUTS = ("output",)
CREATES = ("profile_dir",)


def add_parser(commands):
    record = commands.add_parser(
        "record",
        help="measure everything BENCHMARKS.md reports and write it as one Markdown file",
        parents=[data_options()],
        description="Run the benchmark (variants, floors, roofline, matched pairs, "
        "profile), the comparison over several seeds and the default comparison, and "
        "write them as Markdown, the command itself named at the top.",
    )
    record.add_argument(
        "--output",
        type=Path,
        required=True,
        metavar="FILE.md",
        help="the file to write",
    )
    record.add_argument(
        "--profile-dir",
        type=Path,
        required=True,
        metavar="DIR",
        help="a new folder for the profiler's traces (TensorBoard or Perfetto open them)",
    )
    for flag, default, what, parse in (
        (
            "--seeds",
            3,
            "initialisations per style for accuracy and time-to-accuracy",
            at_least_two,
        ),
        ("--repeats", 3, "interleaved repeats of each bench variant", positive_int),
        ("--pair-rounds", 7, "bench's rounds of the matched pairs", pair_rounds),
        ("--pair-steps", 64, "bench's batches per style and round", positive_int),
    ):
        record.add_argument(
            flag,
            type=at_most(MAX_COUNT, parse),
            default=default,
            metavar="N",
            help=f"{what} (default {default})",
        )
    record.add_argument("--quiet", action="store_true", help="no progress lines")
    record.set_defaults(run=run)


def run(args, say):
    """Measure; returns the Markdown."""

    if language() != "en":
        raise CompareError(
            _("record writes BENCHMARKS.md in English: run it without --lang pt")
        )
    check_new_folder(args.profile_dir, "--profile-dir")
    load_tensorflow_quietly()
    data = {
        "dataset": args.dataset,
        "data_dir": args.data_dir,
        "train_samples": args.train_samples,
        "test_samples": args.test_samples,
    }
    with contextlib.redirect_stdout(sys.stderr):
        default = compare(Request(**data, quiet=True), say)
        seeds = compare(
            Request(**data, seeds=args.seeds, curves=True, pair_rounds=0, quiet=True),
            say,
        )
        config = BenchConfig(
            **{
                **data,
                "dataset": default["dataset"]["name"],
                "data_dir": args.data_dir and str(args.data_dir),
            },
            repeats=args.repeats,
            pair_rounds=args.pair_rounds,
            pair_steps=args.pair_steps,
            profile_dir=str(args.profile_dir),
        )
        benchmark = bench(config, say)
        measured = benchmark["by_batch_size"][0]
        command = "python -m compare " + shlex.join(args.argv)
        sections = [
            "# Benchmarks",
            f"Every figure below was written by `{command}` (nothing here is pasted "
            "by hand); run it again to regenerate this file on your machine.",
            "## The default comparison (`python -m compare`)",
            render(default, "markdown").split("\n", 2)[2],
            "## The machine's floors",
            floors.markdown(measured["floors"]),
            "## FLOPs and bytes per training sample, and the roofline",
            roofline.markdown(measured["roofline"]),
            "## The variants, each epoch as a multiple of its roofline",
            render_bench(benchmark, "markdown").split("\n", 2)[2],
            "Bench settings: "
            + ", ".join(
                f"{key} {value}"
                for key, value in config.reported().items()
                if key not in ("variants", "profile_dir") and value is not None
            ),
            "## Where the time goes",
            profile.markdown(measured["profile"]),
            "## Accuracy over seeds, and time to accuracy",
            seeds_table(seeds["seeds"]),
        ]
    return "\n\n".join(sections) + "\n"  # the CLI writes it to --output
