"""Exercise: the training loop that Keras' fit hides (the reference solution)."""

import numpy as np

from raw_tf_impl.cnn import train_step


def train(model, optimizer, x_train, y_train, epochs, batch_size, seed=0):
    #: The loop Keras' fit runs: `epochs` passes over the training set, each in a new
    #: random order, cut into mini-batches of batch_size images (the last one shorter
    #: when batch_size does not divide the set), with one train_step(model, optimizer,
    #: images, labels) per mini-batch. Shuffle as keras_impl/cnn.py's seeded_batches
    #: does, so that fit can take the same batches: one np.random.default_rng(seed) for
    #: the whole run, whose permutation(n) gives each epoch's order.

    #: Return the history {"loss": [...], "accuracy": [...]}, one value per epoch, as
    #: fit reports them: the mean loss and the accuracy over the epoch's images.
    #: train_step returns a mini-batch's mean loss and its number of right answers.
    # BEGIN SOLUTION
    shuffler = np.random.default_rng(seed)  # one generator for the whole run
    history = {"loss": [], "accuracy": []}
    for _epoch in range(epochs):
        order = shuffler.permutation(len(y_train))  # a new order every epoch
        loss_sum, correct = 0.0, 0.0  # this epoch's running totals
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]  # (B,): the last may be shorter
            images, labels = x_train[batch], y_train[batch]  # (B, 28, 28, 1), (B,)
            loss, batch_correct = train_step(model, optimizer, images, labels)
            loss_sum += loss * len(batch)  # the batch's mean times its size
            correct += batch_correct
        history["loss"].append(float(loss_sum) / len(order))
        history["accuracy"].append(float(correct) / len(order))
    return history
    # END SOLUTION
