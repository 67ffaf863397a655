"""Writes that land where the checks saw them, whole or not at all, one run at a time:
paths swapped during a run, a full disk, a second run on the same checkpoint folder or
export target, a resume on other data, and the --worker-report file
(compare/safety/atomic.py, locks.py, fingerprint.py)."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from compare.safety import atomic, locks
from tests.helpers import ROOT, SMALL, run_cli, run_main, write_idx_folder

HOLDER = """
import sys, time
from pathlib import Path
from compare.safety import locks
locks.hold(Path(sys.argv[1]), "--flag", sys.argv[1])
print("held", flush=True)
time.sleep(600)
"""


@pytest.fixture(autouse=True)
def forget():
    yield
    atomic.remember([], [])
    locks.release_all()


def one_line(text):
    assert "\n" not in text.strip() and "Traceback" not in text
    return text


def start_holder(lock_path):
    """A process that holds the lock `lock_path` until killed."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline().strip() == "held"
    return child


# Paths swapped after the checks ---------------------------------------------------------
def test_an_output_folder_swapped_for_the_data_folder_is_refused(tmp_path):
    data = write_idx_folder(tmp_path / "data")
    labels = data / "t10k-labels-idx1-ubyte.gz"
    before = labels.read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    atomic.remember([("--report", out / labels.name)], [("--data-dir", labels)])
    out.rmdir()
    out.symlink_to(data)  # during the run
    with pytest.raises(atomic.PathChanged) as refused:
        atomic.replace(out / labels.name, "<html>", "--report")
    assert "--report" in one_line(str(refused.value))
    assert labels.read_bytes() == before
    assert sorted(os.listdir(data)) == sorted(os.listdir(tmp_path / "data"))
    assert not any(".partial" in name for name in os.listdir(data))


def test_an_output_swapped_for_a_link_to_the_dataset_is_refused(tmp_path):
    data = write_idx_folder(tmp_path / "data")
    images = data / "train-images-idx3-ubyte.gz"
    before = images.read_bytes()
    output = tmp_path / "report.json"
    atomic.remember([("--output", output)], [("--data-dir", images)])
    output.symlink_to(images)  # during the run
    with pytest.raises(atomic.PathChanged) as refused:
        atomic.replace(output, "{}", "--output")
    assert "--output" in one_line(str(refused.value))
    assert images.read_bytes() == before and output.is_symlink()


def test_an_output_is_replaced_whole_and_keeps_its_permissions(tmp_path):
    output = tmp_path / "results.json"
    output.write_text("old")
    output.chmod(0o600)
    atomic.remember([("--output", output)], [])
    atomic.replace(output, "new", "--output")
    assert output.read_text() == "new" and (output.stat().st_mode & 0o777) == 0o600
    assert os.listdir(tmp_path) == ["results.json"]


# A full disk: RLIMIT_FSIZE makes every write past 4 KiB fail, as a full disk does ------
FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from compare.errors import explained
from compare.safety import atomic
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write fails with EFBIG, not a kill
data = b"x" * 100_000 if sys.argv[2] == "bytes" else None
if data is None:
    import keras
    from compare.harness.keras_saves import weights_h5_bytes
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(400)])
    data = weights_h5_bytes(model)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    atomic.replace(Path(sys.argv[1]), data, "--report")
except OSError as error:
    print(explained(error))
