"""`python -m compare bench`: how fast each style trains, against what the machine can do.

Every variant (a style with its speed settings) runs in its own worker process, one
per batch size, so peak memory (RSS) is measured per process and no run inherits another's
warm caches. Repeats are interleaved (keras, raw, keras, raw, ...) so that drift of a shared
machine hits all variants alike. One more worker then measures the machine's floors (fp32
matmul peak, memory bandwidth, the dispatch floor: compare/bench/floors.py), from which
each variant's epoch is reported as a multiple of its roofline (compare/bench/roofline.py),
and the matched pairs (compare/harness/pairs.py), each ratio with its interval.
"""

import importlib.metadata
import multiprocessing
import os
import platform
import statistics

from compare import data
from compare.bench.flops import training_flops_per_sample
from compare.bench.roofline import roofline_seconds_per_epoch
from compare.bench.variants import MACHINE, VARIANTS
from compare.bench.worker import Worker
from compare.language import _, number
from compare.stats import spread, trace_over_runs


# Putting it together, in the parent process ------------------------------------------
def machine_description():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next(
                line.split(":", 1)[1].strip()
                for line in cpuinfo
                if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    versions = {
        name: importlib.metadata.version(name)
        for name in ("tensorflow", "keras", "numpy")
    }
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        **versions,
    }


def summarise(variant, batch_size, runs, rss_mb, flops_per_sample, roofline_at=None):
    """One result row: medians over the repeats, and the epoch's time at the median
    speed as a multiple of the roofline for its graph calls (`roofline_at(calls)`:
    the roofline's seconds per epoch; None: not measured)."""
    style, _, description = VARIANTS[variant]
    steady = spread([run["steady_samples_per_second"] for run in runs])
    calls = runs[0].get("graph_calls_per_epoch")
    row = {
        "implementation": style,
        "variant": variant,
        "description": description,
        "batch_size": batch_size,
        **trace_over_runs(runs),  # the median, and its noise level
        "steady_samples_per_second": {
            **steady,
            "runs": [run["steady_samples_per_second"] for run in runs],
        },
        "inference_samples_per_second": statistics.median(
            run["inference_samples_per_second"] for run in runs
        ),
        "peak_rss_mb": rss_mb,
        "gflops_per_second": steady["median"] * flops_per_sample / 1e9,
        "graph_calls_per_epoch": calls,
        "times_roofline": None,  # PyTorch: no graph calls to count
    }
    if roofline_at and calls:
        roofline = roofline_at(calls)
        epoch_seconds = roofline["samples"] / steady["median"]
        row["times_roofline"] = epoch_seconds / roofline["total_seconds"]
    return row


def bench_batch_size(config, batch_size, say):
    """All variants at one batch size, in fresh workers, then the machine worker's
    floors and pairs: (rows, the machine's figures)."""

    context = multiprocessing.get_context("spawn")
    roles = (*config.variants, MACHINE)
    workers = {
        role: Worker(context, role, config, batch_size) for role in roles
    }  # start up in parallel
    try:
        for worker in workers.values():
            worker.wait_ready()
        runs = {variant: [] for variant in config.variants}
        for repeat in range(config.repeats):
            say(
                _(
                    "batch {batch_size}, repeat {repeat} of {repeats}: {variants}"
                ).format(
                    batch_size=batch_size,
                    repeat=number(repeat + 1),
                    repeats=number(config.repeats),
                    variants=", ".join(config.variants),
                )
            )
            for variant in config.variants:
                if not workers[variant].unavailable:
                    runs[variant].append(workers[variant].ask("train"))
        say(
            _("batch {batch_size}: the machine's floors and the matched pairs").format(
                batch_size=batch_size
            )
        )
        machine = workers[MACHINE].ask("machine")
        peak_rss = {
            role: worker.ask("stop")
            for role, worker in workers.items()
            if not worker.unavailable
        }
    finally:
        for worker in workers.values():
            worker.close()
    flops = training_flops_per_sample()
    samples = runs_samples(config)

    def roofline_at(calls):
        return roofline_seconds_per_epoch(
            samples, batch_size, machine["floors"], graph_calls=calls
        )

    rows = [
        summarise(
            variant, batch_size, runs[variant], peak_rss[variant], flops, roofline_at
        )
        if runs[variant]
        else {
            "implementation": VARIANTS[variant][0],
            "variant": variant,
            "batch_size": batch_size,
            "unavailable": workers[variant].unavailable,
        }
        for variant in config.variants
    ]
    machine["roofline"] = roofline_at(None)
    return rows, machine


def runs_samples(config):
    """The training images each run trains on per epoch."""

    dataset = data.load_dataset(
        config.dataset, config.data_dir, config.train_samples, config.test_samples
    )
    return len(dataset.x_train)


def bench(config, say=lambda message: None):
    """The whole benchmark as a JSON-ready dict: the machine, its floors and roofline,
    the variants' rows and the matched pairs, per batch size."""
    results, machine, per_batch = [], machine_description(), []
    for batch_size in config.batch_sizes:
        rows, measured = bench_batch_size(config, batch_size, say)
        results += rows
        per_batch.append({"batch_size": batch_size, **measured})
    return {
        "machine": machine,
        "config": config.reported(),
        "flops_per_training_sample": training_flops_per_sample(),
        "results": results,
        "by_batch_size": per_batch,
    }
