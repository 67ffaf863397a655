"""`python -m compare` as a user runs it: help, one-line errors for bad flags, and every output format.

Each call is a real subprocess, so every test pays for importing TensorFlow (a few seconds);
the end-to-end runs train on 256 digits for one or two epochs, and one JSON run is shared.
"""

import argparse
import csv
import io
import json
import math
from pathlib import Path

import pytest
from helpers import BAD_FLAGS, ONE_EPOCH, SMALL, run_cli, succeeded

from compare.cli import build_parser
from compare.loc import STEPS, lines_per_step

ROOT = Path(__file__).resolve().parent.parent
JSON_FLAGS = [
    *SMALL,
    "--epochs",
    "2",
    "--format",
    "json",
    "--quiet",
]  # two epochs: a history worth checking
TABLE_TEXTS = [
    "Keras vs pure TensorFlow",
    "Abstraction level",
    "Typical use",
    "Test accuracy",
]
STYLE_FOLDERS = {"keras": "keras_impl", "raw_tf": "raw_tf_impl"}


# Help and bad flags -------------------------------------------------------------
@pytest.mark.slow
def test_help_documents_every_flag():
    """--help exits 0 at once and mentions every option the parser accepts."""
    process = succeeded(run_cli("--help"))
    flags = [
        flag
        for action in build_parser()._actions
        for flag in action.option_strings
        if flag.startswith("--") and action.help != argparse.SUPPRESS
    ]  # --worker-report: internal
    assert set(flags) >= {
        "--dataset",
        "--data-dir",
        "--train-samples",
        "--test-samples",
        "--epochs",
        "--batch-size",
        "--lr",
        "--seed",
        "--only",
        "--format",
        "--output",
        "--quiet",
        "--help",
    }
    for flag in flags:
        assert flag in process.stdout, f"{flag} missing from --help"
    assert "Keras" in process.stdout and process.stderr == ""


@pytest.mark.slow
@pytest.mark.parametrize(
    "make_args, code, message", BAD_FLAGS.values(), ids=BAD_FLAGS.keys()
)
def test_bad_flags_fail_with_one_error_line(tmp_path, make_args, code, message):
    """Each bad flag or bad data exits non-zero with one clear line on stderr, no traceback, no report."""
    process = run_cli(*make_args(tmp_path))
    lines = [line for line in process.stderr.splitlines() if line.strip()]
    assert process.returncode == code, process.stderr
    assert len(lines) == 1, process.stderr
    assert lines[0].startswith("python -m compare: error: ") and message in lines[0]
    assert "Traceback" not in process.stderr and process.stdout == ""
    assert not (tmp_path / "missing").exists()


# End to end -------------------------------------------------------------------
@pytest.fixture(scope="module")
def json_run():
    """One quiet JSON run, shared by the JSON assertions."""
    process = succeeded(run_cli(*JSON_FLAGS))
    return process, json.loads(process.stdout)


def test_json_report_describes_dataset_and_config(json_run):
    """The JSON names the data actually used and echoes the training flags."""
    process, report = json_run
    assert process.stderr == ""  # --quiet
    assert report["dataset"] == {
        "name": "digits",
        "source": report["dataset"]["source"],
        "train_size": 256,
        "test_size": 128,
    }
    assert "scikit-learn" in report["dataset"]["source"]
    assert report["config"] == {
        "epochs": 2,
        "batch_size": 64,
        "lr": 0.001,
        "seed": 0,
        "steps_per_execution": None,
        "jit_compile": "auto",
        "strategy": "none",
        "devices": None,
        "worker_timeout": 600,
        "checkpoint_dir": None,
        "same_start": False,
    }


def test_json_report_has_every_result_field(json_run):
    """Both styles report lines of code, 54,410 parameters, timings, scores and a per-epoch history."""
    _, report = json_run
    results = {result["implementation"]: result for result in report["results"]}
    assert list(results) == ["keras", "raw_tf"]
    for style, result in results.items():
        assert result["loc"] == lines_per_step(ROOT / STYLE_FOLDERS[style] / "cnn.py")
        assert list(result["loc"]) == [*STEPS, "extras", "total"]
        assert result["params"] == 54410
        assert 0 < result["first_epoch_seconds"] <= result["train_seconds"]
        assert result["steady_samples_per_second"] > 0
        assert math.isfinite(result["test_loss"]) and result["test_loss"] > 0
        assert 0 <= result["test_accuracy"] <= 1
        assert set(result["history"]) == {"loss", "accuracy"}
        assert all(len(values) == 2 for values in result["history"].values())
        assert all(
            math.isfinite(value)
            for values in result["history"].values()
            for value in values
        )
    assert results["keras"]["loc"]["total"] < results["raw_tf"]["loc"]["total"]
    assert report["raw_over_keras_steady_throughput"] > 0


@pytest.mark.slow
def test_same_flags_give_the_same_numbers(json_run):
    """Two runs with the same flags and seed agree exactly on losses, accuracies and history."""
    _, first = json_run
    second = json.loads(succeeded(run_cli(*JSON_FLAGS)).stdout)
    for a, b in zip(first["results"], second["results"], strict=True):
        assert a["implementation"] == b["implementation"]
        for key in ("test_loss", "test_accuracy", "history", "params", "loc"):
            assert a[key] == b[key], f"{a['implementation']} {key} differs"


