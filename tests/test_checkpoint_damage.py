"""Checkpoint files damaged by hand: a resume reads a complete save or refuses in one
line naming the file, and changes nothing.

A real run saves 2 epochs in each style; hypothesis then damages one of its files at a
time (truncated, a byte flipped, overwritten, emptied, deleted, junk appended, swapped
with a file of the same name from the other model's or another epoch's save) and asks
the check a resume makes first (compare.harness.checkpointing.check_saves). Where it
accepts the folder, the save it names must be one the run wrote, array for array; where
it refuses, the message names a file of the folder. `--hypothesis-show-statistics`
counts the outcomes. Resumes from the command line on each kind of damage then show the
whole path: one line, exit 1, not a byte changed.
"""

import shutil

import pytest
import tensorflow as tf
from helpers import SMALL
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from compare.bench.resume_check import max_difference, saved_arrays
from compare.cli import main
from compare.harness.checkpointing import check_saves, style_folder
from compare.harness.durable import CheckpointDamaged

STYLES = ("keras", "raw_tf")
ONLY = {"keras": "keras", "raw_tf": "raw"}
DAMAGES = (
    "truncate",
    "flip",
    "overwrite",
    "empty",
    "delete",
    "append",
    "other model",
    "other epoch",
)


def run(checkpoint_dir, style, model="cnn", epochs=2, resume=False):
    """A real checkpointed run of the CLI, in this process; its exit code."""
    return main(
        [
            *SMALL,
            "--quiet",
            *("--only", ONLY[style], "--model", model, "--epochs", str(epochs)),
            *("--checkpoint-dir", str(checkpoint_dir)),
            *(["--resume"] if resume else []),
        ]
    )


