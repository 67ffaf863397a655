"""Exported models: load one and classify images with it (`python -m compare predict`).

A model is a `.keras` file (keras_impl/export.py) or a SavedModel folder with a serving signature
(raw_tf_impl/export.py), checked to be one this project exported before anything in it runs
(compare/safety/model_files/provenance.py). Images are PNG files or one .npz, their sizes bounded before they
are read. TensorFlow and Keras are imported inside the functions, so `--help` answers at once.
"""

import dataclasses
import os
import zipfile
from pathlib import Path

import numpy as np

from compare.data import IMAGE_SHAPE, check_labels, normalise_images
from compare.errors import DataError
from compare.language import _, number
from compare.safety.dataset_files import open_regular, read_npz_arrays
from compare.safety.model_files.architectures import ModelError, keras_model_name
from compare.safety.model_files.keras_archive import check_keras_archive
from compare.safety.model_files.provenance import check_saved_model
from compare.styles import STYLES

NPZ_KEYS = (
    ("x", "y"),
    ("images", "labels"),
    ("x_test", "y_test"),
)  # (images, optional labels): first found
BATCH_SIZE = (
    256  # images per forward pass: 10,000 at once would hold ~0.9 GB of activations
)
MAX_PNG_BYTES = 2**20  # a 28x28 PNG holds about 1 KB
# Inflated: 42,000 float64 images; Fashion-MNIST's test set is 8 MB.
MAX_NPZ_BYTES = 2**28
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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
        check_npz_size(paths[0])
        return read_npz(paths[0])
    read = [decode_png(path) for path in paths]
    pixels = np.stack([image for image, _note in read])  # (N, 28, 28, 1) uint8
    names = [
        str(path) + (f" ({note})" if note else "")
        for path, (_i, note) in zip(paths, read, strict=True)
    ]
    return normalise_images(pixels, "--images"), None, names


def check_npz_size(path):
    """At most MAX_NPZ_BYTES in the .npz's members once inflated, from the zip's directory
    before numpy reads any (zipfile stops a member at its declared size)."""
    with open_regular(path) as file:
        try:
            with zipfile.ZipFile(file) as archive:
                size = sum(member.file_size for member in archive.infolist())
        except (zipfile.BadZipFile, ValueError):
            return  # read_npz says what is wrong with it
    if size > MAX_NPZ_BYTES:
        raise too_big(path, size, MAX_NPZ_BYTES)


def too_big(path, size, cap):
    return DataError(
        _("{path} holds {size} bytes, more than predict reads ({cap})").format(
            path=path, size=number(size), cap=number(cap)
        )
    )


def png_size(data):
    """(height, width) from a PNG's header, before anything is inflated; None if it is
    not a PNG."""
    if len(data) < 24 or data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[20:24], "big"), int.from_bytes(data[16:20], "big")


def read_png(path):
    """A PNG's pixels, (28, 28, 1) uint8, grey."""
    return decode_png(path)[0]


def decode_png(path):
    """(pixels, None or a word on how they were read): a PNG with transparency is a digit
    drawn on nothing, its ink where it is opaque (colour alone would read a black digit
    on transparency as a black square), and its name in the output says so."""
    import tensorflow as tf

    with open_regular(path) as file:  # a FIFO or /dev/zero is refused, not read
        data = file.read(MAX_PNG_BYTES + 1)
    if len(data) > MAX_PNG_BYTES:
        raise too_big(path, os.stat(path).st_size, MAX_PNG_BYTES)
    size = png_size(data)
    if size is None:
        raise DataError(_("{path}: not a readable PNG file").format(path=path))
    if size != IMAGE_SHAPE:
        raise wrong_size(path, *size)
    try:
        pixels = tf.io.decode_png(data).numpy()  # (height, width, channels) uint8
    except tf.errors.OpError:
        pixels = None
    if pixels is None or pixels.shape[:2] != IMAGE_SHAPE:
        raise DataError(_("{path}: not a readable PNG file").format(path=path))
    if pixels.shape[-1] in (2, 4) and pixels[..., -1].min() < 255:  # alpha, used
        return pixels[..., -1:], _("transparent: ink read from its opacity")
    # grey whatever the colours, as libpng makes it
    return tf.io.decode_png(data, channels=1).numpy(), None


def wrong_size(path, height, width):
    return DataError(
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
def export_module(style):
    """keras_impl/export.py or raw_tf_impl/export.py: step 5 of each style."""
    return STYLES[style].module("export")


@dataclasses.dataclass
class Classifier:
    path: Path
    style: str  # "keras" or "raw_tf"
    model: object  # the Keras model, or the loaded SavedModel
    input_shape: tuple  # (height, width, channels)

    def probabilities(self, images):
        """(N, classes) class probabilities, a batch at a time."""
        export = export_module(self.style)
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
    """A `.keras` file -> the Keras model; a folder holding saved_model.pb -> the raw
    SavedModel. Each is checked to be one this project exported (compare/saved/
    provenance.py) before TensorFlow or Keras reads it."""
    path = Path(path)
    if not path.exists():
        raise ModelError(_("{path}: no such file or folder").format(path=path))
    if path.is_file() and path.suffix == ".keras":
        style, check = "keras", check_keras_archive
    elif path.is_dir() and (path / "saved_model.pb").is_file():
        style, check = "raw_tf", check_saved_model
    else:
        raise ModelError(
            _(
                "{path}: not a model: expected a .keras file or a SavedModel folder "
                "holding saved_model.pb"
            ).format(path=path)
        )
    model_name, input_shape, _classes = check(path)
    try:
        model = export_module(style).load(path)
    except Exception as error:  # zip, HDF5, protobuf or Keras config: any reader's failure is the file's
        raise ModelError(
            _("{path}: not a readable {style} model ({error})").format(
                path=path, style=style, error=first_line(error)
            )
        ) from None
    if style == "keras" and keras_model_name(model, path) != model_name:
        raise ModelError(
            _("{path}: Keras built another model than its config says").format(
                path=path
            )
        )
    return Classifier(path, style, model, input_shape)


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
