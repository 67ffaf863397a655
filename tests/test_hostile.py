"""Hostile inputs: broken data files, absurd flags and unwritable outputs end in one clear error
line or a documented behaviour, never a traceback, a hang, a training run or a file the user did
not name.

Hypothesis draws the cases, the same ones on every run (the "ci" profile of tests/conftest.py),
and labels each outcome with `event`: `pytest tests/test_hostile.py
--hypothesis-show-statistics` counts them per test.
"""

import contextlib
import dataclasses
import gzip
import io
import os
import re
import signal
import zipfile
from pathlib import Path

import numpy as np
import pytest
from helpers import (
    assert_is_dataset,
    fake_arrays,
    idx_bytes,
    npz_bytes,
    write_idx_folder,
    write_npz,
)
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import compare.data as data
from compare.cli import main
from compare.commands.options import (
    MAX_COUNT,
    MAX_IMAGE_SIZE,
    MAX_REPLICAS,
    MAX_SEED,
    MAX_TIMEOUT,
    MAX_WIDTH,
)
from compare.data import (
    IDX_NAMES,
    SPLITS,
    load_dataset,
    load_npz,
    to_dataset,
)
from compare.errors import DataError
from compare.harness.distribute import MAX_DEVICES

pytestmark = pytest.mark.slow  # hypothesis fuzzing: thousands of cases

