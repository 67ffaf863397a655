"""Lines of code per step: what counts as a line, where it is counted, and the real files' verdict."""

import textwrap
from pathlib import Path

import pytest

from compare.loc import STEPS, count_lines, lines_per_step

ROOT = Path(__file__).resolve().parent.parent


def count(source):
    return count_lines(textwrap.dedent(source))


def test_blank_lines_and_comments_do_not_count():
    """Only statements count: blank lines and comments, indented or not, add nothing."""
    assert count("""
        # a comment

        x = 1  # a trailing comment does not add a line


        # another comment
            # an indented one
        y = 2
    """) == {"setup": 2}


def test_docstrings_and_prose_strings_do_not_count():
    """Module, class and function docstrings and keras-io style prose blocks are not code."""
    assert count('''
        """Module docstring."""

        import math

        """
        ## A keras-io style prose block

        It explains the next cell in Markdown.
        """

        class Model:
            """Class docstring,
            over two lines."""

            def forward(self, x):
                \'\'\'Method docstring.\'\'\'
                return x

        def f():
            "A one-line docstring in plain quotes."
            r"""A second, raw, string statement."""
            return math.pi
    ''') == {"setup": 6}  # import, class, def, return, def, return


def test_wrapped_statement_counts_once():
    """A statement over several physical lines (brackets, backslash, implicit string concatenation) is one."""
    assert count("""
        model = build(
            layers=[
                1,
                2,
            ],
            name="cnn",
        )
        total = 1 + \\
            2
        message = ("one "
                   "two")
    """) == {"setup": 3}


def test_strings_that_are_code_count():
    """A string assigned, returned, passed or printed is code, not prose."""
    assert count('''
        loss = "sparse_categorical_crossentropy"
        TEMPLATE = """
        multi-line, but assigned
        """
        print("hello")
    ''') == {"setup": 3}


def test_decorator_counts_as_a_line():
    """@decorator is a line of its own, like the def it decorates."""
    assert count("""
        @tf.function
        def step(x):
            return x
    """) == {"setup": 3}


def test_lines_are_counted_under_their_step_heading():
    """Lines before the first '# Step N: name' go to setup; each heading starts a new step."""
    assert count("""
        import keras
        from keras import layers


        # Step 1: define ------------------------------------------------
        def build_model():
            return keras.Sequential()


        # Step 2: compile (loss + optimizer) ----------------------------
        LOSS = "mse"
        # Step 3: train
        def train(model):
            pass
        #Step 4:evaluate
        x = 1
    """) == {"setup": 2, "define": 2, "compile": 1, "train": 2, "evaluate": 1}


def test_every_extras_heading_counts_in_the_extras():
    """A file may have several '# Extras: topic' headings: each adds to "extras", and a
    step heading after them starts its step again."""
    assert count("""
        # Step 3: train
        def train(model):
            pass
        # Extras: the loop inside the graph ------------------------------------
        def run_in_graph(model, steps):
            model.steps_per_execution = steps
        # Extras: the raw loop's batch order -----------------------------------
        def seeded_batches(x):
            return x
        BATCHES = 2
    """) == {"setup": 0, "train": 2, "extras": 5}


def test_a_heading_in_a_string_or_mid_comment_is_not_a_heading():
    """Only a comment that starts with 'Step N: name' switches the step."""
    assert count('''
        """Docstring mentioning
        # Step 1: define
        """
        x = 1  # see Step 2: compile
        y = 2
    ''') == {"setup": 2}


def write(tmp_path, source):
    path = tmp_path / "impl.py"
    path.write_text(textwrap.dedent(source))
    return path


def test_lines_per_step_total_includes_setup(tmp_path):
    """total is every counted line, imports and helpers before the first heading included."""
    path = write(
        tmp_path,
        """
        \"\"\"Docstring.\"\"\"
        import numpy as np
        import tensorflow as tf

        # Step 1: define
        a = 1
        # Step 2: compile
        b = 2
        c = 3
        # Step 3: train
        d = 4
        # Step 4: evaluate
        e = 5
    """,
    )
    assert lines_per_step(path) == {
        "define": 1,
        "compile": 2,
        "train": 1,
        "evaluate": 1,
        "extras": 0,
        "total": 7,
    }


@pytest.mark.parametrize("missing", STEPS)
def test_missing_step_heading_raises(tmp_path, missing):
    """A file without one of the four headings cannot be compared, and the error names the step."""
    headings = "".join(
        f"# Step {n}: {step}\nx = {n}\n"
        for n, step in enumerate(STEPS, 1)
        if step != missing
    )
    with pytest.raises(ValueError, match=f"no '# Step N: {missing}' heading"):
        lines_per_step(write(tmp_path, headings))


def test_the_real_files_extras_are_each_of_their_parts():
    """Keras' two extras (run_in_graph; seeded_batches and train_in_seeded_order) and the
    raw one (train_batches and train_epoch_in_graph) all count: none hides another."""
    for path, parts in (
        (ROOT / "keras_impl" / "cnn.py", 2),
        (ROOT / "raw_tf_impl" / "cnn.py", 1),
    ):
        counts = [
            count_lines("# Extras:" + part)["extras"]
            for part in path.read_text().split("\n# Extras:")[1:]
        ]
        assert len(counts) == parts and all(counts), (path.name, counts)
        assert lines_per_step(path)["extras"] == sum(counts), path.name


def test_real_implementations_keras_is_shorter_in_every_step():
    """Both styles have all four steps, and Keras needs fewer lines than pure TensorFlow in each."""
    keras = lines_per_step(ROOT / "keras_impl" / "cnn.py")
    raw = lines_per_step(ROOT / "raw_tf_impl" / "cnn.py")
    for counts in (keras, raw):
        assert set(counts) == {*STEPS, "extras", "total"}
        assert all(counts[step] > 0 for step in STEPS)
        assert counts["total"] >= sum(counts[step] for step in STEPS)
    shorter = {step: keras[step] < raw[step] for step in (*STEPS, "total")}
    assert all(shorter.values()), (
        f"Keras not shorter in {[s for s, ok in shorter.items() if not ok]}: {keras} vs {raw}"
    )
