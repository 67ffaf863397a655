"""Closed standard streams and the one error line: a run whose results would go to a
closed stdout is refused before it trains; with stderr closed the error line comes on
stdout; an error line escapes control characters and has a bounded length
(compare/safety/streams.py, compare/safety/text.py)."""

import os
import subprocess
import sys
from argparse import Namespace

import pytest
from helpers import ROOT

from compare.errors import CompareError
from compare.language import speaking
from compare.safety.streams import Streams
from compare.safety.text import MAX_LINE, one_line

MISSING = ["--dataset", "mnist", "--data-dir", "/nonexistent", "--quiet"]


def run_closing(args, closed, timeout=180):
    """`python -m compare ARGS` with the descriptors `closed` closed, as `>&-` does."""
    return subprocess.run(
        [sys.executable, "-m", "compare", *args],
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=lambda: [os.close(descriptor) for descriptor in closed],
    )


@pytest.mark.slow
def test_closed_stdout_is_refused_before_training():
    process = run_closing(["--dataset", "digits", "--epochs", "1", "--quiet"], [1])
    assert process.returncode == 1
    assert process.stderr.count("\n") == 1 and "Traceback" not in process.stderr
    assert "standard output is closed" in process.stderr
    assert "--output" in process.stderr


@pytest.mark.slow
def test_closed_stderr_puts_the_error_line_on_stdout():
    process = run_closing(MISSING, [2])
    assert process.returncode == 1
    assert process.stdout.startswith("python -m compare: error: mnist not found")
    assert process.stdout.count("\n") == 1


@pytest.mark.slow
def test_both_streams_closed_still_exit_with_the_error_code():
    assert run_closing(MISSING, [1, 2]).returncode == 1


@pytest.mark.slow
def test_a_newline_in_a_path_cannot_forge_a_second_line():
    process = run_closing(
        ["--dataset", "mnist", "--data-dir", "/nonexistent\nerror: forged", "--quiet"],
        [],
    )
    assert process.returncode == 1
    assert process.stderr.count("\n") == 1
    assert "/nonexistent\\nerror: forged" in process.stderr


def test_one_line_escapes_what_a_terminal_acts_on():
    text = "a\nb\rc\x1b[31md\te\u2028f\u202eg\x7f"
    assert one_line(text) == "a\\nb\\rc\\x1b[31md\\te\\u2028f\\u202eg\\x7f"
    assert one_line("ação: 54,410 µs ±30%") == "ação: 54,410 µs ±30%"


def test_one_line_bounds_a_long_line_keeping_both_ends():
    text = "start " + "x" * 100_000 + " end"
    line = one_line(text)
    assert len(line) < MAX_LINE + 50
    assert line.startswith("start ") and line.endswith(" end")
    assert "characters left out" in line
    with speaking("pt"):
        assert "caracteres omitidos" in one_line(text)
    assert one_line("y" * MAX_LINE) == "y" * MAX_LINE


def test_a_command_that_names_its_result_file_runs_with_stdout_closed():
    held = Streams.__new__(Streams)  # as a process started with `>&-` holds them
    held.closed = {1}
    held.check_results_have_a_place(Namespace(output="results.json"))
    held.check_results_have_a_place(Namespace(destination="model_raw"))  # convert
    with pytest.raises(CompareError, match="standard output is closed"):
        held.check_results_have_a_place(Namespace(output=None))
