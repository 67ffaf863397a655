"""The raw loop under the harness: raw_tf_impl.cnn.train one epoch at a time, with the
harness's callbacks between epochs, as fit runs its callbacks. With
`steps_per_execution`, each epoch runs in graph calls of that many batches of the
lesson's Extras (train_batches), the raw twin of Keras' option."""

import numpy as np
import tensorflow as tf

from compare.harness.callbacks import EpochLine, SaveFiniteEpochs
from compare.harness.raw_saves import open_checkpoint
from compare.styles import STYLES


def raw_epoch_in_calls(
    model, optimizer, images, labels, order, batch_size, steps, callbacks
):
    """One epoch, `steps` batches per graph call of raw_tf_impl.cnn.train_batches (the
    raw twin of Keras' steps_per_execution), telling the callbacks when each call begins."""
    cnn = STYLES["raw_tf"].module("cnn")
    loss_sum, correct, samples_per_call = 0.0, 0.0, batch_size * steps
    for start in range(0, len(order), samples_per_call):
        for callback in callbacks:
            if hasattr(callback, "on_train_batch_begin"):
                callback.on_train_batch_begin(start // batch_size)
        indices = order[start : start + samples_per_call]
        call_loss, call_correct = cnn.train_batches(
            model, optimizer, images, labels, indices, batch_size
        )
        loss_sum, correct = loss_sum + call_loss, correct + call_correct
    return {
        "loss": float(loss_sum) / len(order),
        "accuracy": float(correct) / len(order),
    }


def train_raw(model, optimizer, x, y, epochs, batch_size, seed, options):
    """raw_tf_impl.cnn.train one epoch at a time (the same numbers as one call for all
    epochs: the shuffler goes on between calls), the callbacks hearing each epoch's end.
    `options`: verbose, callbacks, checkpoint_dir, steps_per_execution."""
    cnn = STYLES["raw_tf"].module("cnn")
    shuffler = np.random.default_rng(seed)
    callbacks, first_epoch = list(options.get("callbacks", ())), 0
    if options.get("checkpoint_dir"):
        checkpoint, first_epoch = open_checkpoint(  # checked before it is trusted
            model, optimizer, shuffler, options["checkpoint_dir"]
        )
        callbacks.insert(
            0, SaveFiniteEpochs(checkpoint, first_epoch)
        )  # saved before the Ctrl-C stop
    if options.get("verbose"):
        callbacks.append(EpochLine(epochs))
    steps = options.get("steps_per_execution")
    if steps:
        images, labels = tf.constant(x), tf.constant(y)  # copied to TF once
    history = {}
    for epoch in range(first_epoch, epochs):
        if steps:
            order = shuffler.permutation(len(y))
            logs = raw_epoch_in_calls(
                model, optimizer, images, labels, order, batch_size, steps, callbacks
            )
        else:
            one_epoch = cnn.train(  # the lesson: one graph call per batch
                model, optimizer, x, y, 1, batch_size, shuffler, verbose=0
            )
            logs = {name: values[0] for name, values in one_epoch.items()}
        for name, value in logs.items():
            history.setdefault(name, []).append(value)
        for callback in callbacks:
            callback.on_epoch_end(epoch, logs)
    return history
