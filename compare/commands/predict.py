"""`python -m compare predict`: classify images with an exported model of either style
(compare/saved/predict.py)."""

import contextlib
import sys
from pathlib import Path

import numpy as np

from compare.commands.options import output_options
from compare.language import _, language, number, quantity
from compare.quiet import load_tensorflow_quietly
from compare.saved.predict import check_reads_digits, load_classifier, read_images
from compare.views.i18n import TEXT
from compare.views.report import report_text

NAME = "predict"
INPUTS = ("model", "images")
OUTPUTS = ("output",)


def add_parser(commands):
    predict_command = commands.add_parser(
        "predict",
        help="classify images with an exported model (a .keras file or a raw SavedModel folder)",
        parents=[output_options("json (with every class's probability) or csv")],
        description="Load a model saved by keras_impl/export.py (a .keras file) or raw_tf_impl/export.py (a "
        "SavedModel folder, through its serving signature) and classify images: a row per image with "
        "the predicted label and its probability, and the accuracy where labels come with them. "
        "Options go after `predict`.",
    )
    predict_command.add_argument(
        "--model",
        type=Path,
        required=True,
        metavar="PATH",
        help="a .keras file or a SavedModel folder (holding saved_model.pb) that this "
        "project exported; any other is refused before it runs",
    )
    predict_command.add_argument(
        "--images",
        type=Path,
        nargs="+",
        required=True,
        metavar="FILE",
        help="28x28 PNG files (colour ones are turned grey), or one .npz holding the "
        "images as x, images or x_test (uint8 0-255 or floats in [0, 1], shaped "
        "(N, 28, 28) or (N, 28, 28, 1)) and optionally the labels as y, labels or "
        "y_test respectively",
    )
    predict_command.set_defaults(run=run)


def run(args, say):
    """Classify the images; returns the rendered table."""

    load_tensorflow_quietly()
    # Keras' messages go to stderr: they never mix with the table.
    with contextlib.redirect_stdout(sys.stderr):
        return prediction_text(args, say)


def prediction_text(args, say):

    classifier = load_classifier(args.model)
    check_reads_digits(classifier)
    images, labels, names = read_images(args.images)
    say(
        _("Classifying {images} with {path} ({style})").format(
            images=quantity(len(images), "{count} image", "{count} images"),
            path=classifier.path,
            style=classifier.style,
        )
    )
    report = prediction_report(
        classifier, names, classifier.probabilities(images), labels
    )
    has_labels = labels is not None
    headers = [
        _("Image"),
        _("Predicted"),
        _("Probability"),
        *([_("Label")] if has_labels else []),
    ]
    rows = [
        [
            row["image"],
            row["predicted"],
            number(row["probability"], 4),
            *([row["label"]] if has_labels else []),
        ]
        for row in report["predictions"]
    ]
    flat_rows = [
        {key: value for key, value in row.items() if key != "probabilities"}
        for row in report["predictions"]
    ]
    return report_text(
        report,
        args.format,
        _("Predictions"),
        headers,
        rows,
        prediction_summary(report),
        flat_rows,
    )


def prediction_report(classifier, names, probabilities, labels=None):
    predicted = probabilities.argmax(axis=1)
    rows = [
        {
            "image": name,
            "predicted": int(label),
            "probability": float(row[label]),
            **({} if labels is None else {"label": int(labels[index])}),
            "probabilities": [float(value) for value in row],
        }
        for index, (name, label, row) in enumerate(
            zip(names, predicted, probabilities, strict=True)
        )
    ]
    report = {
        "model": str(classifier.path),
        "implementation": classifier.style,
        "predictions": rows,
    }
    if labels is not None:
        report["accuracy"] = float(np.mean(predicted == labels))
    return report


def prediction_summary(report):

    count = len(report["predictions"])
    described = {
        "model": report["model"],
        "style": TEXT[language()][report["implementation"]],
        "count": number(count),
        "images": quantity(count, "{count} image", "{count} images"),
    }
    if "accuracy" not in report:
        return _("{model} ({style}), {images}").format(**described)
    right = sum(row["predicted"] == row["label"] for row in report["predictions"])
    return _(
        "{model} ({style}), {images}; accuracy {accuracy} ({right} of {count} right)"
    ).format(**described, accuracy=number(report["accuracy"], 4), right=number(right))