@pytest.mark.slow
def test_json_stdout_is_pure_json_with_progress_on_stderr():
    """Without --quiet, progress (Keras' included) goes to stderr and stdout stays parseable; --only raw runs one."""
    process = succeeded(run_cli(*ONE_EPOCH, "--format", "json", "--only", "raw"))
    report = json.loads(process.stdout)
    assert [result["implementation"] for result in report["results"]] == ["raw_tf"]
    assert "raw_over_keras_steady_throughput" not in report  # nothing to compare with
    assert (
        "Dataset: digits" in process.stderr
        and "Training Pure TensorFlow, cnn" in process.stderr
    )
    assert "Epoch 1/1" in process.stderr and "Epoch" not in process.stdout


@pytest.mark.slow
def test_table_format():
    """The default table carries the lecture's rows, the measured rows and both columns."""
    process = succeeded(run_cli(*ONE_EPOCH, "--format", "table", "--quiet"))
    for text in [
        *TABLE_TEXTS,
        "Keras",
        "Pure TensorFlow",
        "Trainable parameters",
        "54,410",
    ]:
        assert text in process.stdout
    assert process.stderr == ""


@pytest.mark.slow
def test_csv_format():
    """CSV has a header and one row per style with the scalar results."""
    process = succeeded(run_cli(*ONE_EPOCH, "--format", "csv", "--quiet"))
    rows = list(csv.DictReader(io.StringIO(process.stdout)))
    assert [row["implementation"] for row in rows] == ["keras", "raw_tf"]
    for row in rows:
        assert (
            row["dataset"] == "digits"
            and row["epochs"] == "1"
            and row["batch_size"] == "64"
        )
        assert row["params"] == "54410"
        assert 0 <= float(row["test_accuracy"]) <= 1
        assert {f"loc_{step}" for step in (*STEPS, "total")} <= set(row)
        assert "history" not in row


@pytest.mark.slow
def test_markdown_format_written_to_output_file(tmp_path):
    """--output writes the report (here markdown) to the file, leaves stdout empty and says so on stderr."""
    path = tmp_path / "report.md"
    process = succeeded(run_cli(*ONE_EPOCH, "--format", "markdown", "--output", path))
    assert process.stdout == ""
    assert f"Wrote {path}" in process.stderr
    text = path.read_text()
    assert text.startswith("## Keras vs pure TensorFlow")
    assert "| Characteristic" in text and "|--" in text.replace(" ", "")
    for label in TABLE_TEXTS:
        assert label in text


# Flags mean what they say ------------------------------------------------------
SUBCOMMAND_ARGUMENTS = {
    "bench": [],
    "code": [],
    "transfer": [],
    "predict": ["--model", "model.keras", "--images", "a.png"],
    "convert": ["--model", "model.keras", "--to", "raw", "--output", "out"],
}
ROOT_FLAGS = [
    ["--epochs", "5"],
    ["--lr", "0.5"],
    ["--format", "json"],
    ["--strategy", "mirrored"],
    ["--quiet"],
]


@pytest.mark.parametrize("root_flag", ROOT_FLAGS, ids=lambda flag: flag[0])
@pytest.mark.parametrize("command", sorted(SUBCOMMAND_ARGUMENTS))
def test_a_root_flag_before_a_command_is_an_error(capsys, command, root_flag):
    """`python -m compare --epochs 5 transfer` used to train transfer's default epochs:
    a flag before the command has no effect there, so it is one error line, before any
    work (nothing is loaded or trained: the command's own files do not exist)."""
    from compare.cli import main

    arguments = [*root_flag, command, *SUBCOMMAND_ARGUMENTS[command]]
    with pytest.raises(SystemExit) as exit_code:
        main(arguments)
    assert exit_code.value.code == 2  # a usage error, as argparse's
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "Traceback" not in error
    assert f"{root_flag[0]} before `{command}` has no effect" in error
    assert f"python -m compare {command} --help" in error


@pytest.mark.slow
def test_an_ascii_terminal_gets_escapes_not_a_traceback(monkeypatch):
    """Portuguese errors and the code view's box drawing on an ASCII terminal: what it
    cannot show comes as a backslash escape, never a UnicodeEncodeError."""
    monkeypatch.setenv("PYTHONIOENCODING", "ascii")
    error = run_cli("step", "--lang", "pt", "--dataset", "mnist", "--data-dir", "/no")
    assert error.returncode == 1 and error.stderr.count("\n") == 1, error.stderr
    assert "mnist n\\xe3o encontrado" in error.stderr
    code = succeeded(run_cli("code", "--lang", "pt", "--step", "1", "--width", "100"))
    assert code.stdout.startswith("\\u2500\\u2500 Passo 1: defini\\xe7\\xe3o")


def test_running_out_of_memory_is_one_line(capsys, monkeypatch):
    """A MemoryError anywhere in a command ends in one error line with NumPy's detail."""
    import compare.commands.code
    from compare.cli import main

    def allocate(args, say):
        raise MemoryError("Unable to allocate 8.76 GiB for an array")

    monkeypatch.setattr(compare.commands.code, "run", allocate)
    assert main(["code"]) == 1
    error = capsys.readouterr().err
    assert error == (
        "python -m compare: error: out of memory (Unable to allocate 8.76 GiB for an "
        "array)\n"
    )
