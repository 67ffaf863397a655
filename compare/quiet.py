"""Loading TensorFlow, and the Keras it imports, without its C++ start-up noise; a failed
import is one clear line."""

import contextlib
import os
import sys

from compare.language import _

KERAS_BACKENDS = (
    "tensorflow",
    "jax",
    "torch",
)  # the Keras 3 backends this project runs


@contextlib.contextmanager
def stderr_silenced():
    """Hide file descriptor 2: TensorFlow's C++ start-up logs (oneDNN, CUDA probing)
    bypass Python and ignore a TF_CPP_MIN_LOG_LEVEL set after the process started."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# Checks to pass before TensorFlow is imported, once: the CLI adds the room it needs
# under resource limits (compare/safety/limits.py), which this layer cannot import.
BEFORE_TENSORFLOW = []


def run_checks_before_tensorflow():
    while BEFORE_TENSORFLOW:
        BEFORE_TENSORFLOW.pop(0)()


def fail(message):
    """Stop with one error line (raised once stderr is back, so that it shows)."""
    raise SystemExit(f"python -m compare: {_('error')}: {message}")


def load_tensorflow_quietly():
    """Import TensorFlow and Keras and probe the devices with stderr hidden. TensorFlow
    imports Keras on the backend that KERAS_BACKEND (or ~/.keras/keras.json) names:
    Keras raises ValueError for a name it does not know, ImportError for a backend whose
    package is missing, and TensorFlow's import swallows the ImportError, so Keras is
    imported here again to hear it."""
    run_checks_before_tensorflow()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        with stderr_silenced():
            import tensorflow as tf

            tf.config.list_physical_devices()  # the CUDA probe logs here
        # Python-side warnings too: "N of the last M calls triggered retracing" counts
        # the many models bench and the pairs build on purpose, each traced once.
        tf.get_logger().setLevel("ERROR")
    except ImportError as error:
        fail(_("TensorFlow does not import: {error}").format(error=error))
    except ValueError as error:
        fail(keras_backend_failed(error))
    try:
        with stderr_silenced():
            import keras
    except (ImportError, ValueError) as error:
        fail(keras_backend_failed(error))
    if keras.backend.backend() not in KERAS_BACKENDS:  # numpy, openvino: no fit
        fail(
            _(
                "Keras' backend is {backend}: this project runs Keras on {backends}"
            ).format(
                backend=keras.backend.backend(), backends=", ".join(KERAS_BACKENDS)
            )
        )


def keras_backend_failed(error):
    return _(
        "Keras does not load its backend ({error}); set KERAS_BACKEND to one of "
        "{backends}"
    ).format(error=error, backends=", ".join(KERAS_BACKENDS))
