"""The machine's floors (quick mode), the roofline's arithmetic and the profile summary.
Timings are only checked for being positive, finite and consistent with each other."""

import math
from pathlib import Path

import pytest

from compare.bench import floors, profile, roofline
from compare.bench.flops import training_flops_per_sample

FLOORS = {  # round numbers, so that the roofline's arithmetic can be checked by hand
    "peak_flops_per_second": 100e9,
    "bandwidth_bytes_per_second": 10e9,
    "dispatch_seconds": 200e-6,
}
SEED_CNN_PARAMETERS = 3 * 3 * 1 * 32 + 32 + 13 * 13 * 32 * 10 + 10  # 54,410


# Floors -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def quick_floors():
    return floors.measure_floors(quick=True)


def finite_positive(value):
    return math.isfinite(value) and value > 0


def test_quick_floors_are_positive_finite_and_ordered(quick_floors):
    spreads = [
        quick_floors["matmul"]["gflops_per_second"],
        quick_floors["dispatch"]["scalar_us"],
        quick_floors["dispatch"]["module_us"],
    ]
    for key in ("triad_tf", "triad_tf_xla", "triad_numpy"):
        spreads += [
            quick_floors[key]["stream_gb_per_second"],
            quick_floors[key]["traffic_gb_per_second"],
        ]
    for values in spreads:
        assert all(finite_positive(values[k]) for k in ("min", "median", "max"))
        assert values["min"] <= values["median"] <= values["max"]
    for key in (
        "peak_flops_per_second",
        "bandwidth_bytes_per_second",
        "dispatch_seconds",
    ):
        assert finite_positive(quick_floors[key])
    assert quick_floors["quick"] and quick_floors["seconds"] < 10


def test_triad_byte_counts(quick_floors):
    """Unfused triads move 20 bytes per element against STREAM's 12; XLA's fused one 12."""
    tf_triad, xla = quick_floors["triad_tf"], quick_floors["triad_tf_xla"]
    assert tf_triad["traffic_gb_per_second"]["median"] == pytest.approx(
        tf_triad["stream_gb_per_second"]["median"] * 20 / 12
    )
    assert xla["traffic_gb_per_second"] == xla["stream_gb_per_second"]
    assert quick_floors["bandwidth_bytes_per_second"] == pytest.approx(
        tf_triad["traffic_gb_per_second"]["median"] * 1e9
    )


def test_floors_markdown(quick_floors):
    text = floors.markdown(quick_floors)
    for label in ("GFLOP/s", "GB/s", "µs", "XLA-fused", "NumPy triad", "tf.Module"):
        assert label in text
    assert text.count("\n|") >= 9  # header, rule, 8 rows


def test_matmul_peak_gflops_is_one_number():
    assert finite_positive(floors.matmul_peak_gflops(size=128, products=4, repeats=2))


# Roofline ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "shape",
    [
        {},
        {"input_shape": (32, 32, 3), "filters": 16, "kernel": 5, "pool": 2},
        {"input_shape": (28, 28, 1), "filters": 8, "classes": 100},
    ],
)
def test_conv_and_dense_flops_equal_flops_py(shape):
    """The conv and dense products are exactly flops.py's count; the rest is extra."""
    ops = roofline.op_costs(batch_size=128, **shape)
    counted = [op["flops"] for op in ops if op["counted_by_flops_py"]]
    small = [op["flops"] for op in ops if not op["counted_by_flops_py"]]
    assert len(counted) == 5  # conv fwd, filter grad; dense fwd, kernel and input grads
    assert sum(counted) == training_flops_per_sample(**shape)
    assert sum(counted) + sum(small) == pytest.approx(sum(op["flops"] for op in ops))
    assert all(flops > 0 for flops in small if flops)


def test_seed_cnn_flops_by_hand():
    assert training_flops_per_sample() == 1_103_232  # flops.py unchanged
    ops = {(op["op"], op["pass"]): op for op in roofline.op_costs(batch_size=128)}
    conv_out = 26 * 26 * 32
    assert ops["relu", "forward"]["flops"] == conv_out
    assert ops["relu", "forward"]["bytes"] == 2 * conv_out * 4
    assert ops["relu grad", "backward"]["bytes"] == 3 * conv_out * 4
    assert ops["max-pool", "forward"]["flops"] == 3 * 13 * 13 * 32
    assert ops["reshape", "forward"]["flops"] == ops["reshape", "forward"]["bytes"] == 0
    adam = ops["adam update", "update"]
    assert adam["bytes"] == pytest.approx(7 * 4 * SEED_CNN_PARAMETERS / 128)
    assert adam["flops"] == pytest.approx(12 * SEED_CNN_PARAMETERS / 128)
    small = sum(op["flops"] for op in ops.values() if not op["counted_by_flops_py"])
    # bias add and grad, ReLU and its grad: 4 x 21,632; both pools 2 x 3 x 5,408;
    # dense bias add and grad 2 x 10; the loss 63; Adam 12 x 54,410 / 128
    assert small - adam["flops"] == 4 * conv_out + 6 * 13 * 13 * 32 + 20 + 63


