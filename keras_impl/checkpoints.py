"""Checkpoints the Keras way: a callback on `fit`, and a data order that survives a restart.

BackupAndRestore saves the weights, the Adam state and the epoch after every epoch; when `fit` is
called again with the same folder it restores them and goes on from the next epoch. The data order
and Dropout's random state it does not save: the two classes below take care of them.
Its twin, written without Keras, is raw_tf_impl/checkpoints.py.
"""

import math
from pathlib import Path

import keras
import numpy as np

from keras_impl.cnn import train as train_without_checkpoints


# Step 3: train, with checkpoints ------------------------------------------------
class SeededBatches(keras.utils.PyDataset):
    """fit's mini-batches, shuffled as the raw loop shuffles: epoch e takes permutation e + 1 of
    numpy's default_rng(seed). The order depends on the epoch alone, so a resumed fit sees the batches
    an uninterrupted one would; fit's own shuffle draws from TF's random state, which a new process lacks."""

    def __init__(self, x, y, batch_size, seed):
        super().__init__()
        self.x, self.y, self.batch_size, self.seed = x, y, batch_size, seed
        self.order = np.arange(len(x))

    def shuffle_for(self, epoch, logs=None):
        shuffler = np.random.default_rng(self.seed)
        for _ in range(
            epoch + 1
        ):  # replays the permutations of the epochs before: cheap beside an epoch
            self.order = shuffler.permutation(len(self.x))

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        batch = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return self.x[batch], self.y[batch]


class RandomStateBackup(keras.callbacks.Callback):
    """What BackupAndRestore leaves out: the layers' random state (Dropout's seed generators; Keras saves
    weights and optimizer only). Without it a resumed run would drop other units than an uninterrupted one."""

    def __init__(self, folder):
        super().__init__()
        self.path = Path(folder) / "random_state.npz"

    def seed_states(self):
        return [
            variable
            for variable in self.model.variables
            if variable.name == "seed_generator_state"
        ]

    def on_train_begin(self, logs=None):
        if self.path.exists():
            with np.load(self.path) as saved:
                for index, state in enumerate(self.seed_states()):
                    state.assign(saved[f"arr_{index}"])

    def on_epoch_end(self, epoch, logs=None):
        np.savez(self.path, *[state.numpy() for state in self.seed_states()])


def train(
    model,
    x_train,
    y_train,
    epochs,
    batch_size,
    checkpoint_dir,
    seed=0,
    callbacks=(),
    **options,
):
    """cnn.train, backed up after every epoch and resumed from the backup in `checkpoint_dir`."""
    batches = SeededBatches(x_train, y_train, batch_size, seed)
    return train_without_checkpoints(
        model,
        batches,
        None,
        epochs,
        batch_size=None,
        shuffle=False,
        callbacks=[
            keras.callbacks.LambdaCallback(on_epoch_begin=batches.shuffle_for),
            keras.callbacks.BackupAndRestore(
                checkpoint_dir, delete_checkpoint=False
            ),  # kept: a later run may resume
            RandomStateBackup(checkpoint_dir),
            *callbacks,
        ],
        **options,
    )
