"""`python -m compare`: train both implementations on the same data and print the comparison."""

import argparse
import contextlib
import dataclasses
import math
import os
import sys
from pathlib import Path

from compare.distribute import STRATEGIES
from compare.errors import CompareError
from compare.i18n import LANGUAGES
from compare.loc import MODEL_NAMES
from compare.quiet import load_tensorflow_quietly

FORMATS = ("table", "markdown", "json", "csv")
ONLY_CHOICES = {"keras": "keras", "raw": "raw_tf"}


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


MAX_COUNT = (
    10**6
)  # epochs, repeats, batches: beyond a million a count is a typo, not a plan
MAX_SEED = 2**32 - 1  # NumPy's seed limit, which keras.utils.set_random_seed inherits
MAX_WIDTH = 1000  # columns for `compare code`: wider than any terminal
MAX_IMAGE_SIZE = (
    224  # ResNet50's ImageNet size; larger only costs memory on 28x28 digits
)
MAX_REPLICAS = 256  # --devices, --workers: more than any one machine's GPUs or a laptop's processes
MAX_TIMEOUT = (
    7 * 24 * 3600
)  # seconds: a week; beyond, a worker waiting for peers is a hang


def decimal_int(text):
    """`text` as an int if it is decimal digits after an optional +, else None."""
    digits = text[1:] if text.startswith("+") else text
    if (
        not digits.isdecimal() or len(digits) > 4000
    ):  # "²" is a digit but not decimal; int() refuses 4300 digits
        return None
    return int(digits)


def positive_int(text):
    value = decimal_int(text)
    if not value:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def non_negative_int(text):
    value = decimal_int(text)
    if value is None:
        raise argparse.ArgumentTypeError(
            f"must be a non-negative integer, got {text!r}"
        )
    return value


def at_most(limit, parse=positive_int):
    """`parse`, then a cap: an absurd value is an error at once, not a crash or a hang hours later."""

    def parse_capped(text):
        value = parse(text)
        if value > limit:
            raise argparse.ArgumentTypeError(f"must be at most {limit:,}, got {text!r}")
        return value

    return parse_capped


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def data_options(sample_flags=True):
    options = Parser(add_help=False)
    data = options.add_argument_group("data")
    data.add_argument(
        "--dataset",
        choices=("auto", "mnist", "fashion_mnist", "digits"),
        default="auto",
        help="auto (default) takes the first available of mnist, fashion_mnist, digits and "
        "says which; a named dataset never falls back to another. mnist and "
        "fashion_mnist are read from --data-dir, else the Keras cache "
        "(~/.keras/datasets), else /usr/share/datasets/<name> (Debian packages "
        "dataset-mnist, dataset-fashion-mnist), else downloaded by Keras when online. "
        "digits is scikit-learn's bundled 8x8 set on a 28x28 canvas, always offline",
    )
    data.add_argument(
        "--data-dir",
        type=Path,
        metavar="PATH",
        help="a Keras-style .npz (x_train, y_train, x_test, y_test), or a folder holding "
        "the four idx files (gzipped or not) or <name>.npz, or subfolders named after "
        "the dataset (mnist/, fashion_mnist/ or fashion-mnist/); loose files in the "
        "folder are used only for an explicitly named --dataset. Only this place is searched",
    )
    if sample_flags:
        data.add_argument(
            "--train-samples",
            type=positive_int,
            metavar="N",
            help="train on the first N images",
        )
        data.add_argument(
            "--test-samples",
            type=positive_int,
            metavar="N",
            help="test on the first N images",
        )
    return options


def output_options(json_help):
    options = Parser(add_help=False)
    output = options.add_argument_group("output")
    output.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help=f"table (default), markdown, {json_help}",
    )
    output.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="write the report to FILE instead of stdout",
    )
    output.add_argument(
        "--quiet", action="store_true", help="no progress while loading and training"
    )
    return options


def positive_int_list(text):
    return tuple(positive_int(item) for item in text.split(","))


def backend_list(text):
    from compare.backends import BACKENDS

    names = tuple(text.split(","))
    unknown = [name for name in names if name not in BACKENDS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown backend {unknown[0]!r} (choose from {', '.join(BACKENDS)})"
        )
    return names


