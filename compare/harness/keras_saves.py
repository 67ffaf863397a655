"""Keras checkpoints that no crash can destroy, around the lesson's idiomatic ones.

keras_impl/checkpoints.py trains with `keras.callbacks.BackupAndRestore`, which rewrites
`latest.weights.h5` in place after each epoch (and the lesson's RandomStateBackup its
`random_state.npz`): a kill -9 or a second Ctrl-C during that write leaves a truncated
file and no other, and HDF5 meeting a full disk leaves an open file that crashes Python
at exit (a segfault). The harness trains with the lesson's pieces
(train_in_seeded_order, RandomStateBackup), BackupAndRestore replaced by BackupInMemory
(the same files, HDF5 writing into memory and Python onto the disk, so that a full disk
is an OSError), and gives them a staging folder instead of the checkpoint folder:

    <style folder>/staging/     where fit's callbacks write their files
    <style folder>/epoch-<N>/   the last complete save: those files, and
                                         manifest.json (the style, the model, the
                                         epoch, each file's size and SHA-256)

After the lesson's callbacks have written epoch N, `AtomicSaves` (the next callback)
fsyncs the files, moves them into `epoch-<N>.partial/` with the manifest, fsyncs,
renames that folder to `epoch-<N>/` and only then deletes the older save: at every
instant one complete save exists. A resume first checks the last
save (the manifest, every checksum, the arrays this model's save holds), then copies it
to staging/, where BackupAndRestore and RandomStateBackup restore it as they always do.
"""

import hashlib
import io
import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path

import keras
import numpy as np

from compare.harness.durable import (
    damaged,
    digest,
    fsync_path,
    save_failed,
    write_atomically,
    write_durably,
)
from compare.language import _, number
from compare.styles import STYLES

STYLE = "keras"
LESSON_FILES = ("latest.weights.h5", "training_metadata.json", "random_state.npz")
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
STAGING = "staging"
SAVE = re.compile(r"epoch-([1-9][0-9]{0,8})")
PARTIAL = re.compile(r"epoch-[1-9][0-9]{0,8}\.partial")
# HDF5's bookkeeping beside the arrays (measured: about 2 KiB per array), with room.
BYTES_PER_ARRAY, SPARE_BYTES = 4096, 1 << 16


def complete_saves(folder):
    """[(epoch, folder)] of the complete saves in `folder`, oldest first."""
    if not folder.is_dir():
        return []
    found = [(SAVE.fullmatch(path.name), path) for path in folder.iterdir()]
    return sorted((int(match[1]), path) for match, path in found if match)


def latest_save(folder):
    """The folder of the last complete save in `folder`, or None."""
    saves = complete_saves(Path(folder))
    return saves[-1][1] if saves else None


def manifest_check(fields):
    """The manifest's checksum of its own fields: a damaged manifest is seen as such."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


# What this model's save holds -----------------------------------------------------
def fresh_model(model_name):
    """The lesson's model, compiled: for checking a save before any training."""
    style = STYLES[STYLE]
    model = style.module(model_name).build_model(0)
    style.module("cnn").compile_model(model)
    return model


def h5_arrays(path):
    """{name: (shape, dtype)} of every array in an HDF5 file."""
    import h5py

    arrays = {}
    with h5py.File(path, "r") as file:
        file.visititems(
            lambda name, item: (
                arrays.update({name: (item.shape, str(item.dtype))})
                if isinstance(item, h5py.Dataset)
                else None
            )
        )
    return arrays


def npz_arrays(path):
    """[(shape, dtype)] of the arrays of an .npz, in order; no pickles."""
    with np.load(path, allow_pickle=False) as saved:
        return [(saved[name].shape, str(saved[name].dtype)) for name in saved.files]


def reference_of(model):
    """What the lesson's callbacks write for `model`: the arrays of its weights file
    (weights and Adam state) and of its random-state file, written to a scratch folder."""
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)  # as BackupAndRestore does
    random_state = STYLES[STYLE].module("checkpoints").RandomStateBackup
    with tempfile.TemporaryDirectory() as scratch:
        weights = Path(scratch) / LESSON_FILES[0]
        model.save_weights(weights)
        backup = random_state(scratch)
        backup.set_model(model)
        backup.on_epoch_end(0)
        return h5_arrays(weights), npz_arrays(backup.path)


