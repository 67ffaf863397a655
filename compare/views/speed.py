"""The matched pairs (compare/harness/pairs.py) and the seeds' spread, as text under the
comparison table: each pair's speeds, the absolute gap per step and the ratio with its
interval; the mean and spread of accuracy and time-to-accuracy over seeds."""

import textwrap

from tabulate import tabulate

from compare.language import N_, _, language, number, quantity
from compare.views.fitted import fitted_table
from compare.views.i18n import TEXT

PAIR_NAMES = {
    "per_batch": N_("1. The lessons as written:\none batch per graph call"),
    "fused": N_("2. Fused: all the batches\nin one graph call"),
    "step": N_("3. The train step alone,\nlooped in one graph"),
}


def speed_cell(style):
    """ "13,950/s", then "9,176 µs/step": the median samples/s and microseconds per step."""
    return _("{rate}/s\n{micro} µs/step").format(
        rate=number(style["samples_per_second"]["median"]),
        micro=number(style["microseconds_per_step"]),
    )


def ratio_cell(ratio):
    """ "1.17x", then "(1.08-1.31)"; a * where the interval holds 1: no difference
    stands above the noise."""
    cell = _("{median}x\n({low}-{high})").format(
        median=number(ratio["median"], 2),
        low=number(ratio["low"], 2),
        high=number(ratio["high"], 2),
    )
    return cell + " *" if ratio["low"] <= 1 <= ratio["high"] else cell


def pair_rows(pairs):
    rows = []
    for name, result in pairs["results"].items():
        keras, raw = result["keras"], result["raw_tf"]
        gap = keras["microseconds_per_step"] - raw["microseconds_per_step"]
        rows.append(
            [
                _(PAIR_NAMES[name]),
                speed_cell(keras),
                speed_cell(raw),
                ("+" if gap >= 0 else "-") + number(abs(gap)),
                ratio_cell(result["raw_over_keras"]),
            ]
        )
    return rows


def pair_headers():
    words = TEXT[language()]
    return [
        _("Matched pair"),
        words["keras"],
        words["raw_tf"],
        _("Gap\n(µs/step)"),
        _("Raw / Keras\n(95% CI)"),
    ]


def pairs_text(pairs, fmt, width=None):
    """The pairs table and the lines that say what was timed (a table fits `width`
    columns where its words allow: compare/views/fitted.py; None: as it is, the notes 80
    columns wide)."""
    rows, headers = pair_rows(pairs), pair_headers()
    if fmt == "markdown":  # a Markdown cell holds one line
        rows, headers = (
            [[cell.replace("\n", "<br>") for cell in row] for row in rows],
            [header.replace("\n", " ") for header in headers],
        )
        table = tabulate(rows, headers, tablefmt="github", disable_numparse=True)
    else:
        table = fitted_table(rows, headers, width)
    notes = _(
        "Speed, like with like: batch size {batch_size}, {rounds} interleaved, each of "
        "{steps} per style; the speeds are medians, the ratio is the median of the "
        "rounds' pairwise ratios with a bootstrap 95% interval. Timed from the first "
        "step to the last (fit's set-up, paid once per fit, outside); pair 3 runs one "
        "batch already in memory, no input pipeline. Gap: Keras' µs per step minus "
        "raw's. *: the interval holds 1, no difference stands above the noise."
    ).format(
        batch_size=pairs["batch_size"],
        rounds=quantity(pairs["rounds"], "{count} round", "{count} rounds"),
        steps=quantity(pairs["steps"], "{count} batch", "{count} batches"),
    )
    heading = _("Speed, like with like")
    if fmt == "markdown":
        return f"### {heading}\n\n{table}\n\n{notes}"
    notes = textwrap.fill(notes, width or 80, break_on_hyphens=False)
    return f"{heading}\n\n{table}\n{notes}"


def seeds_lines(seeds):
    """One line per style: accuracy mean ± std, and the time to the target accuracy."""
    lines = []
    count = len(seeds["seeds"])
    for style, summary in seeds["styles"].items():
        reached = [t for t in summary["seconds_to_target"] if t is not None]
        if reached:
            spread = summary["seconds_to_target_std"]
            time_text = _(
                "reached {target} in {mean} s{spread} ({reached} of {runs})"
            ).format(
                target=number(seeds["target_accuracy"], 2),
                mean=number(summary["seconds_to_target_mean"], 1),
                spread="" if spread is None else " ± " + number(spread, 1),
                reached=number(len(reached)),
                runs=number(count),
            )
        else:
            time_text = _("never reached {target}").format(
                target=number(seeds["target_accuracy"], 2)
            )
        lines.append(
            _(
                "{style}, seeds {first}-{last}: test accuracy {mean} ± {std}; {time}"
            ).format(
                style=TEXT[language()][style],
                first=seeds["seeds"][0],
                last=seeds["seeds"][-1],
                mean=number(summary["test_accuracy_mean"], 4),
                std=number(summary["test_accuracy_std"], 4),
                time=time_text,
            )
        )
    return lines


def seeds_table(seeds):
    """--seeds as a Markdown table: per style, the test accuracy's mean ± std over the
    seeds and the training seconds to the target accuracy."""
    rows = []
    for style, summary in seeds["styles"].items():
        reached = [t for t in summary["seconds_to_target"] if t is not None]
        mean, spread = (
            summary["seconds_to_target_mean"],
            summary["seconds_to_target_std"],
        )
        rows.append(
            [
                TEXT[language()][style],
                ", ".join(number(value, 4) for value in summary["test_accuracy"]),
                number(summary["test_accuracy_mean"], 4)
                + " ± "
                + number(summary["test_accuracy_std"], 4),
                _("n/a")
                if mean is None
                else number(mean, 1)
                + ("" if spread is None else " ± " + number(spread, 1)),
                f"{len(reached)} / {len(summary['seconds_to_target'])}",
            ]
        )
    headers = [
        _("Style"),
        _("Test accuracy per seed"),
        _("Mean ± std"),
        _("Seconds to {target} (mean ± std)").format(
            target=number(seeds["target_accuracy"], 2)
        ),
        _("Runs that reached it"),
    ]
    table = tabulate(rows, headers, tablefmt="github", disable_numparse=True)
    seeds_used = ", ".join(str(seed) for seed in seeds["seeds"])
    return (
        table
        + "\n\n"
        + _(
            "Seeds {seeds}: each style from each seed's own initialisation and batch order; "
            "the seconds are training time to the end of the first epoch whose test "
            "accuracy reached the target (the scoring left out)."
        ).format(seeds=seeds_used)
    )
