"""The benchmark's arithmetic (FLOPs, medians, the roofline multiple), its report formats and a smoke run.
No test here asserts a timing: timings depend on the machine."""

import csv
import io
import json
from pathlib import Path

import pytest
from helpers import bench_report, run_cli

from compare.bench.bench import summarise
from compare.bench.flops import conv_multiply_adds, training_flops_per_sample
from compare.bench.variants import VARIANTS
from compare.stats import spread
from compare.views.bench_view import render_bench

ROOT = Path(__file__).parents[1]
RESULT_FIELDS = {
    "implementation",
    "variant",
    "batch_size",
    "trace_seconds",
    "steady_samples_per_second",
    "times_roofline",
    "inference_samples_per_second",
    "peak_rss_mb",
    "gflops_per_second",
}


def test_conv_multiply_adds_by_hand():
    """4x4 input, 3x3 kernel, 2 filters: a 2x2 output per filter, 9 multiply-adds per output value."""
    assert conv_multiply_adds(4, 4, 1, 2, 3) == 2 * 2 * 2 * 9
    assert conv_multiply_adds(5, 5, 3, 1, 3) == 3 * 3 * 1 * 9 * 3


def test_training_flops_of_the_seed_cnn_by_hand():
    """conv 26*26*32*9 = 194,688 MACs, dense 5408*10 = 54,080 MACs;
    forward (conv + dense) + backward (conv kernel grad + dense kernel and input grads), 2 FLOPs per MAC."""
    conv, dense = 194_688, 54_080
    assert (
        training_flops_per_sample()
        == 2 * ((conv + dense) + (conv + 2 * dense))
        == 1_103_232
    )


def test_training_flops_follow_the_shapes():
    assert training_flops_per_sample(classes=20) > training_flops_per_sample()
    assert training_flops_per_sample(filters=64) == pytest.approx(
        2 * training_flops_per_sample(), rel=1e-9
    )


def test_spread():
    assert spread([3.0, 1.0, 2.0, 10.0]) == {"median": 2.5, "min": 1.0, "max": 10.0}


def test_summarise_computes_medians_roofline_multiple_and_gflops():
    runs = [
        {
            "trace_seconds": t,
            "steady_samples_per_second": s,
            "inference_samples_per_second": i,
            "graph_calls_per_epoch": 10,
        }
        for t, s, i in [
            (1.0, 1000.0, 5000.0),
            (3.0, 3000.0, 7000.0),
            (2.0, 2000.0, 6000.0),
        ]
    ]
    asked = []

    def roofline_at(calls):
        asked.append(calls)
        return {"samples": 4000, "total_seconds": 0.5}

    row = summarise("raw", 128, runs, 900.0, 1e6, roofline_at)
    assert set(row) >= RESULT_FIELDS
    assert row["implementation"] == "raw_tf" and row["trace_seconds"] == 2.0
    assert row["steady_samples_per_second"] == {
        "median": 2000.0,
        "min": 1000.0,
        "max": 3000.0,
        "runs": [1000.0, 3000.0, 2000.0],
    }
    assert asked == [10]  # the roofline for the variant's own graph calls
    assert row["times_roofline"] == pytest.approx(4.0)  # 4000 / 2000 = 2 s over 0.5 s
    assert row["gflops_per_second"] == pytest.approx(2.0)  # 2000 samples/s * 1 MFLOP
    assert row["inference_samples_per_second"] == 6000.0


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_bench_table_shows_rows_floors_roofline_and_pairs(fmt):
    text = render_bench(bench_report(), fmt)
    assert "keras" in text and "5.00x" in text  # 1000 images at 100/s over 2 s
    assert "not run: PyTorch is not installed" in text
    assert "Floors: fp32 matmul 100 GFLOP/s, memory 10.0 GB/s" in text
    assert "Roofline at batch 32: 2.00 s per epoch" in text
    assert "1.50x" in text and "(1.20-1.80)" in text  # the pairs' ratio and interval


def test_bench_json_and_csv_round_trip():
    report = bench_report()
    assert json.loads(render_bench(report, "json")) == report
    rows = list(csv.DictReader(io.StringIO(render_bench(report, "csv"))))
    assert [row["variant"] for row in rows] == ["keras", "torch"]
    assert float(rows[0]["steady_samples_per_second_median"]) == 100.0


