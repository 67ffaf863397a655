"""Loading TensorFlow without its C++ start-up noise."""

import contextlib
import os
import sys


@contextlib.contextmanager
def stderr_silenced():
    """Hide file descriptor 2: TensorFlow's C++ start-up logs (oneDNN, CUDA probing) bypass
    Python and ignore a TF_CPP_MIN_LOG_LEVEL set after the process started."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def load_tensorflow_quietly():
    """Import TensorFlow and probe its devices with stderr hidden; a failed import is one clear line."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        with stderr_silenced():
            import tensorflow as tf

            tf.config.list_physical_devices()  # the CUDA probe logs here
    except ImportError as error:  # shown once stderr is back
        raise SystemExit(
            f"python -m compare: error: TensorFlow does not import: {error}"
        ) from None
