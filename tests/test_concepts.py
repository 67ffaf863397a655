"""The concept map: every quoted snippet is one whole line of code of its lesson file, found
there once, with its file:line; the rows the lecture needs are there; the README's copy
and the report show the map as the code has it."""

import ast
import io
import tokenize

import pytest
from helpers import ROOT

from compare.language import _, speaking
from compare.styles import STYLES, Style
from compare.views import whole_lines
from compare.views.concepts import (
    CONCEPTS,
    MAP_MARKERS,
    MAP_PAGES,
    concept_map_entries,
    concept_map_markdown,
    concept_map_rows,
    with_concept_map,
)
from compare.views.whole_lines import ConceptMapError, locate, snippet_and_scope

QUOTES = [
    (style, quoted, concept.get("file"))
    for concept in CONCEPTS
    for style, quotes in (("keras", [concept["keras"]]), ("raw_tf", concept["raw"]))
    for quoted in quotes
]


def quote_id(quote):
    style, quoted, _file = quote
    text, scope = snippet_and_scope(quoted)
    return f"{style}:{text[:40]}" + (f"@{scope}" if scope else "")


def code_of_line(line):
    """A physical line without its indentation, comment and trailing comma."""
    tokens = [
        token
        for token in tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline)
        if token.type == tokenize.COMMENT
    ]
    code = line.strip()[: tokens[0].start[1]] if tokens else line.strip()
    return code.rstrip().removesuffix(",").rstrip()


def compiles_alone(text):
    """Whether `text` is Python by itself: a statement, a compound statement's header, a
    decorator, or an argument of a call (`loss="..."`, `layers.Flatten()`)."""
    for program in (text, f"{text}\n    pass", f"{text}\ndef f(): pass", f"f({text})"):
        try:
            ast.parse(program)
            return True
        except SyntaxError:
            pass
    return False


def shape(node):
    return ast.dump(node, annotate_fields=False, include_attributes=False)


# Each snippet is one whole line, found once --------------------------------------------
@pytest.mark.parametrize("quote", QUOTES, ids=quote_id)
def test_each_snippet_is_one_whole_line_of_its_file(quote):
    """Found exactly once (in its def or class, where it names one), and whole, checked
    here again without the map's own tokenizer: a snippet on one physical line is that
    line (bar indentation, comment and trailing comma) and is Python by itself; a
    statement over several lines is quoted whole, as its one logical line (the same AST)."""
    style, quoted, file = quote
    found = locate(
        style, quoted, file=file
    )  # ConceptMapError: missing, ambiguous, partial
    path = ROOT / file if file else STYLES[style].path("cnn")
    lines = path.read_text().splitlines()
    assert found.path == (file or f"{STYLES[style].package}/cnn.py")
    if found.first == found.last:
        assert found.text == code_of_line(lines[found.first - 1])
        assert compiles_alone(found.text), found.text
    else:
        (statement,) = [
            node
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.stmt)
            and (node.lineno, node.end_lineno) == (found.first, found.last)
        ]
        assert shape(ast.parse(found.text).body[0]) == shape(statement)
        assert found.where == f"{found.path}:{found.first}-{found.last}"


@pytest.mark.parametrize(
    "style, quoted, problem",
    [
        ("raw_tf", "glorot_uniform(rng, (3, 3, channels, 32)", "only part of a line"),
        ("raw_tf", "tf.argmax(logits, axis=1", "only part of a line"),
        ("raw_tf", "tf.nn.conv2d(images, self.conv_kernel", "only part of a line"),
        ("keras", "model.fit(", "only part of a line"),
        ("keras", "history = model.fit(", "only part of a line"),
        ("keras", "keras.optimizers.Adam(learning_rate)", "only part of a line"),
        ("raw_tf", "@tf.function", "is 3 lines of raw_tf_impl/cnn.py"),
        ("raw_tf", "correct += batch_correct", "is 3 lines"),
        ("raw_tf", ("correct += batch_correct", "Adam"), "not in"),
        ("raw_tf", "x = tf.nn.softmax(x)", "not in"),
        ("keras", "layers.Dense(10)", "not in"),
    ],
)
def test_a_partial_missing_or_ambiguous_snippet_stops_the_map(style, quoted, problem):
    with pytest.raises(ConceptMapError, match=problem):
        locate(style, quoted)


def test_line_numbers_come_from_the_file_not_from_the_map(tmp_path, monkeypatch):
    """Two lines added at the top of the lesson move every file:line by two."""
    before = concept_map_entries("en")
    lesson = tmp_path / "raw_tf_impl" / "cnn.py"
    lesson.parent.mkdir()
    lesson.write_text("# one\n# two\n" + STYLES["raw_tf"].path("cnn").read_text())

    class Moved(Style):
        def path(self, name):
            return lesson

    monkeypatch.setitem(
        whole_lines.STYLES, "raw_tf", Moved("raw_tf", "raw", "raw_tf_impl")
    )
    after = concept_map_entries("en")

    def line(where):
        return int(where.rsplit(":", 1)[1].split("-")[0])

    for old, new in zip(before, after, strict=True):
        moved = 2 if old.raw[0][1].startswith("raw_tf_impl/cnn.py") else 0
        assert [line(where) + moved for _, where in old.raw] == [
            line(where) for _, where in new.raw
        ]


