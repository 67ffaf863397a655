"""Brazilian Portuguese everywhere a user reads: every message the code passes through
`_()` has its translation in the catalog, numbers are written as Brazil writes them, and
the outputs under --lang pt hold none of the English sentences the catalog knows."""

import ast
import re
from pathlib import Path

import pytest
from helpers import BAD_FLAGS, bench_report, synthetic_report

from compare.language import (
    _,
    catalog,
    exact,
    forms_of,
    number,
    percent,
    quantity,
    speaking,
)

ROOT = Path(__file__).parents[1]


def messages_in_code():
    """{English message: "file:line"} for every `_("literal")` or `N_("literal")` call
    in compare/."""
    found = {}
    for path in sorted((ROOT / "compare").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "N_", "_n", "quantity")
            ):
                literals = [
                    argument.value
                    for argument in node.args
                    if isinstance(argument, ast.Constant)
                    and isinstance(argument.value, str)
                ]
                if not literals:
                    continue
                message = (
                    tuple(literals)
                    if node.func.id in ("_n", "quantity")
                    else literals[0]
                )
                relative = path.relative_to(ROOT)
                found.setdefault(message, f"{relative}:{node.lineno}")
    return found


def exercise_comments():
    """The `#:` comments of the exercises (exercises/*.py): a student's starter says them
    in the student's language."""
    from compare.exercises.starter import comment_messages

    return {
        message: f"exercises/{path.name}"
        for path in sorted((ROOT / "exercises").glob("*.py"))
        for message in comment_messages(path.read_text(encoding="utf-8"))
    }


def words_messages():
    """The words of the tables and headings (compare/views/i18n.py's WORDS)."""
    from compare.views.i18n import WORDS

    def strings(words):
        if isinstance(words, str):
            yield words
        else:
            for word in words.values() if isinstance(words, dict) else words:
                yield from strings(word)

    return set(strings(WORDS))


def test_every_message_in_the_code_has_its_portuguese():
    wanted = {
        **messages_in_code(),
        **exercise_comments(),
        **dict.fromkeys(words_messages(), "i18n.WORDS"),
    }
    missing = {
        message: where
        for message, where in wanted.items()
        if message not in catalog("pt")
    }
    assert missing == {}


def test_the_catalog_holds_only_what_the_code_says():
    """No stale translation: every message in the catalog is one the code still says."""
    said = set(messages_in_code()) | set(exercise_comments()) | words_messages()
    assert sorted(map(str, set(catalog("pt")) - said)) == []


def test_the_catalog_keeps_the_placeholders():
    """A translation that drops or renames a {placeholder} would fail at .format()."""
    import string

    def fields(text):
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    wrong = {
        message: translation
        for message, translation in catalog("pt").items()
        for english in forms_of(message)
        for form in forms_of(translation)
        if fields(english) != fields(form)
    }
    assert wrong == {}


def test_numbers_are_written_as_brazil_writes_them():
    with speaking("pt"):
        assert (number(54410), number(0.881, 4), exact(0.001)) == (
            "54.410",
            "0,8810",
            "0,001",
        )
        assert percent(0.42) == "42%" and _("Test accuracy") == "Acurácia no teste"
    assert (number(54410), number(0.881, 4), exact(0.001)) == (
        "54,410",
        "0.8810",
        "0.001",
    )


def test_counts_take_the_form_each_language_gives_them():
    forms = ("{count} epoch", "{count} epochs")
    assert [quantity(n, *forms) for n in (0, 1, 2, 1000)] == [
        "0 epochs",
        "1 epoch",
        "2 epochs",
        "1,000 epochs",
    ]
    with speaking("pt"):  # Brazil counts 0 like 1
        assert [quantity(n, *forms) for n in (0, 1, 2, 1000)] == [
            "0 época",
            "1 época",
            "2 épocas",
            "1.000 épocas",
        ]


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError), speaking("xx"):
        pass


# What the user reads under --lang pt ------------------------------------------------------
def english_phrases():
    """The English the catalog knows: the literal runs of words between placeholders, of at
    least three words, from each message whose translation differs."""
    phrases = set()
    for message, translation in catalog("pt").items():
        translated = " | ".join(forms_of(translation))
        for english in forms_of(message):
            for piece in re.split(r"\{[^}]*\}|%\([^)]*\)[sr]|%[sr]", english):
                words = re.findall(r"[A-Za-z][A-Za-z'-]*", piece)
                if len(words) >= 3 and piece.strip() not in translated:
                    phrases.add(piece.strip(" ;:,.()"))
    return phrases


def english_in(text):
    return sorted(phrase for phrase in english_phrases() if phrase in text)


# Numbers as English writes them, never as Brazil does: a decimal point before 1, 2 or 4+
# digits (Brazil's thousands have 3), a thousands comma after a non-zero (not 0,001).
ENGLISH_NUMBER = re.compile(r"\d\.(?:\d{1,2}|\d{4,})(?!\d)|\b[1-9]\d{0,2},\d{3}(?!\d)")


def english_numbers(text):
    return ENGLISH_NUMBER.findall(text)


