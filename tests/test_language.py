"""Brazilian Portuguese everywhere a user reads: every message the code passes through
`_()` has its translation in the catalog, numbers are written as Brazil writes them, and
the outputs under --lang pt hold none of the English sentences the catalog knows."""

import ast
from pathlib import Path

import pytest

from compare.language import _, catalog, exact, number, percent, speaking

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
                and node.func.id in ("_", "N_")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                relative = path.relative_to(ROOT)
                found.setdefault(node.args[0].value, f"{relative}:{node.lineno}")
    return found


def test_every_message_in_the_code_has_its_portuguese():
    missing = {
        message: where
        for message, where in messages_in_code().items()
        if message not in catalog("pt")
    }
    assert missing == {}


def test_the_catalog_keeps_the_placeholders():
    """A translation that drops or renames a {placeholder} would fail at .format()."""
    import string

    def fields(text):
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    wrong = {
        message: translation
        for message, translation in catalog("pt").items()
        if fields(message) != fields(translation)
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
    assert (number(54410), number(0.881, 4), exact(0.001)) == ("54,410", "0.8810", "0.001")


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError), speaking("xx"):
        pass
