"""--checkpoint-dir and --resume: the folder's layout, the settings a resumed run must share, and a
clean stop on Ctrl-C or SIGTERM.

DIR/run.json holds the settings of the run that made the folder; DIR/<implementation>-<model>/
holds that implementation's checkpoints, each written the way its style does it.
"""

import json
import signal

import keras

from compare.errors import CompareError

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


def implementation_folder(checkpoint_dir, implementation, model):
    return checkpoint_dir / f"{implementation}-{model}"


def prepare_folder(checkpoint_dir, resume, settings):
    """Before any training: a new run needs a folder with nothing in it (so no file is overwritten),
    a resumed one the run.json of a run with the same settings."""
    run_file = checkpoint_dir / RUN_FILE
    if not resume:
        if checkpoint_dir.exists() and (
            not checkpoint_dir.is_dir() or any(checkpoint_dir.iterdir())
        ):
            raise CompareError(
                f"--checkpoint-dir {checkpoint_dir} is not an empty folder; pass --resume to go on "
                "with the run saved there, or name a new folder"
            )
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        run_file.write_text(json.dumps(settings, indent=1) + "\n")
        return
    try:
        saved = json.loads(run_file.read_text())
        differences = [
            f"--{name.replace('_', '-')} {saved[name]} (not {settings[name]})"
            for name in RESUMABLE_SETTINGS
            if saved[name] != settings[name]
        ]
    except FileNotFoundError:
        raise CompareError(
            f"--resume: {checkpoint_dir} holds no run to resume (no {RUN_FILE})"
        ) from None
    except (ValueError, TypeError, KeyError) as error:
        raise CompareError(
            f"--resume: {run_file} is damaged ({type(error).__name__}: {error})"
        ) from None
    if differences:
        raise CompareError(
            f"--resume: the run in {checkpoint_dir} was made with {', '.join(differences)}"
        )
    if settings["epochs"] < saved.get("epochs", 0):
        raise CompareError(
            f"--resume: the run in {checkpoint_dir} was made with --epochs "
            f"{saved['epochs']}; --epochs may grow, not shrink"
        )
    run_file.write_text(
        json.dumps({**saved, "epochs": settings["epochs"]}, indent=1) + "\n"
    )


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
            number: signal.signal(number, self.handle) for number in self.SIGNALS
        }
        return self

    def __exit__(self, *exception):
        for number, handler in self.previous_handlers.items():
            signal.signal(number, handler)

    def handle(self, signal_number, frame):
        if self.signal_number is not None and signal_number == signal.SIGINT:
            raise KeyboardInterrupt
        self.signal_number = signal_number
        self.say(
            f"{signal.Signals(signal_number).name}: stopping once this epoch is saved "
            "(Ctrl-C again stops at once, losing this epoch)"
        )

    def training(self, implementation, folder, epochs):
        """Called before each implementation trains; stops here if a signal came in between."""
        self.where = (implementation, folder, epochs)
        self.check(None)
        return self

    def on_epoch_end(self, epoch, logs=None):
        self.check(epoch + 1)

    def check(self, epochs_done):
        if self.signal_number is None:
            return
        implementation, folder, epochs = self.where
        done = (
            f"{implementation} saved epoch {epochs_done} of {epochs} in {folder}"
            if epochs_done
            else f"before {implementation} started"
        )
        raise TrainingInterrupted(
            f"interrupted by {signal.Signals(self.signal_number).name}, {done}; "
            "the same command with --resume goes on from there",
            self.signal_number,
        )