# The rows the lecture needs --------------------------------------------------------------
def test_sequential_input_compile_have_rows_and_fit_quotes_the_step():
    rows = concept_map_entries("en")
    keras = [row.keras for row in rows]
    for call in (
        "return keras.Sequential(",
        "layers.Input(",
        "model.compile(",
        "history = model.fit(",
    ):
        assert sum(snippet.startswith(call) for snippet in keras) == 1, call
    (fit,) = [row for row in rows if row.keras.startswith("history = model.fit(")]
    raw = [text for text, _ in fit.raw]
    assert "@tf.function" in raw
    assert any("tape.gradient(" in text for text in raw)
    assert any(text.startswith("optimizer.apply(") for text in raw)
    (traced,) = [where for text, where in fit.raw if text == "@tf.function"]
    decorated = (
        STYLES["raw_tf"].path("cnn").read_text().splitlines()[int(traced.split(":")[1])]
    )
    assert decorated.startswith("def train_step(")  # one graph call per mini-batch
    assert any(text.startswith("for start in range(") for text in raw)  # in Python


def test_steps_per_execution_is_the_raw_loop_inside_the_graph():
    """Both Extras, the same idea: Keras' run_in_graph beside train_epoch_in_graph and
    the tf.range loop of train_batches, which @tf.function traces as a whole."""
    (fused,) = [
        row
        for row in concept_map_entries("en")
        if row.keras == "model.steps_per_execution = steps"
    ]
    raw = [text for text, _ in fused.raw]
    assert any(text.startswith("def train_epoch_in_graph(") for text in raw)
    assert "for start in tf.range(0, tf.size(indices), batch_size):" in raw
    (traced,) = [where for text, where in fused.raw if text == "@tf.function"]
    decorated = (
        STYLES["raw_tf"].path("cnn").read_text().splitlines()[int(traced.split(":")[1])]
    )
    assert decorated.startswith("def train_batches(")
    assert "the loop inside the graph" in fused.hides


def test_rows_follow_the_keras_file_and_every_language_has_its_words():
    rows = concept_map_entries("en")
    lessons = [row for row in rows if row.keras_at.startswith("keras_impl/cnn.py:")]
    firsts = [int(row.keras_at.split(":")[1].split("-")[0]) for row in lessons]
    assert firsts == sorted(firsts)
    assert rows[: len(lessons)] == lessons  # the harness's rows come after the lesson
    for concept in CONCEPTS:  # through the catalog, as every message
        with speaking("pt"):
            assert _(concept["hides"]) != concept["hides"], concept["hides"]
    portuguese = " ".join(row.hides for row in concept_map_entries("pt"))
    assert "vai para a perda" not in portuguese
    assert "o softmax fica dentro da perda" in portuguese


def test_tensorboard_is_a_summary_writer_and_scalars_in_the_raw_loop():
    """The harness's --tensorboard: Keras' callback beside tf.summary's file writer and
    scalar, quoted from compare/harness/tensorboard.py, which writes both styles' curves."""
    (curves,) = [
        row
        for row in concept_map_entries("en")
        if "keras.callbacks.TensorBoard" in row.keras
    ]
    assert curves.keras_at.startswith("compare/harness/tensorboard.py:")
    raw = [text for text, _ in curves.raw]
    assert any("tf.summary.create_file_writer(" in text for text in raw)
    assert any(text.startswith("tf.summary.scalar(") for text in raw)
    assert all(
        where.startswith("compare/harness/tensorboard.py:") for _, where in curves.raw
    )
    (portuguese,) = [
        row.hides
        for row in concept_map_entries("pt")
        if "keras.callbacks.TensorBoard" in row.keras
    ]
    assert "no fim de cada época" in portuguese and "epoch_loss" in portuguese


# Where the map is shown ------------------------------------------------------------------
def test_markdown_cells_give_each_snippet_its_file_and_line():
    for row, (keras, hides, raw) in zip(
        concept_map_entries("en"), concept_map_rows("en"), strict=True
    ):
        assert keras == f"`{row.keras}` ({row.keras_at})"
        assert hides == row.hides
        assert raw.split("<br>") == [f"`{text}` ({where})" for text, where in row.raw]


@pytest.mark.parametrize("lang", ["en", "pt"])
def test_manual_block_is_the_map_the_code_gives(lang):
    """The table between the concept-map page's markers, in the page's language
    (`python -m compare.views.concepts` writes them)."""
    page = (ROOT / MAP_PAGES[lang]).read_text()
    begin, end = MAP_MARKERS
    block = page.split(begin, 1)[1].split(end, 1)[0]
    assert block.strip("\n") == concept_map_markdown(lang)
    assert with_concept_map(page, lang) == page


def test_the_report_page_shows_each_snippet_with_its_file_and_line():
    from compare.views.html_report import concept_map_table

    for lang in ("en", "pt"):
        page = concept_map_table(lang)
        for row in concept_map_entries(lang):
            assert row.keras_at in page
            for _text, where in row.raw:
                assert where in page
