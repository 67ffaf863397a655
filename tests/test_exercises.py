"""The exercises: every reference solution is right, every starter is "not written
yet", and every typical mistake (tests/mutations/) is caught with its hint."""

import importlib

import pytest

from compare.exercises.catalog import ORDER, check_module, position
from compare.exercises.runner import grade_source
from compare.exercises.starter import reference, starter
from compare.language import speaking


def mutations():
    for name in ORDER:
        try:
            module = importlib.import_module(f"mutations.{name}")
        except ModuleNotFoundError:  # fails below: every exercise has its mistakes
            yield pytest.param(name, None, None, None, id=f"{name}-missing")
            continue
        for number, (old, new, hint) in enumerate(module.MUTATIONS, start=1):
            yield pytest.param(name, old, new, hint, id=f"{name}-{number}")


@pytest.mark.parametrize("name", ORDER)
def test_the_reference_solution_is_right(name):
    verdict = grade_source(name, reference(name), f"exercises/{name}.py")
    assert verdict.passed, verdict


@pytest.mark.parametrize("lang", ["en", "pt"])
@pytest.mark.parametrize("name", ORDER)
def test_the_starter_is_not_written_yet(name, lang):
    with speaking(lang):
        exercise = check_module(name).EXERCISE
        command = f"python -m compare exercise check {name} --file {name}.py"
        text = starter(exercise, position(name), len(ORDER), command)
        verdict = grade_source(name, text, f"{name}.py")
    assert verdict.status == "unwritten", verdict
    compile(text, f"{name}.py", "exec")  # valid Python as written
    assert max(map(len, text.splitlines())) <= 88  # the slide width


@pytest.mark.parametrize(("name", "old", "new", "hint"), list(mutations()))
def test_a_typical_mistake_is_caught_with_its_hint(name, old, new, hint):
    assert old is not None, f"tests/mutations/{name}.py is missing"
    source = reference(name)
    assert source.count(old) == 1, "the mutation must edit one place"
    verdict = grade_source(name, source.replace(old, new), f"exercises/{name}.py")
    assert verdict.status in ("wrong", "broken"), verdict
    assert verdict.hint == hint, verdict


def test_the_mutation_suite_is_large_enough():
    assert len(list(mutations())) >= 25
