"""Saved models from elsewhere: each hostile model here is built by the test itself, and
`python -m compare predict` and `convert` refuse it in one line before TensorFlow or Keras
loads it, so that the file its graph would write is never written (a control shows that
plain tf.saved_model.load does write it). The memory bombs and the endless loop run in a
child process under an address-space limit and a timeout, so that a regression fails
instead of swapping or hanging.
"""

import io
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import ROOT
from hypothesis import event, given, settings
from hypothesis import strategies as st

import keras_impl
import keras_impl.cnn_bn_dropout
import keras_impl.export
import raw_tf_impl
import raw_tf_impl.export
from compare.cli import main
from compare.errors import CompareError
from compare.safety.model_files.allowed_ops import ALLOWED_OBJECTS, ALLOWED_OPS
from compare.safety.model_files.keras_archive import check_keras_archive
from compare.safety.model_files.provenance import (
    check_saved_model,
    fresh_export_profile,
)
from compare.styles import MODEL_NAMES, STYLES

REFUSED = "refused, not a model this project exported: "
IMAGES = [None, 28, 28, 1]


# SavedModels that run code ------------------------------------------------------------
class FileWriter(tf.saved_model.experimental.TrackableResource):
    """A resource whose initialiser, which every load runs, writes `path`."""

    def __init__(self, path):
        self.path = str(path)
        super().__init__()

    def _create_resource(self):
        return tf.raw_ops.VarHandleOp(dtype=tf.int32, shape=[], shared_name="")

    def _initialize(self):
        tf.io.write_file(self.path, "written at load")


def saved_with(folder, probabilities, name="images", shape=IMAGES, signature=None):
    """The raw cnn saved with a serving function returning probabilities(model, images)."""
    model = raw_tf_impl.build_model(seed=0)

    @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32, name=name)])
    def serve(images):
        return probabilities(model, images)

    signatures = {"serving_default": serve} if signature is None else signature(serve)
    tf.saved_model.save(model, str(folder), signatures=signatures)
    return folder


def softmax(model, images):
    return {"probabilities": tf.nn.softmax(model(images))}


def writes_at_load(folder, marker):
    model = raw_tf_impl.build_model(seed=0)
    model.writer = FileWriter(marker)
    return raw_tf_impl.export.save(model, folder)


def writes_when_serving(folder, marker):
    def probabilities(model, images):
        tf.io.write_file(str(marker), "written when serving")
        return softmax(model, images)

    return saved_with(folder, probabilities)


def calls_python(folder, marker):
    def probabilities(model, images):
        tf.py_function(lambda: marker.write_text("written by Python"), [], [])
        return softmax(model, images)

    return saved_with(folder, probabilities)


def doubles_its_logits(folder, marker):
    """Only ops the export uses, in another graph."""
    return saved_with(
        folder,
        lambda model, images: {"probabilities": tf.nn.softmax(2.0 * model(images))},
    )


def edited(folder, edit):
    """A fresh export whose saved_model.pb `edit(meta graph)` changed."""
    from tensorflow.core.protobuf import saved_model_pb2

    raw_tf_impl.export.save(raw_tf_impl.build_model(seed=0), folder)
    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString((folder / "saved_model.pb").read_bytes())
    edit(saved_model.meta_graphs[0])
    (folder / "saved_model.pb").write_bytes(saved_model.SerializeToString())
    return folder


def declares_a_huge_variable(meta_graph):
    for node in meta_graph.object_graph_def.nodes:
        if (
            node.WhichOneof("kind") == "variable"
            and node.variable.name == "dense_kernel"
        ):
            node.variable.shape.dim[0].size = 2**40  # 4 TB of float32


def fills_a_huge_constant(meta_graph):
    """A Const of one value fills its shape: 2**30 numbers from a few bytes."""
    for function in meta_graph.graph_def.library.function:
        for node in function.node_def:
            if node.op == "Const" and node.name == "Reshape/shape":
                node.attr["value"].tensor.tensor_shape.dim[0].size = 2**30


