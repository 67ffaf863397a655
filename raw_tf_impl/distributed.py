"""The lecture's CNN trained across devices and machines with tf.distribute, by hand.

What Keras does inside `strategy.scope()` and `fit`, written out: variables created
under the scope are mirrored (one copy per replica), the dataset is split across the
replicas, each replica computes gradients of its share of the loss (its mean divided
by the number of replicas), the strategy sums them across replicas and workers, and
the same Adam update is applied to every copy. The model, the loss and Adam are
cnn.py's. Its twin is keras_impl/distributed.py.
"""

import tensorflow as tf

from raw_tf_impl import cnn


# Step 1: define ----------------------------------------------------------------
def build_model(strategy, seed=0, input_shape=(28, 28, 1), num_classes=10):
    # Every tf.Variable created in the scope is mirrored on each replica's device.
    with strategy.scope():
        return cnn.build_model(seed, input_shape, num_classes)


# Step 2: compile ---------------------------------------------------------------
def compile_model(strategy, model, learning_rate=1e-3):
    with strategy.scope():  # Adam's moments and step count are mirrored too
        return cnn.compile_model(model, learning_rate)


# Step 3: train -----------------------------------------------------------------
def replica_step(model, images, labels):
    """One replica's share of a global batch, scaled as Keras' fit scales it: the mean
    over this replica's examples divided by the number of replicas. The batch splits
    evenly (see `train`), so the sum of the replicas' gradients is the gradient of the
    mean over the whole batch. Returns (summed loss, right answers, gradients)."""
    with tf.GradientTape() as tape:
        logits = model(images, training=True)  # (B / replicas, 10)
        per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
        # A scalar: sum / (examples here x replicas), tf.nn's default.
        loss = tf.nn.compute_average_loss(per_example)
    predictions = tf.argmax(logits, axis=1, output_type=labels.dtype)  # (B / replicas,)
    correct = tf.reduce_sum(tf.cast(predictions == labels, tf.float32))
    gradients = tape.gradient(loss, model.trainable_variables)
    return tf.reduce_sum(per_example), correct, gradients


def distributed_batches(strategy, x_train, y_train, batch_size, seed):
    """A new order each epoch, the same on every worker (same seed), each global batch
    split across the replicas."""
    dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    dataset = dataset.shuffle(len(x_train), seed, reshuffle_each_iteration=True)
    return strategy.experimental_distribute_dataset(dataset.batch(batch_size))


def train(
    strategy,
    model,
    optimizer,
    x_train,
    y_train,
    epochs,
    batch_size,
    seed=0,
    verbose=1,
    callbacks=(),
):
    """`fit` under a strategy, by hand; `batch_size` is the global batch. As with fit,
    each of the `callbacks` hears each epoch's end."""
    # Every replica needs images in every batch: TF's oneDNN max-pool gradient (CPU)
    # aborts on an empty share (tensorflow#126128). batch_size is a multiple of the
    # replicas; keeping a multiple of them images too (fewer than `replicas` sit out)
    # makes the last batch split evenly as well. As in keras_impl/distributed.py.
    kept = len(x_train) - len(x_train) % strategy.num_replicas_in_sync
    x_train, y_train = x_train[:kept], y_train[:kept]
    batches = distributed_batches(strategy, x_train, y_train, batch_size, seed)

    @tf.function
    def train_step(images, labels):
        per_replica = strategy.run(replica_step, args=(model, images, labels))
        # Summed over all replicas and workers.
        loss_sum, correct, gradients = tf.nest.map_structure(
            lambda value: strategy.reduce("SUM", value, axis=None), per_replica
        )
        # In cross-replica context: the same update on every copy.
        optimizer.apply(gradients, model.trainable_variables)
        return loss_sum, correct

    history = {"loss": [], "accuracy": []}
    for epoch in range(epochs):
        loss_sum, correct = 0.0, 0.0  # running sums stay tensors: no host sync per step
        for images, labels in batches:
            batch_loss_sum, batch_correct = train_step(images, labels)
            loss_sum += batch_loss_sum
            correct += batch_correct
        sums = (loss_sum, correct)
        loss, accuracy = (float(total) / len(x_train) for total in sums)  # epoch means
        history["loss"].append(loss)
        history["accuracy"].append(accuracy)
        if verbose:
            print(
                f"Epoch {epoch + 1}/{epochs} loss {loss:.4f}",
                f"accuracy {accuracy:.4f}",
            )
        for callback in callbacks:
            callback.on_epoch_end(epoch, {"loss": loss, "accuracy": accuracy})
    return history


# Step 4: evaluate --------------------------------------------------------------
# Reading mirrored variables outside strategy.run reads one copy: no change.
evaluate = cnn.evaluate
