"""The Keras style on each Keras 3 backend (TensorFlow, JAX, PyTorch), one subprocess each."""

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from compare.errors import CompareError
from compare.harness.backend_run import EXPLAINED
from compare.language import N_, _, language, number
from compare.quiet import KERAS_BACKENDS
from compare.safety.child_lines import meaningful_line, signal_name
from compare.safety.children import ChildGroup

BACKENDS = KERAS_BACKENDS  # --backends all, in this order
NOT_INSTALLED = {  # reasons kept in the report in English, translated where shown
    "tensorflow": N_("tensorflow is not installed (pip install tensorflow)"),
    "jax": N_("jax is not installed (pip install 'keras-vs-tf[jax]')"),
    "torch": N_(
        "torch is not installed (pip install 'keras-vs-tf[torch]' (CPU build: see "
        "docs/backends.md))"
    ),
}


def missing(backend):
    """Why `backend` cannot run here, or None when its package is installed."""
    if importlib.util.find_spec(backend) is None:
        return NOT_INSTALLED[backend]
    return None


def run_on_backend(
    backend,
    request,
    curves,
    timeout=3600,
    devices=None,
    cluster=None,
    weights=None,
):
    """The Keras style's result on `backend`, or a row saying why it could not run.
    Keras on JAX past one device: `devices` CPU devices to make (where no GPU is), or the
    `cluster` to join (backend_run.join_cluster's arguments); a dict passed as `weights`
    receives the final weights."""
    reason = missing(backend)
    if reason:
        return {
            "implementation": "keras",
            "backend": backend,
            "model": request.model,
            "unavailable": reason,
        }
    message = {
        "request": request.to_fields(),
        "curves": curves,
        "language": language(),  # its errors come back in the user's language
        "cluster": cluster,
    }
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if cluster:  # JAX's coordinator listens on every interface unless told where
        env["JAX_COORDINATOR_BIND_ADDRESS"] = cluster["coordinator"]
    if devices:  # JAX makes its CPU devices from this flag, read when it starts
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    with tempfile.TemporaryDirectory() as folder:
        if weights is not None:
            message["weights_path"] = str(Path(folder) / "weights.npz")
        completed = backend_process(backend, message, env, timeout)
        if completed.returncode == 0 and weights is not None:
            with np.load(message["weights_path"]) as saved:
                weights.update({name: saved[name] for name in saved.files})
    if completed.returncode != 0:
        raise CompareError(backend_failed(backend, completed, cluster))
    return json.loads(completed.stdout.strip().splitlines()[-1])


def backend_process(backend, message, env, timeout):
    """The backend's process, run to its end: in a process group of its own, dying with
    this one (compare/safety/children.py)."""
    with ChildGroup() as group:
        process = group.popen(
            [sys.executable, "-m", "compare.harness.backend_run"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            stdout, stderr = process.communicate(json.dumps(message), timeout=timeout)
        except subprocess.TimeoutExpired:
            raise CompareError(
                _("Keras on {backend} did not finish within {seconds} s").format(
                    backend=backend, seconds=number(timeout)
                )
            ) from None
        return subprocess.CompletedProcess(
            process.args, process.returncode, stdout, stderr
        )


def backend_failed(backend, completed, cluster):
    """The line for a Keras process that failed. A peer that never joins makes JAX abort
    the process (a C++ CHECK, SIGABRT) once the cluster's timeout has passed; a peer
    that dies mid-run, once its heartbeats have stopped."""
    if cluster and completed.returncode in (-6, 134):
        if "DEADLINE_EXCEEDED" in completed.stderr:
            return _(
                "Keras on JAX, process {index}: no answer from the other processes "
                "at {address} within {seconds} s (--worker-timeout); are all the "
                "workers running?"
            ).format(
                index=cluster["process_id"],
                address=cluster["coordinator"],
                seconds=number(cluster["timeout"]),
            )
        if "UNAVAILABLE" in completed.stderr or "heartbeat" in completed.stderr:
            return _(
                "Keras on JAX, process {index}: another process of the cluster at "
                "{address} stopped answering during training (ended by {signal})"
            ).format(
                index=cluster["process_id"],
                address=cluster["coordinator"],
                signal=signal_name(completed.returncode),
            )
    if completed.returncode == EXPLAINED:
        return meaningful_line(completed.stderr)
    return _("Keras on {backend} failed: {line}").format(
        backend=backend,
        line=meaningful_line(completed.stderr, completed.returncode),
    )
