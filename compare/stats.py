"""Small statistics shared by the comparison and the benchmark."""

import statistics


def spread(values):
    """{"median", "min", "max"} of measured values."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def throughput_ratio(numerator_runs, denominator_runs):
    """The median of the pairwise steady-throughput ratios of runs made side by side."""
    ratios = [
        a["steady_samples_per_second"] / b["steady_samples_per_second"]
        for a, b in zip(numerator_runs, denominator_runs)
        if a["steady_samples_per_second"] and b["steady_samples_per_second"]
    ]
    return statistics.median(ratios) if ratios else None
