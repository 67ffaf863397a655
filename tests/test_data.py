"""The data loaders: every source, the `auto` choice, and a clear DataError for every kind of bad file.

All offline: the machine's Keras cache, /usr/share/datasets and the network are replaced by
empty temporary folders and `online() == False`, so only files written here are ever read.
"""

import gzip
import io
import os
import re

import numpy as np
import pytest
from helpers import (
    TEST,
    TRAIN,
    assert_is_dataset,
    fake_arrays,
    idx_bytes,
    npz_bytes,
    write_idx_folder,
    write_npz,
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import compare.data as data
import compare.safety.dataset_files as dataset_files
from compare.data import (
    IDX_NAMES,
    Dataset,
    load_dataset,
    load_named,
    to_dataset,
)
from compare.errors import DataError
from compare.safety.dataset_files import read_idx


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No network, and an empty Keras cache and Debian folder: only files the test writes exist."""
    keras_cache = tmp_path / "keras-cache"
    debian = tmp_path / "debian"
    keras_cache.mkdir()
    debian.mkdir()
    monkeypatch.setattr(data, "online", lambda timeout=3.0: False)
    monkeypatch.setattr(data, "keras_cache_dir", lambda: keras_cache)
    monkeypatch.setattr(data, "DEBIAN_DIR", debian)

    def no_download(name):
        raise AssertionError(f"tried to download {name}")

    monkeypatch.setattr(data, "download_with_keras", no_download)
    return {"keras_cache": keras_cache, "debian": debian}


# Every source ----------------------------------------------------------------
@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "raw"])
def test_idx_folder_loads_exact_pixels_and_labels(tmp_path, gz):
    """Idx files, gzipped or not, give the same pixels / 255 and the same labels."""
    arrays = fake_arrays()
    folder = write_idx_folder(tmp_path / "mnist", arrays, gz=gz)
    dataset = load_named("mnist", data_dir=tmp_path)
    assert_is_dataset(dataset, "mnist")
    assert dataset.source == str(folder)
    np.testing.assert_allclose(
        dataset.x_train[..., 0], arrays["x_train"] / 255.0, rtol=1e-6
    )
    np.testing.assert_array_equal(dataset.y_test, arrays["y_test"])


def test_npz_file_given_directly_as_data_dir(tmp_path):
    """--data-dir may be the .npz itself, whatever it is called."""
    path = write_npz(tmp_path / "whatever.npz")
    dataset = load_named("fashion_mnist", data_dir=path)
    assert_is_dataset(dataset, "fashion_mnist")
    assert dataset.source == str(path)


@pytest.mark.parametrize(
    "name, file_name",
    [
        ("mnist", "mnist.npz"),
        ("fashion_mnist", "fashion_mnist.npz"),
        ("fashion_mnist", "fashion-mnist.npz"),
    ],
)
def test_named_npz_inside_the_folder(tmp_path, name, file_name):
    """<name>.npz inside --data-dir is found, with either spelling of fashion-mnist."""
    path = write_npz(tmp_path / file_name)
    dataset = load_named(name, data_dir=tmp_path)
    assert_is_dataset(dataset, name)
    assert dataset.source == str(path)


@pytest.mark.parametrize("subfolder", ["fashion-mnist", "fashion_mnist"])
def test_fashion_mnist_subfolder(tmp_path, subfolder):
    """Idx files in a fashion-mnist/ (or fashion_mnist/) subfolder of --data-dir are found."""
    folder = write_idx_folder(tmp_path / subfolder)
    dataset = load_named("fashion_mnist", data_dir=tmp_path)
    assert_is_dataset(dataset, "fashion_mnist")
    assert dataset.source == str(folder)


def test_loose_idx_files_in_data_dir_for_an_explicit_name(tmp_path):
    """Idx files directly in --data-dir count when the dataset is named."""
    write_idx_folder(tmp_path, gz=False)
    assert_is_dataset(load_named("mnist", data_dir=tmp_path), "mnist")


def test_keras_npz_with_channel_axis_and_float_pixels(tmp_path):
    """(N, 28, 28, 1) float images in [0, 1] and int64 labels are accepted unchanged."""
    arrays = fake_arrays()
    floats = {
        key: (
            value[..., None] / 255.0 if key.startswith("x") else value.astype(np.int64)
        )
        for key, value in arrays.items()
    }
    dataset = load_named("mnist", data_dir=write_npz(tmp_path / "mnist.npz", floats))
    assert_is_dataset(dataset, "mnist")
    np.testing.assert_allclose(dataset.x_test, floats["x_test"], rtol=1e-6)


def test_keras_cache_then_debian_folder_without_data_dir(isolated):
    """Without --data-dir, the Keras cache is searched first, then /usr/share/datasets/<name>."""
    debian = write_idx_folder(isolated["debian"] / "fashion-mnist")
    assert load_named("fashion_mnist").source == str(debian)
    cache = write_idx_folder(
        isolated["keras_cache"] / "fashion-mnist", fake_arrays(train=4, test=2)
    )
    dataset = load_named("fashion_mnist")
    assert dataset.source == str(cache)
    assert_is_dataset(dataset, "fashion_mnist", train=4, test=2)


def test_download_only_without_local_files_and_when_online(monkeypatch):
    """Keras downloads only when nothing local was found and its host answers."""
    downloaded = []
    monkeypatch.setattr(data, "online", lambda timeout=3.0: True)
    monkeypatch.setattr(
        data,
        "download_with_keras",
        lambda name: downloaded.append(name) or to_dataset(name, "", fake_arrays()),
    )
    assert load_named("mnist").name == "mnist"
    assert load_dataset("auto").name == "mnist"
    assert downloaded == ["mnist", "mnist"]


def test_digits_is_28x28_in_unit_range_with_a_fixed_split():
    """scikit-learn's digits become 28x28 float32 in [0, 1], split the same way every time."""
    first, second = load_named("digits"), load_dataset("digits")
    assert_is_dataset(first, "digits", train=1347, test=450)
    assert first.x_train.max() == 1.0
    assert (
        first.x_train[:, :2].max() == 0.0 and first.x_train[:, -2:].max() == 0.0
    )  # a 2-pixel border
    for split in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(first, split), getattr(second, split))
    assert set(np.unique(first.y_test)) == set(range(10))


