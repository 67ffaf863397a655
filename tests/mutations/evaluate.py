MUTATIONS = [
    (
        "loss_and_correct(model, images, labels, training=False)",
        "loss_and_correct(model, images, labels, training=True)",
        "evaluation runs the model in inference mode, in which batch norm uses its "
        "moving statistics and dropout keeps every unit",
    ),
    (
        "loss_and_correct(model, images, labels, training=False)",
        "loss_and_correct(model, images, labels)",
        "loss_and_correct needs its training argument: the model is being evaluated, "
        "so pass training=False",
    ),
    (
        "        loss_sum += loss * len(labels)  # the batch's mean times its size\n"
        "        correct += batch_correct\n"
        "    return {\n"
        '        "loss": float(loss_sum) / len(x_test),\n'
        '        "accuracy": float(correct) / len(x_test),\n',
        "        loss_sum += loss\n"
        "        correct += batch_correct / len(labels)\n"
        "    batches = len(range(0, len(x_test), batch_size))\n"
        "    return {\n"
        '        "loss": float(loss_sum) / batches,\n'
        '        "accuracy": float(correct) / batches,\n',
        "the last batch is shorter: weight each batch by its number of images, not "
        "all batches equally, so that every image counts the same",
    ),
    (
        "loss_sum += loss * len(labels)",
        "loss_sum += loss * batch_size",
        "weight each batch's mean loss by its own number of images: the last batch "
        "holds fewer than batch_size",
    ),
    (
        "range(0, len(x_test), batch_size)",
        "range(0, len(x_test) - batch_size + 1, batch_size)",
        "the last, shorter batch counts too: go through all of x_test, not only the "
        "full batches",
    ),
    (
        '"accuracy": float(correct) / len(x_test),',
        '"accuracy": float(correct) / len(range(0, len(x_test), batch_size)),',
        "the accuracy is the number of right answers divided by the number of images, "
        "not by the number of batches",
    ),
    (
        '"accuracy": float(correct) / len(x_test),',
        '"accuracy": float(correct) / (-(-len(x_test) // batch_size) * batch_size),',
        "divide by the number of images: the last batch is not full, so there are "
        "fewer than batches times batch_size",
    ),
]
