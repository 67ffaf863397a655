"""The comparison table: the seed's rows, extended with measured ones, in four formats."""

import csv
import io
import json

from tabulate import tabulate

from compare.loc import STEPS
from compare.views.i18n import TEXT


def optional(fmt):
    return lambda value: "n/a" if value is None else fmt.format(value)


MEASURED_ROWS = [  # (words key, how to read it from a result, how to print it)
    *[(("loc", step), lambda r, step=step: r["loc"][step], str) for step in STEPS],
    ("loc_extras", lambda r: r["loc"].get("extras", 0), str),
    ("loc_total", lambda r: r["loc"]["total"], str),
    ("params", lambda r: r["params"], "{:,}".format),
    ("first_epoch", lambda r: r["first_epoch_seconds"], optional("{:.2f}")),
    ("trace", lambda r: r["trace_seconds"], optional("{:.2f}")),
    ("steady", lambda r: r["steady_samples_per_second"], optional("{:,.0f}")),
    ("train_time", lambda r: r["train_seconds"], "{:.2f}".format),
    ("test_loss", lambda r: r["test_loss"], "{:.4f}".format),
    ("test_accuracy", lambda r: r["test_accuracy"], "{:.4f}".format),
]


def row_label(key, words):
    if isinstance(key, tuple):  # ("loc", step)
        return words["loc"].format(step=words["steps"][key[1]])
    return words[key]


def table_rows(results, lang="en"):
    """The seed's rows in its own words, then the measured rows: one column per result."""
    words = TEXT[lang]
    rows = []
    for key in ("abstraction", "typical_use"):
        label, keras_text, raw_text = words[key]
        rows.append(
            [
                label,
                *(
                    keras_text if r["implementation"] == "keras" else raw_text
                    for r in results
                ),
            ]
        )
    rows += [
        [
            row_label(key, words),
            *("not run" if "unavailable" in r else show(read(r)) for r in results),
        ]
        for key, read, show in MEASURED_ROWS
    ]
    return rows


def table_headers(results, lang="en"):
    """One column per result, named by implementation (and model, when there are several)."""
    words = TEXT[lang]
    several_models = len({r.get("model", "cnn") for r in results}) > 1

    def name(result):
        details = [result["backend"]] if result.get("backend") else []
        details += [result["model"]] if several_models else []
        return words[result["implementation"]] + (
            f" ({', '.join(details)})" if details else ""
        )

    return [words["characteristic"], *(name(result) for result in results)]


def summary(report):
    dataset, config = report["dataset"], report["config"]
    lines = [
        f"{dataset['name']} ({dataset['train_size']} train / {dataset['test_size']} test images, "
        f"from {dataset['source']}); epochs {config['epochs']}, batch size {config['batch_size']}, "
        f"lr {config['lr']}, seed {config['seed']}, batches per graph call "
        f"{config['steps_per_execution'] or 'as each style defaults (Keras 1, raw TF an epoch)'}"
    ]
    if config.get("strategy", "none") != "none":
        workers = report.get("workers")
        lines.append(
            f"Strategy {config['strategy']}: {config['replicas']} replicas in sync"
            + (
                f"; {workers['count']} local workers, final weights identical across them: "
                f"{workers['identical_weights']} (max difference {workers['max_weight_difference']})"
                if workers
                else ""
            )
        )
    if config.get("checkpoint_dir"):
        lines.append(
            f"Checkpoints in {config['checkpoint_dir']}: "
            + ", ".join(
                f"{table_headers([result])[1]} "
                + {0: "started afresh", "all": "had no epoch left to train"}.get(
                    result.get("resumed_after_epoch"),
                    f"went on after epoch {result.get('resumed_after_epoch')}",
                )
                for result in report["results"]
            )
        )
    lines += [
        f"{table_headers([result])[1]}: not run: {result['unavailable']}"
        for result in report["results"]
        if "unavailable" in result
    ]
    ratio = report.get("raw_over_keras_steady_throughput")
    if ratio:
        runs = len(report["results"][0].get("runs", [None]))
        how = f"median of {runs} pairwise ratios" if runs > 1 else "one run each"
        lines.append(
            f"Steady throughput, pure TensorFlow / Keras: {ratio:.2f}x ({how})"
        )
    return "\n".join(lines)


def flat_row(report, result):
    """One CSV row: the scalar fields of a result (history is in the JSON format only)."""
    row = {
        "dataset": report["dataset"]["name"],
        **report["config"],
        "implementation": result["implementation"],
    }
    row.update(
        {f"loc_{step}": count for step, count in result.get("loc", {}).items()}
    )  # none: did not run
    row.update(
        {
            key: value
            for key, value in result.items()
            if key not in ("implementation", "loc", "history", "runs")
        }
    )
    return row