# auto and explicit names -----------------------------------------------------
def test_auto_picks_mnist_from_a_subfolder(tmp_path):
    """auto takes mnist when --data-dir has an mnist/ subfolder, even if fashion-mnist is there too."""
    write_idx_folder(tmp_path / "fashion-mnist")
    write_idx_folder(tmp_path / "mnist")
    assert load_dataset("auto", data_dir=tmp_path).name == "mnist"


def test_auto_picks_fashion_mnist_when_mnist_is_absent(tmp_path):
    """auto moves on to fashion_mnist before digits."""
    write_npz(tmp_path / "fashion-mnist.npz")
    assert load_dataset("auto", data_dir=tmp_path).name == "fashion_mnist"


def test_auto_falls_back_to_digits():
    """auto with no MNIST anywhere (empty cache, empty Debian folder, offline) ends with digits."""
    assert load_dataset("auto").name == "digits"


@pytest.mark.parametrize(
    "make", [write_idx_folder, lambda folder: write_npz(folder / "data.npz")]
)
def test_auto_with_a_data_dir_it_cannot_name_is_an_error(tmp_path, make):
    """Loose idx files or a lone .npz could be either dataset: auto asks for --dataset, not digits."""
    make(tmp_path)
    data_dir = tmp_path / "data.npz" if (tmp_path / "data.npz").exists() else tmp_path
    with pytest.raises(DataError, match="name the dataset with --dataset"):
        load_dataset("auto", data_dir=data_dir)


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_explicit_name_never_falls_back(tmp_path, name):
    """A named dataset that is missing is an error naming every place searched, not digits."""
    write_idx_folder(
        tmp_path / ("fashion-mnist" if name == "mnist" else "mnist")
    )  # the other one
    with pytest.raises(DataError, match=f"^{name} not found") as error:
        load_dataset(name, data_dir=tmp_path)
    message = str(error.value)
    assert str(tmp_path / f"{name}.npz") in message and str(tmp_path / name) in message
    assert "--dataset digits" in message  # says how to get going


def test_explicit_name_without_data_dir_says_offline(isolated):
    """Without --data-dir the error lists the cache and Debian folders and says the host was unreachable."""
    with pytest.raises(DataError) as error:
        load_dataset("mnist")
    message = str(error.value)
    assert str(isolated["keras_cache"] / "mnist.npz") in message
    assert str(isolated["debian"] / "mnist") in message
    assert "unreachable" in message and "apt-get install dataset-mnist" in message


# Bad files -------------------------------------------------------------------
def idx_with(split, content):
    """A folder whose `split` idx file holds `content` instead (uncompressed)."""
    return lambda folder: write_idx_folder(folder, gz=False, overrides={split: content})