def files_of(folder):
    """{relative path: bytes} of every file under `folder`."""
    return {
        path.relative_to(folder): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def raw_save_arrays(folder, epoch):
    reader = tf.train.load_checkpoint(str(folder / f"ckpt-{epoch}"))
    return {
        name: reader.get_tensor(name)
        for name in reader.get_variable_to_shape_map()
        if name != "_CHECKPOINTABLE_OBJECT_GRAPH"
    }


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """{style: (checkpoint_dir, {epoch: arrays of that save})} after 2 epochs, and a
    save of the other model (cnn_bn_dropout) for swapping files in."""
    made = {}
    for style in STYLES:
        for model in ("cnn", "cnn_bn_dropout"):
            checkpoint_dir = tmp_path_factory.mktemp(f"{style}-{model}") / "run"
            assert run(checkpoint_dir, style, model) == 0
            made[style, model] = checkpoint_dir
    saves = {}
    for style in STYLES:
        folder = style_folder(made[style, "cnn"], style, "cnn")
        saves[style] = (
            {1: raw_save_arrays(folder, 1), 2: raw_save_arrays(folder, 2)}
            if style == "raw_tf"
            else {2: saved_arrays(folder)}
        )
    return made, saves


def damage(path, kind, data, donors):
    """Damages the file `path` in the way `kind` says; `donors` maps a kind to the file
    of the same name elsewhere (or None)."""
    original = path.read_bytes()
    if kind == "truncate":
        path.write_bytes(original[: data.draw(st.integers(0, len(original) - 1))])
    elif kind == "flip":
        position = data.draw(st.integers(0, len(original) - 1))
        bit = 1 << data.draw(st.integers(0, 7))
        flipped = bytes([original[position] ^ bit])
        path.write_bytes(original[:position] + flipped + original[position + 1 :])
    elif kind == "overwrite":
        path.write_bytes(data.draw(st.binary(min_size=1, max_size=len(original) + 64)))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "delete":
        path.unlink()
    elif kind == "append":
        path.write_bytes(original + data.draw(st.binary(min_size=1, max_size=64)))
    else:
        donor = donors.get(kind)
        if donor is None or not donor.exists():
            return True  # nothing to swap in
        shutil.copyfile(donor, path)
    return path.exists() and path.read_bytes() == original and kind != "delete"


@pytest.mark.parametrize("style", STYLES)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_damaged_checkpoint_files_are_refused_or_harmless(
    pristine, tmp_path_factory, style, data
):
    made, saves = pristine
    checkpoint_dir = tmp_path_factory.mktemp("damaged") / "run"
    shutil.copytree(made[style, "cnn"], checkpoint_dir)
    folder = style_folder(checkpoint_dir, style, "cnn")
    names = sorted(
        str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()
    )
    name = data.draw(st.sampled_from(names), label="file")
    kind = data.draw(st.sampled_from(DAMAGES), label="damage")
    path = folder / name
    other_model = style_folder(made[style, "cnn_bn_dropout"], style, "cnn_bn_dropout")
    donors = {"other model": other_model / name}  # both saved 2 epochs
    if style == "raw_tf" and name.startswith("ckpt-"):  # raw keeps the last two
        donors["other epoch"] = folder / name.translate(str.maketrans("12", "21"))
    if damage(path, kind, data, donors):
        event("the damage left the file as it was")
        return
    before = files_of(checkpoint_dir)
    try:
        epoch = check_saves(checkpoint_dir, style, "cnn")
    except CheckpointDamaged as error:
        message = str(error)
        assert "\n" not in message and str(folder) in message, message
        event(f"refused: {kind}")
    else:
        # Accepted: what the resume will read is a save the run wrote, unchanged.
        assert epoch in saves[style], (name, kind, epoch)
        read = (
            raw_save_arrays(folder, epoch)
            if style == "raw_tf"
            else saved_arrays(folder)
        )
        assert max_difference(read, saves[style][epoch]) == 0.0, (name, kind)
        event(f"accepted, epoch {epoch} read whole: {kind} of {name}")
    assert files_of(checkpoint_dir) == before  # the check changed nothing


RESUME_DAMAGES = {  # (style, file, damage) as a user's mishap would leave them
    "raw state file": ("raw_tf", "checkpoint", b"model_checkpoint_path: 12"),
    "raw index truncated": ("raw_tf", "ckpt-2.index", slice(0, 40)),
    "raw data truncated": ("raw_tf", "ckpt-2.data-00000-of-00001", slice(0, 100)),
    "keras weights truncated": ("keras", "epoch-2/latest.weights.h5", slice(0, 900)),
    "keras metadata": ("keras", "epoch-2/training_metadata.json", b'{"epoch": 7}'),
    "keras random state": ("keras", "epoch-2/random_state.npz", b"PK\x03\x04junk"),
    "keras manifest": ("keras", "epoch-2/manifest.json", b"{}"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(RESUME_DAMAGES))
def test_a_resume_on_damaged_files_is_one_line_and_changes_nothing(
    pristine, tmp_path, capsys, case
):
    style, name, change = RESUME_DAMAGES[case]
    made, _saves = pristine
    checkpoint_dir = tmp_path / "run"
    shutil.copytree(made[style, "cnn"], checkpoint_dir)
    path = style_folder(checkpoint_dir, style, "cnn") / name
    content = path.read_bytes()
    path.write_bytes(content[change] if isinstance(change, slice) else change)
    before = files_of(checkpoint_dir)
    capsys.readouterr()
    assert run(checkpoint_dir, style, epochs=4, resume=True) == 1
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "Traceback" not in error, error
    assert f"{path} is damaged" in error or f"{path.parent} is damaged" in error, error
    assert files_of(checkpoint_dir) == before


@pytest.mark.slow
@pytest.mark.parametrize("style", STYLES)
def test_a_resume_on_the_other_models_folder_is_one_line(
    pristine, tmp_path, capsys, style
):
    """The other model's saves put where this model's belong (a folder renamed by
    hand): refused before any training, nothing changed."""
    made, _saves = pristine
    checkpoint_dir = tmp_path / "run"
    shutil.copytree(made[style, "cnn"], checkpoint_dir)
    mine = style_folder(checkpoint_dir, style, "cnn")
    shutil.rmtree(mine)
    shutil.copytree(
        style_folder(made[style, "cnn_bn_dropout"], style, "cnn_bn_dropout"),
        mine,
    )
    before = files_of(checkpoint_dir)
    capsys.readouterr()
    assert run(checkpoint_dir, style, epochs=4, resume=True) == 1
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "is damaged" in error and str(mine) in error, error
    assert files_of(checkpoint_dir) == before


@pytest.mark.slow
@pytest.mark.parametrize("style", STYLES)
def test_an_undamaged_copy_resumes_to_the_uninterrupted_end(pristine, tmp_path, style):
    """The control: the same copy, undamaged, resumes and ends where 3 epochs in one go
    end; so the damage is what the tests above saw refused."""
    made, _saves = pristine
    resumed, uninterrupted = tmp_path / "resumed", tmp_path / "uninterrupted"
    shutil.copytree(made[style, "cnn"], resumed)
    assert run(resumed, style, epochs=3, resume=True) == 0
    assert run(uninterrupted, style, epochs=3) == 0
    arrays = [
        saved_arrays(style_folder(folder, style, "cnn"))
        for folder in (resumed, uninterrupted)
    ]
    assert check_saves(resumed, style, "cnn") == 3
    assert max_difference(*arrays) == 0.0