def feeds_other_variables(meta_graph):
    """The loader's serving function given the dense kernel for the conv kernel."""
    for concrete in meta_graph.object_graph_def.concrete_functions.values():
        if len(concrete.bound_inputs) == 4:
            concrete.bound_inputs[0], concrete.bound_inputs[2] = (
                concrete.bound_inputs[2],
                concrete.bound_inputs[0],
            )


def damaged(folder, marker):
    raw_tf_impl.export.save(raw_tf_impl.build_model(seed=0), folder)
    pb = folder / "saved_model.pb"
    pb.write_bytes(pb.read_bytes()[: pb.stat().st_size // 2])
    return folder


def with_a_variable_more(folder, marker):
    model = raw_tf_impl.build_model(seed=0)
    model.extra = tf.Variable(1.0)
    return raw_tf_impl.export.save(model, folder)


def with_a_function_more(folder, marker):
    model = raw_tf_impl.build_model(seed=0)

    def helper():
        tf.io.write_file(str(marker), "written by a helper")

    model.helper = tf.function(helper, input_signature=[])
    return raw_tf_impl.export.save(model, folder)


SAVED_MODELS = {  # name: (build(folder, marker), what the refusal says)
    "writes a file when loaded": (writes_at_load, "its init op does something"),
    "writes a file when serving": (writes_when_serving, "uses WriteFile"),
    "calls tf.py_function": (calls_python, "uses EagerPyFunc"),
    "another signature": (
        lambda folder, marker: saved_with(
            folder, softmax, signature=lambda serve: {"predict": serve}
        ),
        "it has the signatures '__saved_model_init_op', 'predict'",
    ),
    "an extra signature": (
        lambda folder, marker: saved_with(
            folder,
            softmax,
            signature=lambda serve: {"serving_default": serve, "logits": serve},
        ),
        "'logits', 'serving_default', not only serving_default",
    ),
    "a dict output": (
        lambda folder, marker: saved_with(
            folder,
            lambda model, images: {**softmax(model, images), "logits": model(images)},
        ),
        "its serving signature is 'images' float32 (None, 28, 28, 1) -> 'logits'",
    ),
    "a rank-4 output": (
        lambda folder, marker: saved_with(
            folder, lambda model, images: {"probabilities": images}
        ),
        "-> 'probabilities' float32 (None, 28, 28, 1), not images float32",
    ),
    "a renamed input": (
        lambda folder, marker: saved_with(folder, softmax, name="pixels"),
        "its serving signature is 'pixels' float32",
    ),
    "other ops in the export's ops": (
        doubles_its_logits,
        "its serving function is not the one raw_tf_impl/export.py writes for the cnn",
    ),
    "a variable more": (
        with_a_variable_more,
        "its variables are not those of the raw cnn for inputs (28, 28, 1)",
    ),
    "a function more": (with_a_function_more, "holds functions that nothing calls"),
    "a huge declared variable": (
        lambda folder, marker: edited(folder, declares_a_huge_variable),
        "its variables hold 10,995,116,278,090 numbers (at most 16,777,216)",
    ),
    "a huge constant": (
        lambda folder, marker: edited(folder, fills_a_huge_constant),
        "its constant 'Reshape/shape' holds 1,073,741,824 numbers (at most 1,024)",
    ),
    "other variables fed to serving": (
        lambda folder, marker: edited(folder, feeds_other_variables),
        "its serving function is not the one raw_tf_impl/export.py writes for the cnn",
    ),
    "a damaged saved_model.pb": (damaged, "saved_model.pb: not a readable SavedModel"),
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """{case: (model path, the file its code would write)}, and two 28x28 images."""
    root = tmp_path_factory.mktemp("hostile")
    built = {}
    for index, (case, (build, _message)) in enumerate(SAVED_MODELS.items()):
        marker = root / f"written{index}.txt"
        built[case] = (build(root / f"model{index}", marker), marker)
        assert not marker.exists()
    np.savez(root / "images.npz", x=np.zeros((2, 28, 28), np.uint8))
    return built, root / "images.npz"


def refuses_in_one_line(capsys, arguments, message):
    assert main([*map(str, arguments), "--quiet"]) == 1
    error = capsys.readouterr().err
    lines = error.strip().splitlines()
    assert len(lines) == 1 and message in error and "Traceback" not in error, error
    return lines[0]


@pytest.mark.parametrize("command", ["predict", "convert"])
@pytest.mark.parametrize("case", SAVED_MODELS)
def test_a_hostile_saved_model_is_refused_before_it_runs(
    hostile, tmp_path, capsys, command, case
):
    (folder, marker), images = hostile[0][case], hostile[1]
    output = tmp_path / "converted.keras"
    arguments = {
        "predict": ["predict", "--model", folder, "--images", images],
        "convert": ["convert", "--model", folder, "--to", "keras", "--output", output],
    }[command]
    refuses_in_one_line(capsys, arguments, SAVED_MODELS[case][1])
    assert not marker.exists() and not output.exists()


def test_the_control_plain_tensorflow_runs_their_code(hostile):
    """The markers the refusals never write, written by TensorFlow on its own."""
    for case, call in [
        ("writes a file when loaded", lambda loaded: None),
        (
            "writes a file when serving",
            lambda loaded: loaded.signatures["serving_default"](
                images=tf.zeros([1, 28, 28, 1])
            ),
        ),
    ]:
        folder, marker = hostile[0][case]
        call(tf.saved_model.load(str(folder)))
        assert marker.is_file()
        marker.unlink()


def test_a_folder_with_a_fifo_inside_is_refused(tmp_path, capsys):
    folder = raw_tf_impl.export.save(raw_tf_impl.build_model(seed=0), tmp_path / "raw")
    os.mkfifo(folder / "variables" / "pipe")
    refuses_in_one_line(
        capsys,
        ["predict", "--model", folder, "--images", tmp_path / "none.npz"],
        "variables/pipe is not a regular file",
    )


@pytest.fixture(scope="module")
def fresh_raw(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzzed") / "raw"
    raw_tf_impl.export.save(raw_tf_impl.build_model(seed=0), folder)
    return folder, (folder / "saved_model.pb").read_bytes()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
        min_size=1,
        max_size=4,
    )
)
def test_a_saved_model_pb_with_bytes_changed_is_refused_or_passes_whole(
    fresh_raw, changes
):
    """Whatever bytes change, the check answers a ModelError or passes, never crashes
    (`--hypothesis-show-statistics` counts the answers)."""
    folder, original = fresh_raw
    data = bytearray(original)
    for where, value in changes:
        data[int(where * len(data))] = value
    (folder / "saved_model.pb").write_bytes(bytes(data))
    try:
        check_saved_model(folder)
        event("passes")
    except CompareError as error:  # the reason, after the folder's name
        event(str(error).split(": ", 1)[1].removeprefix(REFUSED)[:36])


# What an export holds ---------------------------------------------------------------
def test_allowed_ops_are_exactly_what_a_fresh_export_uses():
    """So that the lists cannot grow unnoticed: regenerate them with
    `python -m compare.safety.model_files.provenance`."""
    profile = fresh_export_profile()
    assert {part: profile[part] for part in ALLOWED_OPS} == ALLOWED_OPS
    assert profile["objects"] == ALLOWED_OBJECTS


@pytest.mark.parametrize("model_name", MODEL_NAMES)
def test_fresh_exports_of_every_model_pass_the_check(tmp_path, model_name):
    raw = (
        STYLES["raw_tf"]
        .module(model_name)
        .build_model(seed=2, input_shape=(32, 30, 3), num_classes=7)
    )
    folder = raw_tf_impl.export.save(raw, tmp_path / "raw", (32, 30, 3))
    assert check_saved_model(folder) == (model_name, (32, 30, 3), 7)
    keras_model = STYLES["keras"].module(model_name).build_model(seed=2)
    path = keras_impl.export.save(keras_model, tmp_path / "model.keras")
    assert check_keras_archive(path) == (model_name, (28, 28, 1), 10)


# .keras archives ------------------------------------------------------------------------
def rezipped(source, path, change):
    """A copy of the .keras file `source` whose members `change({name: bytes})` edits."""
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    change(members)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def edit_config(members, edit):
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()


def with_a_lambda(path):
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Lambda(lambda x: x),
            keras.layers.Flatten(),
        ]
    )
    return keras_impl.export.save(model, path)