GOOD = fake_arrays()
BAD_IDX = {
    "corrupt gzip": (
        lambda folder: (
            write_idx_folder(folder),
            (folder / (IDX_NAMES["x_train"] + ".gz")).write_bytes(
                b"\x1f\x8b" + b"\x00garbage" * 10
            ),
        ),
        "corrupt gzip file",
    ),
    "truncated": (
        idx_with("x_train", idx_bytes(GOOD["x_train"])[:-100]),
        "truncated or corrupt",
    ),
    "truncated header": (
        idx_with("y_test", bytes([0, 0, 8, 3, 0, 0])),
        "truncated idx header",
    ),
    "wrong magic": (
        idx_with("y_train", b"\x00\x00\x0d\x01" + idx_bytes(GOOD["y_train"])[4:]),
        "magic number 00000d01",
    ),
    "wrong dimensions": (
        idx_with("x_test", idx_bytes(GOOD["x_test"].reshape(TEST, 28 * 28))),
        "expected 3 dimensions",
    ),
    "count mismatch": (
        idx_with("y_train", idx_bytes(GOOD["y_train"][:-1])),
        "12 train images but 11 train labels",
    ),
    "label out of range": (
        idx_with("y_test", idx_bytes(np.full(TEST, 10))),
        "labels must be in 0..9, found 10..10",
    ),
    "wrong image size": (
        idx_with("x_train", idx_bytes(np.zeros((TRAIN, 32, 32)))),
        "found shape (12, 32, 32)",
    ),
    "empty split": (
        lambda folder: write_idx_folder(folder, fake_arrays(test=0)),
        "the test split is empty",
    ),
}


@pytest.mark.parametrize("make, message", BAD_IDX.values(), ids=BAD_IDX.keys())
def test_bad_idx_files_raise_data_error(tmp_path, make, message):
    """Each kind of broken idx folder is a DataError naming the problem."""
    make(tmp_path / "mnist")
    with pytest.raises(DataError, match=re.escape(message)):
        load_named("mnist", data_dir=tmp_path)


NAN_IMAGES = np.zeros((TRAIN, 28, 28), np.float32)
NAN_IMAGES[3, 4, 5] = np.nan
BAD_NPZ = {
    "nan pixels": ({"x_train": NAN_IMAGES}, "NaN or infinite pixels"),
    "floats above 1": (
        {"x_test": np.full((TEST, 28, 28), 255.0)},
        "float images must be in [0, 1]",
    ),
    "colour 32x32": (
        {"x_train": np.zeros((TRAIN, 32, 32, 3), np.uint8)},
        "found shape (12, 32, 32, 3)",
    ),
    "missing key": ({"y_test": None}, "missing arrays y_test"),
    "float labels": (
        {"y_train": np.zeros(TRAIN)},
        "labels must be a 1-D integer array",
    ),
    "negative labels": (
        {"y_train": -np.ones(TRAIN, np.int64)},
        "labels must be in 0..9, found -1..-1",
    ),
    "int16 images": (
        {"x_test": np.zeros((TEST, 28, 28), np.int16)},
        "found dtype int16",
    ),
    "count mismatch": (
        {"y_test": np.zeros(TEST + 1, np.uint8)},
        "6 test images but 7 test labels",
    ),
    "empty split": (
        {"x_train": np.zeros((0, 28, 28), np.uint8), "y_train": np.zeros(0, np.uint8)},
        "the train split is empty",
    ),
}


@pytest.mark.parametrize("changes, message", BAD_NPZ.values(), ids=BAD_NPZ.keys())
def test_bad_npz_contents_raise_data_error(tmp_path, changes, message):
    """Each kind of wrong array in an .npz is a DataError naming the problem."""
    path = write_npz(tmp_path / "data.npz", **changes)
    with pytest.raises(DataError, match=re.escape(message)):
        load_named("mnist", data_dir=path)


NOT_NPZ = {
    "text": (b"hello, I am not an archive\n", "not a readable .npz file"),
    "truncated": (npz_bytes(**fake_arrays())[:500], "not a readable .npz file"),
    "corrupt member": (
        lambda raw: raw[:200] + bytes(b ^ 0xFF for b in raw[200:300]) + raw[300:],
        "not a readable .npz file",
    ),
    "lone npy": (None, "holds a single array, not an .npz archive"),
    "empty": (b"", "not a readable .npz file"),
}


@pytest.mark.parametrize("content, message", NOT_NPZ.values(), ids=NOT_NPZ.keys())
def test_file_that_is_not_an_npz_raises_data_error(tmp_path, content, message):
    """Garbage, truncated or corrupt archives and a lone .npy are DataErrors, not tracebacks."""
    path = tmp_path / "broken.npz"
    if content is None:
        buffer = io.BytesIO()
        np.save(buffer, np.zeros(3))
        content = buffer.getvalue()
    elif callable(content):
        content = content(npz_bytes(**fake_arrays()))
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as error:
        load_named("mnist", data_dir=path)
    assert str(path) in str(error.value)


