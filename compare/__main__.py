"""Entry point of `python -m compare`."""

import contextlib
import os
import sys


@contextlib.contextmanager
def stderr_silenced():
    """TensorFlow's C++ start-up logs (oneDNN, CUDA probing) bypass Python and ignore a
    TF_CPP_MIN_LOG_LEVEL set after start-up, so hide file descriptor 2 while they print."""
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
    if any(arg in ("-h", "--help") for arg in sys.argv[1:]):
        return  # --help needs no TensorFlow
    with stderr_silenced():
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # the CUDA probe logs here
        except ImportError:
            pass  # re-raised, with its message visible, where compare imports it


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
load_tensorflow_quietly()

from compare.cli import main  # noqa: E402

raise SystemExit(main())
