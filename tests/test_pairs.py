"""The matched pairs (compare/harness/pairs.py), the ratio's interval, --same-start and
--seeds. No test here asserts a speed: speeds depend on the machine."""

import json

import pytest
from helpers import run_cli, succeeded

from compare.harness.pairs import PAIRS, PairSettings, measure_pairs
from compare.request import Request
from compare.stats import median_interval
from compare.study import compare, time_to_accuracy


def test_median_interval_holds_the_median_and_repeats():
    values = [1.1, 1.3, 1.2, 1.6, 1.25]
    interval = median_interval(values)
    assert interval["min"] <= interval["low"] <= interval["median"]
    assert interval["median"] <= interval["high"] <= interval["max"]
    assert interval["median"] == 1.25
    assert median_interval(values) == interval  # a fixed seed: the same interval
    assert median_interval([2.0])["low"] == median_interval([2.0])["high"] == 2.0
    wide = median_interval([1.0, 1.0, 1.0, 9.0, 9.0])
    assert wide["high"] == 9.0  # a median of 5 draws lands on 9 often enough


def test_each_pair_times_both_styles(digits):
    settings = PairSettings(steps=2, rounds=3, batch_size=32)
    pairs = measure_pairs(digits.x_train, digits.y_train, settings)
    assert set(pairs["results"]) == set(PAIRS)
    assert (pairs["steps"], pairs["rounds"], pairs["batch_size"]) == (2, 3, 32)
    for result in pairs["results"].values():
        for style in ("keras", "raw_tf"):
            rates = result[style]["samples_per_second"]
            assert len(rates["runs"]) == 3 and min(rates["runs"]) > 0
            # µs per step and samples/s describe the same median time
            assert result[style]["microseconds_per_step"] == pytest.approx(
                32 / rates["median"] * 1e6
            )
        ratio = result["raw_over_keras"]
        assert len(ratio["runs"]) == 3
        assert ratio["low"] <= ratio["median"] <= ratio["high"]


def test_pairs_refuse_too_few_images(digits):
    with pytest.raises(ValueError, match="fewer images"):
        measure_pairs(digits.x_train[:10], digits.y_train[:10], PairSettings(1, 1, 32))


def small_request(**changes):
    settings = {
        "dataset": "digits",
        "train_samples": 256,
        "test_samples": 96,
        "epochs": 2,
        "batch_size": 32,
        "pair_rounds": 0,
        "quiet": True,
    }
    return Request(**{**settings, **changes})


def test_same_start_gives_one_model(digits):
    """Both styles from the same initial weights and the same batches: the test accuracies
    are equal to 4 decimals, the losses to float32 rounding over 3 epochs."""
    report = compare(small_request(epochs=3, same_start=True), lambda message: None)
    keras, raw = report["results"]
    assert round(keras["test_accuracy"], 4) == round(raw["test_accuracy"], 4)
    assert raw["test_loss"] == pytest.approx(keras["test_loss"], rel=1e-4)
    assert report["config"]["same_start"] is True
    different = compare(small_request(epochs=3), lambda message: None)["results"]
    assert different[1]["test_loss"] != pytest.approx(
        different[0]["test_loss"], rel=1e-4
    )  # without it, two initialisations: the control


def test_seeds_report_accuracy_spread_and_time_to_target():
    report = compare(
        small_request(seeds=2, curves=True, target_accuracy=0.3), lambda message: None
    )
    seeds = report["seeds"]
    assert seeds["seeds"] == [0, 1] and seeds["target_accuracy"] == 0.3
    for summary in seeds["styles"].values():
        assert len(summary["test_accuracy"]) == 2
        assert len(set(summary["test_accuracy"])) == 2  # two initialisations
        assert summary["test_accuracy_std"] > 0
        assert all(seconds and seconds > 0 for seconds in summary["seconds_to_target"])


def test_time_to_accuracy_takes_the_first_epoch_that_reaches_it():
    result = {
        "epoch_end_seconds": [1.0, 2.0, 3.0],
        "history": {"val_accuracy": [0.5, 0.9, 0.95]},
    }
    assert time_to_accuracy(result, 0.88) == 2.0
    assert time_to_accuracy(result, 0.99) is None


SMALL_RUN = (  # 256 digits, 2 epochs: seconds, not minutes
    "--dataset",
    "digits",
    "--train-samples",
    "256",
    "--test-samples",
    "64",
    "--epochs",
    "2",
    "--batch-size",
    "32",
)


@pytest.mark.slow
def test_the_default_table_prints_the_matched_pairs():
    completed = run_cli(
        *SMALL_RUN,
        "--pair-rounds",
        "3",
        "--pair-steps",
        "2",
        "--quiet",
        timeout=400,
    )
    succeeded(completed)
    text = completed.stdout
    assert "Speed, like with like" in text
    for name in ("1. The lessons as written", "2. Fused", "3. The train step"):
        assert name in text
    assert "Steady throughput, pure TensorFlow / Keras" not in text  # pairs say it


@pytest.mark.slow
def test_seeds_and_bad_flags_on_the_command_line():
    completed = run_cli("--seeds", "2", "--repeats", "2", "--dataset", "digits")
    assert completed.returncode == 1 and "--seeds does not combine with --repeats" in (
        completed.stderr
    )
    completed = run_cli("--target-accuracy", "1.5")
    assert completed.returncode == 2 and "between 0 and 1" in completed.stderr
    completed = run_cli(
        *SMALL_RUN,
        "--seeds",
        "2",
        "--target-accuracy",
        "0.2",
        "--pair-rounds",
        "0",
        "--format",
        "json",
        "--quiet",
        timeout=400,
    )
    succeeded(completed)
    report = json.loads(completed.stdout)
    assert set(report["seeds"]["styles"]) == {"keras", "raw_tf"}
    assert "pairs" not in report


HOSTILE = {  # arguments (tmp_path -> list), exit code, the one line's words
    "rounds too few for an interval": (
        lambda tmp: ["--pair-rounds", "2"],
        2,
        "or at least 3, for an interval",
    ),
    "same start with one style": (
        lambda tmp: ["--only", "raw", "--same-start", "--dataset", "digits"],
        1,
        "--same-start needs both styles",
    ),
    "suite with a variant list": (
        lambda tmp: ["bench", "--suite", "gpu", "--variants", "keras"],
        1,
        "--variants does not combine with --suite gpu",
    ),
    "suite without pairs": (
        lambda tmp: ["bench", "--suite", "gpu", "--pair-rounds", "0"],
        1,
        "--pair-rounds 0 skips them",
    ),
    "profile folder that exists": (
        lambda tmp: ["bench", "--dataset", "digits", "--profile-dir", tmp],
        1,
        "exists: name a new folder",
    ),
    "record with one seed": (
        lambda tmp: ["record", "--seeds", "1", "--output", tmp / "B.md"],
        2,
        "at least 2",
    ),
    "record in Portuguese": (
        lambda tmp: (
            ["record", "--lang", "pt", "--output", tmp / "B.md"]
            + ["--profile-dir", tmp / "traces"]
        ),
        1,
        "em inglês",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", HOSTILE)
def test_bad_speed_flags_are_one_line_before_any_work(tmp_path, name):
    make_args, code, words = HOSTILE[name]
    completed = run_cli(*make_args(tmp_path))
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert completed.returncode == code, completed.stderr
    assert len(lines) == 1 and words in lines[0], completed.stderr
    assert "Traceback" not in completed.stderr and completed.stdout == ""
    assert list(tmp_path.iterdir()) == []  # nothing written
