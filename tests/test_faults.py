"""Nothing lost under faults: kill -9 at random moments of checkpointed training, a
second Ctrl-C during a save, a full disk, and checkpoint files damaged by hand.

Each fault is followed by `--resume`, which must either go on from a complete save and
end bit for bit where an uninterrupted run ends, or refuse in one line that names the
damaged file, changing nothing. The runs are real `python -m compare` processes, forked
from tests/probes/fault_server.py (which has loaded TensorFlow once) so that dozens of them fit
in a short test; their moments of death come from real timing, a seeded RNG choosing a
delay after the run's own last save (any moment of an epoch and its save), or after the
next save began (a moment inside the save). Run with -s to see the figures.
"""

import contextlib
import json
import os
import random
import re
import select
import signal
import subprocess
import sys
import time

import pytest
from helpers import ROOT, SMALL

from compare.bench.resume_check import max_difference, saved_arrays
from compare.harness.checkpointing import check_saves, style_folder
from compare.harness.durable import CheckpointDamaged
from compare.harness.keras_saves import PARTIAL, STAGING, complete_saves

pytestmark = pytest.mark.slow

RUN = [*SMALL, "--quiet"]
ONLY = {"keras": "keras", "raw_tf": "raw"}
STYLES = tuple(ONLY)
EPOCHS = 60  # more than the trials can use up: every trial kills a run in training
KILL_TRIALS = 20  # per style
SECOND_CTRL_C_TRIALS = 5  # per style
# Seconds, measured on 2 cores: an epoch of 4 batches and its save; a save alone.
CYCLE = {"keras": 0.07, "raw_tf": 0.03}
SAVE = {"keras": 0.025, "raw_tf": 0.005}
STATE_LINE = re.compile(rb'^model_checkpoint_path: "ckpt-(\d+)"', re.MULTILINE)


# Runs, forked ---------------------------------------------------------------------
class ForkServer:
    """tests/probes/fault_server.py: one `python -m compare` child at a time."""

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "probes" / "fault_server.py")],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
            text=True,
        )
        self.pid = self.log = self.code = None

    def start(self, argv, log, **options):
        self.log, self.code = log, None
        request = {"argv": argv, "log": str(log), **options}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        self.pid = json.loads(self.process.stdout.readline())["pid"]
        return self

    def exit_code(self, timeout=0.0):
        """The child's exit code (negative: the signal that killed it), None if it
        still runs after `timeout` seconds."""
        if self.code is None:
            ready, _, _ = select.select([self.process.stdout], [], [], timeout)
            if ready:
                self.code = json.loads(self.process.stdout.readline())["exit"]
        return self.code

    def wait(self, timeout=300):
        code = self.exit_code(timeout)
        assert code is not None, f"a run did not end in {timeout} s: {self.output()}"
        return code

    def signal(self, number):
        os.kill(self.pid, number)

    def output(self):
        return self.log.read_text()

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)


@pytest.fixture(scope="module")
def server():
    forks = ForkServer()
    yield forks
    forks.close()


def arguments(style, checkpoint_dir, resume, epochs=EPOCHS):
    return [
        *RUN,
        *("--only", ONLY[style], "--epochs", str(epochs)),
        *("--checkpoint-dir", str(checkpoint_dir)),
        *(["--resume"] if resume else []),
    ]


def one_error_line(output):
    """The run's output is one line of error, and nothing crashed."""
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("python -m compare: "), output
    assert "Traceback" not in output and "Segmentation" not in output
    return lines[0]


# What a folder holds, read cheaply while a run writes it ------------------------------
def committed_epoch(style, folder):
    """The epoch of the last complete save (0: none), from the names alone."""
    if style == "keras":
        saves = complete_saves(folder)
        return saves[-1][0] if saves else 0
    try:
        state = (folder / "checkpoint").read_bytes()
    except FileNotFoundError:
        return 0
    found = STATE_LINE.search(state)
    return int(found[1]) if found else 0


def save_began(style, folder):
    """Whether a save is being written: a file in staging/ (Keras: the weights' temporary
    file comes first), TensorFlow's temporary folder (raw)."""
    if style == "keras":
        return any((folder / STAGING).iterdir())
    return any(path.name.endswith("_temp") for path in folder.iterdir())


def unfinished_save(style, folder):
    """Whether the folder holds the debris of a save the kill interrupted."""
    names = [path.name for path in folder.iterdir()]
    if style == "keras":
        return (
            any((folder / STAGING).iterdir())
            or any(PARTIAL.fullmatch(name) for name in names)
            or len(complete_saves(folder)) > 1
        )
    latest = committed_epoch(style, folder)
    numbers = [int(n) for n in re.findall(r"ckpt-(\d+)\.index", " ".join(names))]
    return (
        any(
            name.endswith("_temp") or name.startswith("checkpoint.tmp")
            for name in names
        )
        or max(numbers, default=0) > latest
        or len(numbers) > 2
    )


