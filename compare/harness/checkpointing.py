"""--checkpoint-dir and --resume: the folder's layout, the settings a resumed run must share, and a
clean stop on Ctrl-C or SIGTERM.

DIR/run.json holds the settings of the run that made the folder; DIR/<style>-<model>/
holds that style's checkpoints, each written its own way.
"""

import json
import os
import signal

import keras
import numpy as np

from compare.errors import CompareError
from compare.harness.durable import write_atomically
from compare.language import _, number
from compare.safety import locks
from compare.safety.fingerprint import fingerprint

RUN_FILE = "run.json"
RESUMABLE_SETTINGS = (
    "dataset",
    "train_samples",
    "batch_size",
    "lr",
    "seed",
    "model",
)  # --epochs may grow


class TrainingInterrupted(CompareError):
    """Ctrl-C or SIGTERM: training stopped after saving a checkpoint."""

    def __init__(self, message, signal_number):
        super().__init__(message)
        self.exit_code = (
            128 + signal_number
        )  # the shell's convention: 130 for Ctrl-C, 143 for SIGTERM


def style_folder(checkpoint_dir, style, model):
    return checkpoint_dir / f"{style}-{model}"


def prepare_folder(checkpoint_dir, resume, settings, trainees=()):
    """Before any training: a new run needs a folder with nothing in it (so no file is
    overwritten), a resumed one the run.json of a run with the same settings and, for
    each (style, model) in `trainees`, a last save that reads whole and is one
    of that model (keras_saves.py, raw_saves.py). Nothing is written before all of it
    has been checked, and run.json is replaced atomically."""
    run_file = checkpoint_dir / RUN_FILE
    if not resume or checkpoint_dir.is_dir():  # (no folder: read_run_file says so)
        take_folder(checkpoint_dir)
    if not resume:
        if not checkpoint_dir.is_dir() or any(
            path.name != locks.LOCK_FILE for path in checkpoint_dir.iterdir()
        ):
            raise CompareError(
                _(
                    "--checkpoint-dir {folder} is not an empty folder; pass --resume to go "
                    "on with the run saved there, or name a new folder"
                ).format(folder=checkpoint_dir)
            )
        write_atomically(run_file, run_text(settings))
        return
    refuse_links(checkpoint_dir)
    saved = read_run_file(checkpoint_dir)
    differences = [
        _("{flag} {saved} (not {wanted})").format(
            flag="--" + name.replace("_", "-"),
            saved=saved[name],
            wanted=settings[name],
        )
        for name in RESUMABLE_SETTINGS
        if saved[name] != settings[name]
    ]
    if differences:
        raise CompareError(
            _("--resume: the run in {folder} was made with {differences}").format(
                folder=run_file, differences=", ".join(differences)
            )
        )
    if settings["epochs"] < saved["epochs"]:
        raise CompareError(
            _(
                "--resume: the run in {folder} was made with --epochs {epochs}; "
                "--epochs may grow, not shrink"
            ).format(folder=run_file, epochs=saved["epochs"])
        )
    check_same_data(run_file, saved.get("data"), settings.get("data"))
    for style, model in trainees:
        check_saves(checkpoint_dir, style, model)
    if settings["epochs"] != saved["epochs"]:
        write_atomically(run_file, run_text({**saved, "epochs": settings["epochs"]}))


def take_folder(checkpoint_dir):
    """The folder's lock, held until the command ends: a second run on it (a --resume
    while this one trains) is refused, naming this one, before it touches a file."""
    if checkpoint_dir.exists() and not checkpoint_dir.is_dir():
        raise CompareError(
            _(
                "--checkpoint-dir {folder} is not an empty folder; pass --resume to go "
                "on with the run saved there, or name a new folder"
            ).format(folder=checkpoint_dir)
        )
    locks.make_folder(checkpoint_dir)
    locks.hold(checkpoint_dir / locks.LOCK_FILE, "--checkpoint-dir", checkpoint_dir)


def refuse_links(checkpoint_dir):
    """A resume writes only inside the folder named: no symbolic link within it (an
    style's folder linked elsewhere) is followed."""
    for folder, names, files in os.walk(checkpoint_dir):
        for name in names + files:
            if os.path.islink(os.path.join(folder, name)):
                raise CompareError(
                    _(
                        "--resume: {path} is a symbolic link; a checkpoint folder's "
                        "saves must lie inside it (nothing was changed)"
                    ).format(path=os.path.join(folder, name))
                )


def data_record(dataset, files):
    """What run.json records of the data trained on: the files it was read from and a
    hash of the training images and labels loaded (the test set may change)."""
    arrays = (
        np.ascontiguousarray(dataset.x_train),
        np.ascontiguousarray(dataset.y_train),
    )
    return fingerprint(arrays, files)


