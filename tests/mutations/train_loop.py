MUTATIONS = [
    (  # the last, shorter mini-batch dropped
        "for start in range(0, len(order), batch_size):",
        "for start in range(0, len(order) - batch_size + 1, batch_size):",
        "the last, shorter mini-batch counts too: 300 images in batches of 64 make 4 "
        "full batches and one of 44",
    ),
    (  # the mean of the batches' means
        "            loss_sum += loss * len(batch)  # the batch's mean times its size\n"
        "            correct += batch_correct\n"
        '        history["loss"].append(float(loss_sum) / len(order))\n',
        "            loss_sum += loss\n"
        "            correct += batch_correct\n"
        '        history["loss"].append(float(loss_sum) / (start // batch_size + 1))\n',
        "the epoch's loss is the mean over its images: add each batch's mean times its "
        "size, then divide by the number of images (the last batch is smaller)",
    ),
    (
        "loss_sum += loss * len(batch)",
        "loss_sum += loss * batch_size",
        "the epoch's loss is the mean over its images: add each batch's mean times its "
        "size, then divide by the number of images (the last batch is smaller)",
    ),
    (  # the generator re-created every epoch: the same order each epoch
        "    shuffler = np.random.default_rng(seed)  # one generator for the whole run\n"
        '    history = {"loss": [], "accuracy": []}\n'
        "    for _epoch in range(epochs):\n",
        '    history = {"loss": [], "accuracy": []}\n'
        "    for _epoch in range(epochs):\n"
        "        shuffler = np.random.default_rng(seed)\n",
        "each epoch draws a new order from the run's one generator: create it once, "
        "before the epochs, not in each",
    ),
    (  # no shuffling
        "order = shuffler.permutation(len(y_train))",
        "order = np.arange(len(y_train))",
        "fit shuffles the images every epoch: take each epoch's order from the "
        "generator's permutation, not 0, 1, 2, ...",
    ),
    (  # the running totals not reset between epochs
        "    for _epoch in range(epochs):\n"
        "        order = shuffler.permutation(len(y_train))  # a new order every epoch\n"
        "        loss_sum, correct = 0.0, 0.0  # this epoch's running totals\n",
        "    loss_sum, correct = 0.0, 0.0\n"
        "    for _epoch in range(epochs):\n"
        "        order = shuffler.permutation(len(y_train))  # a new order every epoch\n",
        "start each epoch's running loss and right answers at zero: each epoch reports "
        "its own images only",
    ),
    (  # the images shuffled, the labels taken in order
        "images, labels = x_train[batch], y_train[batch]",
        "images, labels = x_train[batch], y_train[start : start + batch_size]",
        "take the images and the labels with the same indices of the order, so that "
        "each image keeps its label",
    ),
    (  # the last batch's loss as the epoch's
        'history["loss"].append(float(loss_sum) / len(order))',
        'history["loss"].append(float(loss))',
        "the epoch's loss is the mean over all its images, as fit reports it, not the "
        "last mini-batch's loss",
    ),
]