def with_weights(fresh, path, edit):
    """A copy of `fresh` whose model.weights.h5 `edit(the open HDF5 file)` changed."""

    def change(members):
        weights = io.BytesIO(members["model.weights.h5"])
        with h5py.File(weights, "r+") as file:
            edit(file)
        members["model.weights.h5"] = weights.getvalue()

    return rezipped(fresh, path, change)


def replaced(name, **dataset):
    """An edit: the dataset `name` replaced by one made with `dataset`."""

    def edit(file):
        del file[name]
        file.create_dataset(name, **dataset)

    return edit


def soft_link(file):
    del file["layers/dense/vars/1"]
    file["layers/dense/vars/1"] = h5py.SoftLink("/layers/conv2d/vars/1")


def with_outputs(path, outputs):
    """A functional model of the lecture's cnn's first layers, `outputs(its layers)` out."""
    images = keras.Input((28, 28, 1))
    features = keras.layers.Conv2D(32, 3, activation="relu")(images)
    return keras_impl.export.save(keras.Model(images, outputs(features)), path)


def unbuilt(path):
    return keras_impl.export.save(keras.Sequential([keras.layers.Dense(10)]), path)


KERAS_FILES = {  # name: (build(fresh .keras file, path), what the refusal says)
    "an extra member": (
        lambda fresh, path: rezipped(
            fresh, path, lambda members: members.update({"run.py": b"import os"})
        ),
        "it holds 'config.json', 'metadata.json', 'model.weights.h5', 'run.py', not exactly",
    ),
    "a lambda layer": (
        lambda fresh, path: with_a_lambda(path),
        "its config is neither the lecture's cnn nor cnn_bn_dropout",
    ),
    "a dict output": (
        lambda fresh, path: with_outputs(
            path,
            lambda features: {
                "probabilities": keras.layers.Dense(10, activation="softmax")(
                    keras.layers.Flatten()(features)
                )
            },
        ),
        "its config is neither the lecture's cnn nor cnn_bn_dropout",
    ),
    "a rank-4 output": (
        lambda fresh, path: with_outputs(path, lambda features: features),
        "its config is neither the lecture's cnn nor cnn_bn_dropout",
    ),
    "weights read from another file": (
        lambda fresh, path: with_weights(
            fresh,
            path,
            replaced(
                "layers/dense/vars/1",
                shape=(10,),
                dtype="float32",
                external=[("/etc/hostname", 0, 40)],
            ),
        ),
        "model.weights.h5 keeps '/layers/dense/vars/1' as a link, outside the file",
    ),
    "a weight as a soft link": (
        lambda fresh, path: with_weights(fresh, path, soft_link),
        "model.weights.h5 keeps '/layers/dense/vars/1' as a link",
    ),
    "an unbuilt model": (
        lambda fresh, path: unbuilt(path),
        "the Keras model is not built",
    ),
    "another activation": (
        lambda fresh, path: rezipped(
            fresh,
            path,
            lambda members: edit_config(
                members,
                lambda config: config["config"]["layers"][1]["config"].update(
                    activation="tanh"
                ),
            ),
        ),
        "its config is neither the lecture's cnn nor cnn_bn_dropout",
    ),
}


