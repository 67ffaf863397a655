"""Run by test_keras_distribution.py in a subprocess, with KERAS_BACKEND=jax and two CPU
devices (XLA_FLAGS, set before JAX starts): one training step of the lecture's CNN on one
device and on two (keras_impl/distributed_jax.py's DataParallel), from the same weights,
through the lesson's own train. Two cases: a global batch of 64 real digits (32 + 32),
and 71 digits for a batch of 128, of which the lesson keeps 70 (35 + 35) and the
one-device step gets those 70. Prints JSON: per case, the largest weight difference
and both losses."""

import json

import jax
import keras
import numpy as np

from compare.data import load_digits_28x28
from keras_impl import distributed_jax

CASES = {"even": (64, 64, 64), "short": (71, 70, 128)}  # images given, kept, batch size


def one_step(devices, weights, images, labels, batch_size):
    """The lesson's model on `devices` after one step from `weights`."""
    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False)
    )
    model = distributed_jax.compile_model(distributed_jax.cnn.build_model(seed=1))
    model.set_weights(weights)
    history = distributed_jax.train(model, images, labels, 1, batch_size, verbose=0)
    return model.get_weights(), history["loss"][0]


def main():
    assert len(jax.devices()) == 2, jax.devices()
    digits = load_digits_28x28()
    start = distributed_jax.build_model(seed=0).get_weights()  # sets the 2-device one
    results = {}
    for case, (given, kept, batch_size) in CASES.items():
        images, labels = digits.x_train[:given], digits.y_train[:given]
        one, one_loss = one_step(
            jax.devices()[:1], start, images[:kept], labels[:kept], batch_size
        )
        two, two_loss = one_step(jax.devices(), start, images, labels, batch_size)
        results[case] = {
            "losses": [float(one_loss), float(two_loss)],
            "max_weight_difference": max(
                float(np.abs(a - b).max()) for a, b in zip(one, two, strict=True)
            ),
        }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