# Checking a save ---------------------------------------------------------------------
def read_manifest(save, model_name, epoch):
    path = save / MANIFEST
    try:
        manifest = json.loads(path.read_bytes())
        fields = {key: value for key, value in manifest.items() if key != "check"}
        whole = manifest["check"] == manifest_check(fields)
        files = manifest["files"]
        listed = sorted(files) == sorted(LESSON_FILES) and all(
            isinstance(files[name]["bytes"], int)
            and isinstance(files[name]["sha256"], str)
            for name in files
        )
    except FileNotFoundError:
        raise damaged(path, _("it is missing")) from None
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise damaged(
            path, _("it cannot be read ({error})").format(error=type(error).__name__)
        ) from None
    if not (whole and listed and manifest.get("format") == MANIFEST_FORMAT):
        raise damaged(path, _("its contents do not match its own checksum"))
    saved = (manifest.get("implementation"), manifest.get("model"))
    if saved != (STYLE, model_name):
        raise damaged(
            path,
            _("it is a save of {saved}, not of {wanted}").format(
                saved=" ".join(map(str, saved)),
                wanted=f"{STYLE} {model_name}",
            ),
        )
    if manifest.get("epoch") != epoch:
        raise damaged(
            path,
            _("it records epoch {saved}, not {wanted}").format(
                saved=manifest.get("epoch"), wanted=number(epoch)
            ),
        )
    return manifest


def check_save(save, epoch, model_name, reference):
    """Raises CheckpointDamaged, naming the file, unless the save in `save` (epoch
    `epoch`) is complete, unchanged since it was written, and one of this model."""
    manifest = read_manifest(save, model_name, epoch)
    for name in LESSON_FILES:
        path, recorded = save / name, manifest["files"][name]
        try:
            size, sha256 = digest(path)
        except FileNotFoundError:
            raise damaged(path, _("it is missing")) from None
        except OSError as error:
            raise damaged(
                path, _("it cannot be read ({error})").format(error=error.strerror)
            ) from None
        if (size, sha256) != (recorded["bytes"], recorded["sha256"]):
            raise damaged(
                path,
                _("its size or checksum is not the one recorded when it was saved"),
            )
    weights, random_state = reference
    metadata_path = save / LESSON_FILES[1]
    try:
        saved_epoch = json.loads(metadata_path.read_bytes())["epoch"]
    except (ValueError, TypeError, KeyError) as error:
        raise damaged(
            metadata_path,
            _("it cannot be read ({error})").format(error=type(error).__name__),
        ) from None
    if saved_epoch != epoch:
        raise damaged(
            metadata_path,
            _("it records epoch {saved}, not {wanted}").format(
                saved=saved_epoch, wanted=number(epoch)
            ),
        )
    for name, expected, read in (
        (LESSON_FILES[0], weights, h5_arrays),
        (LESSON_FILES[2], random_state, npz_arrays),
    ):
        try:
            found = read(save / name)
        except Exception as error:  # h5py and numpy raise many kinds on bad files
            raise damaged(
                save / name,
                _("it cannot be read ({error})").format(error=type(error).__name__),
            ) from None
        if found != expected:
            raise damaged(
                save / name,
                _("it holds other arrays than a save of {model} ({style})").format(
                    model=model_name, style=STYLE
                ),
            )


def check_folder(folder, model_name, model=None):
    """The epoch of the last save in `folder`, checked (0 where there is none), for a
    model built as `model_name`; raises CheckpointDamaged on anything it cannot trust.
    Only debris of an unfinished first save (staging/, epoch-1.partial/) may stand
    beside no save at all."""
    folder = Path(folder)
    saves = complete_saves(folder)
    if not saves:
        others = sorted(
            path.name
            for path in (folder.iterdir() if folder.is_dir() else ())
            if path.name != STAGING and not PARTIAL.fullmatch(path.name)
        )
        if others:
            raise damaged(
                folder,
                _(
                    "it holds no complete save of this run, but other files ({names})"
                ).format(names=", ".join(others)),
            )
        return 0
    epoch, save = saves[-1]
    check_save(save, epoch, model_name, reference_of(model or fresh_model(model_name)))
    return epoch


