"""The comparison table on a projector: it fits --width (else the terminal's columns, else
100) in both languages, its box unbroken, the pairs table too; a --width too narrow for the
words is refused in one line; the glossary of its five words, importable for the notebooks."""

import os

import pytest
from helpers import bench_report, synthetic_report

from compare.views import fitted
from compare.views.glossary import TERMS, glossary_markdown
from compare.views.report import render


def with_pairs():
    """The synthetic report with the matched pairs under it."""
    report = synthetic_report()
    report["pairs"] = bench_report()["by_batch_size"][0]["pairs"]
    return report


def with_a_third_column():
    """And a third column, a backend that did not run."""
    report = with_pairs()
    report["results"].append(
        {"implementation": "keras", "backend": "jax", "unavailable": "not installed"}
    )
    return report


def assert_boxes_fit(text, width):
    """Every line within `width`; each table's lines all as wide, closed by its corners."""
    assert max(len(line) for line in text.splitlines()) <= width, text
    tables = text.split("╭")[1:]
    assert len(tables) >= 1
    for table in tables:
        lines = ("╭" + table.split("╯")[0] + "╯").splitlines()
        assert len({len(line) for line in lines}) == 1, "\n".join(lines)
        assert all(line[0] in "╭│├╰" for line in lines)


@pytest.mark.parametrize("lang", ["en", "pt"])
@pytest.mark.parametrize("width", [100, 80, fitted.MIN_WIDTH])
def test_the_table_fits_the_width_in_both_languages(lang, width):
    assert_boxes_fit(render(with_pairs(), "table", lang, width), width)
    if width >= 80:  # a third column's words need a little more than the minimum
        assert_boxes_fit(render(with_a_third_column(), "table", lang, width), width)


@pytest.mark.parametrize("lang", ["en", "pt"])
def test_a_wide_screen_keeps_each_label_on_one_line(lang):
    """Given the room (no width: as wide as it is), no cell wraps: a table row a line."""
    text = render(synthetic_report(), "table", lang)
    rows = [line for line in text.splitlines() if line.startswith("│")]
    assert len(rows) == 1 + 15  # the header, the lecture's 2 rows and 13 measured ones


def test_a_wrapped_label_is_indented_under_its_first_words():
    text = render(synthetic_report(), "table", "en", 100)
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if "extras (loop" in line)
    assert lines[first + 1].startswith("│   ")  # its continuation, two spaces in


def test_width_comes_from_the_flag_else_the_terminal_else_100(monkeypatch):
    from compare.cli import build_parser

    def width(*flags):
        return build_parser().parse_args(list(flags)).width

    assert width("--width", "72") == 72
    monkeypatch.setenv("COLUMNS", "120")
    assert width() == width("--width", "auto") == 120
    monkeypatch.setenv("COLUMNS", "30")  # a tiny terminal: the narrowest table
    assert width() == fitted.MIN_WIDTH
    monkeypatch.delenv("COLUMNS")

    def no_terminal(*args):
        raise OSError("not a terminal")

    monkeypatch.setattr(os, "get_terminal_size", no_terminal)
    assert width() == fitted.DEFAULT_WIDTH == 100


@pytest.mark.parametrize("value", ["59", "0", "1001", "wide"])
def test_a_width_too_narrow_or_not_a_number_is_one_line(capsys, value):
    from compare.cli import main

    with pytest.raises(SystemExit) as exit:
        main(["--width", value])
    error = capsys.readouterr().err
    assert exit.value.code == 2 and error.count("\n") == 1, error
    assert error.startswith("python -m compare: error: argument --width: must be")


def test_the_glossary_has_five_terms_in_each_language():
    for lang, words in {
        "en": ("tracing", "steady throughput", "graph call", "learning rate"),
        "pt": ("traçado", "velocidade estável", "chamada do grafo", "minilote"),
    }.items():
        lines = glossary_markdown(lang).splitlines()
        assert len(lines) == len(TERMS) == 5
        assert all(line.startswith("- **") and line.endswith(".") for line in lines)
        assert all(any(f"**{word}" in line for line in lines) for word in words)


def test_the_footer_says_why_the_accuracies_differ_unless_same_start():
    report = synthetic_report()
    assert "Why the test accuracies differ" in render(report, "table", "en", 100)
    report["config"]["same_start"] = True
    text = render(report, "table", "en", 100)
    assert "Why the test accuracies differ" not in text and "Same start" in text
