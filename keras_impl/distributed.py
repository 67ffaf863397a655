"""The lecture's CNN trained across devices and machines with tf.distribute, the
Keras way.

Build and compile under `strategy.scope()`; `fit` and `evaluate` then split each batch
across the replicas, scale the loss, sum the gradients and update every copy of the
weights. Nothing else changes: the model and the steps are cnn.py's.
Its twin is raw_tf_impl/distributed.py.
"""

from keras_impl import cnn


# Step 1: define ----------------------------------------------------------------
def build_model(strategy, seed=0, input_shape=(28, 28, 1), num_classes=10):
    with strategy.scope():
        return cnn.build_model(seed, input_shape, num_classes)


# Step 2: compile ---------------------------------------------------------------
def compile_model(strategy, model, learning_rate=1e-3):
    with strategy.scope():
        return cnn.compile_model(model, learning_rate)


# Step 3: train -----------------------------------------------------------------
def train(model, x_train, y_train, epochs, batch_size, verbose=1, callbacks=()):
    """cnn.py's `fit`, under the strategy the model was built under: batch_size is the
    global batch, split across the replicas."""
    # Every replica needs images in every batch: TF's oneDNN max-pool gradient (CPU)
    # aborts on an empty share (tensorflow#126128). batch_size is a multiple of the
    # replicas; keeping a multiple of them images too (fewer than `replicas` sit out)
    # makes the last batch split evenly as well. As in raw_tf_impl/distributed.py.
    replicas = model.distribute_strategy.num_replicas_in_sync
    kept = len(x_train) - len(x_train) % replicas
    x_train, y_train = x_train[:kept], y_train[:kept]
    return cnn.train(model, x_train, y_train, epochs, batch_size, verbose, callbacks)


# Step 4: evaluate --------------------------------------------------------------
evaluate = cnn.evaluate
