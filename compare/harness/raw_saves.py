"""The raw checkpoints (raw_tf_impl/checkpoints.py), checked before a resume trusts them
and flushed to the disk after each save.

`tf.train.CheckpointManager` already saves atomically: each save's files are written
under a temporary name and renamed (`ckpt-N.index`, `ckpt-N.data-...`), then the state
file `checkpoint`, which names the last save, is replaced by rename
(file_io.atomic_write_string_to_file), and the save two back is deleted only after. The
shuffler's state is a variable of the same checkpoint, so it is saved with it. What it
does not do: fsync (the harness does it after each save), and check before trusting. A
manager that finds its state file unreadable starts afresh, and its next saves delete
and overwrite the saves that were there. So before the lesson's EpochCheckpoint is even
built, the harness reads the state file, the index and every array (each array carries
a CRC-32C that TensorFlow checks on reading) and compares them with what this model's
checkpoint holds.
"""

import json
import re
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from compare.harness.durable import damaged, fsync_path, save_failed
from compare.language import _, number
from compare.styles import STYLES

STYLE = "raw_tf"
STATE_FILE = "checkpoint"
SAVE_NAME = re.compile(r"ckpt-([1-9][0-9]{0,8})")
# What a save interrupted before its state file was written can leave: the first save's
# files, TensorFlow's temporary folder and a temporary state file.
FIRST_SAVE_DEBRIS = re.compile(
    r"ckpt-1(\.index|\.data-\d{5}-of-\d{5}|_temp)|checkpoint\.tmp[0-9a-f]{32}"
)
# tf.train.Checkpoint's own entries, not the lesson's state (`save` adds the counter).
BOOKKEEPING = (
    "_CHECKPOINTABLE_OBJECT_GRAPH",
    "save_counter/.ATTRIBUTES/VARIABLE_VALUE",
)


def lesson():
    return STYLES[STYLE].module("checkpoints")


def fresh_model(model_name):
    """The lesson's model and Adam, for checking a save before any training."""
    style = STYLES[STYLE]
    model = style.module(model_name).build_model(0)
    return model, style.module("cnn").compile_model(model)


def arrays_of(reader):
    """{name: (shape, dtype)} of a checkpoint's variables."""
    shapes, dtypes = (
        reader.get_variable_to_shape_map(),
        reader.get_variable_to_dtype_map(),
    )
    return {
        name: (tuple(shapes[name]), dtypes[name].name)
        for name in shapes
        if name not in BOOKKEEPING
    }


def reference_of(model, optimizer):
    """What the lesson's EpochCheckpoint saves for this model and Adam, written to a
    scratch folder."""
    with tempfile.TemporaryDirectory() as scratch:
        checkpoint = lesson().EpochCheckpoint(
            model, optimizer, np.random.default_rng(0), scratch
        )
        path = checkpoint.manager.checkpoint.write(str(Path(scratch) / "reference"))
        return arrays_of(tf.train.load_checkpoint(path))


def read_state(folder):
    """The save the state file names (its number), every name it lists checked to be a
    save in this folder (the manager deletes the saves it lists)."""
    from google.protobuf import text_format
    from tensorflow.python.training.checkpoint_state_pb2 import CheckpointState

    path = folder / STATE_FILE
    try:
        state = text_format.Parse(path.read_bytes().decode(), CheckpointState())
    except (UnicodeDecodeError, text_format.ParseError) as error:
        raise damaged(
            path, _("it cannot be read ({error})").format(error=type(error).__name__)
        ) from None
    names = [state.model_checkpoint_path, *state.all_model_checkpoint_paths]
    for name in names:
        if not SAVE_NAME.fullmatch(name):
            raise damaged(
                path,
                _("it names {name}, which is not a save in this folder").format(
                    name=repr(name)
                ),
            )
    if state.model_checkpoint_path not in state.all_model_checkpoint_paths:
        raise damaged(path, _("its last save is not among the saves it lists"))
    return int(SAVE_NAME.fullmatch(state.model_checkpoint_path)[1])


