"""The comparison table: the lecture's rows, extended with measured ones, in four formats."""

import csv
import io
import json

from tabulate import tabulate

from compare.language import _, exact, language, number, speaking
from compare.loc import STEPS
from compare.views.fitted import fitted_table, paragraph
from compare.views.glossary import glossary_markdown, glossary_text
from compare.views.i18n import TEXT
from compare.views.speed import pairs_text, seeds_lines
from compare.views.tracing import tracing_cell


def decimals(places):
    """How to print a number with `places` decimals, as the current language writes it;
    n/a for None."""
    return lambda value: _("n/a") if value is None else number(value, places)


MEASURED_ROWS = [  # (words key, how to read it from a result, how to print it)
    *[
        (("loc", step), lambda r, step=step: r["loc"][step], decimals(0))
        for step in STEPS
    ],
    ("loc_extras", lambda r: r["loc"].get("extras", 0), decimals(0)),
    ("loc_total", lambda r: r["loc"]["total"], decimals(0)),
    ("params", lambda r: r["params"], decimals(0)),
    ("first_epoch", lambda r: r["first_epoch_seconds"], decimals(2)),
    (
        "trace",
        lambda r: (r["trace_seconds"], r.get("trace_noise_seconds")),
        lambda estimate: tracing_cell(*estimate),  # "< noise (±X s)", never negative
    ),
    ("steady", lambda r: r["steady_samples_per_second"], decimals(0)),
    ("train_time", lambda r: r["train_seconds"], decimals(2)),
    ("test_loss", lambda r: r["test_loss"], decimals(4)),
    ("test_accuracy", lambda r: r["test_accuracy"], decimals(4)),
]


def row_label(key, words):
    if isinstance(key, tuple):  # ("loc", step)
        return words["loc"].format(step=words["steps"][key[1]])
    return words[key]


def table_rows(results, lang=None):
    """The lecture's rows in its own words, then the measured rows: one column per result
    (`lang`: en or pt; None: the current language)."""
    with speaking(lang):
        return measured_table_rows(results, TEXT[language()])


def measured_table_rows(results, words):
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
            *(_("not run") if "unavailable" in r else show(read(r)) for r in results),
        ]
        for key, read, show in MEASURED_ROWS
    ]
    return rows


def table_headers(results, lang=None):
    """One column per result, named by style (and model, when there are several)."""
    words = TEXT[lang or language()]
    several_models = len({r.get("model", "cnn") for r in results}) > 1

    def name(result):
        details = [result["backend"]] if result.get("backend") else []
        details += [result["model"]] if several_models else []
        return words[result["implementation"]] + (
            f" ({', '.join(details)})" if details else ""
        )

    return [words["characteristic"], *(name(result) for result in results)]


def strategy_line(report):
    """A distributed run: its strategy, replicas and (local workers) their agreement."""
    config, workers = report["config"], report.get("workers")
    line = _("Strategy {strategy}: {replicas} replicas in sync").format(
        strategy=config["strategy"], replicas=config["replicas"]
    )
    if workers:
        line += _(
            "; {count} local workers, final weights identical across them: "
            "{identical} (max difference {difference})"
        ).format(
            count=workers["count"],
            identical=_("yes") if workers["identical_weights"] else _("no"),
            difference=workers["max_weight_difference"],
        )
    return line


def checkpoints_line(report):
    """Where the checkpoints are, and how each style's run began."""
    resumed = {0: _("started afresh"), "all": _("had no epoch left to train")}
    return _("Checkpoints in {folder}: ").format(
        folder=report["config"]["checkpoint_dir"]
    ) + ", ".join(
        f"{table_headers([result])[1]} "
        + resumed.get(
            result.get("resumed_after_epoch"),
            _("went on after epoch {epoch}").format(
                epoch=result.get("resumed_after_epoch")
            ),
        )
        for result in report["results"]
    )


