"""The Keras implementation on each Keras 3 backend (TensorFlow, JAX, PyTorch), one subprocess each."""

import dataclasses
import importlib.util
import json
import os
import subprocess
import sys

from compare.errors import CompareError
from compare.language import N_, _, language, number
from compare.quiet import KERAS_BACKENDS

BACKENDS = KERAS_BACKENDS  # --backends all, in this order
NOT_INSTALLED = {  # reasons kept in the report in English, translated where shown
    "tensorflow": N_("tensorflow is not installed (pip install tensorflow)"),
    "jax": N_("jax is not installed (pip install 'keras-vs-tf[jax]')"),
    "torch": N_(
        "torch is not installed (pip install 'keras-vs-tf[torch]' (CPU build: see "
        "the README))"
    ),
}


def missing(backend):
    """Why `backend` cannot run here, or None when its package is installed."""
    if importlib.util.find_spec(backend) is None:
        return NOT_INSTALLED[backend]
    return None


def run_on_backend(backend, study, config, curves, timeout=3600):
    """The Keras implementation's result on `backend`, or a row saying why it could not run."""
    reason = missing(backend)
    if reason:
        return {
            "implementation": "keras",
            "backend": backend,
            "model": config.model,
            "unavailable": reason,
        }
    request = {
        "dataset": study.dataset,
        "data_dir": study.data_dir and str(study.data_dir),
        "train_samples": study.train_samples,
        "test_samples": study.test_samples,
        "config": dataclasses.asdict(config),
        "curves": curves,
        "language": language(),  # its errors come back in the user's language
    }
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "compare.harness.backend_run"],
            input=json.dumps(request),
            env={**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise CompareError(
            _("Keras on {backend} did not finish within {seconds} s").format(
                backend=backend, seconds=number(timeout)
            )
        ) from None
    if completed.returncode != 0:
        last_line = (completed.stderr.strip().splitlines() or [_("no message")])[-1]
        raise CompareError(
            _("Keras on {backend} failed: {line}").format(
                backend=backend, line=last_line
            )
        )
    return json.loads(completed.stdout.strip().splitlines()[-1])
