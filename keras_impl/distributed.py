"""The seed's CNN trained across devices and machines with tf.distribute, the Keras way.

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
# `fit` sees the strategy the model was built under: batch_size is the global batch.
train = cnn.train


# Step 4: evaluate --------------------------------------------------------------
evaluate = cnn.evaluate