@pytest.fixture(scope="module")
def fresh_keras(tmp_path_factory):
    path = tmp_path_factory.mktemp("fresh") / "keras_cnn.keras"
    return keras_impl.export.save(keras_impl.build_model(seed=0), path)


@pytest.mark.parametrize("command", ["predict", "convert"])
@pytest.mark.parametrize("case", KERAS_FILES)
def test_a_hostile_keras_file_is_refused_before_keras_reads_it(
    fresh_keras, hostile, tmp_path, capsys, command, case
):
    build, message = KERAS_FILES[case]
    path = build(fresh_keras, tmp_path / "hostile.keras")
    output = tmp_path / "converted"
    arguments = {
        "predict": ["predict", "--model", path, "--images", hostile[1]],
        "convert": ["convert", "--model", path, "--to", "raw", "--output", output],
    }[command]
    refuses_in_one_line(capsys, arguments, message)
    assert not output.exists()


def test_the_control_keras_safe_mode_refuses_the_lambda_too(tmp_path):
    with pytest.raises(ValueError, match="safe_mode"):
        keras_impl.export.load(with_a_lambda(tmp_path / "lambda.keras"))


# Memory bombs and an endless loop, in a child under limits ---------------------------
CHILD = r"""
import contextlib, io, json, resource, sys
from compare.cli import main
from compare.errors import CompareError

spec = json.loads(sys.argv[1])


def run(arguments):
    error = io.StringIO()
    with contextlib.redirect_stderr(error), contextlib.redirect_stdout(io.StringIO()):
        code = main(arguments)
    return code, error.getvalue()


def status(field):  # this process's own, not the forking parent's (as ru_maxrss is)
    line = next(line for line in open("/proc/self/status") if line.startswith(field))
    return int(line.split()[1]) * 1024


for arguments in spec["warm_up"]:
    assert run(arguments)[0] == 0, arguments
limit = status("VmPeak:") + spec["headroom"]
resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
peak = lambda: status("VmHWM:")
results = {"limit": limit, "warm_peak_rss": peak(), "cases": {}}
for case, arguments in spec["cases"].items():
    code, error = run(arguments)
    results["cases"][case] = {"code": code, "error": error, "peak_rss": peak()}
print(json.dumps(results))
"""
HEADROOM = 2**30  # the child may grow by 1 GiB of address space over a normal predict
GIB = 2**30


