"""Checkpoints in pure TensorFlow: everything a resumed run needs, saved by hand after every epoch.

tf.train.Checkpoint holds the weights, Adam's moments and step count, the epoch and the state of
the shuffler; tf.train.CheckpointManager numbers the saves and keeps the last two.
Its twin, the Keras way, is keras_impl/checkpoints.py.
"""

import json

import numpy as np
import tensorflow as tf

from raw_tf_impl.cnn import train as train_without_checkpoints


# Step 3: train, with checkpoints ------------------------------------------------
class EpochCheckpoint:
    """Saved after every epoch (the raw loop calls the same hooks as Keras' callbacks)."""

    def __init__(self, model, optimizer, shuffler, folder):
        self.shuffler = shuffler
        self.epoch = tf.Variable(0, dtype=tf.int64)  # epochs done
        self.shuffler_state = tf.Variable(
            json.dumps(shuffler.bit_generator.state)
        )  # a string variable
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
            self.manager.checkpoint.restore(
                self.manager.latest_checkpoint
            ).assert_consumed()
            self.shuffler.bit_generator.state = json.loads(self.shuffler_state.numpy())
        return int(self.epoch)

    def on_train_batch_begin(self, batch):
        pass

    def on_epoch_end(self, epoch, logs):
        self.epoch.assign(epoch + 1)
        self.shuffler_state.assign(
            json.dumps(self.shuffler.bit_generator.state)
        )  # as the next epoch finds it
        self.manager.save(checkpoint_number=epoch + 1)


def train(
    model,
    optimizer,
    x_train,
    y_train,
    epochs,
    batch_size,
    checkpoint_dir,
    seed=0,
    callbacks=(),
    **options,
):
    """cnn.train, saved after every epoch and resumed from the last save in `checkpoint_dir`."""
    shuffler = np.random.default_rng(seed)
    checkpoint = EpochCheckpoint(model, optimizer, shuffler, checkpoint_dir)
    return train_without_checkpoints(
        model,
        optimizer,
        x_train,
        y_train,
        epochs,
        batch_size,
        seed=shuffler,
        initial_epoch=checkpoint.restore(),
        callbacks=[checkpoint, *callbacks],
        **options,
    )
