"""Checkpoints the Keras way: a callback on `fit`, and a data order that survives a restart.

BackupAndRestore saves the weights, the Adam state and the epoch after every epoch; when `fit` is
called again with the same folder it restores them and goes on from the next epoch.
Its twin, written without Keras, is raw_tf_impl/checkpoints.py.
"""

import math

import keras
import numpy as np

from keras_impl.cnn import train as train_without_checkpoints


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
        for _ in range(epoch + 1):  # replays the permutations of the epochs before: cheap beside an epoch
            self.order = shuffler.permutation(len(self.x))

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        batch = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        return self.x[batch], self.y[batch]


def train(model, x_train, y_train, epochs, batch_size, checkpoint_dir, seed=0, callbacks=(), **options):
    """cnn.train, backed up after every epoch and resumed from the backup in `checkpoint_dir`."""
    batches = SeededBatches(x_train, y_train, batch_size, seed)
    return train_without_checkpoints(model, batches, None, epochs, batch_size=None, shuffle=False, callbacks=[
        keras.callbacks.LambdaCallback(on_epoch_begin=batches.shuffle_for),
        keras.callbacks.BackupAndRestore(checkpoint_dir, delete_checkpoint=False),  # kept: a later run may resume
        *callbacks,
    ], **options)