# Saving, atomically ---------------------------------------------------------------------
class AtomicSaves(keras.callbacks.Callback):
    """Commits each epoch the lesson's callbacks wrote to staging/ as one complete save
    (see the module's docstring); place it right after them. An epoch whose loss is not
    finite is not committed."""

    def __init__(self, folder, model_name):
        super().__init__()
        self.folder, self.model_name = Path(folder), model_name
        self.staging = self.folder / STAGING
        self.last_saved, self.restored = 0, False

    def prepare(self, model):
        """Before fit: checks the last save and copies it to staging/, where the
        lesson's callbacks restore it (an empty staging/ where there is none). Returns
        the epochs it holds."""
        self.last_saved = check_folder(self.folder, self.model_name, model)
        if self.staging.exists():
            shutil.rmtree(self.staging)  # an unfinished save's files, never a save
        self.staging.mkdir(parents=True)
        if self.last_saved:
            save = self.folder / f"epoch-{self.last_saved}"
            for name in LESSON_FILES:
                shutil.copyfile(save / name, self.staging / name)
        return self.last_saved

    def on_train_begin(self, logs=None):
        self.restored = True  # the lesson's callbacks, before this one, have restored

    def on_epoch_end(self, epoch, logs=None):
        if math.isfinite(float(logs["loss"])):
            self.commit(epoch + 1)

    def on_train_end(self, logs=None):
        for path in self.staging.iterdir():  # the restored copy, when no epoch ran
            path.unlink()

    def commit(self, epoch):
        try:
            partial = self.folder / f"epoch-{epoch}.partial"
            if partial.exists():
                shutil.rmtree(partial)  # an earlier unfinished try of this epoch
            partial.mkdir()
            files = {}
            for name in LESSON_FILES:
                staged = self.staging / name
                fsync_path(staged)
                size, sha256 = digest(staged)
                files[name] = {"bytes": size, "sha256": sha256}
                os.replace(staged, partial / name)
            fields = {
                "format": MANIFEST_FORMAT,
                "implementation": STYLE,
                "model": self.model_name,
                "epoch": epoch,
                "files": files,
            }
            manifest = {**fields, "check": manifest_check(fields)}
            write_durably(partial / MANIFEST, json.dumps(manifest, indent=1).encode())
            fsync_path(partial)
            os.rename(partial, self.folder / f"epoch-{epoch}")
            fsync_path(self.folder)
            for older, path in complete_saves(self.folder):
                if older < epoch:
                    shutil.rmtree(path)
        except OSError as error:
            raise save_failed(
                STYLE, epoch, self.folder, error, self.last_saved
            ) from None
        self.last_saved = epoch


def weights_h5_bytes(model):
    """The bytes `model.save_weights` would write, HDF5 writing into memory: a full
    disk then meets Python's write (an OSError), never HDF5's (a segfault at exit)."""
    from keras.src.saving import saving_lib  # what model.save_weights runs

    memory = io.BytesIO()
    weights = saving_lib.H5IOStore(memory, mode="w")
    saving_lib._save_state(model, weights, None, "", set())
    weights.close()
    return memory.getvalue()


class BackupInMemory(keras.callbacks.BackupAndRestore):
    """BackupAndRestore whose HDF5 file is written in memory, then to the disk by Python:
    HDF5 meeting a full disk truncates its file and crashes the process at exit
    (a segfault), where Python's own write raises OSError. It saves and restores the
    same files as keras_impl/checkpoints.py's BackupAndRestore."""

    def _save_model(self):
        metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen}
        folder = Path(self.backup_dir)
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(Path(self._weights_path), weights_h5_bytes(self.model))
        write_atomically(
            Path(self._training_metadata_path), json.dumps(metadata).encode()
        )


def train_with_atomic_saves(
    model, x, y, epochs, batch_size, folder, model_name, seed, callbacks=(), **options
):
    """keras_impl.checkpoints.train (its BackupAndRestore written in memory first), each
    epoch committed atomically by AtomicSaves; its restore reads only a save that was
    checked first."""
    lesson = STYLES[STYLE].module("checkpoints")
    saves = AtomicSaves(folder, model_name)
    first_epoch = saves.prepare(model)  # the epochs saved: the batches go on from there
    staging = str(saves.staging)
    callbacks = [
        BackupInMemory(staging, delete_checkpoint=False),
        lesson.RandomStateBackup(staging),
        saves,
        *callbacks,
    ]
    cnn = STYLES[STYLE].module("cnn")
    try:
        return cnn.train_in_seeded_order(
            model,
            x,
            y,
            epochs,
            batch_size,
            seed,
            callbacks=callbacks,
            first_epoch=min(first_epoch, epochs),
            **options,
        )
    except OSError as error:
        if not saves.restored:
            raise restore_failed(saves, error) from None
        raise save_failed(
            STYLE, saves.last_saved + 1, folder, error, saves.last_saved
        ) from None
    except (ValueError, KeyError) as error:
        if saves.restored or not saves.last_saved:
            raise
        raise restore_failed(saves, error) from None


def restore_failed(saves, error):
    return damaged(
        saves.folder / f"epoch-{saves.last_saved}",
        _("Keras could not restore it ({error})").format(
            error=str(error).splitlines()[0] if str(error) else type(error).__name__
        ),
    )
