"""The Keras style on every installed Keras 3 backend: the same weights give the same
predictions, one training step the same weights, and a tiny end-to-end run works.

Tolerances: the backends run the same float32 math through different kernels (oneDNN, XLA,
PyTorch), which sum in different orders: about 1e-6 relative per op, so probabilities agree to
1e-5. Adam's first step moves each weight by lr * g / (|g| + eps); a gradient difference of
rounding size changes that by far less than 1e-5 of lr = 1e-3, so updated weights agree to 1e-6.
"""

import dataclasses
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import ONE_EPOCH, run_cli

from compare.harness.backends import BACKENDS, missing, run_on_backend
from compare.request import Request
from compare.views.report import render

ROOT = Path(__file__).parents[1]
INSTALLED = [backend for backend in BACKENDS if missing(backend) is None]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, digits):
    """Each installed backend's predictions and weights after one step, from one shared weights file."""
    import keras_impl

    folder = tmp_path_factory.mktemp("backends")
    weights, data = folder / "cnn.weights.h5", folder / "batch.npz"
    keras_impl.build_model(seed=0).save_weights(
        weights
    )  # written by this process: TensorFlow backend
    np.savez(data, x=digits.x_train[:32], y=digits.y_train[:32])
    results = {}
    for backend in INSTALLED:
        output = folder / f"{backend}.npz"
        completed = subprocess.run(
            [
                sys.executable,
                str(ROOT / "tests" / "probes" / "backend_probe.py"),
                str(weights),
                str(data),
                str(output),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            env={
                **os.environ,
                "KERAS_BACKEND": backend,
                "TF_CPP_MIN_LOG_LEVEL": "3",
                "PYTHONPATH": str(ROOT),
            },
        )
        assert completed.returncode == 0, completed.stderr[-2000:]
        results[backend] = dict(np.load(output))
    return results


def test_each_probe_ran_on_its_backend(outputs):
    assert {str(result["backend"]) for result in outputs.values()} == set(INSTALLED)


@pytest.mark.skipif(
    len(INSTALLED) < 2, reason=f"only {INSTALLED} installed: nothing to compare across"
)
def test_same_weights_same_predictions_on_every_backend(outputs):
    reference = outputs["tensorflow"]["predictions"]
    for backend, result in outputs.items():
        np.testing.assert_allclose(
            result["predictions"], reference, atol=1e-5, err_msg=backend
        )


@pytest.mark.skipif(
    len(INSTALLED) < 2, reason=f"only {INSTALLED} installed: nothing to compare across"
)
def test_one_training_step_same_weights_on_every_backend(outputs):
    reference = outputs["tensorflow"]
    names = [name for name in reference if name.startswith("weight_")]
    assert len(names) == 4
    for backend, result in outputs.items():
        for name in names:
            np.testing.assert_allclose(
                result[name], reference[name], atol=1e-6, err_msg=f"{backend} {name}"
            )


DIGITS = Request("digits", train_samples=256, test_samples=64)


@pytest.mark.slow
@pytest.mark.parametrize("backend", INSTALLED)
def test_end_to_end_tiny_run_per_backend(backend):
    request = dataclasses.replace(DIGITS, epochs=2, batch_size=64)
    result = run_on_backend(backend, request, curves=False)
    assert result["backend"] == backend and result["params"] == 54_410
    losses = result["history"]["loss"]
    assert (
        len(losses) == 2 and losses[1] < losses[0]
    )  # it learns (8 steps are too few for an accuracy floor)


@pytest.mark.slow
def test_a_missing_backend_is_a_row_that_says_so(monkeypatch):
    monkeypatch.setattr(
        "compare.harness.backends.importlib.util.find_spec", lambda name: None
    )
    row = run_on_backend("jax", DIGITS, curves=False)
    assert row["unavailable"].startswith("jax is not installed")
    report = {
        "dataset": {"name": "digits", "source": "x", "train_size": 1, "test_size": 1},
        "config": {
            "epochs": 1,
            "batch_size": 1,
            "lr": 0.001,
            "seed": 0,
            "steps_per_execution": None,
        },
        "results": [row],
    }
    table = render(report, "table")
    assert "Keras (jax)" in table and "not installed" in table


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend, words",
    [
        (
            "nonsense",
            "Keras does not load its backend (Unable to import backend : nonsense)",
        ),
        pytest.param(
            "openvino",
            "Keras does not load its backend (No module named 'openvino')",
            marks=pytest.mark.skipif(
                importlib.util.find_spec("openvino") is not None,
                reason="openvino is installed",
            ),
        ),
        ("numpy", "Keras' backend is numpy: this project runs Keras on"),
    ],
)
def test_a_backend_keras_cannot_train_on_is_one_error_line(monkeypatch, backend, words):
    monkeypatch.setenv("KERAS_BACKEND", backend)
    process = run_cli(*ONE_EPOCH, "--quiet", timeout=120)
    assert process.returncode == 1 and process.stdout == ""
    (line,) = process.stderr.splitlines()  # one line, no traceback
    assert line.startswith(f"python -m compare: error: {words}")
    assert line.endswith("tensorflow, jax, torch")
