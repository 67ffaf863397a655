"""Exercise: evaluation, the loop Keras' evaluate hides (the reference solution)."""

from raw_tf_impl.cnn import loss_and_correct


def evaluate(model, x_test, y_test, batch_size):
    #: The mean loss and the accuracy of `model` on all of x_test, as
    #: keras_model.evaluate(x_test, y_test, batch_size, return_dict=True) gives them:
    #: return {"loss": ..., "accuracy": ...} as Python floats. Go through the data in
    #: slices of batch_size images; the last slice may be shorter, and it counts too.
    #: For each slice, loss_and_correct(model, images, labels, training) gives its mean
    #: loss and its number of right answers. The model is evaluated, not trained: batch
    #: norm and dropout behave differently in training. Every image counts as much as
    #: any other, wherever its slice falls.
    # BEGIN SOLUTION
    loss_sum, correct = 0.0, 0.0
    for start in range(0, len(x_test), batch_size):
        images = x_test[start : start + batch_size]  # (B, 28, 28, 1)
        labels = y_test[start : start + batch_size]  # (B,)
        loss, batch_correct = loss_and_correct(model, images, labels, training=False)
        loss_sum += loss * len(labels)  # the batch's mean times its size
        correct += batch_correct
    return {
        "loss": float(loss_sum) / len(x_test),
        "accuracy": float(correct) / len(x_test),
    }
    # END SOLUTION