def check_same_data(run_file, saved, wanted):
    """Another dataset of the same name and size is refused (a run.json from before
    the data was recorded holds nothing to compare)."""
    if not saved or not wanted or saved.get("sha256") == wanted["sha256"]:
        return
    raise CompareError(
        _(
            "--resume: the run in {run_file} was trained on other data ({saved}); "
            "these images ({wanted}) differ: resume with the same --data-dir"
        ).format(
            run_file=run_file,
            saved=", ".join(saved.get("files") or ()) or str(saved.get("sha256"))[:12],
            wanted=", ".join(wanted["files"]) or wanted["sha256"][:12],
        )
    )


def run_text(settings):
    return (json.dumps(settings, indent=1) + "\n").encode()


def read_run_file(checkpoint_dir):
    """The settings in run.json, each of the type a run writes."""
    run_file = checkpoint_dir / RUN_FILE
    try:
        saved = json.loads(run_file.read_bytes())
        kinds = {name: type(value) for name, value in saved.items()}
        wanted = {
            "dataset": str,
            "train_samples": int,
            "batch_size": int,
            "lr": float,
            "seed": int,
            "model": str,
            "epochs": int,
        }
        for name, kind in wanted.items():
            if not (kinds[name] is kind or (kind is float and kinds[name] is int)):
                raise TypeError(name)
        data = saved.get("data", {})  # absent from a run.json of an older run
        if not (isinstance(data, dict) and isinstance(data.get("sha256", ""), str)):
            raise TypeError("data")
        if not all(isinstance(path, str) for path in data.get("files", [])):
            raise TypeError("data")
    except FileNotFoundError:
        raise CompareError(
            _("--resume: {folder} holds no run to resume (no {run_file})").format(
                folder=checkpoint_dir, run_file=RUN_FILE
            )
        ) from None
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise CompareError(
            _("--resume: {run_file} is damaged ({kind}: {error})").format(
                run_file=run_file, kind=type(error).__name__, error=error
            )
        ) from None
    return saved


def check_saves(checkpoint_dir, style, model):
    """Raises CheckpointDamaged unless the last save of `style` and `model` in
    `checkpoint_dir` (if any) reads whole and is one of that model."""
    from compare.harness import keras_saves, raw_saves

    folder = style_folder(checkpoint_dir, style, model)
    checker = {"keras": keras_saves, "raw_tf": raw_saves}[style]
    return checker.check_folder(folder, model)


class StopOnSignal(keras.callbacks.Callback):
    """While active, the first Ctrl-C or SIGTERM asks training to stop after the current epoch has
    been saved; a second Ctrl-C stops at once (the last saved epoch stays). Both styles call
    `on_epoch_end` after their checkpoint callback, so the stop comes after the save."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, say):
        super().__init__()
        self.say, self.signal_number, self.where = say, None, None
        self.previous_handlers = {}

    def __enter__(self):
        self.previous_handlers = {
            kind: signal.signal(kind, self.handle) for kind in self.SIGNALS
        }
        return self

    def __exit__(self, *exception):
        for kind, handler in self.previous_handlers.items():
            signal.signal(kind, handler)
        if (
            self.signal_number is not None
        ):  # stopping: another Ctrl-C has nothing to stop
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # (it would break the exit)

    def handle(self, signal_number, frame):
        if self.signal_number is not None and signal_number == signal.SIGINT:
            raise KeyboardInterrupt
        self.signal_number = signal_number
        self.say(
            _(
                "{signal}: stopping once this epoch is saved "
                "(Ctrl-C again stops at once, losing this epoch)"
            ).format(signal=signal.Signals(signal_number).name)
        )

    def training(self, style, folder, epochs):
        """Called before each style trains; stops here if a signal came in between."""
        self.where = (style, folder, epochs)
        self.check(None)
        return self

    def on_epoch_end(self, epoch, logs=None):
        self.check(epoch + 1)

    def check(self, epochs_done):
        if self.signal_number is None:
            return
        style, folder, epochs = self.where
        message = (
            _(
                "interrupted by {signal}, {style} saved epoch {done} of "
                "{epochs} in {folder}; the same command with --resume goes on from there"
            )
            if epochs_done
            else _(
                "interrupted by {signal}, before {style} started; "
                "the same command with --resume goes on from there"
            )
        )
        raise TrainingInterrupted(
            message.format(
                signal=signal.Signals(self.signal_number).name,
                style=style,
                done=number(epochs_done or 0),
                epochs=number(epochs),
                folder=folder,
            ),
            self.signal_number,
        )