def deflated(path, members):
    """A zip whose members are {name: chunks of bytes}, deflated as they are written."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, chunks in members.items():
            with archive.open(name, "w", force_zip64=True) as member:
                for chunk in chunks:
                    member.write(chunk)
    return path


def spaces(count, chunk=2**24):
    return (b" " * chunk for _ in range(count // chunk))


def config_bomb(fresh, path):
    """A .keras file of a few MB whose config.json inflates to 2 GiB (spaces, then the real
    config: valid JSON all the way)."""
    with zipfile.ZipFile(fresh) as archive:
        real = {name: archive.read(name) for name in archive.namelist()}
    return deflated(
        path,
        {
            "metadata.json": [real["metadata.json"]],
            "config.json": [*spaces(2 * GIB), real["config.json"]],
            "model.weights.h5": [real["model.weights.h5"]],
        },
    )


def npz_bomb(path):
    """An .npz whose x.npy inflates to 2 GiB of uint8 images."""
    header = io.BytesIO()
    count = 2 * GIB // (28 * 28)
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False, "shape": (count, 28, 28)}
    )
    return deflated(path, {"x.npy": [header.getvalue(), *spaces(count * 28 * 28)]})


def png_of(height, width):
    """A PNG header claiming height x width (10 GB of pixels), with a few real bytes."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )


def endless(folder):
    def probabilities(model, images):
        count = tf.while_loop(lambda i: i >= 0.0, lambda i: i + 1.0, [tf.constant(0.0)])
        return {"probabilities": tf.nn.softmax(model(images)) + count}

    return saved_with(folder, probabilities)


