MUTATIONS = [
    (  # the forward pass before the tape: it records nothing
        "    with tf.GradientTape() as tape:  # records the ops the gradient goes back "
        "through\n        loss, correct = loss_and_correct(model, images, labels, "
        "training=True)\n",
        "    loss, correct = loss_and_correct(model, images, labels, training=True)\n"
        "    with tf.GradientTape() as tape:\n        pass\n",
        "the tape only sees what runs inside `with tf.GradientTape() as tape:`: "
        "compute the loss there, then take the gradient of the loss, not of the "
        "right answers",
    ),
    (
        "gradients = tape.gradient(loss, model.trainable_variables)",
        "gradients = tape.gradient(correct, model.trainable_variables)",
        "the tape only sees what runs inside `with tf.GradientTape() as tape:`: "
        "compute the loss there, then take the gradient of the loss, not of the "
        "right answers",
    ),
    (
        "    optimizer.apply(gradients, model.trainable_variables)\n",
        "",
        "the weights never change: the gradients only say which way to move; the "
        "optimizer makes the update",
    ),
    (
        "    optimizer.apply(gradients, model.trainable_variables)\n",
        "    optimizer.apply(gradients, model.trainable_variables)\n" * 2,
        "each batch updates the weights once: call optimizer.apply once per step "
        "(each call also advances Adam's step count)",
    ),
    (  # the batch's summed loss, as the lesson's evaluate_step returns it
        "    return loss, correct\n",
        "    return loss * tf.cast(tf.size(labels), tf.float32), correct\n",
        "the loss is the batch's mean, as Keras reports it: the epoch loop weights it "
        "by the batch size, not train_step",
    ),
    (
        "    return loss, correct\n",
        "    return correct, loss\n",
        "return the loss first, then the right answers: (loss, correct)",
    ),
    (  # a second tape.gradient on the same tape
        "    optimizer.apply(gradients, model.trainable_variables)\n",
        "    optimizer.apply(gradients, model.trainable_variables)\n"
        "    optimizer.apply(tape.gradient(loss, model.trainable_variables), "
        "model.trainable_variables)\n",
        "a tape gives one set of gradients: call tape.gradient once, with the loss and "
        "all of model.trainable_variables",
    ),
]
MUTATIONS.append(
    (  # Keras' order of the weights, not the raw model's (its attributes' names)
        "gradients = tape.gradient(loss, model.trainable_variables)",
        "gradients = tape.gradient(\n        loss,\n        [model.conv_kernel, "
        "model.conv_bias, model.dense_kernel, model.dense_bias],\n    )",
        "the optimizer keeps its moments in the order of model.trainable_variables: "
        "take the gradients of that list and apply them to that list",
    )
)
