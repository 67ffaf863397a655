"""The lecture's CNN past one device with Keras 3's own API, keras.distribution, on JAX.

Set a DataParallel distribution, then define, compile, fit and evaluate as in cnn.py:
Keras keeps a copy of the weights on every device, gives each device its share of
every batch and averages the gradients over all of them. Past one machine, every
process first joins the cluster and then feeds only its own part of each batch.
Run with KERAS_BACKEND=jax. Its twin, tf.distribute by hand, is
raw_tf_impl/distributed.py; the Keras way on tf.distribute is distributed.py.
"""

import jax
import keras
import numpy as np

from keras_impl import cnn


# Step 1: define ----------------------------------------------------------------
def join_cluster(coordinator_address, num_processes, process_id, timeout=300):
    """Past one machine: every process calls this first; process 0 coordinates."""
    jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU all-reduce
    jax.distributed.initialize(
        coordinator_address, num_processes, process_id, initialization_timeout=timeout
    )


def build_model(seed=0, input_shape=(28, 28, 1), num_classes=10):
    # All devices of all processes. NumPy input: each process feeds its own part.
    distribution = keras.distribution.DataParallel(
        devices=jax.devices(), auto_shard_dataset=False
    )
    keras.distribution.set_distribution(distribution)
    return cnn.build_model(seed, input_shape, num_classes)


# Step 2: compile ---------------------------------------------------------------
compile_model = cnn.compile_model


# Step 3: train -----------------------------------------------------------------
def my_part(x, y, batch_size):
    """This process's rows of every batch of `batch_size` (process p of P takes the
    p-th P-th of each). Every device needs an equal share, so the last batch keeps a
    multiple of the devices: the few images beyond it sit out."""
    processes, rank = jax.process_count(), jax.process_index()
    kept = len(x) - len(x) % batch_size % jax.device_count()
    rows = np.arange(kept)
    first = rows // batch_size * batch_size  # the first row of each row's batch
    share = np.minimum(batch_size, kept - first) // processes
    mine = rows[(rows - first) // share == rank]
    return x[mine], y[mine]


def train(model, x_train, y_train, epochs, batch_size, verbose=1, callbacks=()):
    """cnn.py's fit on this process's part; batch_size is the global batch."""
    x, y = my_part(x_train, y_train, batch_size)
    local_batch = batch_size // jax.process_count()
    return cnn.train(model, x, y, epochs, local_batch, verbose, callbacks)


# Step 4: evaluate --------------------------------------------------------------
def evaluate(model, x_test, y_test, batch_size=128):
    """Every process scores its part; the metrics add up over all of them."""
    x, y = my_part(x_test, y_test, batch_size)
    return cnn.evaluate(model, x, y, batch_size // jax.process_count())
