"""Exported models: classify images with one (`python -m compare predict`), export one after training,
and the `predict` and `convert` subcommands.

A model is a `.keras` file (keras_impl/export.py) or a SavedModel folder with a serving signature
(raw_tf_impl/export.py). Images are PNG files or one .npz. TensorFlow and Keras are imported
inside the functions, so `--help` answers at once.
"""

import dataclasses
import importlib
from pathlib import Path

import numpy as np

from compare.data import (
    IMAGE_SHAPE,
    DataError,
    check_labels,
    normalise_images,
    read_npz_arrays,
)
from compare.errors import CompareError

PACKAGES = {"keras": "keras_impl", "raw_tf": "raw_tf_impl"}
TO_CHOICES = {"keras": "keras", "raw": "raw_tf"}  # --to
NPZ_KEYS = (
    ("x", "y"),
    ("images", "labels"),
    ("x_test", "y_test"),
)  # (images, optional labels): first found
BATCH_SIZE = (
    256  # images per forward pass: 10,000 at once would hold ~0.9 GB of activations
)


class ModelError(CompareError):
    """A model that is missing, unreadable, or not one this project exports."""


# Images --------------------------------------------------------------------------------
def read_images(paths):
    """(images, labels or None, names): float32 (N, 28, 28, 1) in [0, 1] from one .npz, or from
    PNG files (any name but .npz is decoded as an image), converted to grey."""
    paths = [Path(path) for path in paths]
    if any(path.suffix == ".npz" for path in paths):
        if len(paths) > 1:
            raise DataError(
                "--images takes one .npz file or PNG files, not several files with an .npz"
            )
        return read_npz(paths[0])
    pixels = np.stack([read_png(path) for path in paths])  # (N, 28, 28, 1) uint8
    return normalise_images(pixels, "--images"), None, [str(path) for path in paths]


def read_png(path):
    import tensorflow as tf

    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataError(f"{path}: cannot read it ({error.strerror})") from None
    try:
        pixels = tf.io.decode_png(
            data, channels=1
        ).numpy()  # (height, width, 1) uint8, grey whatever the colours
    except tf.errors.OpError:
        pixels = None
    if pixels is None or pixels.ndim != 3:  # an animated GIF would decode to frames
        raise DataError(f"{path}: not a readable PNG file")
    height, width = pixels.shape[:2]
    if (height, width) != IMAGE_SHAPE:
        raise DataError(
            f"model expects {IMAGE_SHAPE[1]}x{IMAGE_SHAPE[0]} images, {path} is {width}x{height}"
        )
    return pixels


def read_npz(path):
    """The first of the arrays x, images, x_test, checked like a dataset's, and its labels y, labels,
    y_test where present."""

    def image_and_label_keys(names):
        keys = next(((x, y) for x, y in NPZ_KEYS if x in names), None)
        if keys is None:
            raise DataError(
                f"{path}: no images: needs an array named {', '.join(x for x, _ in NPZ_KEYS)} "
                f"(found {', '.join(names) or 'none'})"
            )
        return [key for key in keys if key in names]

    arrays = read_npz_arrays(path, image_and_label_keys)
    (image_key, images), *labelled = arrays.items()
    images = normalise_images(images, f"{path}: {image_key}")
    if len(images) == 0:
        raise DataError(f"{path}: {image_key} holds no images")
    labels = None
    if labelled:
        label_key, labels = labelled[0]
        labels = check_labels(labels, f"{path}: {label_key}")
        if len(labels) != len(images):
            raise DataError(
                f"{path}: {len(images)} images in {image_key} but {len(labels)} labels in {label_key}"
            )
    return images, labels, [f"{path.name}[{index}]" for index in range(len(images))]


# Models --------------------------------------------------------------------------------
def export_module(implementation):
    """keras_impl/export.py or raw_tf_impl/export.py: step 5 of each style."""
    return importlib.import_module(f"{PACKAGES[implementation]}.export")


@dataclasses.dataclass
class Classifier:
    path: Path
    implementation: str  # "keras" or "raw_tf"
    model: object  # the Keras model, or the loaded SavedModel
    input_shape: tuple  # (height, width, channels)

    def probabilities(self, images):
        """(N, classes) class probabilities, a batch at a time."""
        export = export_module(self.implementation)
        return np.concatenate(
            [
                export.predict_probabilities(
                    self.model, images[start : start + BATCH_SIZE]
                )
                for start in range(0, len(images), BATCH_SIZE)
            ]
        )


def first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def load_classifier(path):
    """A `.keras` file -> the Keras model; a folder holding saved_model.pb -> the raw SavedModel."""
    path = Path(path)
    if not path.exists():
        raise ModelError(f"{path}: no such file or folder")
    if path.is_file() and path.suffix == ".keras":
        implementation = "keras"
    elif (path / "saved_model.pb").is_file():
        implementation = "raw_tf"
    else:
        raise ModelError(
            f"{path}: not a model: expected a .keras file or a SavedModel folder holding saved_model.pb"
        )
    try:
        model = export_module(implementation).load(path)
    except Exception as error:  # zip, HDF5, protobuf or Keras config: any reader's failure is the file's
        raise ModelError(
            f"{path}: not a readable {implementation} model ({first_line(error)})"
        ) from None
    return Classifier(
        path, implementation, model, input_shape(implementation, model, path)
    )