@pytest.mark.slow
def test_memory_bombs_and_an_endless_loop_end_in_one_line_under_an_address_space_limit(
    fresh_keras, hostile, tmp_path
):
    raw = raw_tf_impl.export.save(raw_tf_impl.build_model(seed=0), tmp_path / "raw")
    images = hostile[1]
    big_png = tmp_path / "big.png"
    big_png.write_bytes(png_of(100_000, 100_000))
    os.mkfifo(tmp_path / "pipe.png")
    os.mkfifo(tmp_path / "pipe.keras")
    (tmp_path / "piped").mkdir()
    os.mkfifo(tmp_path / "piped" / "saved_model.pb")
    dense = tmp_path / "dense.keras"
    rezipped(
        fresh_keras,
        dense,
        lambda members: edit_config(
            members,
            lambda config: config["config"]["layers"][-1]["config"].update(units=2**31),
        ),
    )
    huge_weights = with_weights(
        fresh_keras,
        tmp_path / "huge_weights.keras",
        replaced(
            "layers/dense/vars/0",
            shape=(2**20, 2**10),
            dtype="float32",
            chunks=(2**10, 2**10),  # never written: 4 GiB declared in a few KB
        ),
    )
    predict = ["predict", "--quiet", "--model"]
    cases = {  # name: (arguments, what the error says)
        "a 2 GiB config.json": (
            [
                *predict,
                config_bomb(fresh_keras, tmp_path / "bomb.keras"),
                "--images",
                images,
            ],
            "config.json would inflate to 2,147,486,",
        ),
        "a Dense of 2**31 units": (
            [*predict, dense, "--images", images],
            "inputs (28, 28, 1) and 2147483648 classes give more than 16,777,216 weights",
        ),
        "a weight of 4 GiB never written": (
            [*predict, huge_weights, "--images", images],
            "model.weights.h5 declares 1,073,742,154 numbers (at most 16,777,216)",
        ),
        "a 2 GiB .npz": (
            [*predict, raw, "--images", npz_bomb(tmp_path / "bomb.npz")],
            "bomb.npz holds 2,130,706,560 bytes, more than predict reads (268,435,456)",
        ),
        "a 100000x100000 PNG": (
            [*predict, raw, "--images", big_png],
            "big.png is 100000x100000",
        ),
        "/dev/zero": (
            [*predict, raw, "--images", "/dev/zero"],
            "/dev/zero: not a regular file",
        ),
        "a FIFO": (
            [*predict, raw, "--images", tmp_path / "pipe.png"],
            "pipe.png: not a regular file",
        ),
        "a folder": ([*predict, raw, "--images", tmp_path], ": not a regular file"),
        "/dev/zero as the model": (
            [*predict, "/dev/zero", "--images", images],
            "not a model",
        ),
        "a FIFO as the .keras file": (
            [*predict, tmp_path / "pipe.keras", "--images", images],
            "pipe.keras: not a model",
        ),
        "a FIFO as saved_model.pb": (
            [*predict, tmp_path / "piped", "--images", images],
            "piped: not a model",
        ),
        "an endless tf.while_loop": (
            [*predict, endless(tmp_path / "endless"), "--images", images],
            "uses GreaterEqual, Pack, StatelessWhile",
        ),
    }
    spec = {
        "warm_up": [
            [*predict, model, "--images", images] for model in (raw, fresh_keras)
        ],
        "headroom": HEADROOM,
        "cases": {
            case: list(map(str, arguments)) for case, (arguments, _m) in cases.items()
        },
    }
    child = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(spec, default=str)],
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    results = json.loads(child.stdout.strip().splitlines()[-1])
    for case, (_arguments, message) in cases.items():
        outcome = results["cases"][case]
        lines = outcome["error"].strip().splitlines()
        assert outcome["code"] == 1 and len(lines) == 1 and message in lines[0], (
            case,
            outcome,
        )
    worst = max(outcome["peak_rss"] for outcome in results["cases"].values())
    print(  # pytest -s shows it: the figure of the closing note
        f"peak RSS {worst / 2**20:.0f} MiB after the bombs, "
        f"{results['warm_peak_rss'] / 2**20:.0f} MiB after two real predictions; "
        f"address space limited to {results['limit'] / GIB:.1f} GiB"
    )
    assert worst - results["warm_peak_rss"] < 2**28  # nothing was inflated