"""


@pytest.mark.parametrize("what", ["bytes", "weights"])
def test_a_full_disk_keeps_the_old_output_and_names_it(tmp_path, what):
    """An existing --report (or --save-pretrained's weights, HDF5 written in memory)
    stays whole; the error names the file."""
    output = tmp_path / ("report.html" if what == "bytes" else "base.weights.h5")
    old = os.urandom(50_000)
    output.write_bytes(old)
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(output), what],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"File too large: {output}"
    assert output.read_bytes() == old
    assert os.listdir(tmp_path) == [output.name]  # no half-written file beside it


# A run that stops before it writes leaves no folder ----------------------------------
@pytest.mark.parametrize("flag", ["--export", "--checkpoint-dir"])
def test_a_run_that_fails_early_leaves_no_folder_it_made(tmp_path, monkeypatch, flag):
    """The folders made to hold the locks (and their missing parents) go with a run
    that stops before writing; a folder that was there stays."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "kept").mkdir()
    unreadable = tmp_path / "kept" / "data.npz"
    unreadable.write_text("not an archive\n")
    argv = ["--dataset", "mnist", "--data-dir", unreadable, "--quiet", flag]
    code, _, stderr = run_main([*argv, "new/deeper"])
    assert code == 1 and "not a readable .npz file" in one_line(stderr)
    code, _, _ = run_main([*argv, "kept"])
    assert code == 1
    assert sorted(os.listdir(tmp_path)) == ["kept"]
    assert os.listdir(tmp_path / "kept") == ["data.npz"]


# kill -9 mid-write: the 95 MB rewrite that left 0.4-0.7 MB ----------------------------
KILLED_MID_WRITE = """
import os, sys, time
from pathlib import Path
from compare.safety import atomic
def slowly(descriptor, data):  # 1 MB at a time, saying when half is on disk
    for start in range(0, len(data), 1 << 20):
        os.write(descriptor, data[start : start + (1 << 20)])
        if start == len(data) // 2 >> 20 << 20:
            print("half", flush=True)
            time.sleep(60)
atomic.write_all = slowly
atomic.replace(Path(sys.argv[1]), os.urandom(95 << 20), "--save-pretrained")
"""


def test_a_kill_mid_write_keeps_the_old_file_whole(tmp_path):
    output = tmp_path / "base.weights.h5"
    old = os.urandom(5 << 20)
    output.write_bytes(old)
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_WRITE, str(output)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout.readline() == "half\n"
    partial = f".{output.name}.{writer.pid}.partial"
    assert (tmp_path / partial).stat().st_size >= 47 << 20
    writer.kill()
    writer.wait()
    assert output.read_bytes() == old
    atomic.replace(output, b"new", "--save-pretrained")  # the next write tidies up
    assert output.read_bytes() == b"new"
    assert os.listdir(tmp_path) == [output.name]


# One run at a time ---------------------------------------------------------------------
def test_a_held_lock_refuses_naming_its_holder_and_dies_with_it(tmp_path):
    lock = tmp_path / locks.LOCK_FILE
    holder = start_holder(lock)
    try:
        with pytest.raises(locks.InUse) as refused:
            locks.hold(lock, "--checkpoint-dir", tmp_path)
        message = one_line(str(refused.value))
        assert f"PID {holder.pid} on " in message and str(tmp_path) in message
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    locks.hold(lock, "--checkpoint-dir", tmp_path)  # a dead holder never blocks
    assert json.loads(lock.read_text())["pid"] == os.getpid()
    locks.release_all()
    assert not lock.exists()


def test_a_second_export_to_the_same_target_is_refused_before_training(tmp_path):
    from compare.saved.export import check_export, export_path

    target = export_path(tmp_path, "keras")
    holder = start_holder(locks.beside(target))  # the first --export, training
    try:
        with pytest.raises(locks.InUse) as refused:
            check_export(tmp_path, ["keras"], ["cnn"])
        assert f"--export {target} is in use" in one_line(str(refused.value))
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()


def test_a_model_made_meanwhile_is_never_replaced(tmp_path):
    """Where another writer made the target while this one saved, the rename refuses
    and leaves the other's model as it was."""
    target = tmp_path / "keras_cnn.keras"

    def save(temporary):
        temporary.write_bytes(b"mine")
        target.write_bytes(b"theirs")  # the other run, finishing first

    with pytest.raises(FileExistsError):
        atomic.create(target, save, "--export")
    assert target.read_bytes() == b"theirs"
    assert os.listdir(tmp_path) == [target.name]


def test_a_model_folder_made_meanwhile_is_never_replaced(tmp_path):
    target = tmp_path / "raw_tf_cnn"

    def save(temporary):
        temporary.mkdir()
        (temporary / "saved_model.pb").write_bytes(b"mine")
        target.mkdir()  # the other run: even an empty folder stays

    with pytest.raises(FileExistsError):
        atomic.create(target, save, "--output")
    assert target.is_dir() and not any(target.iterdir())
    assert os.listdir(tmp_path) == [target.name]


# Checkpoint folders ----------------------------------------------------------------------
SETTINGS = {
    "dataset": "mnist",
    "train_samples": 12,
    "batch_size": 4,
    "lr": 0.001,
    "seed": 0,
    "model": "cnn",
    "epochs": 2,
}


def data_of(seed):
    from compare.harness.checkpointing import data_record
    from tests.helpers import fake_arrays

    arrays = fake_arrays(seed=seed)

    class Loaded:
        x_train, y_train = arrays["x_train"], arrays["y_train"]

    return data_record(Loaded, [])


def test_a_resume_on_other_data_of_the_same_name_and_size_is_refused(tmp_path):
    from compare.errors import CompareError
    from compare.harness.checkpointing import prepare_folder

    folder = tmp_path / "run"
    prepare_folder(folder, False, {**SETTINGS, "data": data_of(0)})
    locks.release_all()  # the first command ended
    prepare_folder(folder, True, {**SETTINGS, "data": data_of(0)})  # the same data
    locks.release_all()
    with pytest.raises(CompareError) as refused:
        prepare_folder(folder, True, {**SETTINGS, "data": data_of(1)})
    assert "was trained on other data" in one_line(str(refused.value))


def test_a_resume_through_a_linked_implementation_folder_is_refused(tmp_path):
    from compare.errors import CompareError
    from compare.harness.checkpointing import prepare_folder

    folder, elsewhere = tmp_path / "run", tmp_path / "elsewhere"
    elsewhere.mkdir()
    prepare_folder(folder, False, SETTINGS)
    locks.release_all()
    (folder / "raw_tf-cnn").symlink_to(elsewhere)
    with pytest.raises(CompareError) as refused:
        prepare_folder(folder, True, SETTINGS, [("raw_tf", "cnn")])
    assert "raw_tf-cnn is a symbolic link" in one_line(str(refused.value))
    assert not any(elsewhere.iterdir())


def test_a_second_run_on_a_checkpoint_folder_is_refused_naming_the_holder(tmp_path):
    from compare.harness.checkpointing import prepare_folder

    folder = tmp_path / "run"
    prepare_folder(folder, False, SETTINGS)
    locks.release_all()
    holder = start_holder(folder / locks.LOCK_FILE)  # the run, training
    try:
        with pytest.raises(locks.InUse) as refused:
            prepare_folder(folder, True, SETTINGS)
        assert f"PID {holder.pid}" in one_line(str(refused.value))
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert sorted(os.listdir(folder)) == [locks.LOCK_FILE, "run.json"]


# --worker-report -----------------------------------------------------------------------
def test_a_worker_report_writes_only_its_own_file(tmp_path):
    from compare.harness.distribute import load_worker_report, save_worker_report

    neighbour = tmp_path / "data.npz"
    neighbour.write_bytes(b"the user's data")
    path = tmp_path / "data.json"
    weights = {"keras/0": np.arange(6.0).reshape(2, 3)}
    save_worker_report({"accuracy": 0.5}, weights, path)
    assert neighbour.read_bytes() == b"the user's data"
    loaded = load_worker_report(path)
    assert loaded["accuracy"] == 0.5
    assert np.array_equal(loaded["weights"]["keras/0"], weights["keras/0"])


def test_a_worker_report_on_the_dataset_is_refused(tmp_path):
    data = write_idx_folder(tmp_path / "data")
    images = data / "train-images-idx3-ubyte.gz"
    before = images.read_bytes()
    code, _, stderr = run_main(
        ["--dataset", "mnist", "--data-dir", data, "--worker-report", images]
    )
    assert code == 1 and "--worker-report" in one_line(stderr)
    assert images.read_bytes() == before


# End to end ------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_output_is_written_before_a_failing_figure(tmp_path, monkeypatch):
    import compare.views.plots

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(compare.views.plots, "png_bytes", full_disk)
    output = tmp_path / "results.json"
    code, _, stderr = run_main(
        [*SMALL, "--epochs", "1", "--format", "json", "--output", output]
        + ["--plot", tmp_path / "curves.png", "--pair-rounds", "0"]
    )
    assert code == 1 and "No space left on device" in stderr
    assert json.loads(output.read_text())["results"]
    assert not (tmp_path / "curves.png").exists()


@pytest.mark.slow
def test_a_resume_while_the_run_trains_is_refused_and_leaves_it_training(tmp_path):
    folder = tmp_path / "run"
    argv = [*SMALL, "--only", "raw", "--pair-rounds", "0", "--checkpoint-dir", folder]
    first = subprocess.Popen(
        [sys.executable, "-m", "compare", *map(str, argv), "--epochs", "400"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    try:
        deadline = time.monotonic() + 240
        while not list(folder.glob("raw_tf-cnn/ckpt-*.index")):  # it is training
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.5)
        second = run_cli(*argv, "--epochs", "400", "--resume", timeout=300)
        assert second.returncode == 1 and "Traceback" not in second.stderr
        line = second.stderr.strip().splitlines()[-1]  # after the Dataset: line
        assert f"is in use by another run (PID {first.pid} on " in line
        assert first.poll() is None  # still training
    finally:
        first.kill()
        first.wait()