def test_missing_idx_file_means_not_found(tmp_path):
    """Three of the four idx files are not a dataset: the name is reported not found."""
    folder = write_idx_folder(tmp_path / "mnist")
    (folder / (IDX_NAMES["y_test"] + ".gz")).unlink()
    with pytest.raises(DataError, match="mnist not found"):
        load_named("mnist", data_dir=tmp_path)


def test_missing_data_dir_means_not_found(tmp_path):
    """A --data-dir that does not exist is reported with the places searched."""
    with pytest.raises(
        DataError, match=r"fashion_mnist not found \(looked in .*nowhere"
    ):
        load_named("fashion_mnist", data_dir=tmp_path / "nowhere")


# Dataset.subset --------------------------------------------------------------
def test_subset_keeps_the_first_examples(tmp_path):
    """subset(n, m) keeps the first n train and m test examples; None keeps everything."""
    dataset = load_named("mnist", data_dir=write_npz(tmp_path / "mnist.npz"))
    small = dataset.subset(5, 2)
    assert (
        len(small.x_train) == len(small.y_train) == 5
        and len(small.x_test) == len(small.y_test) == 2
    )
    np.testing.assert_array_equal(small.x_train, dataset.x_train[:5])
    assert dataset.subset(None, None).x_train.shape == dataset.x_train.shape
    assert dataset.subset(TRAIN, TEST).x_test.shape == dataset.x_test.shape


@pytest.mark.parametrize(
    "train, test, message",
    [
        (TRAIN + 1, None, "--train-samples 13 is out of range: mnist has 12"),
        (0, None, "--train-samples 0 is out of range"),
        (None, TEST + 1, "--test-samples 7 is out of range: mnist has 6"),
        (None, -1, "--test-samples -1 is out of range"),
    ],
)
def test_subset_out_of_range_raises_data_error(train, test, message):
    """Asking for more examples than exist, or fewer than one, is a DataError naming the flag."""
    arrays = fake_arrays()
    dataset = Dataset(
        "mnist",
        "memory",
        *(arrays[key] for key in ("x_train", "y_train", "x_test", "y_test")),
    )
    with pytest.raises(DataError, match=message):
        dataset.subset(train, test)


# Reading only what is asked ---------------------------------------------------
def write_savez_compressed(path, arrays):
    np.savez_compressed(path, **arrays)
    return path


def write_fortran_npz(path, arrays):
    """x_train stored in Fortran order, whose rows are not contiguous: read whole."""
    return write_npz(path, arrays, x_train=np.asfortranarray(arrays["x_train"]))


@pytest.mark.parametrize(
    "write",
    [
        lambda folder, arrays: write_npz(folder / "mnist.npz", arrays),
        lambda folder, arrays: write_savez_compressed(folder / "mnist.npz", arrays),
        lambda folder, arrays: write_fortran_npz(folder / "mnist.npz", arrays),
        lambda folder, arrays: write_idx_folder(folder / "mnist", arrays, gz=True),
        lambda folder, arrays: write_idx_folder(folder / "mnist", arrays, gz=False),
    ],
    ids=["npz", "compressed npz", "fortran-order npz", "idx.gz", "idx"],
)
def test_samples_are_read_first_and_equal_the_whole_files_first_rows(tmp_path, write):
    """load_dataset(train_samples, test_samples) reads only those rows (before converting
    any), the same as loading everything and taking the first ones."""
    arrays = fake_arrays()
    write(tmp_path, arrays)
    part = load_dataset("mnist", tmp_path, 5, 2)
    whole = load_dataset("mnist", tmp_path).subset(5, 2)
    assert_is_dataset(part, "mnist", train=5, test=2)
    for split in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(part, split), getattr(whole, split))


@pytest.mark.parametrize("gz", [True, False], ids=["idx.gz", "idx"])
def test_counts_are_compared_as_declared_even_when_fewer_are_read(tmp_path, gz):
    """One label short in the file is caught with --train-samples too, though the rows
    read would match; and asking for more than there are names what the file holds."""
    arrays = fake_arrays()
    write_idx_folder(
        tmp_path / "mnist",
        arrays,
        gz=gz,
        overrides={"y_train": idx_bytes(arrays["y_train"][:-1])},
    )
    with pytest.raises(
        DataError, match=f"{TRAIN} train images but {TRAIN - 1} train labels"
    ):
        load_dataset("mnist", tmp_path, 5, 2)
    write_npz(tmp_path / "other" / "mnist.npz", arrays)
    with pytest.raises(
        DataError, match=f"--train-samples 99 is out of range: mnist has {TRAIN}"
    ):
        load_dataset("mnist", tmp_path / "other", 99, 2)