TRAIN, TEST = 5, 3  # small files: thousands are written
HOSTILE = settings(  # seeded or exploring as the profile says (tests/conftest.py)
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
KEEP, BREAK, MAYBE = (
    "harmless changes only",
    "a breaking change",
    "a change that may break",
)
VALID, REFUSED = "valid dataset", "DataError"


# Guards -----------------------------------------------------------------------
class Hung(BaseException):
    """An example ran past its time limit (a BaseException, so main() cannot swallow it)."""


class TrainingStarted(BaseException):
    """A hostile command got as far as training: it should have failed before."""


@contextlib.contextmanager
def time_limit(seconds):
    """Raise Hung after `seconds`, even inside a blocking open() or read()."""

    def expire(signal_number, frame):
        raise Hung(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module", autouse=True)
def offline_and_never_training(tmp_path_factory):
    """test_data's `isolated` for the whole module (no network, empty Keras cache and Debian folder),
    and every way into training or downloading raises TrainingStarted."""
    import compare.bench.bench
    import compare.harness.backends
    import compare.harness.training
    import compare.transfer.transfer

    def refuse(*args, **kwargs):
        raise TrainingStarted("a hostile command reached training")

    nothing = tmp_path_factory.mktemp("nothing-here")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(data, "online", lambda timeout=3.0: False)
        patch.setattr(data, "keras_cache_dir", lambda: nothing)
        patch.setattr(data, "DEBIAN_DIR", nothing)
        patch.setattr(data, "download_with_keras", refuse)
        for module, name in [
            (compare.harness.training, "run"),
            (compare.bench.bench, "bench"),
            (compare.transfer.transfer, "transfer"),
            (compare.harness.backends, "run_on_backend"),
        ]:
            patch.setattr(module, name, refuse)
        yield


def load_outcome(name, data_dir, named_path, arrays=None):
    """load_dataset's answer: a Dataset keeping the contract (equal to `arrays` where given), or a
    one-line DataError naming `named_path`. Returns which, for `event`."""
    with time_limit(10):
        try:
            dataset = (
                load_dataset(name, data_dir)
                if name
                else to_dataset("mnist", str(data_dir), load_npz(data_dir))
            )
        except DataError as error:
            message = str(error)
            assert "\n" not in message and str(named_path) in message, message
            return REFUSED
    assert_is_dataset(
        dataset, dataset.name, train=len(dataset.y_train), test=len(dataset.y_test)
    )
    assert len(dataset.y_train) > 0 and len(dataset.y_test) > 0
    if (
        arrays is not None
    ):  # only harmless changes: the same labels, the same pixels scaled to [0, 1]
        for part in ("train", "test"):
            np.testing.assert_array_equal(
                getattr(dataset, f"y_{part}"), arrays[f"y_{part}"]
            )
            np.testing.assert_allclose(
                getattr(dataset, f"x_{part}")[..., 0],
                arrays[f"x_{part}"] / 255,
                atol=1e-3,
            )
    return VALID


@dataclasses.dataclass
class HostileFiles:
    """Generated data files: the changes made (what a failing test shows) and the content (not shown)."""

    changes: list  # "where: what", in the order made
    expected: str  # KEEP, BREAK or MAYBE
    content: object = dataclasses.field(
        repr=False
    )  # .npz bytes, or {split: (idx bytes or None, gzipped)}
    arrays: dict = dataclasses.field(repr=False)  # before any change

    @classmethod
    def made(cls, changes, content, arrays):
        """From (description, effect) pairs: any change that may break makes the outcome open."""
        effects = {effect for _, effect in changes}
        expected = MAYBE if MAYBE in effects else BREAK if BREAK in effects else KEEP
        return cls(
            [description for description, _ in changes], expected, content, arrays
        )


def check_expected(outcome, expected):
    if expected == KEEP:
        assert outcome == VALID, "only harmless changes, yet refused"
    elif expected == BREAK:
        assert outcome == REFUSED, "a broken file was accepted"


def with_value(array, draw, value):
    """A float copy of `array` with one drawn element set to `value`."""
    array = array.astype(np.float64)
    array.flat[draw(st.integers(0, array.size - 1))] = value
    return array


def pick(*choices):
    return st.sampled_from(choices)


def draw_change(draw, changes, where, made):
    """One change of a table of named (effect, change) pairs, noted in `made`."""
    name = draw(st.sampled_from(sorted(changes)))
    effect, change = changes[name]
    made.append((f"{where}: {name}", effect))
    return change


# .npz files ---------------------------------------------------------------------
WRONG_IMAGE_SHAPES = [
    lambda x: x.reshape(len(x), -1),
    lambda x: np.repeat(x[..., None], 3, axis=-1),
    lambda x: x[:, 1:],
    lambda x: np.pad(x, ((0, 0), (2, 2), (2, 2))),
    lambda x: x[:, None],
    lambda x: x[..., None, None],
    lambda x: x[0],
    lambda x: x[0, 0, 0],
]
IMAGE_CHANGES = {  # name: (effect, change(images, draw))
    "float pixels in [0, 1]": (
        KEEP,
        lambda x, draw: (x / 255).astype(
            draw(pick(np.float16, np.float32, np.float64, np.longdouble))
        ),
    ),
    "a channel axis": (KEEP, lambda x, draw: x[..., None]),
    "integers other than uint8": (
        BREAK,
        lambda x, draw: x.astype(
            draw(pick(np.int8, np.int16, np.int64, np.uint16, np.uint64))
        ),
    ),
    "bool, complex, text, dates or objects (pickled)": (
        BREAK,
        lambda x, draw: x.astype(draw(pick(bool, np.complex64, "U3", "M8[D]", object))),
    ),
    "float pixels 0-255": (BREAK, lambda x, draw: with_value(x, draw, 255.0)),
    "a NaN or infinite pixel": (
        BREAK,
        lambda x, draw: with_value(x / 255, draw, draw(pick(np.nan, np.inf, -np.inf))),
    ),
    "a float pixel outside [0, 1]": (
        BREAK,
        lambda x, draw: with_value(x / 255, draw, draw(pick(-1e-6, -1.0, 1.001, 1e30))),
    ),
    "the wrong shape or rank": (
        BREAK,
        lambda x, draw: draw(st.sampled_from(WRONG_IMAGE_SHAPES))(x),
    ),
    "no images": (BREAK, lambda x, draw: x[:0]),
}
LABEL_CHANGES = {
    "another integer dtype": (
        KEEP,
        lambda y, draw: y.astype(
            draw(
                pick(
                    np.int8,
                    np.int16,
                    np.int32,
                    np.int64,
                    np.uint16,
                    np.uint32,
                    np.uint64,
                )
            )
        ),
    ),
    "float labels": (
        BREAK,
        lambda y, draw: y.astype(draw(pick(np.float16, np.float32, np.float64))),
    ),
    "bool, complex, text, durations, dates or objects": (
        BREAK,
        lambda y, draw: y.astype(
            draw(pick(bool, np.complex64, "U2", "m8[s]", "M8[D]", object))
        ),
    ),
    "a label out of range": (
        BREAK,
        lambda y, draw: with_value(y, draw, draw(pick(10, 11, 255, -1, 2**40))).astype(
            np.int64
        ),
    ),
    "labels as a column or one-hot": (
        BREAK,
        lambda y, draw: draw(pick(y[:, None], np.eye(10, dtype=np.uint8)[y])),
    ),
    "one label more or fewer": (
        BREAK,
        lambda y, draw: draw(pick(y[:-1], np.concatenate([y, y[:1]]))),
    ),
    "no labels": (BREAK, lambda y, draw: y[:0]),
    "a single label, not an array": (BREAK, lambda y, draw: y[0]),
}


def npy_bytes(array):
    buffer = io.BytesIO()
    np.save(
        buffer, array, allow_pickle=True
    )  # object arrays become pickles, which loading must refuse
    return buffer.getvalue()


def rename_member(members, key, draw):
    if f"{key}.npy" in members:  # numpy finds a member named without .npy too
        members[key] = members.pop(f"{key}.npy")


def npy_declaring(shape):
    """An .npy header of uint8 declaring `shape`, over 100 bytes."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "|u1", "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue() + bytes(100)


def absurd_shape_member(members, key, draw):
    """Terabytes, more than int64 holds, or a negative size."""
    shape = draw(
        pick((2**40, 28, 28), (10**8, 28, 28), (10**20,), (2**62, 2), (-1, 28, 28))
    )
    members[f"{key}.npy"] = npy_declaring(shape)


def truncate_member(members, key, draw):
    if f"{key}.npy" in members:
        content = members[f"{key}.npy"]
        members[f"{key}.npy"] = content[: position(draw, len(content))]


MEMBER_CHANGES = {  # applied in this order: the rename last, so it cannot hide another change
    "an extra array": (
        KEEP,
        lambda members, key, draw: members.update(
            {"notes.npy": npy_bytes(np.arange(3))}
        ),
    ),
    "a missing array": (
        BREAK,
        lambda members, key, draw: members.pop(f"{key}.npy", None),
    ),
    "a member without an .npy header": (
        BREAK,
        lambda members, key, draw: members.update(
            {f"{key}.npy": b"not npy" + draw(st.binary(max_size=32))}
        ),
    ),
    "an .npy header declaring an absurd shape": (BREAK, absurd_shape_member),
    "a truncated .npy member": (BREAK, truncate_member),
    "a member named without .npy": (KEEP, rename_member),
}


def zip_bytes(members, compression):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for (
            name,
            content,
        ) in (
            members.items()
        ):  # a fixed date: the same bytes on every run, as derandomize wants
            archive.writestr(
                zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)),
                content,
                compression,
            )
    return buffer.getvalue()


def position(draw, length):
    """A position in [0, length), drawn with constraints that do not depend on `length`:
    byte lengths may vary between runs (pickled object arrays memoise by identity), and
    hypothesis requires the same draws for the same choices."""
    return draw(st.integers(0, 2**32)) % length


def flip_byte(raw, draw):
    if not raw:
        return raw
    at = position(draw, len(raw))
    return raw[:at] + bytes([raw[at] ^ draw(st.integers(1, 255))]) + raw[at + 1 :]


def with_zip_entry(raw, at, method=None, encrypted=False):
    """The zip with its central-directory entry at offset `at` given another compression method
    or the encrypted flag."""
    raw = bytearray(raw)
    if method is not None:
        raw[at + 10 : at + 12] = method.to_bytes(2, "little")
    if encrypted:
        raw[at + 8] |= 1
    return bytes(raw)


def central_entries(raw):
    return [at for at in range(len(raw) - 46) if raw[at : at + 4] == b"PK\x01\x02"]


def with_zip_field(raw, draw):
    """An unknown compression method (1: shrunk) or the encrypted flag on one entry (maybe the
    extra array's, which is never read: so either outcome may be right)."""
    at = draw(st.sampled_from(central_entries(raw)))
    if draw(st.booleans()):
        return with_zip_entry(raw, at, method=draw(pick(1, 13, 99, 0xFFFF)))
    return with_zip_entry(raw, at, encrypted=True)


FILE_CHANGES = {
    "truncated": (BREAK, lambda raw, draw: raw[: position(draw, len(raw))]),
    "a flipped byte": (MAYBE, flip_byte),
    "an unknown compression method or the encrypted flag": (MAYBE, with_zip_field),
    "random bytes": (
        BREAK,
        lambda raw, draw: (
            draw(
                pick(
                    b"",
                    b"PK\x03\x04",
                    b"PK\x05\x06",
                    b"\x93NUMPY\x01\x00",
                    b"\x1f\x8b",
                    b"\x80\x04",
                )
            )
            + draw(st.binary(max_size=200))
        ),
    ),
    "empty": (BREAK, lambda raw, draw: b""),
}


@st.composite
def hostile_npz(draw):
    """A Keras-style .npz with random changes to its arrays, its zip members and its bytes, each
    change known to keep, break or maybe break it."""
    arrays = fake_arrays(TRAIN, TEST, seed=draw(st.integers(0, 2**16)))
    changed, made = dict(arrays), []
    for key in sorted(draw(st.sets(st.sampled_from(SPLITS)))):
        change = draw_change(
            draw, IMAGE_CHANGES if key.startswith("x") else LABEL_CHANGES, key, made
        )
        changed[key] = np.asarray(change(arrays[key], draw))
    members = {f"{key}.npy": npy_bytes(array) for key, array in changed.items()}
    member_changes = draw(st.sets(st.sampled_from(sorted(MEMBER_CHANGES)), max_size=2))
    for name, (effect, change) in MEMBER_CHANGES.items():
        if name in member_changes:
            key = draw(st.sampled_from(SPLITS))
            change(members, key, draw)
            made.append((f"{key}: {name}", effect))
    compression = draw(pick(zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED))
    raw = zip_bytes(members, compression)
    if draw(st.booleans()):
        where = "deflated zip" if compression == zipfile.ZIP_DEFLATED else "zip"
        raw = draw_change(draw, FILE_CHANGES, where, made)(raw, draw)
    return HostileFiles.made(made, raw, arrays)


NPZ_LAYOUTS = {  # how the user points at the file: (--dataset, file name, --data-dir is the file itself)
    "--dataset mnist --data-dir data.npz": ("mnist", "data.npz", True),
    "--dataset fashion_mnist, fashion-mnist.npz in --data-dir": (
        "fashion_mnist",
        "fashion-mnist.npz",
        False,
    ),
    "--dataset auto, mnist.npz in --data-dir": ("auto", "mnist.npz", False),
    "load_npz and to_dataset": (None, "data.npz", True),
}


@settings(HOSTILE, max_examples=4000)
@given(case=hostile_npz(), layout=st.sampled_from(sorted(NPZ_LAYOUTS)))
def test_hostile_npz_loads_or_fails_clearly(tmp_path_factory, case, layout):
    """Any .npz: a Dataset keeping the contract, or a one-line DataError naming the file; and exactly
    which one when the changes are known to keep or break it."""
    name, file_name, data_dir_is_file = NPZ_LAYOUTS[layout]
    path = tmp_path_factory.mktemp("npz") / file_name
    path.write_bytes(case.content)
    outcome = load_outcome(
        name,
        path if data_dir_is_file else path.parent,
        path,
        case.arrays if case.expected == KEEP else None,
    )
    event(f"{outcome} after {case.expected}")
    check_expected(outcome, case.expected)


def good_members():
    return {
        f"{key}.npy": npy_bytes(array)
        for key, array in fake_arrays(TRAIN, TEST).items()
    }


def good_zip():
    return zip_bytes(good_members(), zipfile.ZIP_STORED)


FIXED_BUGS = {  # found by the test above: each was a traceback (or, for durations, accepted as labels)
    "a member without an .npy header (AttributeError)": (
        lambda: zip_bytes(
            {**good_members(), "y_train.npy": b"not npy"}, zipfile.ZIP_STORED
        ),
        "y_train is not a NumPy array (no .npy header)",
    ),
    "an unknown compression method (NotImplementedError)": (
        lambda: with_zip_entry(good_zip(), central_entries(good_zip())[0], method=99),
        "not a readable .npz file (That compression method is not supported)",
    ),
    "an encrypted member (RuntimeError)": (
        lambda: with_zip_entry(
            good_zip(), central_entries(good_zip())[0], encrypted=True
        ),
        "is encrypted, password required",
    ),
    "an .npy header declaring 784 TiB (MemoryError)": (
        lambda: zip_bytes(
            {**good_members(), "x_train.npy": npy_declaring((2**40, 28, 28))},
            zipfile.ZIP_STORED,
        ),
        "x_train declares shape (1099511627776, 28, 28) (862,017,116,176,384 bytes) "
        "but holds 100 bytes",
    ),
    "an .npy header declaring more than int64 holds (OverflowError)": (
        lambda: zip_bytes(
            {**good_members(), "x_test.npy": npy_declaring((10**20,))},
            zipfile.ZIP_STORED,
        ),
        "x_test declares shape (100000000000000000000,)",
    ),
    "an .npy header with a mangled parenthesis (tokenize.TokenError, found on CI-like timing)": (
        lambda: zip_bytes(
            {
                **good_members(),
                "x_train.npy": npy_bytes(fake_arrays(TRAIN, TEST)["x_train"]).replace(
                    b"(", b"\x1c", 1
                ),
            },
            zipfile.ZIP_STORED,
        ),
        "not a readable .npz file (('EOF in multi-line statement'",
    ),
    "labels of durations (timedelta64, an integer type to NumPy)": (
        lambda: npz_bytes(
            **{**fake_arrays(TRAIN, TEST), "y_test": np.arange(TEST).astype("m8[s]")}
        ),
        "y_test: labels must be a 1-D integer array, found timedelta64[s]",
    ),
}


@pytest.mark.parametrize("make, message", FIXED_BUGS.values(), ids=FIXED_BUGS.keys())
def test_fixed_npz_bugs_are_data_errors(tmp_path, make, message):
    path = tmp_path / "mnist.npz"
    path.write_bytes(make())
    with pytest.raises(DataError, match=re.escape(message)):
        load_dataset("mnist", path)


def test_pickles_are_never_unpickled(tmp_path):
    """An object array whose pickle would create a file on loading: refused, and the file never appears."""

    class Exploit:
        def __reduce__(self):
            return Path.touch, (tmp_path / "pwned",)

    path = write_npz(
        tmp_path / "mnist.npz", y_train=np.array([Exploit()] * TRAIN, dtype=object)
    )
    assert load_outcome("mnist", path, path) == REFUSED
    assert not (tmp_path / "pwned").exists()


# Folders of idx files -----------------------------------------------------------
def with_type_byte(array, draw):
    """An idx file of signed bytes, shorts, ints, floats or doubles (0x09, 0x0B, 0x0C, 0x0D, 0x0E)."""
    raw = idx_bytes(array)
    return raw[:2] + bytes([draw(pick(0x09, 0x0B, 0x0C, 0x0D, 0x0E))]) + raw[3:]


def with_lying_count(array, draw):
    """The header says one more (or one fewer) item than the body holds."""
    raw = bytearray(idx_bytes(array))
    raw[4:8] = (len(array) + draw(pick(1, -1))).to_bytes(4, "big")
    return bytes(raw)


IDX_IMAGE_CHANGES = {  # name: (effect, change(array, draw) -> idx bytes)
    "the wrong image size": (
        BREAK,
        lambda x, draw: idx_bytes(draw(pick(x[:, 1:], np.zeros((len(x), 32, 32))))),
    ),
    "the wrong rank": (
        BREAK,
        lambda x, draw: idx_bytes(
            draw(pick(x.reshape(len(x), -1), x[..., None], x[0]))
        ),
    ),
    "no images": (BREAK, lambda x, draw: idx_bytes(x[:0])),
}
IDX_LABEL_CHANGES = {
    "a label out of range": (
        BREAK,
        lambda y, draw: idx_bytes(with_value(y, draw, draw(st.integers(10, 255)))),
    ),
    "one label more or fewer": (
        BREAK,
        lambda y, draw: idx_bytes(draw(pick(y[:-1], np.concatenate([y, y[:1]])))),
    ),
    "labels as a column": (BREAK, lambda y, draw: idx_bytes(y[:, None])),
    "no labels": (BREAK, lambda y, draw: idx_bytes(y[:0])),
}
IDX_ANY_CHANGES = {
    "a signed or float type byte": (BREAK, with_type_byte),
    "a header that lies about the count": (BREAK, with_lying_count),
    "trailing bytes": (
        BREAK,
        lambda array, draw: idx_bytes(array) + draw(st.binary(min_size=1, max_size=8)),
    ),
}
IDX_FILE_CHANGES = {  # after gzip, if gzipped
    "truncated": (BREAK, FILE_CHANGES["truncated"][1]),
    "a flipped byte": (MAYBE, flip_byte),
    "a gzip magic number, then junk": (
        BREAK,
        lambda raw, draw: b"\x1f\x8b" + draw(st.binary(max_size=40)),
    ),
    "missing": (BREAK, lambda raw, draw: None),
}


@st.composite
def hostile_idx_files(draw):
    """The four idx files, each gzipped or not, some with their content or their bytes changed."""
    arrays = fake_arrays(TRAIN, TEST, seed=draw(st.integers(0, 2**16)))
    files, made = {}, []
    for split in SPLITS:
        content = idx_bytes(arrays[split])
        if (
            draw(st.integers(0, 3)) == 3
        ):  # a quarter of the files have their content changed
            changes = {
                **(IDX_IMAGE_CHANGES if split.startswith("x") else IDX_LABEL_CHANGES),
                **IDX_ANY_CHANGES,
            }
            content = draw_change(draw, changes, split, made)(arrays[split], draw)
        gzipped = draw(st.booleans())
        if gzipped:
            content = gzip.compress(content, mtime=0)
        if draw(st.integers(0, 5)) == 5:  # a sixth, their bytes
            where = f"{split}{' gzipped' if gzipped else ''}"
            content = draw_change(draw, IDX_FILE_CHANGES, where, made)(content, draw)
        files[split] = (content, gzipped)
    return HostileFiles.made(made, files, arrays)


IDX_LAYOUTS = {  # (--dataset, the folder holding the files, relative to --data-dir)
    "--dataset mnist, subfolder mnist/": ("mnist", "mnist"),
    "--dataset fashion_mnist, subfolder fashion-mnist/": (
        "fashion_mnist",
        "fashion-mnist",
    ),
    "--dataset fashion_mnist, subfolder fashion_mnist/": (
        "fashion_mnist",
        "fashion_mnist",
    ),
    "--dataset mnist, loose files in --data-dir": ("mnist", "."),
    "--dataset auto, subfolder mnist/": ("auto", "mnist"),
    "--dataset auto, subfolder fashion-mnist/": ("auto", "fashion-mnist"),
}


@settings(HOSTILE, max_examples=2500)
@given(case=hostile_idx_files(), layout=st.sampled_from(sorted(IDX_LAYOUTS)))
def test_hostile_idx_folder_loads_or_fails_clearly(tmp_path_factory, case, layout):
    """Any four idx files: a Dataset keeping the contract, or a one-line DataError naming the folder
    (or, with a file missing, the --data-dir searched)."""
    name, subfolder = IDX_LAYOUTS[layout]
    data_dir = tmp_path_factory.mktemp("idx")
    folder = data_dir / subfolder
    folder.mkdir(exist_ok=True)
    for split, (content, gzipped) in case.content.items():
        if content is not None:
            (folder / (IDX_NAMES[split] + (".gz" if gzipped else ""))).write_bytes(
                content
            )
    missing = any(content is None for content, _ in case.content.values())
    outcome = load_outcome(
        name,
        data_dir,
        data_dir if missing else folder,
        case.arrays if case.expected == KEEP else None,
    )
    event(f"{outcome} after {case.expected}")
    check_expected(outcome, case.expected)


def idx_folder_with(split, replace):
    """make(data_dir): an mnist/ folder of idx files whose `split` file is replaced by `replace(path)`."""

    def make(data_dir):
        path = write_idx_folder(data_dir / "mnist", gz=False) / IDX_NAMES[split]
        path.unlink()
        replace(path)

    return make


SPECIAL_FILES = {  # name: make(data_dir); none is a regular file, so none may be opened (a FIFO would hang)
    "a FIFO named mnist.npz": lambda data_dir: os.mkfifo(data_dir / "mnist.npz"),
    "a FIFO as an idx file": idx_folder_with("x_train", os.mkfifo),
    "an idx file linked to /dev/urandom": idx_folder_with(
        "y_test", lambda path: path.symlink_to("/dev/urandom")
    ),
    "mnist.npz linked to /dev/zero": lambda data_dir: (
        data_dir / "mnist.npz"
    ).symlink_to("/dev/zero"),
    "a folder named mnist.npz": lambda data_dir: (data_dir / "mnist.npz").mkdir(),
    "a symlink loop named mnist.npz": lambda data_dir: (
        data_dir / "mnist.npz"
    ).symlink_to(data_dir / "mnist.npz"),
    "a dangling symlink named mnist.npz": lambda data_dir: (
        data_dir / "mnist.npz"
    ).symlink_to(data_dir / "nowhere"),
}


@pytest.mark.parametrize("name", ["mnist", "auto"])
@pytest.mark.parametrize("make", SPECIAL_FILES.values(), ids=SPECIAL_FILES.keys())
def test_special_files_are_not_found_rather_than_read(tmp_path, make, name):
    """FIFOs, devices, folders and broken links in place of data files: 'not found' at once, no hang."""
    make(tmp_path)
    assert load_outcome(name, tmp_path, tmp_path) == REFUSED


# The command line ---------------------------------------------------------------
@pytest.fixture(scope="module")
def bad_data(tmp_path_factory):
    """--data-dir values that cannot load: so a command that parses still stops before training."""
    root = tmp_path_factory.mktemp("bad-data")
    (root / "text.npz").write_text("not an archive\n")
    (root / "truncated.npz").write_bytes(npz_bytes(**fake_arrays(TRAIN, TEST))[:300])
    write_idx_folder(
        root / "idx",
        fake_arrays(TRAIN, TEST),
        overrides={"y_test": idx_bytes(np.full(TEST, 10))},
    )
    return [root / "missing", root / "text.npz", root / "truncated.npz", root / "idx"]


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    """A valid .npz of TRAIN training and TEST test images."""
    return write_npz(
        tmp_path_factory.mktemp("tiny") / "tiny.npz", fake_arrays(TRAIN, TEST)
    )


def run_main(argv):
    """main(argv) in this process: (exit code, stdout, stderr), within a time limit."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with (
        time_limit(30),
        contextlib.redirect_stdout(stdout),
        contextlib.redirect_stderr(stderr),
    ):
        try:
            code = main([str(argument) for argument in argv])
        except SystemExit as stopped:  # argparse
            code = stopped.code
    return code, stdout.getvalue(), stderr.getvalue()


def fails_with_one_line(argv, message=None):
    """main(argv) exits 2 (argparse) or returns 1 (before training), printing one line: the error."""
    code, stdout, stderr = run_main(argv)
    lines = stderr.splitlines()
    assert code in (1, 2) and len(lines) == 1 and ": error: " in lines[0], (
        code,
        stderr,
    )
    assert (
        lines[0].startswith("python -m compare")
        and stdout == ""
        and "Traceback" not in stderr
    )
    if message:
        assert message in lines[0], lines[0]
    return "argparse error (exit 2)" if code == 2 else "error before training (exit 1)"


FLAGS = {  # command: flags whose values are drawn
    "": [
        "--epochs",
        "--batch-size",
        "--lr",
        "--seed",
        "--train-samples",
        "--test-samples",
        "--steps-per-execution",
        "--repeats",
        "--dataset",
        "--format",
        "--only",
        "--model",
        "--strategy",
        "--lang",
        "--backends",
        "--devices",
        "--workers",
        "--worker-timeout",
        "--checkpoint-dir",
        "--export",
    ],
    "bench": [
        "--batch-sizes",
        "--repeats",
        "--epochs",
        "--seed",
        "--variants",
        "--train-samples",
        "--test-samples",
        "--model",
        "--dataset",
        "--format",
    ],
    "transfer": [
        "--image-size",
        "--source-classes",
        "--target-classes",
        "--pretrain-samples",
        "--pretrain-epochs",
        "--labels",
        "--test-samples",
        "--epochs",
        "--fine-tune-epochs",
        "--fine-tune-lr",
        "--fine-tune-stages",
        "--scratch-epochs",
        "--batch-size",
        "--lr",
        "--seed",
        "--weights",
        "--only",
    ],
}
ODD_VALUES = [
    "",
    "0",
    "-0",
    "+0",
    "00",
    "-1",
    "+5",
    "++5",
    "1.5",
    "1e3",
    "1e-400",
    "1e400",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "0x10",
    "1_000",
    " 5",
    "5 ",
    "²",
    "٣",
    "five",
    "None",
    "1,2,,3",
    "0-4",
    "9-0",
    "all",
    "conv6",
    str(10**30),
    str(2**32),
    str(2**63),
    str(MAX_COUNT + 1),
    str(MAX_SEED + 1),
    "9" * 5000,
]
FLAG_VALUES = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.integers(-(10**40), 10**40).map(str),
    st.floats().map(repr),
    st.text(max_size=8),
)


@settings(HOSTILE, max_examples=2500)
@given(
    command=st.sampled_from(sorted(FLAGS)),
    data=st.data(),
    value=FLAG_VALUES,
    joined=st.booleans(),
    quiet=st.booleans(),
    data_dir_index=st.integers(0, 3),
)
def test_hostile_flag_values_fail_in_one_line(
    bad_data, command, data, value, joined, quiet, data_dir_index
):
    """Any value for any flag of the three commands, with data that cannot load: one error line, exit 2 or 1."""
    flag = data.draw(st.sampled_from(FLAGS[command]), label="flag")
    assume(
        not (flag == "--dataset" and value == "digits")
    )  # digits ignores --data-dir: it would train
    hostile = [f"{flag}={value}"] if joined else [flag, value]
    argv = [
        *([command] if command else []),
        "--dataset",
        "mnist",
        "--data-dir",
        bad_data[data_dir_index],
        *(["--quiet"] if quiet else []),
        *hostile,
    ]
    event(fails_with_one_line(argv))


def batch_flag(command):
    return "--batch-sizes" if command == "bench" else "--batch-size"


ABSURD = {  # name: (commands, smallest absurd number n, argv given command and n, the error line, formatted)
    "a batch size above the training images": (
        ("", "bench"),
        TRAIN + 1,
        lambda command, n: [batch_flag(command), n],
        "{flag} {n} is larger than the {train} training images",
    ),
    "a second batch size above the training images": (
        ("bench",),
        TRAIN + 1,
        lambda command, n: ["--batch-sizes", f"2,{n}"],
        "--batch-sizes {n} is larger than the {train} training images",
    ),
    "a batch size above --train-samples": (
        ("", "bench"),
        3,
        lambda command, n: ["--train-samples", 2, batch_flag(command), n],
        "{flag} {n} is larger than the 2 training images",
    ),
    "--train-samples beyond the dataset": (
        ("", "bench"),
        TRAIN + 1,
        lambda command, n: ["--train-samples", n],
        "--train-samples {n} is out of range: mnist has {train}",
    ),
    "--test-samples beyond the dataset": (
        ("", "bench"),
        TEST + 1,
        lambda command, n: ["--test-samples", n],
        "--test-samples {n} is out of range: mnist has {test}",
    ),
}


@settings(HOSTILE, max_examples=300)
@given(case=st.sampled_from(sorted(ABSURD)), data=st.data())
def test_absurd_sizes_for_the_data_fail_before_training(tiny_data, case, data):
    """Valid data, and a batch size or sample count the flag's parser accepts but the data cannot
    give: one error line naming the flag, exit 1, before any training."""
    commands, smallest, make_argv, message = ABSURD[case]
    command = data.draw(st.sampled_from(commands), label="command")
    number = data.draw(
        st.one_of(st.integers(smallest, smallest + 3), st.integers(smallest, 10**40)),
        label="n",
    )
    argv = [
        *([command] if command else []),
        "--dataset",
        "mnist",
        "--data-dir",
        tiny_data,
        *make_argv(command, number),
    ]
    outcome = fails_with_one_line(
        argv, message.format(flag=batch_flag(command), n=number, train=TRAIN, test=TEST)
    )
    assert outcome == "error before training (exit 1)"
    event(case)


CAPPED = {  # flag: (commands, cap); values above fail in argparse, the cap itself parses
    "--epochs": (("", "bench", "transfer"), MAX_COUNT),
    "--repeats": (("", "bench"), MAX_COUNT),
    "--steps-per-execution": (("",), MAX_COUNT),
    "--seed": (("", "bench", "transfer"), MAX_SEED),
    "--pretrain-epochs": (("transfer",), MAX_COUNT),
    "--scratch-epochs": (("transfer",), MAX_COUNT),
    "--fine-tune-epochs": (("transfer",), MAX_COUNT),
    "--batch-size": (("transfer",), MAX_COUNT),
    "--image-size": (("transfer",), MAX_IMAGE_SIZE),
    "--width": (("code",), MAX_WIDTH),
    "--devices": (("",), MAX_DEVICES),
    "--worker-timeout": (("",), MAX_TIMEOUT),
    "--workers": (("",), MAX_REPLICAS),
}
WITH_FLAGS = {
    "--devices": ["--strategy", "mirrored"]
}  # what a flag needs beside it to reach the data
ABOVE_ONLY = {
    "--width",
    "--workers",
}  # code needs no data; at the cap, 256 worker processes would start


@settings(HOSTILE, max_examples=300)
@given(flag=st.sampled_from(sorted(CAPPED)), data=st.data())
def test_capped_flags(bad_data, flag, data):
    """Above its documented cap a count is an argparse error; at the cap it parses (then the bad data
    stops the command). For ABOVE_ONLY flags only values above the cap are tried."""
    commands, cap = CAPPED[flag]
    command = data.draw(st.sampled_from(commands), label="command")
    above = st.one_of(st.integers(cap + 1, cap + 3), st.integers(cap + 1, 10**40))
    value = data.draw(
        above if flag in ABOVE_ONLY else st.one_of(st.just(cap), above), label="value"
    )
    data_flags = (
        [] if command == "code" else ["--dataset", "mnist", "--data-dir", bad_data[0]]
    )
    argv = [
        *([command] if command else []),
        *data_flags,
        *WITH_FLAGS.get(flag, []),
        flag,
        value,
    ]
    if value > cap:
        assert (
            fails_with_one_line(argv, f"argument {flag}: must be at most {cap:,}")
            == "argparse error (exit 2)"
        )
        event("above the cap: argparse error")
    else:
        assert (
            fails_with_one_line(argv, "mnist not found")
            == "error before training (exit 1)"
        )
        event("at the cap: parses, then the data error")


# Output paths -------------------------------------------------------------------
OUTPUT_FLAGS = {
    "": ["--output", "--plot", "--report"],
    "bench": ["--output"],
    "transfer": ["--output", "--save-pretrained"],
}
RUNNING_AS_ROOT = (
    os.geteuid() == 0
)  # root writes into read-only folders: os.access says so too


def read_only_folder(root):
    folder = root / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder / "result.weights.h5"


OUTPUT_PATHS = {  # kind: (make(root) -> the path given, whether check_writable must refuse it)
    "an existing folder": (lambda root: root, True),
    "the empty path (the current folder)": (lambda root: Path(""), True),
    "a file in a missing folder": (
        lambda root: root / "missing" / "result.weights.h5",
        True,
    ),
    "a file under a regular file": (
        lambda root: root / "data.txt" / "result.weights.h5",
        True,
    ),
    "a file in a read-only folder": (read_only_folder, not RUNNING_AS_ROOT),
    "an existing file": (lambda root: root / "data.txt", False),
    "the --data-dir file itself": (lambda root: root / "bad.npz", True),
}


def snapshot(root):
    """Every path under `root` with its bytes (None for folders) and permissions."""
    return {
        path: (None if path.is_dir() else path.read_bytes(), path.stat().st_mode)
        for path in [root, *root.rglob("*")]
    }


@settings(HOSTILE, max_examples=60)
@given(
    command=st.sampled_from(sorted(OUTPUT_FLAGS)),
    kind=st.sampled_from(sorted(OUTPUT_PATHS)),
    data=st.data(),
)
def test_unusable_output_paths_fail_and_touch_nothing(
    tmp_path_factory, command, kind, data
):
    """An output flag naming a folder, a missing or read-only folder, or a path under a file: one error
    line naming the flag. With data that cannot load, nothing under the folder is created or changed,
    not even a file the user named."""
    flag = data.draw(st.sampled_from(OUTPUT_FLAGS[command]), label="flag")
    root = tmp_path_factory.mktemp("outputs")
    (root / "data.txt").write_text("the user's own file\n")
    (root / "bad.npz").write_bytes(b"PK\x03\x04 not really a zip")
    make, refused = OUTPUT_PATHS[kind]
    output = make(root)
    if refused:
        message = flag
    elif flag == "--save-pretrained" and not output.name.endswith(".weights.h5"):
        message = "Keras needs a name ending in .weights.h5"
    else:
        message = "bad.npz: not a readable .npz file"
    before = snapshot(root)
    try:
        argv = [
            *([command] if command else []),
            "--dataset",
            "mnist",
            "--data-dir",
            root / "bad.npz",
            flag,
            output,
        ]
        assert fails_with_one_line(argv, message) == "error before training (exit 1)"
        assert snapshot(root) == before
    finally:
        for folder in root.rglob("read-only"):
            folder.chmod(0o755)  # so that pytest can clean up
    event(
        "refused by check_writable" if refused else "writable, so the bad data stops it"
    )
