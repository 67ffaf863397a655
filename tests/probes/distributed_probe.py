"""Run by test_distributed.py in a subprocess (the logical CPU devices must exist before TensorFlow
starts): one training step on one device and split over two replicas, from the same weights, in
both styles, through the lessons' own train functions. Two cases: a global batch of 64 real digits
(32 + 32), and a short one: 71 digits for a batch of 128, of which the lessons keep 70, a multiple
of the replicas (35 + 35), and the single-device step gets those 70. Prints JSON: per case
and style, the largest weight difference and both losses."""

import json

import numpy as np
import tensorflow as tf

from compare.data import load_digits_28x28
from compare.harness.distribute import mirrored_strategy

CASES = {"even": (64, 64, 64), "short": (71, 70, 128)}  # images given, kept, batch size


def keras_step(two_replicas, images, labels, kept, batch_size):
    import keras_impl
    from keras_impl import distributed

    single = keras_impl.compile_model(keras_impl.build_model(seed=0))
    split = distributed.build_model(two_replicas, seed=1)
    split.set_weights(single.get_weights())
    distributed.compile_model(two_replicas, split)
    losses = [
        keras_impl.train(
            single, images[:kept], labels[:kept], 1, batch_size, verbose=0
        ),
        distributed.train(split, images, labels, 1, batch_size, verbose=0),
    ]
    return {
        "losses": [history["loss"][0] for history in losses],
        "max_weight_difference": max(
            float(np.abs(a - b).max())
            for a, b in zip(single.get_weights(), split.get_weights(), strict=True)
        ),
    }


def raw_step(two_replicas, images, labels, kept, batch_size):
    import raw_tf_impl
    from raw_tf_impl import distributed

    single = raw_tf_impl.build_model(seed=0)
    split = distributed.build_model(two_replicas, seed=1)
    for source, target in zip(
        single.trainable_variables, split.trainable_variables, strict=True
    ):
        target.assign(source.numpy())
    optimizer = raw_tf_impl.compile_model(single)
    histories = [
        raw_tf_impl.train(
            single, optimizer, images[:kept], labels[:kept], 1, batch_size, verbose=0
        ),
        distributed.train(
            two_replicas,
            split,
            distributed.compile_model(two_replicas, split),
            images,
            labels,
            1,
            batch_size,
            verbose=0,
        ),
    ]
    return {
        "losses": [history["loss"][0] for history in histories],
        "max_weight_difference": max(
            float(np.abs(a.numpy() - b.numpy()).max())
            for a, b in zip(
                single.trainable_variables, split.trainable_variables, strict=True
            )
        ),
    }


def main():
    two_replicas = mirrored_strategy(2)  # first: it makes the logical CPU devices
    tf.config.experimental.enable_op_determinism()
    digits = load_digits_28x28()
    result = {"replicas": two_replicas.num_replicas_in_sync}
    for case, (given, kept, batch_size) in CASES.items():
        images, labels = digits.x_train[:given], digits.y_train[:given]
        result[case] = {
            style: step(two_replicas, images, labels, kept, batch_size)
            for style, step in (("keras", keras_step), ("raw_tf", raw_step))
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
