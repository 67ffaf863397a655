"""Exported models: load one and classify images with it (`python -m compare predict`).

A model is a `.keras` file (keras_impl/export.py) or a SavedModel folder with a serving signature
(raw_tf_impl/export.py). Images are PNG files or one .npz. TensorFlow and Keras are imported
inside the functions, so `--help` answers at once.
"""

import dataclasses
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
from compare.language import _, number
from compare.styles import STYLES

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
                _(
                    "--images takes one .npz file or PNG files, not several files with an .npz"
                )
            )
        return read_npz(paths[0])
    pixels = np.stack([read_png(path) for path in paths])  # (N, 28, 28, 1) uint8
    return normalise_images(pixels, "--images"), None, [str(path) for path in paths]


def read_png(path):
    import tensorflow as tf

    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataError(
            _("{path}: cannot read it ({reason})").format(
                path=path, reason=error.strerror
            )
        ) from None
    try:
        pixels = tf.io.decode_png(
            data, channels=1
        ).numpy()  # (height, width, 1) uint8, grey whatever the colours
    except tf.errors.OpError:
        pixels = None
    if pixels is None or pixels.ndim != 3:  # an animated GIF would decode to frames
        raise DataError(_("{path}: not a readable PNG file").format(path=path))
    height, width = pixels.shape[:2]
    if (height, width) != IMAGE_SHAPE:
        raise DataError(
            _(
                "model expects {model_width}x{model_height} images, {path} is "
                "{width}x{height}"
            ).format(
                model_width=IMAGE_SHAPE[1],
                model_height=IMAGE_SHAPE[0],
                path=path,
                width=width,
                height=height,
            )
        )
    return pixels


def read_npz(path):
    """The first of the arrays x, images, x_test, checked like a dataset's, and its labels y, labels,
    y_test where present."""

    def image_and_label_keys(names):
        keys = next(((x, y) for x, y in NPZ_KEYS if x in names), None)
        if keys is None:
            message = (
                _("{path}: no images: needs an array named {needed} (found {found})")
                if names
                else _("{path}: no images: needs an array named {needed} (found none)")
            )
            raise DataError(
                message.format(
                    path=path,
                    needed=", ".join(x for x, _y in NPZ_KEYS),
                    found=", ".join(names),
                )
            )
        return [key for key in keys if key in names]

    arrays = read_npz_arrays(path, image_and_label_keys)
    (image_key, images), *labelled = arrays.items()
    images = normalise_images(images, f"{path}: {image_key}")
    if len(images) == 0:
        raise DataError(
            _("{path}: {key} holds no images").format(path=path, key=image_key)
        )
    labels = None
    if labelled:
        label_key, labels = labelled[0]
        labels = check_labels(labels, f"{path}: {label_key}")
        if len(labels) != len(images):
            raise DataError(
                _(
                    "{path}: {images} images in {image_key} but {labels} labels in "
                    "{label_key}"
                ).format(
                    path=path,
                    images=number(len(images)),
                    image_key=image_key,
                    labels=number(len(labels)),
                    label_key=label_key,
                )
            )
    return images, labels, [f"{path.name}[{index}]" for index in range(len(images))]


# Models --------------------------------------------------------------------------------
def export_module(implementation):
    """keras_impl/export.py or raw_tf_impl/export.py: step 5 of each style."""
    return STYLES[implementation].module("export")


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
        raise ModelError(_("{path}: no such file or folder").format(path=path))
    if path.is_file() and path.suffix == ".keras":
        implementation = "keras"
    elif (path / "saved_model.pb").is_file():
        implementation = "raw_tf"
    else:
        raise ModelError(
            _(
                "{path}: not a model: expected a .keras file or a SavedModel folder "
                "holding saved_model.pb"
            ).format(path=path)
        )
    try:
        model = export_module(implementation).load(path)
    except Exception as error:  # zip, HDF5, protobuf or Keras config: any reader's failure is the file's
        raise ModelError(
            _("{path}: not a readable {implementation} model ({error})").format(
                path=path, implementation=implementation, error=first_line(error)
            )
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
            _(
                "{path}: no serving signature taking images and returning "
                "'probabilities' (save it with raw_tf_impl/export.py)"
            ).format(path=path)
        )
    return tuple(next(iter(inputs.values())).shape[1:])


def check_reads_digits(classifier):
    if classifier.input_shape != (*IMAGE_SHAPE, 1):
        raise ModelError(
            _(
                "{path} takes inputs shaped {shape}; predict reads 28x28 grey images"
            ).format(path=classifier.path, shape=classifier.input_shape)
        )


def predict(path, images):
    """The probabilities (N, 10) the model at `path` gives float32 images (N, 28, 28, 1) in [0, 1]."""
    classifier = load_classifier(path)
    check_reads_digits(classifier)
    return classifier.probabilities(images)