def summary(report):
    dataset, config = report["dataset"], report["config"]
    lines = [
        _(
            "{name} ({train} train / {test} test images, from {source}); epochs "
            "{epochs}, mini-batch size {batch_size}, learning rate {lr}, seed {seed}, "
            "mini-batches per graph call {per_call}"
        ).format(
            name=dataset["name"],
            train=number(dataset["train_size"]),
            test=number(dataset["test_size"]),
            source=_(dataset["source"]),
            epochs=config["epochs"],
            batch_size=config["batch_size"],
            lr=exact(config["lr"]),
            seed=config["seed"],
            per_call=config["steps_per_execution"]
            or _("1, as both lessons are written"),
        )
    ]
    if config.get("strategy", "none") != "none":
        lines.append(strategy_line(report))
    if config.get("checkpoint_dir"):
        lines.append(checkpoints_line(report))
    lines += [
        _("{column}: not run: {reason}").format(
            column=table_headers([result])[1], reason=_(result["unavailable"])
        )
        for result in report["results"]
        if "unavailable" in result
    ]
    interval = report.get("raw_over_keras_steady_throughput_interval")
    if interval and "pairs" not in report:  # repeats: the runs' ratio, its interval
        lines.append(
            _(
                "Steady throughput, pure TensorFlow / Keras: {ratio}x ({low}-{high}, "
                "bootstrap 95% interval over {count} interleaved runs)"
            ).format(
                ratio=number(interval["median"], 2),
                low=number(interval["low"], 2),
                high=number(interval["high"], 2),
                count=number(len(interval["runs"])),
            )
        )
    if "pairs" in report:
        lines.append(
            _(
                "Steady throughput: one training run per style (single runs spread by "
                "±30% on a shared machine); the ratio comes from the matched pairs below"
            )
        )
    if config.get("same_start"):
        lines.append(
            _("Same start: raw TF began from the Keras model's initial weights")
        )
    elif both_styles_ran(report):
        lines.append(
            _(
                "Why the test accuracies differ: each style draws its own initial "
                "weights from the seed (both take the same mini-batches, in the same "
                "order). --same-start gives raw TF the Keras weights: the accuracies "
                "then agree."
            )
        )
    if "seeds" in report:
        lines += seeds_lines(report["seeds"])
    if any(
        "unavailable" not in result and result.get("steady_samples_per_second") is None
        for result in report["results"]
    ):
        lines.append(
            _(
                "n/a: no steady throughput to measure: with one epoch, the raw loop's "
                "only graph call is the whole epoch (train 2 epochs or more)"
            )
        )
    if any("val_loss" in result.get("history", {}) for result in report["results"]):
        lines.append(
            _(
                "The timings leave out scoring the test set after each epoch (for the "
                "curves)"
            )
        )
    return "\n".join(lines)


def both_styles_ran(report):
    ran = {r["implementation"] for r in report["results"] if "unavailable" not in r}
    return {"keras", "raw_tf"} <= ran


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


def render(report, fmt, lang=None, width=None):
    """The report as text in `fmt`: table, markdown, json or csv (`lang` words the tables;
    None: the current language). A table fits `width` columns (fitted.py; None: each
    cell and line as long as it is); the glossary of its words ends it."""
    with speaking(lang):
        return render_in_language(report, fmt, width)


def render_in_language(report, fmt, width=None):
    lang, results = language(), report["results"]
    text = report_text(
        report,
        fmt,
        TEXT[lang]["title"],
        table_headers(results, lang),
        table_rows(results, lang),
        summary(report),
        [flat_row(report, result) for result in results],
        width,
        glossary=True,
    )
    if "pairs" in report and fmt in ("table", "markdown"):
        text += "\n" + pairs_text(report["pairs"], fmt, width) + "\n"
    return text


def report_text(
    report,
    fmt,
    title,
    headers,
    rows,
    summary_text,
    flat_rows,
    width=None,
    glossary=False,
):
    """A report as text in `fmt`: json (all of it), csv (`flat_rows`), or a titled table
    (`width`: fitted.py's), its summary and, with `glossary`, the glossary."""
    if fmt == "json":
        return json.dumps(report, indent=2) + "\n"
    if fmt == "csv":
        return csv_text(flat_rows)
    if fmt == "markdown":  # one paragraph per line: Markdown joins single newlines
        table = tabulate(rows, headers, tablefmt="github", disable_numparse=True)
        summary_text = summary_text.replace("\n", "\n\n")
        words = f"\n\n{_('Words used above:')}\n\n{glossary_markdown(None)}"
        footer = words if glossary else ""
        return f"## {title}\n\n{table}\n\n{summary_text}{footer}\n"
    table = fitted_table(rows, headers, width)
    footer = f"\n\n{glossary_text(width)}" if glossary else ""
    return f"{title}\n\n{table}\n\n{paragraph(summary_text, width)}{footer}\n"
