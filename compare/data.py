"""Datasets for the comparison: MNIST and Fashion-MNIST from local files, or scikit-learn's digits.

Every loader returns the same `Dataset`: float32 images in [0, 1] shaped (N, 28, 28, 1) and
int32 labels in [0, 10), so both styles train on exactly the same arrays.
Anything wrong with the files raises `DataError` with a one-line explanation.
"""

import dataclasses
import os
import socket
import threading
from pathlib import Path

import numpy as np

from compare.errors import DataError
from compare.language import N_, _, number
from compare.safety.dataset_files import read_idx_rows, read_npz_members

IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
SPLITS = ("x_train", "y_train", "x_test", "y_test")
IDX_NAMES = {  # the file names every MNIST-format dataset uses
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
IDX_DIMENSIONS = {"x_train": 3, "y_train": 1, "x_test": 3, "y_test": 1}
FOLDER_NAMES = {
    "mnist": ("mnist",),
    "fashion_mnist": ("fashion_mnist", "fashion-mnist"),
}
KERAS_CACHE_FILES = {
    "mnist": "mnist.npz",
    "fashion_mnist": "fashion-mnist",
}  # under ~/.keras/datasets
DEBIAN_DIR = Path("/usr/share/datasets")
DEBIAN_PACKAGES = {"mnist": "dataset-mnist", "fashion_mnist": "dataset-fashion-mnist"}
DOWNLOAD_HOST = ("storage.googleapis.com", 443)  # where keras.datasets downloads from
DIGITS_TEST_FRACTION, DIGITS_SPLIT_SEED = 0.25, 0
# Dataset.source of digits: kept in English in the report, translated where it is shown
DIGITS_SOURCE = N_("scikit-learn load_digits (8x8 scaled onto 28x28)")


@dataclasses.dataclass
class Dataset:
    name: str
    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def subset(self, train_samples=None, test_samples=None):
        """The first `train_samples` / `test_samples` examples (None keeps them all)."""
        for flag, wanted, available in (
            ("--train-samples", train_samples, len(self.x_train)),
            ("--test-samples", test_samples, len(self.x_test)),
        ):
            if wanted is not None and not 1 <= wanted <= available:
                raise DataError(
                    _(
                        "{flag} {wanted} is out of range: {name} has {available} such images"
                    ).format(
                        flag=flag,
                        wanted=wanted,
                        name=self.name,
                        available=number(available),
                    )
                )
        return dataclasses.replace(
            self,
            x_train=self.x_train[:train_samples],
            y_train=self.y_train[:train_samples],
            x_test=self.x_test[:test_samples],
            y_test=self.y_test[:test_samples],
        )


# Reading files (their bounded readers: compare/safety/dataset_files.py) ----------


def find_idx_files(folder):
    """The four idx files in `folder` (each gzipped or not), or None if any is missing."""
    paths = {}
    for split, name in IDX_NAMES.items():
        candidates = [folder / (name + ".gz"), folder / name]
        # a FIFO or a device counts, to be refused by name when read
        found = [path for path in candidates if path.exists() and not path.is_dir()]
        if not found:
            return None
        paths[split] = found[0]
    return paths


def load_idx_folder(folder, rows=None):
    """The four idx files in `folder`: (arrays, declared rows), each array its first
    `rows[split]` rows where `rows` says so."""
    arrays, counts = {}, {}
    for split, path in find_idx_files(folder).items():
        arrays[split], counts[split] = read_idx_rows(path, (rows or {}).get(split))
        if arrays[split].ndim != IDX_DIMENSIONS[split]:
            raise DataError(
                _(
                    "{path}: expected {dimensions} dimensions, found shape {shape}"
                ).format(
                    path=path,
                    dimensions=IDX_DIMENSIONS[split],
                    shape=arrays[split].shape,
                )
            )
    return arrays, counts


def load_npz(path):
    """A Keras-style .npz with x_train, y_train, x_test and y_test."""
    return load_npz_rows(path)[0]


def load_npz_rows(path, rows=None):
    """load_npz as (arrays, the rows each declares), each array its first `rows[key]` rows
    where `rows` says so."""

    def splits(names):
        missing = [key for key in SPLITS if key not in names]
        if missing:
            raise DataError(
                _("{path}: missing arrays {missing} (needs {needed})").format(
                    path=path, missing=", ".join(missing), needed=", ".join(SPLITS)
                )
            )
        return SPLITS

    members = read_npz_members(path, splits, rows)
    return (
        {key: array for key, (array, _count) in members.items()},
        {key: count for key, (_array, count) in members.items()},
    )


# Checking and normalising --------------------------------------------------------
COUNTS_DIFFER = {
    "train": N_("{source}: {images} train images but {labels} train labels"),
    "test": N_("{source}: {images} test images but {labels} test labels"),
}
SPLIT_EMPTY = {
    "train": N_("{source}: the train split is empty"),
    "test": N_("{source}: the test split is empty"),
}


def to_dataset(name, source, arrays, counts=None):
    """Check shapes, counts, labels and pixels, then scale images to float32 in [0, 1].
    `counts` are the rows each array declares, where only its first rows were read."""
    checked = {}
    for part in ("train", "test"):
        images, labels = arrays[f"x_{part}"], arrays[f"y_{part}"]
        checked[f"x_{part}"] = normalise_images(images, f"{source}: x_{part}")
        checked[f"y_{part}"] = check_labels(labels, f"{source}: y_{part}")
        declared = {
            **{f"x_{part}": len(images), f"y_{part}": len(labels)},
            **(counts or {}),
        }
        if declared[f"x_{part}"] != declared[f"y_{part}"]:
            raise DataError(
                _(COUNTS_DIFFER[part]).format(
                    source=source,
                    images=number(declared[f"x_{part}"]),
                    labels=number(declared[f"y_{part}"]),
                )
            )
        if declared[f"x_{part}"] == 0:
            raise DataError(_(SPLIT_EMPTY[part]).format(source=source))
    return Dataset(name, source, **checked)


def normalise_images(images, where):
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise DataError(
            _(
                "{where}: images must be (N, 28, 28) or (N, 28, 28, 1), found shape {shape}"
            ).format(where=where, shape=images.shape)
        )
    if images.dtype == np.uint8:
        scaled = images.astype(np.float32)
        scaled /= 255.0  # in place: one float32 copy of the images, not two
        return scaled[..., None]
    if not np.issubdtype(images.dtype, np.floating):
        raise DataError(
            _(
                "{where}: images must be uint8 (0-255) or floats in [0, 1], found dtype {dtype}"
            ).format(where=where, dtype=images.dtype)
        )
    if not np.all(np.isfinite(images)):
        raise DataError(
            _("{where}: images contain NaN or infinite pixels").format(where=where)
        )
    if images.size and (images.min() < 0 or images.max() > 1):
        raise DataError(
            _("{where}: float images must be in [0, 1], found {low}..{high}").format(
                where=where, low=images.min(), high=images.max()
            )
        )
    return images.astype(np.float32)[..., None]


def check_labels(labels, where):
    if (
        labels.ndim != 1 or labels.dtype.kind not in "iu"
    ):  # signed or unsigned: NumPy counts timedelta64 in too
        raise DataError(
            _(
                "{where}: labels must be a 1-D integer array, found {dtype} shape {shape}"
            ).format(where=where, dtype=labels.dtype, shape=labels.shape)
        )
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise DataError(
            _("{where}: labels must be in 0..{last}, found {low}..{high}").format(
                where=where, last=NUM_CLASSES - 1, low=labels.min(), high=labels.max()
            )
        )
    return labels.astype(np.int32)


# Where each dataset can come from ------------------------------------------------
def keras_cache_dir():
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


def local_candidates(name, data_dir=None, explicit=True):
    """Places to look for `name`, in order. With --data-dir only that folder (or file) counts."""
    if data_dir is not None:
        data_dir = Path(data_dir)
        if data_dir.suffix == ".npz":
            return [data_dir] if explicit else []
        places = [data_dir / f"{folder}.npz" for folder in FOLDER_NAMES[name]]
        places += [data_dir / folder for folder in FOLDER_NAMES[name]]
        return places + (
            [data_dir] if explicit else []
        )  # loose files only when the name is explicit
    return [keras_cache_dir() / KERAS_CACHE_FILES[name]] + [
        DEBIAN_DIR / folder for folder in FOLDER_NAMES[name]
    ]


def files_read(name, data_dir=None):
    """The existing files that loading `name` may read (for auto: mnist's and fashion_mnist's),
    so that no output overwrites one."""
    names = {"auto": ("mnist", "fashion_mnist"), "digits": ()}.get(name, (name,))
    files = []
    for candidate in names:
        for place in local_candidates(candidate, data_dir, explicit=name != "auto"):
            if place.suffix == ".npz" and place.exists() and not place.is_dir():
                files.append(place)
            elif place.suffix != ".npz" and place.is_dir():
                files += (find_idx_files(place) or {}).values()
    return files


def load_local(name, place, rows=None):
    """The dataset at `place` (an .npz file or a folder of idx files), or None if nothing is
    there; each array its first `rows[split]` rows where `rows` says so. A FIFO or a device
    is something there, refused by name."""
    if place.suffix == ".npz":
        if not place.exists() or place.is_dir():
            return None
        return to_dataset(name, str(place), *load_npz_rows(place, rows or {}))
    if place.is_dir() and find_idx_files(place):
        return to_dataset(name, str(place), *load_idx_folder(place, rows))
    return None


def online(timeout=3.0):
    """Whether Keras' download host answers within `timeout` seconds (name lookup included)."""

    def connect():
        try:
            socket.create_connection(DOWNLOAD_HOST, timeout=timeout).close()
            answers.append(True)
        except OSError:
            pass

    answers = []
    probe = threading.Thread(
        target=connect, daemon=True
    )  # a hung DNS lookup cannot block us
    probe.start()
    probe.join(timeout)
    return bool(answers)


def download_with_keras(name):
    import keras  # imported late: reading local files needs no Keras

    (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    arrays = {
        "x_train": x_train,
        "y_train": y_train,
        "x_test": x_test,
        "y_test": y_test,
    }
    return to_dataset(name, f"downloaded by Keras into {keras_cache_dir()}", arrays)


def load_digits_28x28():
    """scikit-learn's bundled 8x8 digits, scaled 3x and centred on a 28x28 canvas like MNIST."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = np.kron(digits.images, np.ones((3, 3)))  # (1797, 24, 24), values 0..16
    images = np.pad(images, ((0, 0), (2, 2), (2, 2))) * (
        255 / 16
    )  # (1797, 28, 28), 0..255
    x_train, x_test, y_train, y_test = train_test_split(
        images.round().astype(np.uint8),
        digits.target,
        test_size=DIGITS_TEST_FRACTION,
        random_state=DIGITS_SPLIT_SEED,
        stratify=digits.target,
    )
    arrays = {
        "x_train": x_train,
        "y_train": y_train,
        "x_test": x_test,
        "y_test": y_test,
    }
    return to_dataset("digits", DIGITS_SOURCE, arrays)


def how_to_get(name):
    return _(
        "get it with `apt-get install {package}`, put the idx files or {name}.npz in "
        "a folder given by --data-dir, run once online, or use --dataset digits"
    ).format(package=DEBIAN_PACKAGES[name], name=name)


def load_named(name, data_dir=None, allow_download=True, rows=None):
    """Load `name` from the first place that has it; raise DataError saying where we looked."""
    if name == "digits":
        return load_digits_28x28()
    places = local_candidates(name, data_dir)
    for place in places:
        dataset = load_local(name, place, rows)
        if dataset is not None:
            return dataset
    if data_dir is None and allow_download and online():
        return download_with_keras(name)
    looked = ", ".join(str(place) for place in places)
    if data_dir is not None:
        message = _("{name} not found (looked in {looked}); {how}")
    else:
        message = _(
            "{name} not found (looked in {looked} and Keras' download host was "
            "unreachable); {how}"
        )
    raise DataError(message.format(name=name, looked=looked, how=how_to_get(name)))


def load_dataset(name="auto", data_dir=None, train_samples=None, test_samples=None):
    """The first `train_samples` / `test_samples` images (None: all) of `name`, read before
    any is converted: a file declaring millions costs only what is asked. `auto` takes the
    first available of mnist, fashion_mnist, digits; others never fall back."""
    rows = {"x_train": train_samples, "y_train": train_samples}
    rows.update(x_test=test_samples, y_test=test_samples)
    return find_dataset(name, data_dir, rows).subset(train_samples, test_samples)


def find_dataset(name, data_dir, rows):
    if name != "auto":
        return load_named(name, data_dir, rows=rows)
    for candidate in ("mnist", "fashion_mnist"):
        for place in local_candidates(candidate, data_dir, explicit=False):
            dataset = load_local(candidate, place, rows)
            if dataset is not None:
                return dataset
        if candidate == "mnist" and data_dir is None and online():
            return download_with_keras("mnist")
    if (
        data_dir is not None
    ):  # the user pointed at data: training on digits instead would mislead
        raise DataError(
            _(
                "no mnist or fashion_mnist data under {data_dir} (looked for mnist.npz, "
                "fashion_mnist.npz and subfolders mnist/, fashion_mnist/, fashion-mnist/); "
                "for loose idx files or a single .npz name the dataset with --dataset"
            ).format(data_dir=data_dir)
        )
    return load_digits_28x28()