def usable(checkpoint_dir, style, problems):
    """Whether the resume's own check accepts the last save (and it holds an epoch);
    what it says otherwise goes to `problems`."""
    try:
        return check_saves(checkpoint_dir, style, "cnn") >= 1
    except CheckpointDamaged as error:
        problems.append(str(error))
        return False


def wait_for(condition, child, timeout=120, may_end=False):
    """Polls `condition` every 0.2 ms; fails if the child ends first, unless `may_end`
    (then returns False)."""
    deadline = time.perf_counter() + timeout
    while not condition():
        code = child.exit_code()
        if code is not None and may_end:
            return False
        assert code is None, f"the run ended ({code}) too early: {child.output()}"
        assert time.perf_counter() < deadline, child.output()
        time.sleep(0.0002)
    return True


def start_and_reach_own_save(server, style, checkpoint_dir, log, **options):
    """Starts a run (resuming if a save is there) and waits for its first new save:
    proof that the resume passed its checks and trains."""
    folder = style_folder(checkpoint_dir, style, "cnn")
    before = committed_epoch(style, folder) if folder.exists() else 0
    resume = (checkpoint_dir / "run.json").exists()
    child = server.start(arguments(style, checkpoint_dir, resume), log, **options)
    wait_for(lambda: folder.exists() and committed_epoch(style, folder) > before, child)
    return child, folder


def final_arrays(server, style, checkpoint_dir, log):
    """Resumes to the end and returns the last save's arrays."""
    child = server.start(arguments(style, checkpoint_dir, resume=True), log)
    assert child.wait() == 0, child.output()
    folder = style_folder(checkpoint_dir, style, "cnn")
    assert check_saves(checkpoint_dir, style, "cnn") == EPOCHS
    return saved_arrays(folder)


@pytest.fixture(scope="module")
def references(server, tmp_path_factory):
    """Each style's last save after EPOCHS epochs uninterrupted."""
    arrays = {}
    for style in STYLES:
        checkpoint_dir = tmp_path_factory.mktemp(f"reference-{style}") / "run"
        child = server.start(
            arguments(style, checkpoint_dir, False), checkpoint_dir.parent / "log"
        )
        assert child.wait() == 0, child.output()
        arrays[style] = saved_arrays(style_folder(checkpoint_dir, style, "cnn"))
    return arrays


