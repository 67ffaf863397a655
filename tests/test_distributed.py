"""tf.distribute in both styles, on the real engine: two logical CPU devices and two worker processes.

Tolerance for one step split over two replicas against the same step on one device: the split
sums two half-batch gradients instead of reducing 64 examples at once, a float32 reassociation
(~1e-6 relative). Adam's first step moves each weight by about lr = 1e-3 whatever the gradient's
scale, so that rounding moves a weight by at most ~1e-3 of a step: 1e-6 absolute (measured:
1.1e-7 raw, 2.1e-7 Keras). The losses are means of the same 64 terms: 1e-6 relative.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import SMALL as SMALL_RUN
from helpers import run_cli, succeeded

from compare.errors import CompareError
from compare.harness.distribute import read_tf_config
from compare.harness.local_workers import free_ports

pytestmark = pytest.mark.slow  # every test here starts processes or trains end to end

ROOT = Path(__file__).resolve().parent.parent
STEP_TOLERANCE = 1e-6
SMALL = [*SMALL_RUN, "--epochs", "1"]


@pytest.fixture(scope="module")
def one_step_on_two_devices():
    completed = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "probes" / "distributed_probe.py")],
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", ["even", "short"])
@pytest.mark.parametrize("style", ["keras", "raw_tf"])
def test_a_step_split_over_two_devices_equals_the_step_on_one(
    one_step_on_two_devices, style, case
):
    """even: 64 images, 32 per replica. short: 71 images for a batch of 128; the lesson keeps
    70 (35 per replica): the step on one device on those 70 is the same step (on all 71, its
    loss would be another mean, ~1e-3 away)."""
    assert one_step_on_two_devices["replicas"] == 2
    result = one_step_on_two_devices[case][style]
    assert result["max_weight_difference"] <= STEP_TOLERANCE
    single, split = result["losses"]
    assert split == pytest.approx(single, rel=STEP_TOLERANCE)


def test_mirrored_run_from_the_cli():
    """The last batches are short: 129 = 2 x 64 + 1 training images (the last one sits
    out, else a replica would get none: an abort in TensorFlow's oneDNN), 65 to test."""
    report = json.loads(
        succeeded(
            run_cli(
                *SMALL,
                "--train-samples",
                "129",
                "--test-samples",
                "65",
                "--strategy",
                "mirrored",
                "--devices",
                "2",
                "--format",
                "json",
                "--quiet",
            )
        ).stdout
    )
    assert (
        report["config"]["strategy"] == "mirrored" and report["config"]["replicas"] == 2
    )
    for result in report["results"]:
        assert 0 <= result["test_accuracy"] <= 1 and result["train_seconds"] > 0
        assert result["loc"]["train"] > 0


@pytest.mark.parametrize("only", ["keras", "raw"])
def test_a_diverging_mirrored_run_stops_with_one_error_line(only):
    """Under a strategy too: Keras' TerminateOnNaN (at the step), the raw loop's check (at the epoch's end)."""
    process = run_cli(
        *SMALL,
        "--strategy",
        "mirrored",
        "--devices",
        "2",
        "--lr",
        "1e30",
        "--only",
        only,
        "--quiet",
    )
    assert process.returncode == 1 and "Traceback" not in process.stderr
    assert (
        process.stderr.count("\n") == 1
        and "diverged: the loss became" in process.stderr
    )
    assert "in epoch 1" in process.stderr and "try a lower --lr" in process.stderr


# Two local workers, both styles: tests/test_keras_distribution.py.
def test_a_worker_whose_peer_never_comes_gives_up_with_one_error_line(monkeypatch):
    own, absent = (
        f"127.0.0.1:{port}" for port in free_ports(2)
    )  # nothing will listen on `absent`
    cluster = {
        "cluster": {"worker": [own, absent]},
        "task": {"type": "worker", "index": 0},
    }
    monkeypatch.setenv("TF_CONFIG", json.dumps(cluster))
    started = time.monotonic()
    process = run_cli(
        *SMALL,
        "--strategy",
        "multiworker",
        "--worker-timeout",
        "5",
        "--only",
        "raw",
        "--quiet",
        timeout=120,
    )
    assert time.monotonic() - started < 90  # no hang
    assert process.returncode != 0 and "Traceback" not in process.stderr
    errors = [line for line in process.stderr.splitlines() if "error" in line.lower()]
    assert errors == [
        f"python -m compare: error: worker 0: no answer from {absent} within 5 s (--worker-timeout); "
        "are all the workers in TF_CONFIG running?"
    ]


@pytest.mark.parametrize(
    "tf_config, message",
    [
        (None, "needs TF_CONFIG"),
        ('{"cluster": ', "TF_CONFIG is not valid JSON"),
        (
            '{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}',
            '"host:port"',
        ),
        (
            '{"cluster": {"worker": ["localhost:1"]}, "task": {"type": "worker", "index": 3}}',
            '"index": 0 to 0',
        ),
        (
            '{"cluster": {"worker": ["localhost:1"]}, "task": {"type": "ps", "index": 0}}',
            '"type": "worker"',
        ),
    ],
)
def test_bad_tf_config_is_one_clear_error(monkeypatch, tf_config, message):
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    with pytest.raises(CompareError, match=message):
        read_tf_config()
    process = run_cli(*SMALL, "--strategy", "multiworker", timeout=60)
    assert (
        process.returncode == 1
        and message in process.stderr
        and len(process.stderr.strip().splitlines()) == 1
    )


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--devices", "2"], "--devices needs --strategy mirrored"),
        (["--workers", "2"], "--workers needs --strategy multiworker"),
        (
            ["--strategy", "mirrored", "--workers", "2"],
            "--workers is for --strategy multiworker",
        ),
        (
            ["--strategy", "multiworker", "--devices", "2"],
            "--devices is for --strategy mirrored",
        ),
        (
            ["--strategy", "mirrored", "--model", "cnn_bn_dropout"],
            "trains the lecture's cnn only",
        ),
        (
            ["--strategy", "mirrored", "--steps-per-execution", "4"],
            "--steps-per-execution does not combine",
        ),
        (
            ["--strategy", "mirrored", "--devices", "3", "--quiet"],
            "--batch-size 64 does not split evenly across 3 replicas, which Keras 3's "
            "fit needs: use a multiple of 3, such as 63 or 66",
        ),
        (
            [
                "--strategy",
                "mirrored",
                "--devices",
                "2",
                "--test-samples",
                "33",
                "--quiet",
            ],
            "a test set of 33 images, smaller than a batch, does not split evenly "
            "across 2 replicas, which Keras 3's evaluate needs: use --test-samples 32 "
            "or 34",
        ),
    ],
)
def test_strategy_flags_that_do_not_combine(flags, message):
    process = run_cli(*SMALL, *flags, timeout=60)
    assert (
        process.returncode == 1
        and message in process.stderr
        and len(process.stderr.strip().splitlines()) == 1
    )


def test_more_devices_than_can_run_is_one_error_line():
    """33 logical CPU devices: 64 hung in the all-reduce on this 2-core machine (see
    compare/harness/distribute.py)."""
    process = run_cli(*SMALL, "--strategy", "mirrored", "--devices", "33", timeout=60)
    assert process.returncode == 2
    assert process.stderr.splitlines() == [
        "python -m compare: error: argument --devices: must be at most 32, got '33' "
        "(see --help)"
    ]


def test_local_workers_that_fail_are_reported_in_one_line(tmp_path):
    """--workers watches its workers: one failing stops the others and its error line is passed on."""
    started = time.monotonic()
    process = run_cli(
        *SMALL,
        "--dataset",
        "mnist",
        "--data-dir",
        tmp_path / "missing",
        "--strategy",
        "multiworker",
        "--workers",
        "2",
        "--quiet",
        timeout=120,
    )
    assert time.monotonic() - started < 100
    assert process.returncode == 1 and "Traceback" not in process.stderr
    (error,) = process.stderr.strip().splitlines()
    assert (
        error.startswith("python -m compare: error: worker ")
        and "failed: python -m compare: error:" in error
    )