def test_an_npz_larger_than_the_cap_is_refused_before_reading(tmp_path, monkeypatch):
    """An array past MAX_ARRAY_BYTES is refused by its header, and the refusal says that
    --train-samples reads fewer; with it, the same file loads."""
    monkeypatch.setattr(dataset_files, "MAX_ARRAY_BYTES", TRAIN * 28 * 28 - 1)
    path = write_npz(tmp_path / "mnist.npz")
    with pytest.raises(
        DataError,
        match="x_train holds 9,408 bytes, more than the 9,407 one array may take; --train-samples",
    ):
        load_dataset("mnist", path)
    assert len(load_dataset("mnist", path, TRAIN - 1).x_train) == TRAIN - 1


@pytest.mark.parametrize(
    "make",
    [
        lambda path: os.mkfifo(path),
        lambda path: path.symlink_to("/dev/zero"),
    ],
    ids=["a FIFO", "a link to /dev/zero"],
)
def test_a_special_file_named_as_data_is_refused_by_name_at_once(tmp_path, make):
    """--data-dir naming a FIFO (open would block) or a device (read would never end)."""
    path = tmp_path / "mnist.npz"
    make(path)
    with pytest.raises(DataError, match=f"{path}: not a regular file"):
        load_dataset("mnist", path)


# read_idx never crashes ------------------------------------------------------
def header_shape(raw):
    """The shape an idx header declares (after un-gzipping), as the property test's oracle."""
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return tuple(
        int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(raw[3])
    )


def mangled_idx():
    """Valid idx files, some gzipped, some truncated, some with a byte changed; plus random bytes."""
    valid = st.builds(
        lambda shape, seed: idx_bytes(
            np.random.default_rng(seed).integers(0, 256, shape)
        ),
        st.lists(st.integers(0, 5), min_size=0, max_size=4).map(tuple),
        st.integers(0, 2**32 - 1),
    )

    @st.composite
    def mangle(draw):
        raw = draw(valid)
        if draw(st.booleans()):
            raw = gzip.compress(raw)
        action = draw(st.sampled_from(["keep", "truncate", "flip"]))
        if action == "truncate":
            raw = raw[: draw(st.integers(0, len(raw)))]
        elif action == "flip" and raw:
            at = draw(st.integers(0, len(raw) - 1))
            raw = (
                raw[:at] + bytes([raw[at] ^ draw(st.integers(1, 255))]) + raw[at + 1 :]
            )
        return raw

    magic = st.sampled_from([b"", b"\x00\x00\x08", b"\x1f\x8b", b"\x1f\x8b\x08\x00"])
    random = st.builds(
        lambda prefix, tail: prefix + tail, magic, st.binary(max_size=64)
    )
    return st.one_of(mangle(), random)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=mangled_idx())
@example(
    raw=bytes([0, 0, 8, 3]) + (2**31).to_bytes(4, "big") * 2 + (4).to_bytes(4, "big")
)  # 2^64 bytes
@example(raw=bytes([0, 0, 8, 0, 7]))  # a 0-d array: one byte
@example(  # found by hypothesis: 10^28 bytes, past Babel's 28 digits (number())
    raw=bytes([0, 0, 8, 3]) + (2**32 - 1).to_bytes(4, "big") * 3
)
def test_read_idx_parses_or_raises_data_error(tmp_path_factory, raw):
    """Any bytes give either an array of the declared shape or a DataError, never another exception."""
    path = tmp_path_factory.mktemp("idx") / "file"
    path.write_bytes(raw)
    try:
        array = read_idx(path)
    except DataError as error:
        assert str(path) in str(error)
        return
    assert array.dtype == np.uint8
    assert array.shape == header_shape(raw)


@given(shape=st.lists(st.integers(0, 6), max_size=3).map(tuple), gz=st.booleans())
@settings(max_examples=50, deadline=None)
def test_read_idx_round_trips(tmp_path_factory, shape, gz):
    """An idx file written here reads back as exactly the array written."""
    array = (
        np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape).astype(np.uint8)
    )
    path = tmp_path_factory.mktemp("idx") / "file"
    path.write_bytes(gzip.compress(idx_bytes(array)) if gz else idx_bytes(array))
    np.testing.assert_array_equal(read_idx(path), array)