def test_roofline_scales_linearly_with_samples():
    one = roofline.roofline_seconds_per_epoch(10_000, 128, FLOORS, graph_calls=1)
    three = roofline.roofline_seconds_per_epoch(30_000, 128, FLOORS, graph_calls=1)
    assert three["op_seconds"] == pytest.approx(3 * one["op_seconds"])
    assert three["dispatch_seconds"] == one["dispatch_seconds"] == 200e-6
    for small, large in zip(one["ops"], three["ops"], strict=True):
        assert large["seconds"] == pytest.approx(3 * small["seconds"])


def test_dispatch_term_counts_graph_calls():
    per_batch = roofline.roofline_seconds_per_epoch(60_000, 128, FLOORS)
    per_epoch = roofline.roofline_seconds_per_epoch(60_000, 128, FLOORS, graph_calls=1)
    assert per_batch["graph_calls"] == 469 and per_epoch["graph_calls"] == 1
    assert per_batch["op_seconds"] == per_epoch["op_seconds"]
    gap = per_batch["total_seconds"] - per_epoch["total_seconds"]
    assert gap == pytest.approx(468 * 200e-6)
    assert per_batch["total_seconds"] == pytest.approx(
        per_batch["op_seconds"] + 469 * 200e-6
    )


def test_each_op_takes_the_slower_of_compute_and_memory():
    result = roofline.roofline_seconds_per_epoch(1000, 100, FLOORS, graph_calls=0)
    for op in result["ops"]:
        compute = op["flops"] * 1000 / 100e9
        memory = op["bytes"] * 1000 / 10e9
        assert op["seconds"] == pytest.approx(max(compute, memory))
    assert {op["bound"] for op in result["ops"]} <= {"compute", "memory", "free"}
    # With memory free, the epoch takes its FLOPs at peak, nothing more.
    fast_memory = {**FLOORS, "bandwidth_bytes_per_second": 1e30}
    compute_only = roofline.roofline_seconds_per_epoch(1000, 100, fast_memory, 0)
    assert compute_only["total_seconds"] == pytest.approx(
        compute_only["flops_per_sample"] * 1000 / 100e9
    )
    assert roofline.times_roofline(2 * result["total_seconds"], result) == 2


def test_roofline_markdown_names_every_op():
    result = roofline.roofline_seconds_per_epoch(60_000, 128, FLOORS)
    text = roofline.markdown(result)
    for op in result["ops"]:
        assert op["op"] in text
    assert "469 graph calls" in text and "**roofline**" in text


# Profile ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def training_steps(digits):
    """One training step of each style on the same 128 digits."""
    import tensorflow as tf

    import keras_impl.cnn as keras_cnn
    import raw_tf_impl.cnn as raw

    images = tf.constant(digits.x_train[:128])
    labels = tf.constant(digits.y_train[:128])
    model = raw.build_model(0)
    optimizer = raw.compile_model(model)
    raw_step = raw.train_step
    if not hasattr(raw_step, "get_concrete_function"):  # not a tf.function yet
        raw_step = tf.function(raw_step)
    keras_model = keras_cnn.compile_model(keras_cnn.build_model(0))
    keras_model.optimizer.build(keras_model.trainable_variables)
    return {
        "raw": lambda: raw_step(model, optimizer, images, labels),
        "keras": tf.function(lambda: keras_model.train_step((images, labels))),
    }


@pytest.fixture(scope="module")
def profiled(training_steps, tmp_path_factory):
    logdir = tmp_path_factory.mktemp("profile")
    return logdir, profile.profile_steps(training_steps, str(logdir), count=3)


def test_profile_summary_splits_wall_time(profiled):
    logdir, result = profiled
    assert result["available"], result
    for name in ("raw", "keras"):
        summary = result["styles"][name]
        assert summary["available"], summary
        trace = Path(summary["trace"])
        assert trace.is_file() and trace.name.endswith(".xplane.pb")
        assert (logdir / name / "plugins" / "profile") in trace.parents
        assert summary["steps"] == 3
        assert 0 < summary["op_ms_per_step"] <= summary["wall_ms_per_step"]
        assert summary["op_ms_per_step"] <= summary["op_cpu_ms_per_step"] + 1e-9
        assert summary["gap_ms_per_step"] == pytest.approx(
            summary["wall_ms_per_step"] - summary["op_ms_per_step"]
        )
        assert summary["input_ms_per_step"] == 0  # the batch is given, no tf.data
        types = [op["type"] for op in summary["top_ops"]]
        assert len(types) == 5 and any("Conv2D" in kind for kind in types)
        times = [op["ms_per_step"] for op in summary["top_ops"]]
        assert times == sorted(times, reverse=True)


def test_profile_markdown(profiled):
    text = profile.markdown(profiled[1])
    assert "| raw" in text and "| keras" in text and "Conv2D" in text


def test_profile_says_why_when_the_profiler_is_busy(tmp_path):
    import tensorflow as tf

    tf.profiler.experimental.start(str(tmp_path / "other"))
    try:
        result = profile.profile_steps(
            {"noop": lambda: tf.constant(1.0) + 1}, str(tmp_path / "mine"), count=1
        )
    finally:
        tf.profiler.experimental.stop()
    assert result["available"] is False
    assert result["reason"] and "\n" not in result["reason"]
    assert "No profile" in profile.markdown(result)


def test_union_length_counts_overlaps_once():
    assert profile.union_length([(0, 10), (5, 15), (20, 25), (21, 22)]) == 20
    assert profile.union_length([]) == 0
    assert list(profile.clipped(0, 10, [(2, 4), (8, 12)])) == [(2, 4), (8, 10)]