def csv_text(rows):
    """Rows (dicts) as CSV, the columns being the union of their keys in first-seen order."""
    fieldnames = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fieldnames, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def render(report, fmt, lang="en"):
    """The report as text in `fmt`: table, markdown, json or csv (`lang` words the tables)."""
    results = report["results"]
    return report_text(
        report,
        fmt,
        TEXT[lang]["title"],
        table_headers(results, lang),
        table_rows(results, lang),
        summary(report),
        [flat_row(report, result) for result in results],
        numparse=True,
    )


# The benchmark -----------------------------------------------------------------------
BENCH_HEADERS = [
    "Variant",
    "Batch",
    "Tracing (s)",
    "Steady samples/s: median (min-max)",
    "Of compute limit",
    "Inference samples/s",
    "Peak RSS (MB)",
    "GFLOP/s",
]


def bench_row(result):
    if "unavailable" in result:
        return [
            result["variant"],
            result["batch_size"],
            f"not run: {result['unavailable']}",
            *[""] * 5,
        ]
    steady = result["steady_samples_per_second"]
    trace = result["trace_seconds"]
    return [
        result["variant"],
        result["batch_size"],
        "n/a" if trace is None else f"{trace:.2f}",
        f"{steady['median']:,.0f} ({steady['min']:,.0f}-{steady['max']:,.0f})",
        f"{result['efficiency']:.0%}",
        f"{result['inference_samples_per_second']:,.0f}",
        f"{result['peak_rss_mb']:,.0f}",
        f"{result['gflops_per_second']:.1f}",
    ]


def bench_summary(report):
    machine, config = report["machine"], report["config"]
    peak = machine["matmul_peak_gflops_per_second"]
    lines = [
        f"Machine: {machine['cpu']}, {machine['logical_cores']} logical cores, Python {machine['python']}, "
        f"TensorFlow {machine['tensorflow']}, Keras {machine['keras']}; fp32 matmul peak {peak:.0f} GFLOP/s",
        f"Data: {config['dataset']}, {config['epochs']} epochs per run (the first is warm-up), "
        f"{config['repeats']} interleaved repeats; {report['flops_per_training_sample'] / 1e6:.2f} MFLOP "
        f"per training sample (conv + dense, multiply-add = 2)",
    ]
    ops = machine["graph_ops_per_training_step"]
    lines += [
        f"Compute limit at batch {limit['batch_size']}: {limit['samples_per_second']:,.0f} samples/s = "
        f"{limit['gflops_per_second']:.1f} GFLOP/s ({limit['gflops_per_second'] / peak:.0%} of the matmul "
        f"peak); Keras' own train_step looped the same way: "
        f"{limit['keras_train_step_samples_per_second']:,.0f} samples/s"
        for limit in report["compute_limits"]
    ]
    lines.append(
        f"Graph ops per training step: raw TF {ops['raw_tf']}, Keras train_step {ops['keras']}"
    )
    lines += [
        f"Raw TF / Keras, defaults, at batch {ratio['batch_size']}: {ratio['raw_over_keras']:.2f}x "
        f"(median of {config['repeats']} pairwise ratios)"
        for ratio in report["ratios"]
    ]
    return "\n".join(lines)


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


def report_text(
    report, fmt, title, headers, rows, summary_text, flat_rows, numparse=False
):
    """A report as text in `fmt`: json (all of it), csv (`flat_rows`), or a titled table and summary."""
    if fmt == "json":
        return json.dumps(report, indent=2) + "\n"
    if fmt == "csv":
        return csv_text(flat_rows)
    table = tabulate(
        rows,
        headers,
        tablefmt="github" if fmt == "markdown" else "rounded_outline",
        disable_numparse=not numparse,
    )
    heading = f"## {title}" if fmt == "markdown" else title
    return f"{heading}\n\n{table}\n\n{summary_text}\n"


def render_bench(report, fmt):
    """The benchmark report as text in `fmt`: table, markdown, json or csv."""
    return report_text(
        report,
        fmt,
        "Training speed",
        BENCH_HEADERS,
        [bench_row(r) for r in report["results"]],
        bench_summary(report),
        [flat_bench_row(result) for result in report["results"]],
    )


# Transfer learning -------------------------------------------------------------------
def seconds(value):
    return "n/a" if value is None else f"{value:.1f}"


