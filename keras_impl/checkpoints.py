"""Checkpoints the Keras way: a callback on `fit`, and a data order that survives.

BackupAndRestore saves the weights, the Adam state and the epoch after every epoch; when
`fit` is called again with the same folder, it restores them and goes on from the next
epoch. The data order (cnn.py's seeded_batches) and Dropout's random state it does
not save. Its twin, written without Keras, is raw_tf_impl/checkpoints.py.
"""

import json
from pathlib import Path

import keras
import numpy as np

from keras_impl import cnn


# Step 3: train, with checkpoints ------------------------------------------------
class RandomStateBackup(keras.callbacks.Callback):
    """What BackupAndRestore leaves out: the layers' random state (Dropout's seed
    generators). Without it a resumed run would drop other units than an uninterrupted
    one."""

    def __init__(self, folder):
        super().__init__()
        self.path = Path(folder) / "random_state.npz"

    def seed_states(self):
        variables = self.model.variables
        return [v for v in variables if v.name == "seed_generator_state"]

    def on_train_begin(self, logs=None):
        if self.path.exists():
            with np.load(self.path) as saved:
                for index, state in enumerate(self.seed_states()):
                    state.assign(saved[f"arr_{index}"])

    def on_epoch_end(self, epoch, logs=None):
        np.savez(self.path, *[state.numpy() for state in self.seed_states()])


def epochs_saved(checkpoint_dir):
    """How many epochs BackupAndRestore has saved in the folder (its metadata file,
    which it reads too: without double_checkpoint it has no older save to fall back
    on): the seeded batches go on from there."""
    path = Path(checkpoint_dir) / "training_metadata.json"
    return json.loads(path.read_text())["epoch"] if path.exists() else 0


def train(
    model,
    x_train,
    y_train,
    epochs,
    batch_size,
    checkpoint_dir,
    seed=0,
    verbose=1,
    callbacks=(),
):
    """cnn.train_in_seeded_order, backed up after every epoch and resumed from the
    backup in `checkpoint_dir`."""
    callbacks = [
        keras.callbacks.BackupAndRestore(checkpoint_dir, delete_checkpoint=False),
        RandomStateBackup(checkpoint_dir),
        *callbacks,
    ]
    first_epoch = min(epochs_saved(checkpoint_dir), epochs)
    return cnn.train_in_seeded_order(
        model,
        x_train,
        y_train,
        epochs,
        batch_size,
        seed,
        verbose,
        callbacks,
        first_epoch,
    )
