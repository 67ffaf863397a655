"""`python -m compare bench`: how fast each style trains, against what the machine can
do (compare/bench/)."""

import argparse
import json
from pathlib import Path

from compare import study
from compare.bench.bench import bench
from compare.bench.variants import (
    BENCH_REPORTED,
    DEFAULT_VARIANTS,
    VARIANTS,
    BenchConfig,
)
from compare.commands.options import (
    MAX_COUNT,
    MAX_SEED,
    at_most,
    data_options,
    non_negative_int,
    output_options,
    pair_rounds,
    positive_int,
)
from compare.errors import CompareError
from compare.language import _
from compare.request import Request
from compare.safety.paths import check_new_folder
from compare.styles import MODEL_NAMES
from compare.views.bench_view import render_bench

NAME = "bench"
INPUTS = ("data_dir",)
OUTPUTS = ("output",)
CREATES = ("profile_dir",)  # a new folder for the profiler's traces


def positive_int_list(text):
    return tuple(positive_int(item) for item in text.split(","))


def epochs_for_bench(text):
    epochs = positive_int(text)
    if epochs < 2:
        raise argparse.ArgumentTypeError(
            _("must be at least 2: the first epoch is warm-up")
        )
    return epochs


def variant_list(known):
    def parse(text):
        names = tuple(known) if text == "all" else tuple(text.split(","))
        unknown = [name for name in names if name not in known]
        if unknown:
            raise argparse.ArgumentTypeError(
                _("unknown variant {name} (choose from {choices}, all)").format(
                    name=repr(unknown[0]), choices=", ".join(known)
                )
            )
        return names

    return parse


def add_parser(commands):
    bench = commands.add_parser(
        "bench",
        help="measure training speed against the machine's floors and roofline",
        parents=[
            data_options(),
            output_options(
                "json (machine, results, compute limits, ratios: "
                "the file a later run compares against) or csv"
            ),
        ],
        description="Benchmark the variants: tracing time, steady training throughput (median, min, max "
        "over interleaved repeats), inference throughput, peak RSS (one process per variant "
        "and batch size), each epoch as a multiple of its roofline (from the measured fp32 "
        "matmul peak, memory bandwidth and dispatch floor), and the matched pairs with "
        "their ratios' 95% intervals. Options go after `bench`.",
        epilog="Variants: "
        + "; ".join(
            f"{name}: {description}" for name, (_, _, description) in VARIANTS.items()
        ),
    )
    measure = bench.add_argument_group("benchmark")
    measure.add_argument(
        "--batch-sizes",
        type=positive_int_list,
        default=(128,),
        metavar="B1,B2,...",
        help="a row per batch size, each at most the number of training images "
        "(default 128; for example 32,128,512)",
    )
    measure.add_argument(
        "--repeats",
        type=at_most(MAX_COUNT),
        default=3,
        metavar="N",
        help=f"interleaved runs per variant and batch size, at most {MAX_COUNT:,} (default 3)",
    )
    measure.add_argument(
        "--epochs",
        type=at_most(MAX_COUNT, epochs_for_bench),
        default=2,
        help=f"epochs per run, 2 to {MAX_COUNT:,}: the first is warm-up, the others steady "
        "(default 2)",
    )
    measure.add_argument(
        "--variants",
        type=variant_list(VARIANTS),
        default=DEFAULT_VARIANTS,
        metavar="V1,V2,...",
        help=f"default {','.join(DEFAULT_VARIANTS)}; 'all' for every variant "
        f"({', '.join(VARIANTS)}); torch needs PyTorch installed",
    )
    measure.add_argument(
        "--seed",
        type=at_most(MAX_SEED, non_negative_int),
        default=0,
        help=f"the same for every run, 0 to {MAX_SEED} (default 0)",
    )
    measure.add_argument(
        "--model",
        choices=MODEL_NAMES,
        default="cnn",
        help="the network the variants train (default cnn; PyTorch always trains cnn)",
    )
    measure.add_argument(
        "--pair-steps",
        type=at_most(MAX_COUNT),
        metavar="N",
        help="mini-batches per style in each round of the matched pairs (default 64; "
        "200 with --suite gpu)",
    )
    measure.add_argument(
        "--pair-rounds",
        type=at_most(MAX_COUNT, pair_rounds),
        metavar="N",
        help="interleaved rounds of the matched pairs, 0 to skip them (default 7; 5 "
        "with --suite gpu)",
    )
    measure.add_argument(
        "--suite",
        choices=("gpu",),
        help="gpu: only the matched pairs, with XLA off and on, mixed precision off and "
        "on, at batch 128 and 1024 (or --batch-sizes), under 8 minutes on one GPU "
        "(compare/bench/suite.py)",
    )
    measure.add_argument(
        "--profile-dir",
        type=Path,
        metavar="DIR",
        help="also trace a few training steps of each style with tf.profiler into this "
        "new folder (open it with TensorBoard's profile plugin or Perfetto) and "
        "summarise where the time goes",
    )
    bench.set_defaults(run=run)


def run(args, say):
    """The benchmark in fresh worker processes; returns the rendered table."""

    data = ("dataset", "data_dir", "train_samples", "test_samples")
    request = Request(**{name: getattr(args, name) for name in data})
    if args.suite:
        check_suite_flags(args)
    check_new_folder(args.profile_dir, "--profile-dir")
    # Fails fast, before any worker starts.
    dataset = study.load_and_describe(request, say, batch_sizes=args.batch_sizes)
    for batch_size in args.batch_sizes:
        study.say_if_fewer_pairs(
            args.pair_steps, len(dataset.x_train) // batch_size, say
        )
    if args.suite:
        return gpu_suite(args, dataset, say)
    settings = {name: getattr(args, name) for name in BENCH_REPORTED}
    settings.update(
        pair_steps=64 if args.pair_steps is None else args.pair_steps,
        pair_rounds=7 if args.pair_rounds is None else args.pair_rounds,
        dataset=dataset.name,
        data_dir=args.data_dir and str(args.data_dir),
        profile_dir=args.profile_dir and str(args.profile_dir),
    )
    return render_bench(bench(BenchConfig(**settings), say), args.format)


SUITE_IGNORES = ("--variants", "--repeats", "--epochs", "--model", "--profile-dir")


def check_suite_flags(args):
    """--suite gpu runs its own grid: the flags it would ignore are refused."""
    for flag in SUITE_IGNORES:
        if any(word == flag or word.startswith(flag + "=") for word in args.argv):
            raise CompareError(
                _("{flag} does not combine with --suite gpu").format(flag=flag)
            )
    if args.pair_rounds == 0:
        raise CompareError(_("--suite gpu times the pairs: --pair-rounds 0 skips them"))


def gpu_suite(args, dataset, say):
    """--suite gpu: the matched pairs over XLA, precision and batch size, as Markdown
    (or JSON with --format json)."""

    from compare.bench.suite import SuiteOptions, device_name, markdown, run_suite

    if device_name() == "CPU":
        say(_("No GPU here: the XLA and float16 cells take minutes each on a CPU"))

    options = SuiteOptions(
        steps=args.pair_steps or 200,
        rounds=args.pair_rounds or 5,
        batch_sizes=args.batch_sizes if "--batch-sizes" in args.argv else (128, 1024),
        seed=args.seed,
    )
    result = run_suite(dataset.x_train, dataset.y_train, options, say)
    return (
        json.dumps(result, indent=2) + "\n"
        if args.format == "json"
        else markdown(result)
    )