TRANSFER_ROWS = [  # (label, how to read it from a result); None: the row does not apply
    (
        "Lines of code: define (the seed's model, preprocessing)",
        lambda r: r["loc"]["define"],
    ),
    ("Lines of code: freeze and unfreeze", lambda r: r["loc"]["freeze"]),
    ("Lines of code: load pretrained weights", lambda r: r["loc"]["load"]),
    (
        "Lines of code: compile, train, evaluate (cnn.py's, reused)",
        lambda r: r["loc"]["compile_train_evaluate"],
    ),
    ("Lines of code: total", lambda r: r["loc"]["total"]),
    (
        "Parameters (trainable with the base frozen)",
        lambda r: f"{r['params']:,} ({r['transfer']['head']['trainable_params']:,})",
    ),
    (
        "Transfer, head only: tracing (s)",
        lambda r: seconds(r["transfer"]["head"]["trace_seconds"]),
    ),
    (
        "Transfer, head only: training time (s)",
        lambda r: seconds(r["transfer"]["head"]["train_seconds"]),
    ),
    (
        "Transfer, head only: test accuracy",
        lambda r: f"{r['transfer']['head']['test_accuracy']:.4f}",
    ),
    (
        "Fine-tuning: training time (s)",
        lambda r: (
            seconds(r["transfer"]["fine_tune"]["train_seconds"])
            if "fine_tune" in r["transfer"]
            else None
        ),
    ),
    (
        "Fine-tuning: test accuracy",
        lambda r: (
            f"{r['transfer']['fine_tune']['test_accuracy']:.4f}"
            if "fine_tune" in r["transfer"]
            else None
        ),
    ),
    ("From scratch: tracing (s)", lambda r: seconds(r["scratch"]["trace_seconds"])),
    (
        "From scratch: training time (s)",
        lambda r: seconds(r["scratch"]["train_seconds"]),
    ),
    ("From scratch: test accuracy", lambda r: f"{r['scratch']['test_accuracy']:.4f}"),
    ("Transfer minus scratch (accuracy points)", lambda r: f"{transfer_gain(r):+.1f}"),
]


def transfer_gain(result):
    """Accuracy points the best transfer phase gains over training from scratch."""
    best = max(phase["test_accuracy"] for phase in result["transfer"].values())
    return 100 * (best - result["scratch"]["test_accuracy"])


def transfer_summary(report):
    config, sizes, pretraining = (
        report["config"],
        report["sizes"],
        report["pretraining"],
    )
    classes = ",".join(map(str, config["target_classes"]))
    lines = [
        f"{report['dataset']['name']} from {report['dataset']['source']}, grey 28x28 resized to "
        f"{config['image_size']}x{config['image_size']}x3. Target task: classes {classes}, "
        f"{sizes['target_train']} labelled images, {sizes['target_test']} test images; batch size "
        f"{config['batch_size']}, lr {config['lr']}, head {config['epochs']} epochs, from scratch "
        f"{config['scratch_epochs']} epochs, fine-tuning {config['fine_tune_epochs']} epochs "
        f"(lr {config['fine_tune_lr']}, stages {','.join(config['fine_tune_stages'])}), seed {config['seed']}"
    ]
    if pretraining:
        lines.append(
            f"Pretrained base: trained here the Keras way on classes "
            f"{','.join(map(str, pretraining['classes']))} ({pretraining['samples']} images, "
            f"{pretraining['epochs']} epochs, {pretraining['train_seconds']:.0f} s, source-task test "
            f"accuracy {pretraining['test_accuracy']:.4f}), saved as a Keras weights file that both "
            f"styles load"
        )
    else:
        lines.append(
            {
                "imagenet": "Pretrained base: ImageNet, through Keras' download-and-cache path",
                "none": "Base: random weights (--weights none), frozen: what transfer from nothing gives",
            }.get(config["weights"], f"Pretrained base: {config['weights']}")
        )
    return "\n".join(lines)


def render_transfer(report, fmt):
    """The transfer-learning report as text in `fmt`: table, markdown, json or csv."""
    results = report["results"]
    rows = [
        [label, *(read(r) for r in results)]
        for label, read in TRANSFER_ROWS
        if any(read(r) is not None for r in results)
    ]
    flat = [
        {
            "implementation": r["implementation"],
            **{f"loc_{k}": v for k, v in r["loc"].items()},
            "params": r["params"],
            "transfer_minus_scratch_points": transfer_gain(r),
            **{
                f"{name}_{key}": value
                for name, phase in [*r["transfer"].items(), ("scratch", r["scratch"])]
                for key, value in phase.items()
                if key != "loss"
            },
        }
        for r in results
    ]
    return report_text(
        report,
        fmt,
        "ResNet50 transfer learning: Keras vs pure TensorFlow",
        ["", *(TEXT["en"][r["implementation"]] for r in results)],
        rows,
        transfer_summary(report),
        flat,
    )
