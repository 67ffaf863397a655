"""TensorFlow's errors said plainly: an op's error message starts with the kernel's
internal name ({{function_node __wrapped__Reshape_device_/job:...}}) and ends with
[Op:Reshape]; the student reads only what went wrong, on the line of their code."""

import contextlib
import re

import tensorflow as tf

INTERNALS = re.compile(r"\{\{function_node [^}]*\}\}\s*|\s*\[Op:[^\]]*\].*$")


@contextlib.contextmanager
def plain_errors():
    """Within the block, a TensorFlow op's error is raised again, the same type from the
    same lines, its message without TensorFlow's internal names."""
    try:
        yield
    except tf.errors.OpError as error:
        message = INTERNALS.sub("", error.message).strip()
        plain = type(error)(error.node_def, error.op, message)
        raise plain.with_traceback(error.__traceback__) from None