# kill -9 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("style", STYLES)
def test_kill_9_at_random_moments_leaves_a_usable_checkpoint(
    server, references, tmp_path, style
):
    """KILL_TRIALS runs killed with SIGKILL, each the resume of the one before: every
    kill leaves a save that the resume checks and goes on from, and the last resume ends
    bit for bit where the uninterrupted run ends. Half the kills fall at a random moment
    of an epoch and its save, half at a random moment inside a save."""
    rng = random.Random(f"kill -9 {style}")
    checkpoint_dir = tmp_path / "run"
    usable_after, inside_saves, problems = 0, 0, []
    for trial in range(KILL_TRIALS):
        child, folder = start_and_reach_own_save(
            server, style, checkpoint_dir, tmp_path / f"log-{trial}"
        )
        if trial % 2:
            wait_for(lambda folder=folder: save_began(style, folder), child)
            time.sleep(rng.uniform(0, SAVE[style]))
        else:
            time.sleep(rng.uniform(0, CYCLE[style]))
        child.signal(signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL, child.output()  # killed in training
        inside_saves += unfinished_save(style, folder)
        usable_after += usable(checkpoint_dir, style, problems)
        if problems:
            break
    assert (usable_after, problems) == (KILL_TRIALS, [])
    arrays = final_arrays(server, style, checkpoint_dir, tmp_path / "log-final")
    difference = max_difference(arrays, references[style])
    print(
        f"\n{style}: {KILL_TRIALS} kill -9 trials, {usable_after} left a usable "
        "checkpoint, "
        f"{inside_saves} killed a save in progress (its debris found); after the last "
        f"resume, max abs difference from the uninterrupted run {difference}"
    )
    assert difference == 0.0 and len(arrays) >= 8


# A second Ctrl-C during a save --------------------------------------------------------
@pytest.mark.parametrize("style", STYLES)
def test_a_second_ctrl_c_during_a_save_leaves_a_usable_checkpoint(
    server, references, tmp_path, style
):
    """Ctrl-C in training, then Ctrl-C again at a random moment of the save that the
    first one waits for: exit 130 with one line, a save that the resume checks and goes
    on from, and in the end the uninterrupted run's arrays."""
    rng = random.Random(f"second Ctrl-C {style}")
    checkpoint_dir = tmp_path / "run"
    usable_after, lines, problems, tries = 0, set(), [], 0
    while usable_after < SECOND_CTRL_C_TRIALS and tries < 3 * SECOND_CTRL_C_TRIALS:
        tries += 1
        child, folder = start_and_reach_own_save(
            server, style, checkpoint_dir, tmp_path / f"log-{tries}"
        )
        # Into the next epoch's training: a Ctrl-C during the save just made would
        # stop the run at its epoch end, before any second one.
        time.sleep(rng.uniform(0.2, 0.6) * CYCLE[style])
        child.signal(signal.SIGINT)
        if not wait_for(
            lambda folder=folder: save_began(style, folder), child, may_end=True
        ):
            assert child.wait() == 130, child.output()  # stopped at the first Ctrl-C
            continue
        time.sleep(rng.uniform(0, SAVE[style]))
        child.signal(signal.SIGINT)
        # 130, whether the second Ctrl-C came during the save or after it (the stop
        # then ignores Ctrl-C, which would otherwise break Python's exit).
        assert child.wait() == 130, child.output()
        lines.add(one_error_line(child.output()).split(",")[0])
        usable_after += usable(checkpoint_dir, style, problems)
        if problems:
            break
    assert (usable_after, problems) == (SECOND_CTRL_C_TRIALS, [])
    arrays = final_arrays(server, style, checkpoint_dir, tmp_path / "log-final")
    print(
        f"\n{style}: {SECOND_CTRL_C_TRIALS} second Ctrl-C trials (of {tries} tries), "
        f"{usable_after} left a usable checkpoint; they ended with {sorted(lines)}"
    )
    assert max_difference(arrays, references[style]) == 0.0


# A full disk --------------------------------------------------------------------------
@contextlib.contextmanager
def small_disk(path, size):
    """A tmpfs of `size` bytes mounted at `path`, where this machine allows mounting."""
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode:
        pytest.skip(
            f"cannot mount a tmpfs here ({mounted.stderr.strip()}); "
            "test_a_failing_writer_leaves_the_last_save covers the fault"
        )
    try:
        yield path
    finally:
        subprocess.run(["umount", "--lazy", str(path)], check=True)


def fill(disk):
    """Writes a file into `disk` until no block is left; returns its path."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as file:
        for chunk in (1 << 16, 1 << 12, 1):
            with contextlib.suppress(OSError):
                while True:
                    file.write(bytes(chunk))
    return filler


def assert_failed_save_kept_the_last(child, style, checkpoint_dir, kept):
    """The run ended in one line naming the failed save and the intact one, and the
    resume's check accepts that save."""
    assert child.wait() == 1, child.output()
    line = one_error_line(child.output())
    assert f"{ONLY[style] if style == 'keras' else style} could not save" in line, line
    assert f"epoch {kept} there is intact" in line, line
    assert check_saves(checkpoint_dir, style, "cnn") == kept
    return line


@pytest.mark.parametrize("style", STYLES)
def test_a_full_disk_is_one_line_and_the_last_save_stays(
    server, references, tmp_path, style
):
    """A run on a 32 MiB tmpfs that another process fills after the run's first save:
    one error line, the last save intact, and once space is freed, `--resume` ends
    where the uninterrupted run ends."""
    with small_disk(tmp_path / "disk", 32 << 20) as disk:
        checkpoint_dir = disk / "run"
        child, folder = start_and_reach_own_save(
            server, style, checkpoint_dir, tmp_path / "log"
        )
        filler = fill(disk)
        kept = committed_epoch(style, folder)
        line = assert_failed_save_kept_the_last(child, style, checkpoint_dir, kept)
        print(f"\n{style}, full disk: {line}")
        filler.unlink()
        arrays = final_arrays(server, style, checkpoint_dir, tmp_path / "log-final")
    assert max_difference(arrays, references[style]) == 0.0


@pytest.mark.parametrize("style", STYLES)
def test_a_failing_writer_leaves_the_last_save(server, references, tmp_path, style):
    """The same fault where no disk can be mounted: after the run's first save, every
    write past 4 KiB into a file fails (RLIMIT_FSIZE, tests/probes/fault_server.py), in the
    middle of the lesson's own writes; then the resume ends where the uninterrupted run
    ends."""
    checkpoint_dir = tmp_path / "run"
    child, folder = start_and_reach_own_save(
        server, style, checkpoint_dir, tmp_path / "log", file_size_after_usr1=4096
    )
    child.signal(signal.SIGUSR1)
    kept = committed_epoch(style, folder)
    line = assert_failed_save_kept_the_last(child, style, checkpoint_dir, kept)
    print(f"\n{style}, failing writer: {line}")
    arrays = final_arrays(server, style, checkpoint_dir, tmp_path / "log-final")
    assert max_difference(arrays, references[style]) == 0.0
