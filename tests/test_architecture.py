"""The house rules of compare/, read from the source with `ast` (nothing is imported):
layers where an import only goes down, no import circle, short command modules, and
lesson files that never import the harness."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Top to bottom. A module may import its own package's modules and any lower layer.
LAYERS = [
    ["compare.__main__"],
    ["compare.cli"],
    ["compare.commands"],  # one module per command: its parser and its run
    # what the commands do
    ["compare.study", "compare.step", "compare.bench", "compare.transfer"],
    ["compare.exercises"],  # the grader: the lesson beside Keras, from saved and data
    ["compare.harness"],  # training, timing, checkpoints, distribute, backends
    ["compare.request"],  # what a run is asked: the flags, checked; the harness's too
    ["compare.saved", "compare.views"],  # exported models; tables, pages, plots
    ["compare.data", "compare.loc"],
    ["compare.safety"],  # the defences: processes, signals, atomic writes, locks
    ["compare.styles", "compare.errors", "compare.quiet", "compare.stats"],
    ["compare.language"],  # the user's language: every layer speaks it
]


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def compare_imports(path):
    """The compare.* modules `path` imports, at the top or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "compare":
            names.update(f"compare.{alias.name}" for alias in node.names)  # a module
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name == "compare" or name.startswith("compare.")}


MODULES = {module_name(path): path for path in sorted((ROOT / "compare").rglob("*.py"))}
GRAPH = {name: compare_imports(path) for name, path in MODULES.items()}


def place(name):
    """(layer index, the unit it belongs to: a package or a module)."""
    for index, units in enumerate(LAYERS):
        for unit in units:
            if name == unit or name.startswith(unit + "."):
                return index, unit
    raise AssertionError(f"{name} is in no layer: add it to LAYERS")


def test_every_module_has_a_layer():
    for name in MODULES:
        if name != "compare":
            place(name)


@pytest.mark.parametrize("importer", sorted(set(MODULES) - {"compare"}))
def test_imports_only_go_down(importer):
    layer, unit = place(importer)
    for imported in GRAPH[importer]:
        imported_layer, imported_unit = place(imported)
        assert imported_unit == unit or imported_layer > layer, (
            f"{importer} (layer {layer}) imports {imported} (layer {imported_layer})"
        )


def test_no_import_circle():
    """Depth-first search for a back edge in the module graph."""
    state = {}

    def visit(name, trail):
        state[name] = "open"
        for imported in sorted(GRAPH.get(name, ())):
            if state.get(imported) == "open":
                raise AssertionError(" -> ".join([*trail, name, imported]))
            if imported not in state:
                visit(imported, [*trail, name])
        state[name] = "done"

    for name in MODULES:
        if name not in state:
            visit(name, [])


def logical_lines(path):
    return len(path.read_text().splitlines())


def test_command_modules_are_short():
    assert logical_lines(MODULES["compare.cli"]) < 150
    for name, path in MODULES.items():
        if name.startswith("compare.commands."):
            assert logical_lines(path) < 300, name


def test_no_module_is_over_400_lines():
    """A module a newcomer can read in one sitting; a longer one is split where its
    parts are separate ideas."""
    long = {name: logical_lines(path) for name, path in MODULES.items()}
    assert {name: lines for name, lines in long.items() if lines > 400} == {}


@pytest.mark.parametrize("package", ["keras_impl", "raw_tf_impl"])
def test_lessons_never_import_the_harness(package):
    for path in (ROOT / package).glob("*.py"):
        assert not compare_imports(path), path


STYLE_NAMES = {"keras", "raw_tf"}
ONE_INTERFACE = ("compare/harness", "compare/transfer")


def style_branches(path):
    """The lines of `path` that compare something with a style's name."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Compare)
        and any(
            isinstance(side, ast.Constant) and side.value in STYLE_NAMES
            for side in [node.left, *node.comparators]
        )
    ]


@pytest.mark.parametrize("place", ONE_INTERFACE)
def test_training_asks_the_trainer_not_the_style_name(place):
    """Every "if Keras, else raw TF" of training is a Trainer's method
    (compare/harness/trainers.py): the rest of the harness and transfer never branch on
    a style's name. (The study does, once: only Keras runs on other Keras backends.)"""
    found = {
        str(path.relative_to(ROOT)): style_branches(path)
        for path in (ROOT / place).rglob("*.py")
        if path.name != "trainers.py"
    }
    assert not {path: lines for path, lines in found.items() if lines}


def test_every_style_of_the_registry_has_a_trainer():
    source = (ROOT / "compare/harness/trainers.py").read_text()
    classes = {
        node.name: node
        for node in ast.parse(source).body
        if isinstance(node, ast.ClassDef)
    }
    styles = {
        statement.value.id
        for node in classes.values()
        for statement in node.body
        if isinstance(statement, ast.Assign)
        and statement.targets[0].id == "style"
        and isinstance(statement.value, ast.Name)
    }
    assert styles == {"KERAS", "RAW_TF"}


# What a module may import inside a function, deferring it: libraries that take long to
# load or are optional, and the lessons and compare modules that load one at import.
HEAVY = {
    "tensorflow", "keras", "jax", "torch", "matplotlib", "h5py", "sklearn", "babel",
    "pygments", "google", "keras_impl", "raw_tf_impl", "exercises",
}  # fmt: skip


def top_imports(name):
    """The modules compare module `name` imports at its top level."""
    found = set()
    for node in ast.parse(MODULES[name].read_text()).body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def loads_heavy(name, seen=frozenset()):
    """Whether importing `name` loads one of HEAVY (through compare's top imports)."""
    if name.split(".")[0] in HEAVY:
        return True
    if name not in MODULES or name in seen:
        return False
    return any(loads_heavy(other, seen | {name}) for other in top_imports(name))


def deferred_imports(path):
    """(line, names) of the imports inside functions of `path`."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import):
                    yield inner.lineno, [alias.name for alias in inner.names]
                elif isinstance(inner, ast.ImportFrom) and inner.level == 0:
                    yield (
                        inner.lineno,
                        [inner.module]
                        + [f"{inner.module}.{alias.name}" for alias in inner.names],
                    )


def test_an_import_inside_a_function_defers_a_heavy_one():
    """Imports sit at the top, where a reader sees whom a module calls; one inside a
    function defers TensorFlow or another slow or optional library (directly, or a
    compare module or lesson that loads one), so that `--help` and the code view start
    fast and a missing extra fails only the feature that needs it."""
    light = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in MODULES.values()
        for line, names in deferred_imports(path)
        if not any(loads_heavy(name) for name in names)
    ]
    assert not light, "imports that could sit at the top: " + ", ".join(light)
