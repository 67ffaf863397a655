"""`python -m compare transfer` end to end on CPU: a tiny offline run, and clear one-line errors.

The end-to-end run pretrains ResNet50 on 64 digits, then runs both styles (head, fine-tuning,
from scratch) on 32 labels: every phase compiles a ResNet50 graph, so it takes a minute or two.
"""

import json

import pytest
from helpers import run_cli, succeeded

from compare.transfer.transfer import transfer_lines

pytestmark = pytest.mark.slow  # every test here starts processes or trains end to end

HEAD_PARAMETERS = (
    2048 * 1024 + 1024 + 1024 * 10 + 10
)  # Dense(1024) and Dense(10): what trains first
TINY = [
    "--dataset",
    "digits",
    "--pretrain-samples",
    "64",
    "--pretrain-epochs",
    "1",
    "--labels",
    "32",
    "--epochs",
    "2",
    "--scratch-epochs",
    "1",
    "--fine-tune-epochs",
    "1",
    "--test-samples",
    "32",
    "--batch-size",
    "16",
]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("transfer")
    report_path, weights_path = folder / "report.json", folder / "base.weights.h5"
    process = succeeded(
        run_cli(
            "transfer",
            *TINY,
            "--format",
            "json",
            "--output",
            report_path,
            "--save-pretrained",
            weights_path,
            timeout=900,
        )
    )
    return json.loads(report_path.read_text()), weights_path, process.stderr


def test_the_offline_run_pretrains_saves_and_transfers_in_both_styles(tiny_run):
    report, weights_path, progress = tiny_run
    assert weights_path.is_file() and report["pretraining"]["file"] == str(weights_path)
    assert report["pretraining"]["samples"] == 64 and report["pretraining"][
        "classes"
    ] == [0, 1, 2, 3, 4]
    assert report["sizes"] == {
        "source_train": 64,
        "source_test": 32,
        "target_train": 32,
        "target_test": 32,
    }
    assert [result["implementation"] for result in report["results"]] == [
        "keras",
        "raw_tf",
    ]
    for result in report["results"]:
        assert result["params"] == 25_696_138
        head, tuned = result["transfer"]["head"], result["transfer"]["fine_tune"]
        assert head["trainable_params"] == HEAD_PARAMETERS
        assert tuned["trainable_params"] > HEAD_PARAMETERS  # + conv5's convolutions
        assert result["scratch"]["trainable_params"] > tuned["trainable_params"]
        for phase in (head, tuned, result["scratch"]):
            assert 0 <= phase["test_accuracy"] <= 1 and phase["train_seconds"] > 0
        assert len(head["loss"]) == 2 and len(tuned["loss"]) == 1
    assert "Pretraining ResNet50" in progress


def test_lines_of_code_show_what_keras_does_for_you(tiny_run):
    keras, raw = (result["loc"] for result in tiny_run[0]["results"])
    assert keras == transfer_lines("keras") and raw == transfer_lines("raw_tf")
    assert (
        keras["load"] == 0 < raw["load"]
    )  # pretrained weights: an argument in Keras, a mapping by hand
    assert keras["define"] < raw["define"] and keras["total"] < raw["total"]


def test_the_saved_base_is_a_weights_file_both_styles_load(tiny_run, tmp_path):
    _, weights_path, _ = tiny_run
    process = succeeded(
        run_cli(
            "transfer",
            *TINY,
            "--weights",
            weights_path,
            "--only",
            "raw",
            "--scratch-epochs",
            "1",
            "--fine-tune-epochs",
            "0",
            "--format",
            "csv",
            "--quiet",
            timeout=600,
        )
    )
    assert process.stdout.startswith("implementation,") and "raw_tf" in process.stdout
    assert "Pretraining" not in process.stderr


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda tmp: ["--source-classes", "0-4", "--target-classes", "4-9"], "overlap"),
        (
            lambda tmp: ["--save-pretrained", tmp / "base.h5"],
            "name ending in .weights.h5",
        ),
        (lambda tmp: ["--weights", tmp / "missing.h5"], "is no file"),
        (lambda tmp: ["--image-size", "16"], "at least 32x32"),
        (
            lambda tmp: ["--labels", "100000"],
            "--labels: 100000 images of classes 5, 6, 7, 8, 9 wanted",
        ),
    ],
)
def test_bad_transfer_flags_fail_with_one_error_line(tmp_path, make_args, message):
    process = run_cli(
        "transfer", "--dataset", "digits", "--quiet", *make_args(tmp_path)
    )
    assert process.returncode != 0 and "Traceback" not in process.stderr
    assert (
        message in process.stderr and len(process.stderr.strip().splitlines()) == 1
    ), process.stderr


def test_a_file_that_is_not_weights_fails_with_one_error_line(tmp_path):
    not_weights = tmp_path / "notes.h5"
    not_weights.write_text("not HDF5")
    process = run_cli("transfer", *TINY, "--weights", not_weights, "--quiet")
    assert process.returncode == 1 and "Traceback" not in process.stderr
    assert (
        f"weights {not_weights}" in process.stderr
        and len(process.stderr.strip().splitlines()) == 1
    )


def test_imagenet_offline_says_what_to_do(tmp_path, monkeypatch):
    """Keras' download path with no way out (a dead proxy, an empty cache): a clear error, no hang."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    process = run_cli(
        "transfer", *TINY, "--weights", "imagenet", "--quiet", timeout=300
    )
    assert process.returncode == 1 and "Traceback" not in process.stderr, process.stderr
    *progress, error = (
        process.stderr.strip().splitlines()
    )  # Keras says "Downloading data from ..." first
    assert error.startswith(
        "python -m compare: error: --weights imagenet: could not download the ImageNet"
    )
    assert "--weights pretrain" in error and all(
        line.startswith("Downloading data from") for line in progress
    )
    assert not list(tmp_path.rglob("*.h5"))  # nothing half-downloaded left in the cache
