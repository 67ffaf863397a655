"""Checkpoints in pure TensorFlow: all a resumed run needs, saved after each epoch.

tf.train.Checkpoint holds the weights, Adam's moments and step count, the epoch and the
shuffler's state; tf.train.CheckpointManager numbers the saves and keeps the last two.
Its twin, the Keras way, is keras_impl/checkpoints.py.
"""

import json

import numpy as np
import tensorflow as tf

from raw_tf_impl import cnn


# Step 3: train, with checkpoints ------------------------------------------------
class EpochCheckpoint:
    """The state of a run between two epochs, saved and restored as one."""

    def __init__(self, model, optimizer, shuffler, folder):
        self.shuffler = shuffler
        self.epoch = tf.Variable(0, dtype=tf.int64)  # epochs done
        # The numpy shuffler's state, as JSON in a string variable.
        self.shuffler_state = tf.Variable(json.dumps(shuffler.bit_generator.state))
        checkpoint = tf.train.Checkpoint(
            model=model,
            optimizer=optimizer,
            epoch=self.epoch,
            shuffler_state=self.shuffler_state,
        )
        self.manager = tf.train.CheckpointManager(checkpoint, folder, max_to_keep=2)

    def restore(self):
        """Loads the last save, if any, and returns the epoch to go on from."""
        if self.manager.latest_checkpoint:
            saved = self.manager.checkpoint.restore(self.manager.latest_checkpoint)
            saved.assert_consumed()  # every variable found its value
            self.shuffler.bit_generator.state = json.loads(self.shuffler_state.numpy())
        return int(self.epoch)

    def save(self, epochs_done):
        self.epoch.assign(epochs_done)
        # As the next epoch finds it.
        self.shuffler_state.assign(json.dumps(self.shuffler.bit_generator.state))
        self.manager.save(checkpoint_number=epochs_done)


def train(
    model, optimizer, x_train, y_train, epochs, batch_size, checkpoint_dir, seed=0
):
    """cnn.train one epoch at a time, saved after each; resumed from the last save."""
    shuffler = np.random.default_rng(seed)
    checkpoint = EpochCheckpoint(model, optimizer, shuffler, checkpoint_dir)
    history = {"loss": [], "accuracy": []}
    for epoch in range(checkpoint.restore(), epochs):
        one_epoch = cnn.train(
            model, optimizer, x_train, y_train, 1, batch_size, seed=shuffler, verbose=0
        )
        for name, values in one_epoch.items():
            history[name] += values
        checkpoint.save(epoch + 1)
    return history