def check_save(folder, epoch, reference):
    """Raises CheckpointDamaged, naming the file, unless ckpt-<epoch> reads whole (its
    index, every array with its checksum) and holds this model's arrays, epoch `epoch`
    and a valid shuffler state."""
    prefix = folder / f"ckpt-{epoch}"
    index = prefix.with_name(prefix.name + ".index")
    data = sorted(folder.glob(f"{prefix.name}.data-*")) or [
        prefix.with_name(prefix.name + ".data-00000-of-00001")
    ]
    for path in (index, *data):
        if not path.is_file():
            raise damaged(path, _("it is missing"))
    try:
        reader = tf.train.load_checkpoint(str(prefix))
        found = arrays_of(reader)
    except Exception as error:  # TensorFlow's DataLossError, OpError and others
        raise damaged(
            index, _("it cannot be read ({error})").format(error=type(error).__name__)
        ) from None
    if found != reference:
        raise damaged(
            prefix,
            _("it holds other arrays than a save of this model ({style})").format(
                style=STYLE
            ),
        )
    try:
        values = {name: reader.get_tensor(name) for name in found}
    except Exception as error:  # a checksum that does not match, a short file
        raise damaged(
            data[0],
            _("it cannot be read ({error})").format(error=type(error).__name__),
        ) from None
    saved_epoch = int(values["epoch/.ATTRIBUTES/VARIABLE_VALUE"])
    if saved_epoch != epoch:
        raise damaged(
            prefix,
            _("it records epoch {saved}, not {wanted}").format(
                saved=saved_epoch, wanted=number(epoch)
            ),
        )
    try:
        state = values["shuffler_state/.ATTRIBUTES/VARIABLE_VALUE"]
        np.random.default_rng().bit_generator.state = json.loads(state)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise damaged(
            prefix,
            _("its shuffler state cannot be read ({error})").format(
                error=type(error).__name__
            ),
        ) from None


def check_folder(folder, model_name=None, model_and_optimizer=None):
    """The epoch of the last save in `folder`, checked (0 where there is none); raises
    CheckpointDamaged on anything it cannot trust. Without a state file, only the debris
    of an unfinished first save may be there (the fresh start then overwrites it)."""
    folder = Path(folder)
    if not (folder / STATE_FILE).is_file():
        others = sorted(
            path.name
            for path in (folder.iterdir() if folder.is_dir() else ())
            if not FIRST_SAVE_DEBRIS.fullmatch(path.name)
        )
        if others:
            raise damaged(
                folder / STATE_FILE,
                _("it is missing, and the folder holds {names}").format(
                    names=", ".join(others)
                ),
            )
        return 0
    epoch = read_state(folder)
    model, optimizer = model_and_optimizer or fresh_model(model_name)
    check_save(folder, epoch, reference_of(model, optimizer))
    return epoch


def open_checkpoint(model, optimizer, shuffler, folder):
    """The lesson's EpochCheckpoint on `folder`, restored after the save was checked:
    (checkpoint, epochs done)."""
    epoch = check_folder(folder, model_and_optimizer=(model, optimizer))
    checkpoint = lesson().EpochCheckpoint(model, optimizer, shuffler, folder)
    try:
        restored = checkpoint.restore()
    except Exception as error:  # AssertionError, ValueError, OpError
        raise damaged(
            Path(folder) / f"ckpt-{epoch}",
            _("TensorFlow could not restore it ({error})").format(
                error=type(error).__name__
            ),
        ) from None
    if restored != epoch:
        raise damaged(
            Path(folder) / STATE_FILE,
            _("it records epoch {saved}, not {wanted}").format(
                saved=restored, wanted=number(epoch)
            ),
        )
    return checkpoint, epoch


def save_epoch(checkpoint, epoch, last_saved):
    """The lesson's save of epoch `epoch`, then fsync of its files and the folder; a
    failure (a full disk) is one line, the save before it being intact."""
    folder = Path(checkpoint.manager.directory)
    try:
        checkpoint.save(epoch)
        for path in (
            *folder.glob(f"ckpt-{epoch}.*"),
            folder / STATE_FILE,
            folder,
        ):
            fsync_path(path)
    except (OSError, tf.errors.OpError) as error:
        reason = (
            tensorflow_reason(error) if isinstance(error, tf.errors.OpError) else error
        )
        raise save_failed(STYLE, epoch, folder, reason, last_saved) from None


def tensorflow_reason(error):
    """What went wrong, from TensorFlow's '{{function_node ...}} PATH; File too large
    [Op:SaveV2]', in the user's language where it is a system error."""
    if isinstance(error, tf.errors.ResourceExhaustedError):
        return _("No space left on device")
    found = re.search(r";\s*([^;]+?)\s*\[Op:", error.message)
    return _(found[1]) if found else error.message.splitlines()[0]
