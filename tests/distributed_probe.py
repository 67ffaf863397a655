"""Run by test_distributed.py in a subprocess (the logical CPU devices must exist before TensorFlow
starts): one training step on a global batch of 64 real digits, on one device and split over two
replicas, from the same weights, in both styles. Prints JSON: the largest weight difference and
both losses per style."""

import json

import numpy as np
import tensorflow as tf

from compare.data import load_digits_28x28
from compare.harness.distribute import mirrored_strategy


def main():
    two_replicas = mirrored_strategy(2)  # first: it makes the logical CPU devices
    tf.config.experimental.enable_op_determinism()
    import keras_impl
    import raw_tf_impl
    from keras_impl import distributed as keras_distributed
    from raw_tf_impl import distributed as raw_distributed

    digits = load_digits_28x28()
    images, labels = digits.x_train[:64], digits.y_train[:64]
    result = {"replicas": two_replicas.num_replicas_in_sync}

    keras_single = keras_impl.compile_model(keras_impl.build_model(seed=0))
    keras_split = keras_distributed.build_model(two_replicas, seed=1)
    keras_split.set_weights(keras_single.get_weights())
    keras_distributed.compile_model(two_replicas, keras_split)
    losses = [
        keras_impl.train(model, images, labels, 1, 64, verbose=0)["loss"][0]
        for model in (keras_single, keras_split)
    ]
    result["keras"] = {
        "losses": losses,
        "max_weight_difference": max(
            float(np.abs(a - b).max())
            for a, b in zip(keras_single.get_weights(), keras_split.get_weights())
        ),
    }

    raw_single = raw_tf_impl.build_model(seed=0)
    raw_split = raw_distributed.build_model(two_replicas, seed=1)
    for single, split in zip(
        raw_single.trainable_variables, raw_split.trainable_variables
    ):
        split.assign(single.numpy())
    single_history = raw_tf_impl.train(
        raw_single,
        raw_tf_impl.compile_model(raw_single),
        images,
        labels,
        1,
        64,
        verbose=0,
    )
    split_history = raw_distributed.train(
        two_replicas,
        raw_split,
        raw_distributed.compile_model(two_replicas, raw_split),
        images,
        labels,
        1,
        64,
        verbose=0,
    )
    result["raw_tf"] = {
        "losses": [single_history["loss"][0], split_history["loss"][0]],
        "max_weight_difference": max(
            float(np.abs(a.numpy() - b.numpy()).max())
            for a, b in zip(
                raw_single.trainable_variables, raw_split.trainable_variables
            )
        ),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
