"""What every command's parser shares: one-line errors, capped numbers, the data and
output options, --lang (compare/safety/paths.py checks the paths)."""

import argparse
import contextlib
import math
from itertools import pairwise
from pathlib import Path

from compare.language import LANGUAGES, N_, _, number
from compare.styles import FLAGS

FORMATS = ("table", "markdown", "json", "csv")
ONLY_CHOICES = tuple(FLAGS)  # --only keras | raw


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        self.exit(2, f"{self.prog}: {_('error')}: {message} ({_('see --help')})\n")


MAX_COUNT = 10**6  # epochs, repeats, batches: beyond a million, a typo
MAX_SEED = 2**32 - 1  # NumPy's seed limit, which keras.utils.set_random_seed inherits
MAX_WIDTH = 1000  # columns for `compare code`: wider than any terminal
MAX_IMAGE_SIZE = 224  # ResNet50's ImageNet size; larger only costs memory
MAX_REPLICAS = 256  # --devices, --workers: more than any one machine's GPUs or a laptop's processes
MAX_TIMEOUT = 7 * 24 * 3600  # seconds: a week; beyond, a worker waiting is a hang


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
        raise argparse.ArgumentTypeError(
            _("must be a positive integer, got {text}").format(text=repr(text))
        )
    return value


def non_negative_int(text):
    value = decimal_int(text)
    if value is None:
        raise argparse.ArgumentTypeError(
            _("must be a non-negative integer, got {text}").format(text=repr(text))
        )
    return value


def at_most(limit, parse=positive_int):
    """`parse`, then a cap: an absurd value is an error at once, not a crash or a hang hours later."""

    def parse_capped(text):
        value = parse(text)
        if value > limit:
            raise argparse.ArgumentTypeError(
                _("must be at most {limit}, got {text}").format(
                    limit=number(limit), text=repr(text)
                )
            )
        return value

    return parse_capped


def between(minimum, maximum):
    """An integer from `minimum` to `maximum`: below, the command cannot do its work;
    above, at_most's reason."""

    def parse_bounded(text):
        value = at_most(maximum)(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(
                _("must be at least {minimum}, got {text}").format(
                    minimum=minimum, text=repr(text)
                )
            )
        return value

    return parse_bounded


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(
            _("must be a positive number, got {text}").format(text=repr(text))
        )
    return value


def data_options(sample_flags=True):
    """--dataset and --data-dir; with `sample_flags` --train-samples and --test-samples too,
    or with sample_flags="train" --train-samples alone."""
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
    if sample_flags is True:
        data.add_argument(
            "--test-samples",
            type=positive_int,
            metavar="N",
            help="test on the first N images",
        )
    return options


def output_options(json_help, formats=FORMATS):
    options = Parser(add_help=False)
    output = options.add_argument_group("output")
    output.add_argument(
        "--format",
        choices=formats,
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


# argparse's own messages: it looks them up with gettext.gettext, which reads compare.mo
# while cli.main runs (language.speaking_for_the_process).
ARGPARSE_MESSAGES = (
    N_("usage: "),
    N_("unrecognized arguments: %s"),
    N_("the following arguments are required: %s"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("expected one argument"),
    N_("expected at least one argument"),
    N_("expected at most one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("not allowed with argument %s"),
    N_("ignored explicit argument %r"),
    N_("one of the arguments %s is required"),
    N_("show this help message and exit"),
    N_("options"),
    N_("positional arguments"),
)


def add_language_option(parser):
    """--lang on every command (those that word tables already have their own)."""
    with contextlib.suppress(argparse.ArgumentError):  # the command has its own --lang
        parser.add_argument(
            "--lang",
            choices=LANGUAGES,
            default="en",
            help="language of the output: en (default) or pt (Brazilian Portuguese)",
        )


def choose_language(argv):
    """--lang from the command line (the last valid one), read before parsing so that
    argparse's own errors speak it too (cli.main sets gettext's language with it); a bad
    or missing value is left for the parser to refuse."""
    given = [
        argument.partition("=")[2] if argument.startswith("--lang=") else following
        for argument, following in pairwise([*argv, None])
        if argument == "--lang" or argument.startswith("--lang=")
    ]
    return next((value for value in reversed(given) if value in LANGUAGES), "en")


def host_and_port(text):
    """--coordinator's HOST:PORT, the port from 1 to 65535."""
    host, _colon, port = text.rpartition(":")
    if not (host and port.isdigit() and 1 <= int(port) <= 65535):
        raise argparse.ArgumentTypeError(
            _("{text}: expected HOST:PORT, a port from 1 to 65535").format(text=text)
        )
    return text


def fraction(text):
    value = positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(_("must be between 0 and 1"))
    return value


def pair_rounds(text):
    """0 (skip the pairs), or enough rounds for an interval: at least 3."""
    rounds = non_negative_int(text)
    if 0 < rounds < 3:
        raise argparse.ArgumentTypeError(
            _("must be 0 (skip the pairs) or at least 3, for an interval")
        )
    return rounds


def at_least_two(text):
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(_("must be at least 2, to have a spread"))
    return value


def seeds_and_speed_options():
    """The main command's --same-start, --seeds and the matched pairs' settings."""
    options = Parser(add_help=False)
    training = options.add_argument_group("accuracy over seeds")
    training.add_argument(
        "--same-start",
        action="store_true",
        help="start raw TF from the Keras model's initial weights (both styles already "
        "see the same batches), so the table shows one model: equal accuracies",
    )
    training.add_argument(
        "--seeds",
        type=at_most(MAX_COUNT),
        default=1,
        metavar="N",
        help="train each style from N independent initialisations (--seed, --seed + 1, "
        "...) and report the mean and spread of the test accuracy and the training "
        "time to reach --target-accuracy (default 1)",
    )
    training.add_argument(
        "--target-accuracy",
        type=fraction,
        default=0.88,
        metavar="A",
        help="the test accuracy --seeds times each run to, between 0 and 1 (default "
        "0.88, for Fashion-MNIST)",
    )
    speed = options.add_argument_group(
        "speed (the matched pairs: each style timed on loops of the same kind)"
    )
    speed.add_argument(
        "--pair-rounds",
        type=at_most(MAX_COUNT, pair_rounds),
        default=5,
        metavar="N",
        help="interleaved rounds per pair (one batch per graph call; fused; the train "
        "step alone), each ratio the median of the rounds with a 95%% interval; 0 "
        "skips the pairs (default 5)",
    )
    speed.add_argument(
        "--pair-steps",
        type=at_most(MAX_COUNT),
        default=32,
        metavar="N",
        help="mini-batches per style in each round of each pair (default 32)",
    )
    return options
