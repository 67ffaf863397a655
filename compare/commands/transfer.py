"""`python -m compare transfer`: the lecture's ResNet50 transfer-learning example in both
styles, offline (compare/transfer/)."""

import argparse
import contextlib
import dataclasses
import sys
from pathlib import Path

from compare import data
from compare.commands.options import (
    MAX_COUNT,
    MAX_IMAGE_SIZE,
    MAX_SEED,
    ONLY_CHOICES,
    at_most,
    data_options,
    non_negative_int,
    output_options,
    positive_float,
    positive_int,
)
from compare.errors import CompareError
from compare.language import _, number
from compare.quiet import load_tensorflow_quietly
from compare.styles import chosen
from compare.transfer.config import DEFAULT_SAMPLES, TransferConfig
from compare.views.transfer_report import render_transfer

NAME = "transfer"
INPUTS = ("data_dir", "weights")  # the paths this command reads and writes
OUTPUTS = ("output", "save_pretrained")


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
            _("must be labels in 0-9 such as 0-4 or 5,6,7, got {text}").format(
                text=repr(text)
            )
        )
    return classes


def image_size(text):
    value = positive_int(text)
    if value < 32:
        raise argparse.ArgumentTypeError(
            _("ResNet50 needs images of at least 32x32, got {value}").format(
                value=value
            )
        )
    if value > MAX_IMAGE_SIZE:
        raise argparse.ArgumentTypeError(
            _("must be at most {limit} (ResNet50's ImageNet size), got {value}").format(
                limit=number(MAX_IMAGE_SIZE), value=value
            )
        )
    return value


def weights_choice(text):
    if text in ("pretrain", "imagenet", "none"):
        return text
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(
            _(
                "must be pretrain, imagenet, none or a weights file; {text} is no file"
            ).format(text=repr(text))
        )
    return text


def stage_list(text):
    stages = tuple(text.split(","))
    if not all(stage in ("conv2", "conv3", "conv4", "conv5") for stage in stages):
        raise argparse.ArgumentTypeError(
            _("must be stages among conv2,conv3,conv4,conv5, got {text}").format(
                text=repr(text)
            )
        )
    return stages


def add_parser(commands):

    defaults = TransferConfig()
    transfer = commands.add_parser(
        "transfer",
        help="ResNet50 transfer learning in both styles, offline (the lecture's practical example)",
        parents=[data_options(sample_flags=False), output_options("json or csv")],
        description="The lecture's transfer-learning model (ResNet50 without its top, global average pooling, "
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
    options.add_argument("--only", choices=ONLY_CHOICES, help="run one style only")
    transfer.set_defaults(run=run)


def run(args, say):
    """Train and compare; returns the rendered table."""
    if set(args.source_classes) & set(args.target_classes):
        raise CompareError(
            _(
                "--source-classes and --target-classes overlap: transfer needs a "
                "different task"
            )
        )
    if args.save_pretrained and not args.save_pretrained.name.endswith(".weights.h5"):
        raise CompareError(
            _(
                "--save-pretrained {path}: Keras needs a name ending in .weights.h5"
            ).format(path=args.save_pretrained)
        )
    load_tensorflow_quietly()
    import tensorflow as tf

    from compare.transfer.transfer import transfer

    tf.config.experimental.enable_op_determinism()
    # Each phase compiles anew: Keras' retracing warnings are expected.
    tf.get_logger().setLevel("ERROR")
    dataset = data.load_dataset(args.dataset, args.data_dir)
    say(
        _("Dataset: {name} from {source}").format(
            name=dataset.name, source=_(dataset.source)
        )
    )
    config = TransferConfig(
        **{
            field.name: getattr(args, field.name)
            for field in dataclasses.fields(TransferConfig)
        }
    )
    styles = chosen(args.only)
    verbose = 0 if args.quiet else (1 if sys.stderr.isatty() else 2)
    # Keras' messages go to stderr: they never mix with the table.
    with contextlib.redirect_stdout(sys.stderr):
        report = transfer(dataset, config, styles, say, verbose, args.save_pretrained)
    return render_transfer(report, args.format)
