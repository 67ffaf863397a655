"""The benchmark's report (compare/bench/bench.py) as text: the variants' table, the
machine's floors and roofline, the matched pairs and the profile, in four formats."""

from compare.language import N_, _, number, quantity, speaking
from compare.views.report import report_text
from compare.views.speed import pairs_text
from compare.views.tracing import tracing_cell

BENCH_HEADERS = [
    N_("Variant"),
    N_("Batch"),
    N_("Tracing (s)"),
    N_("Steady samples/s: median (min-max)"),
    N_("Epoch / roofline"),
    N_("Inference samples/s"),
    N_("Peak RSS (MB)"),
    N_("GFLOP/s"),
]


def bench_row(result):
    if "unavailable" in result:
        return [
            result["variant"],
            result["batch_size"],
            _("not run: {reason}").format(reason=_(result["unavailable"])),
            *[""] * 5,
        ]
    steady = result["steady_samples_per_second"]
    multiple = result.get("times_roofline")
    return [
        result["variant"],
        result["batch_size"],
        tracing_cell(result["trace_seconds"], result.get("trace_noise_seconds")),
        "{median} ({low}-{high})".format(
            median=number(steady["median"]),
            low=number(steady["min"]),
            high=number(steady["max"]),
        ),
        _("n/a") if multiple is None else number(multiple, 2) + "x",
        number(result["inference_samples_per_second"]),
        number(result["peak_rss_mb"]),
        number(result["gflops_per_second"], 1),
    ]


def floors_line(floors):
    return _(
        "Floors: fp32 matmul {gflops} GFLOP/s, memory {bandwidth} GB/s (triad, bytes "
        "moved), a trivial tf.function call {dispatch} µs"
    ).format(
        gflops=number(floors["peak_flops_per_second"] / 1e9),
        bandwidth=number(floors["bandwidth_bytes_per_second"] / 1e9, 1),
        dispatch=number(floors["dispatch_seconds"] * 1e6),
    )


def bench_summary(report):
    machine, config = report["machine"], report["config"]
    lines = [
        _(
            "Machine: {cpu}, {cores} logical cores, Python {python}, TensorFlow "
            "{tensorflow}, Keras {keras}"
        ).format(
            cpu=machine["cpu"],
            cores=machine["logical_cores"],
            python=machine["python"],
            tensorflow=machine["tensorflow"],
            keras=machine["keras"],
        ),
        _(
            "Data: {dataset}, {epochs} epochs per run (the first is warm-up), "
            "{repeats}; {mflop} MFLOP per training sample "
            "(conv + dense, multiply-add = 2)"
        ).format(
            dataset=config["dataset"],
            epochs=config["epochs"],
            repeats=quantity(
                config["repeats"],
                "{count} interleaved repeat",
                "{count} interleaved repeats",
            ),
            mflop=number(report["flops_per_training_sample"] / 1e6, 2),
        ),
    ]
    for measured in report["by_batch_size"]:
        roofline, ops = measured["roofline"], measured["graph_ops_per_training_step"]
        lines += [
            floors_line(measured["floors"]),
            _(
                "Roofline at batch {batch_size}: {seconds} s per epoch of {samples} "
                "images, one graph call per batch (every op at the floors above; "
                "'Epoch / roofline' divides each variant's epoch by it)"
            ).format(
                batch_size=measured["batch_size"],
                seconds=number(roofline["total_seconds"], 2),
                samples=number(roofline["samples"]),
            ),
            _(
                "Graph ops per training step: raw TF {raw}, Keras train_step {keras}"
            ).format(raw=ops["raw_tf"], keras=ops["keras"]),
            *profile_lines(measured.get("profile")),
        ]
    return "\n".join(lines)


def profile_lines(profile):
    """Where the time of one training step goes, per style, from the profiler's trace."""
    if not profile:
        return []
    if not profile.get("available"):
        return [_("Profile: not taken: {reason}").format(reason=profile["reason"])]
    lines = [_("Profile (trace in {folder}):").format(folder=profile["logdir"])]
    for style, summary in profile["styles"].items():
        if not summary.get("available"):
            lines.append(f"  {style}: " + summary["reason"])
            continue
        lines.append(
            _(
                "  {style}: {wall} ms per step = ops running {ops} ms + gaps (host, "
                "dispatch) {gaps} ms; input pipeline {input} ms"
            ).format(
                style=style,
                wall=number(summary["wall_ms_per_step"], 2),
                ops=number(summary["op_ms_per_step"], 2),
                gaps=number(summary["gap_ms_per_step"], 2),
                input=number(summary["input_ms_per_step"], 2),
            )
        )
    return lines


def flat_bench_row(result):
    row = {
        key: value
        for key, value in result.items()
        if key != "steady_samples_per_second"
    }
    for statistic in ("median", "min", "max"):
        row[f"steady_samples_per_second_{statistic}"] = result.get(
            "steady_samples_per_second", {}
        ).get(statistic)
    return row


def render_bench(report, fmt, lang=None):
    """The benchmark report as text in `fmt`: table, markdown, json or csv."""
    with speaking(lang):
        text = report_text(
            report,
            fmt,
            _("Training speed"),
            [_(header) for header in BENCH_HEADERS],
            [bench_row(r) for r in report["results"]],
            bench_summary(report),
            [flat_bench_row(result) for result in report["results"]],
        )
        if fmt in ("table", "markdown"):
            for measured in report["by_batch_size"]:
                if "pairs" in measured:
                    text += "\n" + pairs_text(measured["pairs"], fmt) + "\n"
        return text