@pytest.mark.slow
def test_bench_smoke_run_has_the_promised_schema():
    """A tiny real benchmark: every field present and positive, one ratio per batch size."""
    completed = run_cli(
        "bench",
        "--dataset",
        "digits",
        "--train-samples",
        "256",
        "--test-samples",
        "64",
        "--batch-sizes",
        "32",
        "--repeats",
        "1",
        "--variants",
        "keras,raw,torch",
        "--pair-steps",
        "2",
        "--pair-rounds",
        "3",
        "--format",
        "json",
        "--quiet",
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert {
        "cpu",
        "logical_cores",
        "python",
        "tensorflow",
        "keras",
    } <= set(report["machine"])
    trained = [row for row in report["results"] if "unavailable" not in row]
    assert {row["variant"] for row in trained} >= {"keras", "raw"}
    assert all(
        row["times_roofline"] > 0 for row in trained if row["variant"] != "torch"
    )
    for row in trained:
        assert set(row) >= RESULT_FIELDS
        assert (
            row["steady_samples_per_second"]["min"]
            <= row["steady_samples_per_second"]["median"]
            <= row["steady_samples_per_second"]["max"]
        )
        assert (
            (row["times_roofline"] or 1) > 0
            and row["peak_rss_mb"] > 100
            and row["inference_samples_per_second"] > 0
        )
    (measured,) = report["by_batch_size"]
    assert measured["floors"]["peak_flops_per_second"] > 0
    assert measured["roofline"]["total_seconds"] > 0
    ratio = measured["pairs"]["results"]["per_batch"]["raw_over_keras"]
    assert ratio["low"] <= ratio["median"] <= ratio["high"]
    assert "profile" not in measured  # no folder named: no trace written


@pytest.mark.slow
@pytest.mark.parametrize(
    "args, message",
    [
        (["--batch-sizes", "32,0"], "positive integer"),
        (["--variants", "keras,nope"], "unknown variant 'nope'"),
        (["--epochs", "1"], "at least 2"),
        (["--repeats", "0"], "positive integer"),
    ],
)
def test_bench_bad_flags_are_one_line_errors(args, message):
    completed = run_cli("bench", *args)
    assert completed.returncode == 2
    assert (
        completed.stderr.count("\n") == 1
        and message in completed.stderr
        and "Traceback" not in completed.stderr
    )


def test_every_variant_is_described():
    assert all(description for _, _, description in VARIANTS.values())


@pytest.mark.slow
def test_record_writes_every_section_of_benchmarks_md(tmp_path):
    """`python -m compare record`, shrunk: one file holding each section, the command
    that wrote it named at its top, and the profiler's traces in the folder named."""
    output, traces = tmp_path / "BENCHMARKS.md", tmp_path / "traces"
    completed = run_cli(
        "record",
        "--dataset",
        "digits",
        "--train-samples",
        "256",
        "--test-samples",
        "64",
        "--seeds",
        "2",
        "--repeats",
        "1",
        "--pair-rounds",
        "3",
        "--pair-steps",
        "2",
        "--output",
        output,
        "--profile-dir",
        traces,
        "--quiet",
        timeout=900,
    )
    assert completed.returncode == 0, completed.stderr
    text = output.read_text()
    assert text.startswith("# Benchmarks") and "python -m compare record" in text
    for heading in (
        "## The default comparison",
        "## The machine's floors",
        "## FLOPs and bytes per training sample, and the roofline",
        "## The variants, each epoch as a multiple of its roofline",
        "## Where the time goes",
        "## Accuracy over seeds, and time to accuracy",
        "Speed, like with like",
    ):
        assert heading in text, heading
    assert list(traces.rglob("*.xplane.pb"))  # a trace for TensorBoard or Perfetto
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "BENCHMARKS.md",
        "traces",
    ]


def test_the_plus_bias_variant_is_the_same_maths(batch):
    """bench's raw_plus_bias swaps one op (x + b for tf.nn.bias_add): the same logits to
    float32 rounding, another graph (an AddV2 where the lesson has a BiasAdd)."""
    import numpy as np
    import tensorflow as tf

    from compare.bench.worker import plus_bias_cnn
    from raw_tf_impl.cnn import build_model

    images = tf.constant(batch[0])
    lesson, swapped = build_model(seed=0), build_model(seed=0)
    swapped.__class__ = plus_bias_cnn()
    np.testing.assert_allclose(
        swapped(images).numpy(), lesson(images).numpy(), rtol=1e-6, atol=1e-6
    )

    def op_types(model):
        graph = tf.function(model).get_concrete_function(images).graph
        return {op.type for op in graph.get_operations()}

    assert "BiasAdd" in op_types(lesson) and "BiasAdd" not in op_types(swapped)
