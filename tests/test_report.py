"""The lecture views: side-by-side code, concept map, Portuguese words, curves and the HTML report,
the last opened in a real headless Chromium."""

import re
from pathlib import Path

import pytest
from helpers import chromium, console_messages, needs_chromium, synthetic_report

from compare.loc import STEPS
from compare.views.html_report import render_html
from compare.views.i18n import TEXT, step_titles
from compare.views.report import render

ROOT = Path(__file__).parents[1]


# The concept map (its snippets: tests/test_concepts.py) -----------------------------------
def test_manual_concept_map_matches_the_code():
    """The manual's concept map (docs/concept-map.md) is the one the report shows
    (regenerate it with `python -m compare.views.concepts` if this fails)."""
    from compare.views.concepts import MAP_PAGES, concept_map_markdown

    for lang, page in MAP_PAGES.items():
        assert concept_map_markdown(lang) in (ROOT / page).read_text()


# Portuguese -------------------------------------------------------------------------------
def test_both_languages_have_the_same_words():
    assert set(TEXT["en"]) == set(TEXT["pt"])


def test_portuguese_table_uses_the_seed_lectures_words():
    """The lecture's Portuguese, in sentence case; its English says what "high" means."""
    text = render(synthetic_report(), "table", lang="pt")
    assert "High: focused on fast development" in render(synthetic_report(), "table")
    for words in (
        "Característica",
        "Nível de abstração",
        "Alto: focado em rapidez de desenvolvimento",  # fast development, not speed
        "Baixo: controle detalhado",
        "Uso típico",
        "Prototipagem rápida",
        "Pesquisa / personalização avançada",
        "Acurácia no teste",
    ):
        assert words in text


# Curves and report -----------------------------------------------------------------------
def test_report_is_self_contained_and_complete():
    page = render_html(synthetic_report(), "en")
    assert len(page.encode()) < 2_000_000
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing to fetch
    assert page.count("data:image/png;base64,") == 2  # curves and lines-of-code chart
    assert 'class="measured"' in page and "Test accuracy" in page
    assert (
        page.count('<div class="block keras">')
        == page.count('<div class="block raw_tf">')
        == len(STEPS) + 2  # and the imports and the extras
    )
    assert all(f"Step {number}" in page for number in range(1, 5))


def test_portuguese_report():
    page = render_html(synthetic_report(), "pt")
    assert (
        '<html lang="pt-BR">' in page
        and "Mapa de conceitos" in page
        and step_titles("pt")["train"] in page
    )


@pytest.mark.slow
@needs_chromium
def test_console_error_detection_works(tmp_path):
    """The negative control: a page with a script error is caught by the same check."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>no_such_function();</script></body></html>")
    _, stderr = chromium("--dump-dom", page.as_uri(), tmp_path=tmp_path)
    assert any("no_such_function" in line for line in console_messages(stderr))


# The report page in Chromium (a real run's too): tests/test_report_page.py


def test_figures_label_backends_and_skip_rows_that_did_not_run():
    from compare.views.plots import lines_of_code_chart, training_curves

    results = synthetic_report()["results"]
    results[0] = {**results[0], "backend": "jax"}
    results.append(
        {
            "implementation": "keras",
            "backend": "torch",
            "model": "cnn",
            "unavailable": "not installed",
        }
    )
    figure = training_curves(results)
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert "Keras (jax), train" in labels and not any(
        "torch" in label for label in labels
    )
    assert len(lines_of_code_chart(results).axes[0].containers) == 2