def input_shape(implementation, model, path):
    """(height, width, channels) the model takes: Keras records it, a SavedModel in its signature."""
    if implementation == "keras":
        return tuple(model.input_shape[1:])  # (None, 28, 28, 1) -> (28, 28, 1)
    serve = model.signatures.get("serving_default")
    inputs = serve.structured_input_signature[1] if serve is not None else {}
    if len(inputs) != 1 or "probabilities" not in serve.structured_outputs:
        raise ModelError(
            f"{path}: no serving signature taking images and returning 'probabilities' "
            f"(save it with raw_tf_impl/export.py)"
        )
    return tuple(next(iter(inputs.values())).shape[1:])


def check_reads_digits(classifier):
    if classifier.input_shape != (*IMAGE_SHAPE, 1):
        raise ModelError(
            f"{classifier.path} takes inputs shaped {classifier.input_shape}; "
            f"predict reads 28x28 grey images"
        )


def predict(path, images):
    """The probabilities (N, 10) the model at `path` gives float32 images (N, 28, 28, 1) in [0, 1]."""
    classifier = load_classifier(path)
    check_reads_digits(classifier)
    return classifier.probabilities(images)


# Export after training -----------------------------------------------------------------
def export_path(folder, implementation, model_name="cnn"):
    """Where `--export DIR` puts a trained model: DIR/keras_cnn.keras, DIR/raw_tf_cnn/ (a SavedModel)."""
    name = f"{implementation}_{model_name}"
    return Path(folder) / (f"{name}.keras" if implementation == "keras" else name)


def refuse_to_overwrite(path, flag):
    """The project's rule: never overwrite a file the user did not name."""
    if path.exists() or path.is_symlink():
        raise ModelError(
            f"{flag}: {path} already exists; not overwriting it (move it away or choose another path)"
        )


def check_export(folder, implementations, model_names):
    """Fail before training, not after, where an export would overwrite something."""
    for implementation in implementations:
        for model_name in model_names:
            refuse_to_overwrite(
                export_path(folder, implementation, model_name), "--export"
            )


def export_model(
    implementation, model, folder, model_name="cnn", input_shape=(*IMAGE_SHAPE, 1)
):
    """Save a trained model under `folder` (created if missing) the way its style does; returns the path."""
    path = export_path(folder, implementation, model_name)
    refuse_to_overwrite(path, "--export")
    path.parent.mkdir(parents=True, exist_ok=True)
    if implementation == "keras":
        export_module("keras").save(model, path)
    else:
        export_module("raw_tf").save(model, path, input_shape)
    return path


# python -m compare predict -------------------------------------------------------------
def add_predict_parser(commands):
    from compare.cli import output_options

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
        help="a .keras file or a SavedModel folder (holding saved_model.pb)",
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


def run_predict(args, say):
    from compare.report import report_text

    classifier = load_classifier(args.model)
    check_reads_digits(classifier)
    images, labels, names = read_images(args.images)
    say(
        f"Classifying {len(images)} images with {classifier.path} ({classifier.implementation})"
    )
    report = prediction_report(
        classifier, names, classifier.probabilities(images), labels
    )
    has_labels = labels is not None
    headers = ["Image", "Predicted", "Probability", *(["Label"] if has_labels else [])]
    rows = [
        [
            row["image"],
            row["predicted"],
            f"{row['probability']:.4f}",
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
        "Predictions",
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
        for index, (name, label, row) in enumerate(zip(names, predicted, probabilities))
    ]
    report = {
        "model": str(classifier.path),
        "implementation": classifier.implementation,
        "predictions": rows,
    }
    if labels is not None:
        report["accuracy"] = float(np.mean(predicted == labels))
    return report


def prediction_summary(report):
    from compare.i18n import TEXT

    count = len(report["predictions"])
    text = f"{report['model']} ({TEXT['en'][report['implementation']]}), {count} images"
    if "accuracy" in report:
        right = sum(row["predicted"] == row["label"] for row in report["predictions"])
        text += f"; accuracy {report['accuracy']:.4f} ({right} of {count} right)"
    return text


# python -m compare convert -------------------------------------------------------------
def add_convert_parser(commands):
    convert_command = commands.add_parser(
        "convert",
        help="turn a .keras file into a raw SavedModel folder, or back, by an explicit weight mapping",
        description="Copy the weights of the seed's cnn or cnn_bn_dropout from one style's export into a new "
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
        help="a .keras file or a SavedModel folder (holding saved_model.pb)",
    )
    convert_command.add_argument(
        "--to", choices=tuple(TO_CHOICES), required=True, help="the style to convert to"
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


def run_convert(args, say):
    from tabulate import tabulate

    from compare.convert import convert

    report = convert(args.model, TO_CHOICES[args.to], args.destination)
    say(f"Wrote {args.destination}")
    rows = [
        [weight["keras"], weight["raw_tf"], " x ".join(map(str, weight["shape"]))]
        for weight in report["weights"]
    ]
    return (
        f"{report['model']}: {report['source']} -> {report['destination']}\n\n"
        f"{tabulate(rows, ['Keras weight', 'Raw variable', 'Shape'], tablefmt='rounded_outline')}\n"
    )
