"""raw_tf_impl is pure TensorFlow: no module imports Keras or reaches it through tf.keras."""

import ast
from pathlib import Path

import pytest

RAW_FILES = sorted((Path(__file__).parents[1] / "raw_tf_impl").glob("*.py"))


def keras_uses(source):
    """Every import of keras (or tensorflow.keras) and every `.keras` attribute in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                alias.name for alias in node.names if "keras" in alias.name.split(".")
            ]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if "keras" in module.split(".") or any(
                alias.name == "keras" for alias in node.names
            ):
                found.append(f"from {module} import ...")
        elif isinstance(node, ast.Attribute) and node.attr == "keras":
            found.append(ast.unparse(node))
    return found


def test_there_are_raw_files():
    assert any(path.name == "cnn.py" for path in RAW_FILES)


@pytest.mark.parametrize("path", RAW_FILES, ids=lambda path: path.name)
def test_raw_module_never_uses_keras(path):
    assert keras_uses(path.read_text()) == []


@pytest.mark.parametrize(
    "source",
    [
        "import keras",
        "from keras import layers",
        "import tensorflow.keras as k",
        "from tensorflow import keras",
        "from tensorflow.keras.layers import Dense",
        "x = tf.keras.layers.Dense(1)",
    ],
)
def test_the_checker_catches_every_way_in(source):
    assert keras_uses(source)
