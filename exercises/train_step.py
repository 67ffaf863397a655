"""Exercise: one training step, under a gradient tape (the reference solution)."""

import tensorflow as tf

from raw_tf_impl.cnn import loss_and_correct


@tf.function
def train_step(model, optimizer, images, labels):
    #: One mini-batch of training, as Keras' train_on_batch runs it: the forward pass
    #: and the loss recorded by a tf.GradientTape, the gradient of the loss with respect
    #: to model.trainable_variables, and one optimizer.apply(gradients, variables).
    #: loss_and_correct(model, images, labels, training) gives the batch's mean loss
    #: and its number of right answers. Return (loss, correct), as loss_and_correct
    #: gives them: the loss before the update.
    # BEGIN SOLUTION
    with tf.GradientTape() as tape:  # records the ops the gradient goes back through
        loss, correct = loss_and_correct(model, images, labels, training=True)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply(gradients, model.trainable_variables)
    return loss, correct
    # END SOLUTION