def epochs_for_bench(text):
    epochs = positive_int(text)
    if epochs < 2:
        raise argparse.ArgumentTypeError(
            "must be at least 2: the first epoch is warm-up"
        )
    return epochs


def variant_list(known):
    def parse(text):
        names = tuple(known) if text == "all" else tuple(text.split(","))
        unknown = [name for name in names if name not in known]
        if unknown:
            raise argparse.ArgumentTypeError(
                f"unknown variant {unknown[0]!r} (choose from {', '.join(known)}, all)"
            )
        return names

    return parse


def class_list(text):
    """0-4 or 5,6,7: distinct labels in [0, 10)."""
    first, dash, last = text.partition("-")
    try:
        classes = (
            tuple(range(int(first), int(last) + 1))
            if dash
            else tuple(int(item) for item in text.split(","))
        )
    except ValueError:
        classes = ()
    if (
        not classes
        or len(set(classes)) != len(classes)
        or not all(0 <= label < 10 for label in classes)
    ):
        raise argparse.ArgumentTypeError(
            f"must be labels in 0-9 such as 0-4 or 5,6,7, got {text!r}"
        )
    return classes


def image_size(text):
    value = positive_int(text)
    if value < 32:
        raise argparse.ArgumentTypeError(
            f"ResNet50 needs images of at least 32x32, got {value}"
        )
    if value > MAX_IMAGE_SIZE:
        raise argparse.ArgumentTypeError(
            f"must be at most {MAX_IMAGE_SIZE} (ResNet50's ImageNet size), got {value}"
        )
    return value


def weights_choice(text):
    if text in ("pretrain", "imagenet", "none"):
        return text
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(
            f"must be pretrain, imagenet, none or a weights file; {text!r} is no file"
        )
    return text


def stage_list(text):
    stages = tuple(text.split(","))
    if not all(stage in ("conv2", "conv3", "conv4", "conv5") for stage in stages):
        raise argparse.ArgumentTypeError(
            f"must be stages among conv2,conv3,conv4,conv5, got {text!r}"
        )
    return stages


