"""Small statistics shared by the comparison and the benchmark."""

import statistics

import numpy as np


def spread(values):
    """{"median", "min", "max"} of measured values."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def throughput_ratio(numerator_runs, denominator_runs):
    """The median of the pairwise steady-throughput ratios of runs made side by side."""
    ratios = [
        a["steady_samples_per_second"] / b["steady_samples_per_second"]
        for a, b in zip(numerator_runs, denominator_runs, strict=True)
        if a["steady_samples_per_second"] and b["steady_samples_per_second"]
    ]
    return statistics.median(ratios) if ratios else None


def trace_noise_level(trace, measured=None):
    """The noise level of a tracing estimate (first graph call minus the same work at
    steady speed): `measured` (how far the same work's time moved between measurements;
    None where nothing measured it), and at least the estimate's own size where it is
    negative, since tracing cannot take less than no time. None: not known."""
    if trace is None:
        return None
    if trace < 0:
        return max(measured or 0.0, -trace)
    return measured


def trace_over_runs(runs):
    """{"trace_seconds", "trace_noise_seconds"} of repeated runs: the median estimate, and
    as its noise level the larger of the runs' median level and the distance from the
    median to the farthest run's estimate. Runs without a noise field count as unmeasured."""
    traces = [run["trace_seconds"] for run in runs]
    if None in traces:
        return {"trace_seconds": None, "trace_noise_seconds": None}
    trace = statistics.median(traces)
    levels = [run.get("trace_noise_seconds") for run in runs]
    known = [level for level in levels if level is not None]
    measured = [statistics.median(known)] if known else []
    if len(runs) > 1:
        measured.append(max(abs(value - trace) for value in traces))
    return {
        "trace_seconds": trace,
        "trace_noise_seconds": trace_noise_level(
            trace, max(measured) if measured else None
        ),
    }


def median_interval(values, confidence=0.95, resamples=2000, seed=0):
    """{"median", "low", "high", "min", "max"}: the median of `values` and a bootstrap
    interval for it (the values resampled with replacement `resamples` times, from a
    fixed seed so that the same values give the same interval). One value: its own."""

    values = np.asarray(values, dtype=float)
    draws = np.random.default_rng(seed).choice(values, (resamples, len(values)))
    medians = np.median(draws, axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(medians, [tail, 100 - tail])
    return {
        **spread(values.tolist()),
        "median": float(np.median(values)),
        "low": float(low),
        "high": float(high),
    }
