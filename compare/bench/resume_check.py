"""`python -m compare.bench.resume_check [flags of python -m compare]`: the interrupt-and-resume figure.

Runs the comparison with --checkpoint-dir once straight through, and once interrupted twice (Ctrl-C
while Keras trains, SIGTERM while the raw loop trains) and resumed, then compares every array in
the final checkpoints of the two (weights and Adam state) and the test scores. The aim is 0: a
resumed run is the uninterrupted one, bit for bit.
"""

import argparse
import json
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tabulate import tabulate

from compare.language import _
from compare.quiet import load_tensorflow_quietly

# Flags of python -m compare that resume_check sets, or that would leave it no report.
OWN_FLAGS = ("--format", "--checkpoint-dir", "--resume", "--output", "--only")


def has_save(folder):
    """Whether a style's folder holds a complete save (harness/keras_saves.py:
    an epoch-N folder; raw: the state file)."""
    from compare.harness.keras_saves import latest_save

    return latest_save(folder) is not None or (folder / "checkpoint").exists()


def saved_arrays(folder):
    """Every array of a style's last checkpoint, by name."""
    from compare.harness.keras_saves import LESSON_FILES, latest_save

    if latest_save(folder):  # Keras' BackupAndRestore, committed by the harness
        import h5py

        arrays = {}
        with h5py.File(latest_save(folder) / LESSON_FILES[0]) as file:
            file.visititems(
                lambda name, item: (
                    arrays.update({name: item[()]})
                    if isinstance(item, h5py.Dataset)
                    else None
                )
            )
        return arrays
    import tensorflow as tf

    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(folder)))
    return {
        name: reader.get_tensor(name)
        for name in reader.get_variable_to_shape_map()
        if name != "_CHECKPOINTABLE_OBJECT_GRAPH"
    }


def max_difference(first, second):
    """The largest absolute difference over arrays of the same names (strings: 0 if equal, else inf)."""
    if first.keys() != second.keys():
        return float("inf")

    def difference(one, other):
        one, other = np.asarray(one), np.asarray(other)
        if one.dtype.kind in "OSU":  # the raw loop's shuffler state, a string
            return 0.0 if np.array_equal(one, other) else float("inf")
        return float(np.max(np.abs(one.astype(np.float64) - other), initial=0.0))

    return max(difference(first[name], second[name]) for name in first)


def last_line(text):
    return (text.strip().splitlines() or [""])[-1]


def run_compare(arguments, interrupt=None, timeout=1800):
    """`python -m compare ARGUMENTS --format json`; with interrupt=(signal, folder), sends the signal
    once `folder` holds a save. Returns (exit code, stderr, report or None)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "compare", *arguments, "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if interrupt:
        signal_number, folder = interrupt
        while process.poll() is None and not has_save(folder):
            time.sleep(0.02)
        process.send_signal(signal_number)
    output, errors = process.communicate(timeout=timeout)
    return (
        process.returncode,
        errors,
        json.loads(output) if process.returncode == 0 else None,
    )


def resume_check(arguments, folder):
    """The figure for `arguments` (flags of python -m compare, both styles of one model), run in `folder`."""
    from compare.harness.checkpointing import style_folder  # loads Keras

    model = (
        arguments[arguments.index("--model") + 1] if "--model" in arguments else "cnn"
    )
    straight, broken = folder / "uninterrupted", folder / "interrupted"
    code, errors, reference = run_compare(
        [*arguments, "--checkpoint-dir", str(straight)]
    )
    if code:
        raise SystemExit(
            _("the uninterrupted run failed: {line}").format(line=last_line(errors))
        )
    interruptions = {}
    for resume, (style, signal_number) in enumerate(
        [("keras", signal.SIGINT), ("raw_tf", signal.SIGTERM), (None, None)]
    ):
        flags = [
            *arguments,
            "--checkpoint-dir",
            str(broken),
            *(["--resume"] if resume else []),
        ]
        saves = style and style_folder(broken, style, model)
        code, errors, report = run_compare(flags, saves and (signal_number, saves))
        if style:
            # the line of checkpointing.StopOnSignal, in English or Portuguese (--lang pt)
            said = re.search(r"(?:saved epoch|salvou a época) (\d+) (?:of|de)", errors)
            interruptions[style] = (
                f"{signal.Signals(signal_number).name} -> exit {code}, "
                f"after epoch {said[1] if said else '?'}"
            )
    if code:
        raise SystemExit(
            _("the resumed run failed: {line}").format(line=last_line(errors))
        )
    rows = []
    for before, after in zip(reference["results"], report["results"], strict=True):
        style = before["implementation"]
        arrays = [
            saved_arrays(style_folder(run, style, model)) for run in (straight, broken)
        ]
        rows.append(
            [
                style,
                interruptions[style],
                len(arrays[0]),
                max_difference(*arrays),
                before["test_loss"] == after["test_loss"]
                and before["test_accuracy"] == after["test_accuracy"],
            ]
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m compare.bench.resume_check",
        description=__doc__.split("\n\n")[1],
        epilog="Any other flags go to python -m compare (not "
        + ", ".join(OWN_FLAGS)
        + ").",
    )
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="run in DIR and keep the checkpoints"
    )
    options, arguments = parser.parse_known_args(argv)
    for flag in OWN_FLAGS:
        if any(argument.split("=")[0] == flag for argument in arguments):
            parser.exit(
                2,
                f"{parser.prog}: {_('error')}: "
                + _("{flag} is set by resume_check itself").format(flag=flag)
                + "\n",
            )
    load_tensorflow_quietly()
    with tempfile.TemporaryDirectory() as scratch:
        folder = options.keep or Path(scratch)
        started = time.perf_counter()
        rows = resume_check(arguments, folder)
    print(
        tabulate(
            rows,
            headers=[
                "implementation",
                "interrupted by",
                "arrays compared",
                "max abs difference",
                "same test scores",
            ],
        )
    )
    print(
        f"({time.perf_counter() - started:.0f} s; flags: {' '.join(arguments) or 'defaults'})"
    )


if __name__ == "__main__":
    main()