def test_the_scan_finds_english():
    """The negative control: an English table, its footer and glossary, and English
    numbers are caught by the same scans."""
    from compare.views.glossary import glossary_markdown
    from compare.views.report import render

    assert len(english_phrases()) > 50
    table = render(synthetic_report(), "table", "en", width=100)
    assert english_in(table) and english_numbers(table)
    footer = table.split("╯")[-1]  # the summary, the accuracies' note, the glossary
    assert english_in(footer) and english_in(glossary_markdown("en"))


def transfer_report():
    """A report shaped like `python -m compare transfer --format json`, without training."""
    phase = {
        "trace_seconds": 1.5,
        "train_seconds": 20.0,
        "test_accuracy": 0.9,
        "trainable_params": 20490,
    }
    result = {
        "loc": {
            "define": 9,
            "freeze": 2,
            "load": 1,
            "compile_train_evaluate": 8,
            "total": 30,
        },
        "params": 23_608_202,
        "transfer": {"head": phase, "fine_tune": {**phase, "test_accuracy": 0.93}},
        "scratch": {**phase, "test_accuracy": 0.7},
    }
    return {
        "dataset": {"name": "fashion_mnist", "source": "test"},
        "config": {
            "image_size": 32,
            "target_classes": [0, 1],
            "batch_size": 32,
            "lr": 0.001,
            "epochs": 2,
            "scratch_epochs": 2,
            "fine_tune_epochs": 1,
            "fine_tune_lr": 1e-5,
            "fine_tune_stages": ["conv5"],
            "seed": 0,
            "weights": "pretrain",
        },
        "sizes": {"target_train": 1200, "target_test": 200},
        "pretraining": {
            "classes": [2, 3],
            "samples": 2000,
            "epochs": 2,
            "train_seconds": 30.0,
            "test_accuracy": 0.95,
        },
        "results": [
            {**result, "implementation": "keras"},
            {**result, "implementation": "raw_tf"},
        ],
    }


def comparison_reports():
    """The synthetic comparison report, and the same with every optional summary line."""
    plain = synthetic_report()
    full = synthetic_report()
    full["config"].update(
        strategy="mirrored",
        replicas=2,
        checkpoint_dir="/tmp/ckpt",
        steps_per_execution=4,
    )
    full["workers"] = {
        "count": 2,
        "identical_weights": True,
        "max_weight_difference": 0,
    }
    full["results"][0]["resumed_after_epoch"] = 1
    full["results"][1]["resumed_after_epoch"] = "all"
    full["results"].append(
        {
            "implementation": "keras",
            "backend": "jax",
            "unavailable": "JAX is not installed",
        }
    )
    full["raw_over_keras_steady_throughput"] = 2.15
    full["raw_over_keras_steady_throughput_interval"] = {
        "median": 2.15,
        "low": 1.9,
        "high": 2.4,
        "runs": [1.9, 2.15, 2.4],
    }
    return plain, full


def test_every_table_and_summary_is_portuguese_with_brazilian_numbers():
    from compare.views.bench_view import render_bench
    from compare.views.report import render
    from compare.views.transfer_report import render_transfer

    texts = [render(report, "table", "pt") for report in comparison_reports()]
    texts += [render_bench(bench_report(), "table", "pt")]
    texts += [render_transfer(transfer_report(), "markdown", "pt")]
    for text in texts:
        assert english_in(text) == [], text
    for text in texts[:2]:  # the bench's machine line has versions such as 3.11
        assert english_numbers(text) == [], text
    comparison, full, bench, transfer = texts
    footer = comparison.split("╯")[-1]  # under the table: why the accuracies differ
    assert "Por que as acurácias no teste diferem" in footer
    assert "Termos usados acima:" in footer
    assert "- traçado (em inglês: tracing)" in footer
    assert "54.410" in comparison and "0,8810" in comparison  # params, accuracy
    assert "2,15x" in full and "Checkpoints em /tmp/ckpt" in full
    assert "Velocidade de treino" in bench and "1.000" not in bench.split("\n")[0]
    assert "23.608.202" in transfer and "+23,0" in transfer


def test_the_projector_table_and_the_step_are_portuguese(capsys):
    """The table at the projector's 100 columns, its pairs, footer and glossary, and
    `compare step --lang pt` (a real step on digits): no English, no English number."""
    from compare.cli import main
    from compare.views.report import render

    report = synthetic_report()
    report["pairs"] = bench_report()["by_batch_size"][0]["pairs"]
    table = render(report, "table", "pt", width=100)
    assert main(["step", "--dataset", "digits", "--quiet", "--lang", "pt"]) == 0
    step = capsys.readouterr().out
    for text in (table, step):
        unwrapped = re.sub(r"\s+", " ", text)  # a phrase may wrap across lines
        assert english_in(text) == english_in(unwrapped) == [], text
        assert english_numbers(text) == [], text
        named = text.replace("inglês: tracing", "")  # the glossary names the term
        assert "traçado" in text and "tracing" not in named
    assert "Velocidade estável (amostras/s)" in table and "em regime" not in table
    assert "taxa de aprendizado 0,001" in step and "minilote (em inglês" in step


