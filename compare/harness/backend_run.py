"""`python -m compare.harness.backend_run`: train the Keras implementation on the Keras 3 backend that
KERAS_BACKEND names and print its result as one JSON line. `--backends` starts one such process
per backend, because Keras fixes its backend when it is first imported."""

import json
import sys


def main():
    request = json.load(sys.stdin)
    from compare.quiet import load_tensorflow_quietly

    load_tensorflow_quietly()  # raw_tf_impl sits beside keras_impl in compare.harness.training
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    import keras

    from compare.data import load_dataset
    from compare.errors import CompareError
    from compare.harness.training import Config, run
    from compare.language import set_language

    set_language(request.get("language", "en"))

    try:
        dataset = load_dataset(
            request["dataset"],
            request["data_dir"],
            request["train_samples"],
            request["test_samples"],
        )
        result = run(
            "keras",
            dataset,
            Config(**request["config"]),
            verbose=0,
            curves=request["curves"],
        )
    except CompareError as error:
        raise SystemExit(str(error)) from None
    print(json.dumps({**result, "backend": keras.backend.backend()}))


if __name__ == "__main__":
    main()
