"""Figures for the lecture: training curves of both styles, and lines of code per step."""

import io

from compare.language import exact, language, speaking
from compare.loc import STEPS
from compare.views.i18n import TEXT


def pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: no screen needed
    import matplotlib.pyplot as plt

    return plt


def numbers_in_language(axis):
    """Tick labels written as the current language writes numbers (0,85 in Brazil)."""
    from matplotlib.ticker import FuncFormatter

    lang = language()

    def write(value, position):
        with speaking(lang):
            return exact(round(value, 6))

    axis.yaxis.set_major_formatter(FuncFormatter(write))
    axis.xaxis.set_major_formatter(FuncFormatter(write))


def sentence_case(word):
    return word[:1].upper() + word[1:]


def label(result, words):
    details = [
        detail
        for detail in (result.get("backend"), result.get("model"))
        if detail and detail != "cnn"
    ]
    return words[result["implementation"]] + (
        f" ({', '.join(details)})" if details else ""
    )


def training_curves(results, lang=None):
    """Loss and accuracy per epoch, train (solid) and test (dashed), for each result that
    ran, in `lang` (None: the current language)."""
    plt = pyplot()
    words = TEXT[lang or language()]
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ran = [result for result in results if "history" in result]
    for axis, metric in zip(axes, ("loss", "accuracy"), strict=True):
        for index, result in enumerate(ran):
            history, colour = result["history"], colours[index % len(colours)]
            epochs = range(1, len(history[metric]) + 1)
            axis.plot(
                epochs,
                history[metric],
                "o-",
                color=colour,
                label=f"{label(result, words)}, {words['train']}",
            )
            if f"val_{metric}" in history:
                axis.plot(
                    epochs,
                    history[f"val_{metric}"],
                    "s--",
                    color=colour,
                    label=f"{label(result, words)}, {words['test']}",
                )
        axis.set_title(sentence_case(words[metric]))
        axis.set_xlabel(sentence_case(words["epoch"]))
        axis.xaxis.get_major_locator().set_params(integer=True)
        axis.grid(alpha=0.3)
        with speaking(lang):
            numbers_in_language(axis)
    axes[1].legend(loc="lower right")
    return figure


def lines_of_code_chart(results, lang=None):
    """Grouped bars: logical lines of code per step for each style (and model)."""
    plt = pyplot()
    words = TEXT[lang or language()]
    results = list(
        {
            (r["implementation"], r.get("model")): r for r in results if "loc" in r
        }.values()
    )
    figure, axis = plt.subplots(figsize=(6, 3.2), layout="constrained")
    width = 0.8 / len(results)
    for index, result in enumerate(results):
        positions = [step + index * width for step in range(len(STEPS))]
        counts = [result["loc"][step] for step in STEPS]
        bars = axis.bar(
            positions, counts, width, label=label({**result, "backend": None}, words)
        )
        axis.bar_label(bars, fontsize=8)
    axis.set_xticks(
        [step + width * (len(results) - 1) / 2 for step in range(len(STEPS))],
        [words["steps"][step] for step in STEPS],
    )
    axis.set_title(words["loc_chart"])
    axis.legend()
    return figure


def png_bytes(figure, dpi=110):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    pyplot().close(figure)
    return buffer.getvalue()