def test_the_report_page_and_the_plots_are_portuguese():
    from compare.language import HTML_LANG
    from compare.views.html_report import render_html
    from compare.views.plots import lines_of_code_chart, training_curves

    page = render_html(synthetic_report(), "pt")
    prose = re.sub(r"<code>.*?</code>", "", page.split('<section id="code"')[0])
    assert f'lang="{HTML_LANG["pt"]}"' in page and english_in(prose) == []
    for figure in (
        training_curves(synthetic_report()["results"], "pt"),
        lines_of_code_chart(synthetic_report()["results"], "pt"),
    ):
        figure.canvas.draw()
        texts = [text.get_text() for text in figure.findobj(match=_has_text)]
        assert english_in(" | ".join(texts)) == []
        ticks = [
            label.get_text()
            for axis in figure.axes
            for label in axis.get_yticklabels()
            if "." in label.get_text() or "," in label.get_text()
        ]
        assert all("." not in tick for tick in ticks)  # 0,85, never 0.85


def _has_text(artist):
    return hasattr(artist, "get_text") and bool(artist.get_text())


ENGLISH_WORDS = re.compile(
    r"\b(the|and|with|from|after|before|must|not|is|are|has|have|images|epochs?)\b"
)


def english_words(text):
    """Common English words (none of them Portuguese) left in `text`, flags, paths and
    file names aside."""
    return ENGLISH_WORDS.findall(re.sub(r"\S*[-/_]\S*", "", text))


@pytest.mark.parametrize(
    "make_args", [case[0] for case in BAD_FLAGS.values()], ids=BAD_FLAGS.keys()
)
def test_errors_speak_portuguese(tmp_path, capsys, make_args):
    """Each bad flag or bad data of test_cli's list, under --lang pt: one line, in
    Portuguese, argparse's own messages included."""
    from compare.cli import main

    try:
        code = main(["--lang", "pt", *map(str, make_args(tmp_path))])
    except SystemExit as exit:
        code = exit.code
    error = capsys.readouterr().err.strip()
    assert code in (1, 2) and error.count("\n") == 0, error
    assert error.startswith("python -m compare: erro: "), error
    assert english_in(error) == [] and english_words(error) == [], error


def test_argparse_speaks_the_chosen_language_then_english_again(capsys, monkeypatch):
    """argparse's own words ("usage:", "options", "invalid choice") come from compare.mo
    through gettext while main runs; then English again, in the same process, even where
    the environment asks for Portuguese; the process's gettext is left as it was."""
    import gettext
    import os

    from compare.cli import main

    monkeypatch.setenv("LANGUAGE", "pt_BR")
    domain = gettext.textdomain()

    def run(*argv):
        with pytest.raises(SystemExit):
            main(list(argv))
        return capsys.readouterr()

    text = run("--lang", "pt", "--help").out
    assert text.startswith("uso: ") and "\nopções:\n" in text, text[:300]
    error = run("--lang", "pt", "--format", "xml").err
    assert "opção inválida: 'xml'" in error, error
    text = run("--help").out
    assert text.startswith("usage: ") and "\noptions:\n" in text, text[:300]
    assert "invalid choice: 'xml'" in run("--format", "xml").err
    assert os.environ["LANGUAGE"] == "pt_BR" and gettext.textdomain() == domain


def test_compare_mo_is_compare_po_compiled():
    """The program reads compare.mo, which a translator regenerates after editing
    compare.po: both say the same messages."""
    from tools.compile_catalog import COMMAND, catalogs, compiled, messages

    assert catalogs(), "no compare.po under compare/locale"
    for po, mo in catalogs():
        assert mo.is_file(), f"{mo} is missing: run `{COMMAND}` and commit it"
        assert messages(mo.read_bytes()) == messages(compiled(po)), (
            f"{mo.name} is not {po.name} compiled: run `{COMMAND}` and commit it"
        )


def test_the_program_reads_every_translated_message_and_no_other():
    """catalog("pt") is what compare.mo holds: each message of compare.po that is translated
    and not fuzzy. A count's message is translated in all its forms or in none (compiling
    would fill a missing form with the English)."""
    from babel.messages.pofile import read_po

    with (ROOT / "compare/locale/pt_BR/LC_MESSAGES/compare.po").open("rb") as po:
        messages = [message for message in read_po(po, locale="pt_BR") if message.id]
    half = [
        message.id
        for message in messages
        if any(forms_of(message.string)) and not all(forms_of(message.string))
    ]
    assert half == []
    translated = {
        message.id: message.string
        for message in messages
        if all(forms_of(message.string)) and not message.fuzzy
    }
    assert catalog("pt") == translated


def test_the_catalog_says_each_message_once():
    """Several hands append to the catalog; a message translated twice would keep only one
    translation, silently."""
    text = (ROOT / "compare/locale/pt_BR/LC_MESSAGES/compare.po").read_text()
    ids = [
        "".join(re.findall(r'"(.*)"', block.split("msgstr")[0]))
        for block in re.split(r"\n\s*\n", text)
        if "msgid" in block
    ]
    repeated = sorted({message for message in ids if ids.count(message) > 1})
    assert repeated == []