def add_transfer_parser(commands):
    from compare.transfer_config import DEFAULT_SAMPLES, TransferConfig

    defaults = TransferConfig()
    transfer = commands.add_parser(
        "transfer",
        help="ResNet50 transfer learning in both styles, offline (the seed's practical example)",
        parents=[data_options(sample_flags=False), output_options("json or csv")],
        description="The seed's transfer-learning model (ResNet50 without its top, global average pooling, "
        "Dense(1024, relu), Dense(10, softmax)) in both styles. With --weights pretrain (the "
        "default, offline) the network is first trained the Keras way on the source classes and "
        "its base saved; both styles load that file, freeze the base, train the head on a few "
        "labelled images of the target classes, optionally fine-tune the top stage, and are "
        "compared with the same network trained from scratch on the same labels. Options go "
        "after `transfer`.",
        epilog="Images are the dataset's grey 28x28 ones, resized and stacked to 3 channels on the 0-255 "
        "scale, then preprocessed as keras.applications.resnet50.preprocess_input does.",
    )
    options = transfer.add_argument_group("transfer learning")
    options.add_argument(
        "--weights",
        type=weights_choice,
        default=defaults.weights,
        metavar="pretrain|imagenet|none|FILE",
        help="the base's starting point: pretrain (default: pretrain here on the source classes), "
        "imagenet (Keras' download and cache, needs the internet once), none (random), or a "
        "Keras weights file (.h5 or .weights.h5) of ResNet50 without its top",
    )
    options.add_argument(
        "--image-size",
        type=image_size,
        default=defaults.image_size,
        metavar="PIXELS",
        help=f"the side the 28x28 images are resized to, 32 to {MAX_IMAGE_SIZE} "
        f"(default {defaults.image_size})",
    )
    options.add_argument(
        "--source-classes",
        type=class_list,
        default=defaults.source_classes,
        metavar="CLASSES",
        help="the pretraining task's labels (default 0-4)",
    )
    options.add_argument(
        "--target-classes",
        type=class_list,
        default=defaults.target_classes,
        metavar="CLASSES",
        help="the transfer task's labels (default 5-9)",
    )
    options.add_argument(
        "--pretrain-samples",
        type=positive_int,
        metavar="N",
        help=f"source-task images to pretrain on (default {DEFAULT_SAMPLES['pretrain_samples']}, "
        "or all there are where fewer)",
    )
    options.add_argument(
        "--pretrain-epochs",
        type=at_most(MAX_COUNT),
        default=defaults.pretrain_epochs,
        help=f"at most {MAX_COUNT:,} (default {defaults.pretrain_epochs})",
    )
    options.add_argument(
        "--save-pretrained",
        type=Path,
        metavar="FILE.weights.h5",
        help="keep the pretrained base's weights in FILE (default: a temporary file); pass it "
        "to --weights later to skip the pretraining",
    )
    options.add_argument(
        "--labels",
        type=positive_int,
        default=defaults.labels,
        metavar="N",
        help=f"labelled target-task images to train on (default {defaults.labels})",
    )
    options.add_argument(
        "--test-samples",
        type=positive_int,
        metavar="N",
        help=f"test images per task (default {DEFAULT_SAMPLES['test_samples']}, or all there are)",
    )
    options.add_argument(
        "--epochs",
        type=at_most(MAX_COUNT),
        default=defaults.epochs,
        help=f"epochs training the head on the frozen base, at most {MAX_COUNT:,} "
        f"(default {defaults.epochs})",
    )
    options.add_argument(
        "--fine-tune-epochs",
        type=at_most(MAX_COUNT, non_negative_int),
        default=defaults.fine_tune_epochs,
        help="then epochs with the top stages' convolutions unfrozen, batch norm still frozen "
        f"(default {defaults.fine_tune_epochs}: no fine-tuning)",
    )
    options.add_argument(
        "--fine-tune-lr",
        type=positive_float,
        default=defaults.fine_tune_lr,
        help=f"learning rate for fine-tuning (default {defaults.fine_tune_lr})",
    )
    options.add_argument(
        "--fine-tune-stages",
        type=stage_list,
        default=defaults.fine_tune_stages,
        metavar="STAGES",
        help="the stages fine-tuning unfreezes (default conv5)",
    )
    options.add_argument(
        "--scratch-epochs",
        type=at_most(MAX_COUNT),
        default=defaults.scratch_epochs,
        help=f"epochs training the whole network from random weights, at most {MAX_COUNT:,} "
        f"(default {defaults.scratch_epochs})",
    )
    options.add_argument(
        "--batch-size",
        type=at_most(MAX_COUNT),
        default=defaults.batch_size,
        help=f"at most {MAX_COUNT:,} (default {defaults.batch_size})",
    )
    options.add_argument(
        "--lr",
        type=positive_float,
        default=defaults.lr,
        help=f"Adam learning rate for pretraining, the head and from scratch (default {defaults.lr})",
    )
    options.add_argument(
        "--seed",
        type=at_most(MAX_SEED, non_negative_int),
        default=defaults.seed,
        help=f"0 to {MAX_SEED} (default 0)",
    )
    options.add_argument(
        "--only", choices=tuple(ONLY_CHOICES), help="run one implementation only"
    )


