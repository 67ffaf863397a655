"""Run by test_backends.py in a subprocess with KERAS_BACKEND set: load shared weights into the
Keras style, then predict, or take one training step, and save what came out."""

import sys

import keras
import numpy as np

import keras_impl


def main(weights_path, data_path, output_path):
    data = np.load(data_path)
    model = keras_impl.compile_model(keras_impl.build_model(seed=0))
    model.load_weights(weights_path)
    predictions = np.asarray(model.predict(data["x"], verbose=0))
    model.train_on_batch(data["x"], data["y"])
    np.savez(
        output_path,
        predictions=predictions,
        backend=keras.backend.backend(),
        **{
            f"weight_{index}": np.asarray(weight)
            for index, weight in enumerate(model.get_weights())
        },
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
