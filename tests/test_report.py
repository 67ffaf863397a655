"""The lecture views: side-by-side code, concept map, Portuguese words, curves and the HTML report,
the last opened in a real headless Chromium."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from compare.loc import STEPS
from compare.views.html_report import render_html
from compare.views.i18n import TEXT, step_titles
from compare.views.report import render

ROOT = Path(__file__).parents[1]
CHROMIUM = (
    shutil.which("chromium")
    or shutil.which("chromium-browser")
    or shutil.which("google-chrome")
)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install chromium chromium-driver)",
)


def synthetic_report():
    """A report shaped like `python -m compare --format json` (with curves), without training."""

    def result(name, loc, accuracy):
        return {
            "implementation": name,
            "loc": dict(zip((*STEPS, "total"), loc)),
            "params": 54410,
            "trace_seconds": 1.0,
            "first_epoch_seconds": 4.0,
            "steady_samples_per_second": 20000.0,
            "train_seconds": 12.0,
            "test_loss": 0.34,
            "test_accuracy": accuracy,
            "history": {
                "loss": [0.5, 0.35],
                "accuracy": [0.82, 0.88],
                "val_loss": [0.4, 0.36],
                "val_accuracy": [0.85, 0.87],
            },
        }

    return {
        "dataset": {
            "name": "fashion_mnist",
            "source": "test",
            "train_size": 60000,
            "test_size": 10000,
        },
        "config": {
            "epochs": 2,
            "batch_size": 128,
            "lr": 0.001,
            "seed": 0,
            "steps_per_execution": None,
        },
        "results": [
            result("keras", (3, 3, 3, 2, 13), 0.881),
            result("raw_tf", (21, 19, 42, 11, 96), 0.878),
        ],
        "raw_over_keras_steady_throughput": 1.0,
    }


# The concept map (its snippets: tests/test_concepts.py) -----------------------------------
def test_readme_concept_map_matches_the_code():
    """The README's concept map is the one the report shows (regenerate it if this fails)."""
    from compare.views.concepts import concept_map_markdown

    assert concept_map_markdown("en") in (ROOT / "README.md").read_text()


# Portuguese -------------------------------------------------------------------------------
def test_both_languages_have_the_same_words():
    assert set(TEXT["en"]) == set(TEXT["pt"])


def test_portuguese_table_uses_the_seed_lectures_words():
    """The seed's Portuguese, in sentence case; its English says what "high" means."""
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


def chromium(*args, tmp_path):
    """Run headless Chromium on a file; returns (stdout, stderr)."""
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    return completed.stdout, completed.stderr


def console_messages(stderr):
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


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
