"""`python -m compare.harness.backend_run`: train the Keras style on the Keras 3 backend that
KERAS_BACKEND names and print its result as one JSON line. `--backends` starts one such process
per backend, because Keras fixes its backend when it is first imported; so does a strategy's
Keras-on-JAX column (keras_impl/distributed_jax.py), whose request may hold a "cluster" to join
first and a path for its final weights."""

import json
import socket
import sys

import numpy as np

from compare import data
from compare.errors import CompareError
from compare.language import _, set_language
from compare.quiet import load_tensorflow_quietly
from compare.request import Request
from compare.safety.children import die_with_parent

EXPLAINED = 3  # the exit code after a one-line error of the harness's own


def main():
    die_with_parent()  # never an orphan training on (compare/safety/children.py)
    message = json.load(sys.stdin)

    load_tensorflow_quietly()  # raw_tf_impl sits beside keras_impl in compare.harness.training
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    import keras

    from compare.harness.training import run

    set_language(message.get("language", "en"))

    try:
        if message.get("cluster"):
            join_cluster(**message["cluster"])
        request = Request.from_fields(message["request"])
        dataset = data.load_dataset(
            request.dataset,
            request.data_dir,
            request.train_samples,
            request.test_samples,
        )
        weights = {} if message.get("weights_path") else None
        result = run(
            "keras",
            dataset,
            request,
            verbose=0,
            curves=message["curves"],
            weights=weights,
        )
    except CompareError as error:
        print(str(error), file=sys.stderr)  # a whole line already: passed on as it is
        raise SystemExit(EXPLAINED) from None
    if weights is not None:
        np.savez(message["weights_path"], **weights)
    print(json.dumps({**result, "backend": keras.backend.backend()}))


def join_cluster(coordinator, processes, process_id, timeout):
    """jax.distributed.initialize, through the lesson; a coordinator that cannot be reached or
    served is one line. (A peer that never comes aborts the process inside JAX after `timeout`
    seconds: compare/harness/backends.py explains that exit.)"""
    from keras_impl.distributed_jax import join_cluster

    if process_id == 0:
        check_port_free(coordinator, process_id)
    try:
        join_cluster(coordinator, processes, process_id, timeout)
    except (
        Exception
    ) as error:  # jax.errors.JaxRuntimeError, ValueError on a bad address
        raise CompareError(
            _(
                "Keras on JAX, process {index}: could not join the cluster at {address} ({error})"
            ).format(
                index=process_id,
                address=coordinator,
                error=(str(error).strip().splitlines() or [type(error).__name__])[0],
            )
        ) from None


def check_port_free(address, process_id):
    """Process 0 serves the coordinator: a port another program holds makes JAX crash
    (SIGSEGV, no message), so it is tried first and named."""

    host, _colon, port = address.rpartition(":")
    try:
        family, kind, _proto, _name, where = socket.getaddrinfo(
            host.strip("[]"), int(port), type=socket.SOCK_STREAM
        )[0]
        with socket.socket(family, kind) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(where)
    except OSError as error:  # EADDRINUSE; an address not of this machine
        raise CompareError(
            _(
                "Keras on JAX, process {index}: cannot serve the coordinator at "
                "{address} ({error}): choose another --coordinator port"
            ).format(index=process_id, address=address, error=error.strerror or error)
        ) from None


if __name__ == "__main__":
    main()
