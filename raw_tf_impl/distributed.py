"""The seed's CNN trained across devices and machines with tf.distribute, in pure TensorFlow.

What Keras does inside `strategy.scope()` and `fit`, written out: variables created under the
scope are mirrored (one copy per replica), the dataset is split across the replicas, each replica
computes gradients of its share of the loss (scaled by the *global* batch size), the strategy
sums them across replicas and workers, and the same Adam update is applied to every copy.
The model, the loss and Adam are cnn.py's, unchanged. Its twin is keras_impl/distributed.py.
"""

import math

import tensorflow as tf

from raw_tf_impl import cnn


# Step 1: define ----------------------------------------------------------------
def build_model(strategy, seed=0, input_shape=(28, 28, 1), num_classes=10):
    with (
        strategy.scope()
    ):  # every tf.Variable created here is mirrored on each replica's device
        return cnn.build_model(seed, input_shape, num_classes)


# Step 2: compile ---------------------------------------------------------------
def compile_model(strategy, model, learning_rate=1e-3):
    with strategy.scope():  # Adam's moments and step count are mirrored too
        return cnn.compile_model(model, learning_rate)


# Step 3: train -----------------------------------------------------------------
def replica_step(model, images, labels):
    """One replica's share of a global batch: the loss is summed over its examples and divided by
    the global batch size, so that the sum of the replicas' gradients is the gradient of the mean
    over the whole batch. Returns this replica's (loss, right answers, examples, gradients)."""
    context = tf.distribute.get_replica_context()
    global_batch_size = context.all_reduce(
        "SUM", tf.shape(labels)[0]
    )  # exact for a short last batch
    with tf.GradientTape() as tape:
        logits = model(images, training=True)  # (B / replicas, 10)
        per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels, logits
        )  # (B / replicas,)
        loss = tf.nn.compute_average_loss(
            per_example, global_batch_size=global_batch_size
        )
    predictions = tf.argmax(logits, axis=1, output_type=labels.dtype)
    correct = tf.reduce_sum(tf.cast(predictions == labels, tf.float32))
    return (
        loss,
        correct,
        tf.size(labels),
        tape.gradient(loss, model.trainable_variables),
    )


def train(
    strategy,
    model,
    optimizer,
    x_train,
    y_train,
    epochs,
    batch_size,
    shuffle=True,
    seed=0,
    verbose=1,
    callbacks=(),
):
    """`fit` under a strategy, by hand. `batch_size` is the global batch, split across the replicas."""
    dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    if shuffle:  # a new order each epoch, the same on every worker (same seed)
        dataset = dataset.shuffle(
            len(x_train), seed=seed, reshuffle_each_iteration=True
        )
    batches = strategy.experimental_distribute_dataset(dataset.batch(batch_size))

    @tf.function
    def train_step(images, labels):
        per_replica = strategy.run(replica_step, args=(model, images, labels))
        loss, correct, examples, gradients = (
            tf.nest.map_structure(  # summed over all replicas and workers
                lambda value: strategy.reduce("SUM", value, axis=None), per_replica
            )
        )
        optimizer.apply(
            gradients, model.trainable_variables
        )  # cross-replica: updates every copy alike
        return loss * tf.cast(examples, tf.float32), correct

    history = {}
    for epoch in range(epochs):
        loss_sum, correct = 0.0, 0.0  # running sums stay tensors: no host sync per step
        for step, (images, labels) in enumerate(batches):
            for callback in callbacks:
                callback.on_train_batch_begin(step)
            batch_loss_sum, batch_correct = train_step(images, labels)
            loss_sum += batch_loss_sum
            correct += batch_correct
        logs = {
            "loss": float(loss_sum) / len(x_train),
            "accuracy": float(correct) / len(x_train),
        }
        if not math.isfinite(
            logs["loss"]
        ):  # checked per epoch: per step would cost a host sync each step
            raise FloatingPointError(
                f"the loss became {logs['loss']} in epoch {epoch + 1}"
            )
        for name, value in logs.items():
            history.setdefault(name, []).append(value)
        if verbose:
            print(
                f"Epoch {epoch + 1}/{epochs} - "
                + " - ".join(f"{name}: {value:.4f}" for name, value in logs.items())
            )
        for callback in callbacks:
            callback.on_epoch_end(epoch, logs)
    return history


# Step 4: evaluate --------------------------------------------------------------
evaluate = (
    cnn.evaluate
)  # reading mirrored variables outside strategy.run reads one copy: no change