def build_parser():
    from compare.bench import DEFAULT_VARIANTS, VARIANTS
    from compare.code_view import MIN_SIDE_BY_SIDE_WIDTH
    from compare.predict import add_convert_parser, add_predict_parser

    parser = Parser(
        prog="python -m compare",
        parents=[
            data_options(),
            output_options(
                "json (the stable interface for scripts, with per-epoch "
                "history) or csv (one row per implementation, no history)"
            ),
        ],
        description="Train the same CNN the Keras way and the pure-TensorFlow way, with the same data, "
        "hyper-parameters and seed, and print the seed's table 'Keras vs pure TensorFlow' "
        "extended with measured rows (lines of code, parameters, timings, test scores). "
        "`python -m compare bench --help` describes the benchmark.",
        epilog="Progress goes to stderr, the report to stdout (or --output). Op determinism is on: "
        "the same flags give the same numbers.",
    )
    training = parser.add_argument_group("training (the same for both implementations)")
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
        help=f"mini-batches per graph call, for both implementations, at most {MAX_COUNT:,} "
        "(default: each style's own: Keras 1, the raw loop a whole epoch)",
    )
    training.add_argument(
        "--only", choices=tuple(ONLY_CHOICES), help="run one implementation only"
    )
    training.add_argument(
        "--backends",
        type=backend_list,
        metavar="B1,B2,...",
        help="run the Keras implementation once per Keras 3 backend (tensorflow, jax, "
        "torch), each in its own process, next to raw TF; a backend that is not "
        "installed gets a column that says so",
    )
    training.add_argument(
        "--model",
        choices=(*MODEL_NAMES, "both"),
        default="cnn",
        help="cnn (default): the seed's network; cnn_bn_dropout: with BatchNormalization "
        "after the convolution and Dropout(0.5) before the dense layer; both: a "
        "column per implementation and model",
    )
    distribute = parser.add_argument_group(
        "past one device (tf.distribute; the seed's cnn only)"
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
        type=at_most(MAX_REPLICAS),
        metavar="N",
        help=f"mirrored: replicas, at most {MAX_REPLICAS} (default: every GPU, else 2 logical "
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
        "--worker-report", type=Path, help=argparse.SUPPRESS
    )  # set by --workers
    checkpoints = parser.add_argument_group("checkpoints and export")
    checkpoints.add_argument(
        "--checkpoint-dir",
        type=Path,
        metavar="DIR",
        help="save each implementation after every epoch in DIR/<implementation>-<model>, "
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
        "the seed lecture's Portuguese",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        metavar="FILE.png",
        help="save the training curves (loss and accuracy per epoch, train and test, both "
        "implementations) as a PNG; the test set is then scored after every epoch, "
        "which the epoch timings include",
    )
    parser.add_argument(
        "--report",
        type=Path,
        metavar="FILE.html",
        help="write one self-contained HTML page: the table, the curves, lines of code per "
        "step, the concept map and both implementations side by side (scores the test "
        "set after every epoch, like --plot)",
    )
    training.add_argument(
        "--repeats",
        type=at_most(MAX_COUNT),
        default=1,
        metavar="N",
        help="train each implementation N times, interleaved (keras, raw, keras, raw, ...), "
        "and report the median timings and the median of the pairwise raw/Keras "
        f"throughput ratios, N at most {MAX_COUNT:,} (default 1)",
    )

    commands = parser.add_subparsers(
        dest="command",
        title="commands",
        metavar="{bench,code,transfer,predict,convert}",
    )
    bench = commands.add_parser(
        "bench",
        help="measure training speed against the machine's compute limit",
        parents=[
            data_options(),
            output_options(
                "json (machine, results, compute limits, ratios: "
                "the file a later run compares against) or csv"
            ),
        ],
        description="Benchmark the variants: tracing time, steady training throughput (median, min, max "
        "over interleaved repeats), inference throughput, peak RSS (one process per variant "
        "and batch size), efficiency against the compute limit (the raw training step on one "
        "resident batch looped inside one graph) and GFLOP/s against a measured fp32 matmul "
        "peak. Options go after `bench`.",
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

    code = commands.add_parser(
        "code",
        help="print the two implementations side by side, step by step",
        description="Print keras_impl/cnn.py and raw_tf_impl/cnn.py side by side, each step (define, compile, "
        "train, evaluate) of one next to the same step of the other, read from the files "
        f"themselves. Below {MIN_SIDE_BY_SIDE_WIDTH} columns the two are stacked; long lines wrap.",
    )
    code.add_argument(
        "--width",
        type=at_most(MAX_WIDTH),
        metavar="COLUMNS",
        help=f"the width to fit, at most {MAX_WIDTH} (default: the terminal's, else 120)",
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
        "as --checkpoint-dir runs it, from checkpoints.py; distributed: the seed's cnn "
        "under tf.distribute, every step from distributed.py",
    )
    add_transfer_parser(commands)
    add_predict_parser(commands)
    add_convert_parser(commands)
    return parser


def check_writable(path, flag):
    """Fail before training, not after, if an output file cannot be written."""
    if path.is_dir():
        raise OSError(f"{flag} {path} is a folder, not a file")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OSError(
            f"{flag} {path}: "
            + (
                f"{folder} is a file, not a folder"
                if folder.exists()
                else f"folder {folder} does not exist"
            )
        )
    if not os.access(path if path.exists() else folder, os.W_OK):
        raise OSError(f"{flag} {path}: not writable")


def compare(args, say, weights=None):
    """Load the data, run the implementations, return the report as a dict. A dict passed as
    `weights` receives each implementation's final weights."""
    import tensorflow as tf

    from compare.backends import run_on_backend
    from compare.checkpointing import (
        StopOnSignal,
        implementation_folder,
        prepare_folder,
    )
    from compare.distribute import KERAS_MULTIWORKER_BROKEN
    from compare.run import Config, median_of_runs, run
    from compare.stats import throughput_ratio

    tf.config.experimental.enable_op_determinism()  # same seed, same numbers
    dataset = load_and_describe(args, say)
    models = list(MODEL_NAMES) if args.model == "both" else [args.model]
    configs = {
        model: Config(
            args.epochs,
            args.batch_size,
            args.lr,
            args.seed,
            args.steps_per_execution,
            model=model,
            strategy=args.strategy,
            devices=args.devices,
            worker_timeout=args.worker_timeout,
            checkpoint_dir=args.checkpoint_dir and str(args.checkpoint_dir),
        )
        for model in models
    }
    implementations = (
        [ONLY_CHOICES[args.only]] if args.only else list(ONLY_CHOICES.values())
    )
    keras_progress = (
        1 if sys.stderr.isatty() else 2
    )  # Keras' bar on a terminal, else a line per epoch
    verbose = {
        "keras": 0 if args.quiet else keras_progress,
        "raw_tf": int(not args.quiet),
    }
    curves = bool(args.plot or args.report)
    keras_backends = args.backends or (
        None,
    )  # None: Keras in this process, on TensorFlow
    runs = {
        (model, implementation, backend): []
        for model in models
        for implementation in implementations
        for backend in (keras_backends if implementation == "keras" else (None,))
    }
    stopper = StopOnSignal(say)
    if args.checkpoint_dir:
        prepare_folder(
            args.checkpoint_dir,
            args.resume,
            {
                "dataset": dataset.name,
                "train_samples": len(dataset.x_train),
                "batch_size": args.batch_size,
                "lr": args.lr,
                "seed": args.seed,
                "model": args.model,
            },
        )
    with stopper if args.checkpoint_dir else contextlib.nullcontext():
        for repeat in range(args.repeats):
            for (
                model,
                implementation,
                backend,
            ) in runs:  # interleaved, so machine drift hits all alike
                which_run = (
                    f" (run {repeat + 1} of {args.repeats})" if args.repeats > 1 else ""
                )
                say(
                    f"Training {implementation}{f' on {backend}' if backend else ''}, {model}{which_run} ..."
                )
                if implementation == "keras" and args.strategy == "multiworker":
                    result = {
                        "implementation": "keras",
                        "model": model,
                        "unavailable": KERAS_MULTIWORKER_BROKEN,
                    }
                elif backend:
                    result = run_on_backend(backend, args, configs[model], curves)
                else:
                    folder = args.checkpoint_dir and implementation_folder(
                        args.checkpoint_dir, implementation, model
                    )
                    callbacks = (
                        [stopper.training(implementation, folder, args.epochs)]
                        if folder
                        else []
                    )
                    result = run(
                        implementation,
                        dataset,
                        configs[model],
                        verbose[implementation],
                        curves,
                        weights,
                        callbacks,
                        args.export,
                    )
                runs[model, implementation, backend].append(result)
    report = {
        "dataset": {
            "name": dataset.name,
            "source": dataset.source,
            "train_size": len(dataset.x_train),
            "test_size": len(dataset.x_test),
        },
        "config": {
            key: value
            for key, value in dataclasses.asdict(configs[models[0]]).items()
            if key != "model"
        },
        "results": [median_of_runs(model_runs) for model_runs in runs.values()],
    }
    reference = (
        "tensorflow" if "tensorflow" in keras_backends else keras_backends[0]
    )  # Keras for the ratio
    if args.strategy != "none":
        from compare.distribute import strategy_for

        report["config"]["replicas"] = strategy_for(
            configs[models[0]]
        ).num_replicas_in_sync
    if (
        len(implementations) == 2
        and (model_runs := runs[models[0], "keras", reference])
        and "unavailable" not in model_runs[0]
    ):
        ratios = {
            model: throughput_ratio(
                runs[model, "raw_tf", None], runs[model, "keras", reference]
            )
            for model in models
        }
        report["raw_over_keras_steady_throughput"] = ratios[models[0]]
        if len(models) > 1:
            report["raw_over_keras_steady_throughput_by_model"] = ratios
    return report


def load_and_describe(args, say):
    from compare.data import load_dataset

    dataset = load_dataset(args.dataset, args.data_dir).subset(
        args.train_samples, args.test_samples
    )
    bench = args.command == "bench"
    for batch_size in (
        args.batch_sizes if bench else [args.batch_size]
    ):  # a batch beyond the set: a typo
        if batch_size > len(
            dataset.x_train
        ):  # (and bench would time a smaller batch than it reports)
            raise CompareError(
                f"--batch-size{'s' if bench else ''} {batch_size} is larger than the "
                f"{len(dataset.x_train)} training images; lower it or train on more images"
            )
    say(
        f"Dataset: {dataset.name} from {dataset.source} "
        f"({len(dataset.x_train)} train / {len(dataset.x_test)} test images)"
    )
    return dataset


def run_bench(args, say):
    from compare.bench import BenchConfig, bench

    dataset = load_and_describe(args, say)  # fails fast, before any worker starts
    config = BenchConfig(
        dataset.name,
        args.data_dir and str(args.data_dir),
        args.train_samples,
        args.test_samples,
        args.batch_sizes,
        args.repeats,
        args.epochs,
        args.variants,
        args.seed,
        args.model,
    )
    return bench(config, say)


def run_transfer(args, say):
    import tensorflow as tf

    from compare.data import load_dataset
    from compare.transfer import transfer
    from compare.transfer_config import TransferConfig

    if set(args.source_classes) & set(args.target_classes):
        raise CompareError(
            "--source-classes and --target-classes overlap: transfer needs a different task"
        )
    if args.save_pretrained and not args.save_pretrained.name.endswith(".weights.h5"):
        raise CompareError(
            f"--save-pretrained {args.save_pretrained}: Keras needs a name ending in .weights.h5"
        )
    tf.config.experimental.enable_op_determinism()
    tf.get_logger().setLevel(
        "ERROR"
    )  # each phase compiles anew: Keras' retracing warnings are expected
    dataset = load_dataset(args.dataset, args.data_dir)
    say(f"Dataset: {dataset.name} from {dataset.source}")
    config = TransferConfig(
        **{
            field.name: getattr(args, field.name)
            for field in dataclasses.fields(TransferConfig)
        }
    )
    implementations = (
        [ONLY_CHOICES[args.only]] if args.only else list(ONLY_CHOICES.values())
    )
    verbose = 0 if args.quiet else (1 if sys.stderr.isatty() else 2)
    return transfer(
        dataset, config, implementations, say, verbose, args.save_pretrained
    )


def write_figures(report, args, say):
    """The --plot PNG and the --report HTML page, where asked for."""
    if args.plot:
        from compare.plots import png_bytes, training_curves

        args.plot.write_bytes(png_bytes(training_curves(report["results"], args.lang)))
        say(f"Wrote {args.plot}")
    if args.report:
        from compare.html_report import render_html

        args.report.write_text(render_html(report, args.lang), encoding="utf-8")
        say(f"Wrote {args.report}")


def show_code(args):
    import shutil

    from compare.code_view import implementation_steps, render_code
    from compare.i18n import step_titles

    width = args.width or shutil.get_terminal_size((120, 40)).columns
    colour = args.color == "always" or (
        args.color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    )
    return render_code(
        step_titles(args.lang), width, colour, implementation_steps(args.model)
    )


def check_strategy_flags(args):
    """The combinations --strategy supports; anything else is one clear error, before any work."""
    if args.strategy == "none":
        for flag in ("devices", "workers"):
            if getattr(args, flag):
                raise CompareError(
                    f"--{flag} needs --strategy {'mirrored' if flag == 'devices' else 'multiworker'}"
                )
        return
    if args.devices and args.strategy != "mirrored":
        raise CompareError(
            "--devices is for --strategy mirrored (multiworker: one device per worker)"
        )
    if args.workers and args.strategy != "multiworker":
        raise CompareError("--workers is for --strategy multiworker")
    for flag in ("plot", "report", "backends", "steps_per_execution"):
        if getattr(args, flag):
            raise CompareError(
                f"--{flag.replace('_', '-')} does not combine with --strategy {args.strategy}"
            )
    if args.model != "cnn":
        raise CompareError(
            f"--strategy {args.strategy} trains the seed's cnn only (not --model {args.model})"
        )
    if args.strategy == "multiworker" and not args.workers:
        from compare.distribute import read_tf_config

        read_tf_config()  # a bad TF_CONFIG fails here, before any work


def check_saving_flags(args):
    """--checkpoint-dir, --resume and --export: what they combine with, and no file to overwrite."""
    if args.resume and not args.checkpoint_dir:
        raise CompareError("--resume needs --checkpoint-dir, the folder to resume from")
    for flag in ("checkpoint_dir", "export"):
        for other, value in (
            ("strategy", args.strategy != "none"),
            ("backends", args.backends),
            ("repeats", args.repeats > 1),
        ):
            if getattr(args, flag) and value:
                raise CompareError(
                    f"--{flag.replace('_', '-')} does not combine with --{other}"
                )
    if args.export:
        from compare.predict import check_export

        check_export(
            args.export,
            [ONLY_CHOICES[args.only]] if args.only else ONLY_CHOICES.values(),
            list(MODEL_NAMES) if args.model == "both" else [args.model],
        )


def worker_argv(argv):
    """This command's arguments for a worker process: the same, less --workers N."""
    arguments, skip = [], False
    for argument in argv:
        if skip or argument.startswith("--workers="):
            skip = False
        elif argument == "--workers":
            skip = True
        else:
            arguments.append(argument)
    return arguments


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)

    def say(message):
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    from compare.report import render, render_bench, render_transfer

    try:
        for flag in ("output", "plot", "report", "save_pretrained"):
            if getattr(args, flag, None):
                check_writable(getattr(args, flag), f"--{flag.replace('_', '-')}")
        if args.command is None:
            check_strategy_flags(args)
            check_saving_flags(args)
        if args.command == "code":
            text = show_code(args)
        elif args.command == "bench":  # the workers load TensorFlow, not this process
            text = render_bench(run_bench(args, say), args.format)
        elif args.command == "transfer":
            load_tensorflow_quietly()
            with contextlib.redirect_stdout(sys.stderr):
                text = render_transfer(run_transfer(args, say), args.format)
        elif args.command in ("predict", "convert"):
            from compare.predict import run_convert, run_predict

            load_tensorflow_quietly()
            with contextlib.redirect_stdout(
                sys.stderr
            ):  # Keras' messages never mix with the table
                text = (run_predict if args.command == "predict" else run_convert)(
                    args, say
                )
        elif args.workers:  # this process only watches: the workers train
            from compare.distribute import merge_worker_reports, run_local_workers

            report = merge_worker_reports(
                run_local_workers(
                    worker_argv(argv), args.workers, args.worker_timeout + 120, say
                )
            )
            text = render(report, args.format, args.lang)
        else:
            load_tensorflow_quietly()  # after parsing, so --help and bad flags answer at once
            weights = {} if args.worker_report else None
            with contextlib.redirect_stdout(
                sys.stderr
            ):  # progress bars never mix with the report
                report = compare(args, say, weights)
                text = render(report, args.format, args.lang)
            if (
                args.worker_report
            ):  # a worker started by --workers: its report goes to the parent
                from compare.distribute import save_worker_report

                save_worker_report(report, weights, args.worker_report)
                return 0
            write_figures(report, args, say)
        if getattr(args, "output", None):
            args.output.write_text(text)
            say(f"Wrote {args.output}")
        else:
            sys.stdout.write(text)
    except (CompareError, OSError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return getattr(error, "exit_code", 1)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    return 0
