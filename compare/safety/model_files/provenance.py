"""Is a saved model one this project exported? Read from its files, never run: Keras'
safe_mode for both styles.

A SavedModel's graph is code: loading one runs its resources' initialisers, serving it
runs its serving function, and either may hold any TensorFlow op (tf.io.write_file, an
endless tf.while_loop, tf.py_function). So before TensorFlow loads a folder,
`check_saved_model` parses saved_model.pb with protobuf alone and refuses, in one line,
what raw_tf_impl/export.py does not write: other signatures or another serving signature
(names, dtypes, ranks), other kinds of saved objects (resources, assets, custom savers),
functions that nothing calls or that call themselves, any op outside ALLOWED_OPS for the
part of the graph it sits in, constants that fill big shapes, more weights than
MAX_WEIGHTS. Last, its variables and serving function must equal, op for op, those of a
fresh export of the lecture's network for the same sizes: no loop, no other graph of the
same ops, so serving takes the lecture's network's time and memory.
compare/safety/model_files/fresh_export.py makes that comparison; compare/safety/model_files/keras_archive.py checks
.keras files.
"""

import stat
from pathlib import Path

from compare.language import N_, _, number
from compare.safety.model_files.allowed_ops import ALLOWED_OBJECTS, ALLOWED_OPS
from compare.safety.model_files.architectures import MAX_WEIGHTS, ModelError, refused
from compare.safety.model_files.fresh_export import (
    check_against_a_fresh_export,
    dtype_name,
    fresh_export,
    parsed,
    tensor_node,
)
from compare.safety.model_files.signatures import check_signatures
from compare.styles import MODEL_NAMES

PARTS = {
    "graph": N_("its meta graph"),
    "serve": N_("its serving function"),
    "save": N_("its save function"),
    "restore": N_("its restore function"),
}
MAX_SAVED_MODEL_BYTES = 2**24  # 16 MiB; a fresh export's saved_model.pb holds 28 KB
MAX_FILES = 100  # a fresh export holds 6 files and folders
MAX_FUNCTIONS = 64  # a fresh export holds 4
MAX_CONSTANT = 2**10  # numbers in one Const: its shape, not its bytes, is what it costs


# SavedModel folders ------------------------------------------------------------------
def check_saved_model(folder):
    """Raise ModelError unless `folder` is a SavedModel raw_tf_impl/export.py could have
    written; nothing in it runs. Returns (model name, input shape, classes)."""
    folder = Path(folder)
    check_plain_files(folder)
    saved_model = read_saved_model(folder)
    profile = export_profile(saved_model, folder)
    for part, allowed in ALLOWED_OPS.items():
        extra = profile[part] - allowed
        if extra:
            raise refused(
                folder,
                _("{part} uses {ops}").format(
                    part=_(PARTS[part]), ops=", ".join(sorted(extra))
                ),
            )
    extra = profile["objects"] - ALLOWED_OBJECTS
    if extra:
        raise refused(
            folder,
            _("it saves objects of the kinds {kinds}").format(
                kinds=", ".join(sorted(extra))
            ),
        )
    check_weights_size(folder, saved_model)
    return check_against_a_fresh_export(saved_model, folder)


def check_plain_files(folder):
    """Only folders and regular files, at most MAX_FILES: a FIFO would hang the reader,
    /dev/zero never end."""
    paths = [folder]
    for path in folder.rglob("*"):
        paths.append(path)
        if len(paths) > MAX_FILES:
            raise refused(
                folder,
                _("it holds more than {count} files").format(count=number(MAX_FILES)),
            )
    for path in paths:
        try:
            mode = path.stat().st_mode  # follows links: what a reader would open
        except OSError as error:
            raise ModelError(
                _("{path}: cannot read it ({reason})").format(
                    path=path, reason=error.strerror or type(error).__name__
                )
            ) from None
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise refused(folder, _("{path} is not a regular file").format(path=path))


def read_saved_model(folder):
    """The SavedModel protobuf of saved_model.pb, parsed, not loaded."""
    path = folder / "saved_model.pb"
    size = path.stat().st_size
    if size > MAX_SAVED_MODEL_BYTES:
        raise refused(
            folder,
            _("saved_model.pb holds {size} bytes (at most {cap})").format(
                size=number(size), cap=number(MAX_SAVED_MODEL_BYTES)
            ),
        )
    return parsed(path.read_bytes(), path)


def export_profile(saved_model, where):
    """{part: the ops it uses} for the parts of PARTS and {"objects": the kinds of saved
    objects}; raises ModelError where the structure is not an export's."""
    meta_graph = the_meta_graph(saved_model, where)
    graph = meta_graph.graph_def
    nodes = {node.name: node for node in graph.node}
    serve_node = check_signatures(meta_graph, nodes, where)
    starts = {"serve": serve_node}
    if meta_graph.HasField("saver_def"):
        starts["save"] = tensor_node(meta_graph.saver_def.save_tensor_name)
        starts["restore"] = tensor_node(meta_graph.saver_def.restore_op_name)
    functions = checked_functions(graph, where)
    profile = {"graph": {node.op for node in graph.node}}
    for node in graph.node:
        if called_functions(node, functions) and node.name not in starts.values():
            raise refused(
                where,
                _("its graph node {node} calls a function").format(
                    node=ascii(node.name)
                ),
            )
    reached = set()
    for part, start in starts.items():
        part_functions = reachable(nodes.get(start), functions, where)
        reached |= part_functions
        profile[part] = {
            node.op for name in part_functions for node in functions[name].node_def
        }
    unused = sorted(set(functions) - reached)
    if unused:
        raise refused(
            where,
            _("it holds functions that nothing calls: {names}").format(
                names=", ".join(map(ascii, unused))
            ),
        )
    serving = called_functions(nodes[serve_node], functions)
    profile["objects"] = saved_objects(meta_graph.object_graph_def, serving, where)
    return profile


def the_meta_graph(saved_model, where):
    """The one meta graph of an export: with saved objects, tagged "serve", no assets."""
    if len(saved_model.meta_graphs) != 1 or not saved_model.meta_graphs[0].HasField(
        "object_graph_def"
    ):
        raise refused(
            where,
            _("it holds {count} meta graphs, not one with saved objects").format(
                count=number(len(saved_model.meta_graphs))
            ),
        )
    meta_graph = saved_model.meta_graphs[0]
    if list(meta_graph.meta_info_def.tags) != ["serve"] or meta_graph.asset_file_def:
        raise refused(where, _("its tags or assets are not an export's"))
    return meta_graph


def checked_functions(graph, where):
    """{name: function} of the graph's library: unique names, not too many, no huge
    constant, no gradient registered, none named like an op."""
    functions = {
        function.signature.name: function for function in graph.library.function
    }
    if len(functions) != len(graph.library.function):
        raise refused(where, _("it holds two functions of one name"))
    if len(functions) > MAX_FUNCTIONS:
        raise refused(
            where,
            _("it holds more than {count} functions").format(
                count=number(MAX_FUNCTIONS)
            ),
        )
    for node in [*graph.node, *(n for f in functions.values() for n in f.node_def)]:
        if node.op == "Const" and constant_size(node) > MAX_CONSTANT:
            raise refused(
                where,
                _("its constant {node} holds {count} numbers (at most {cap})").format(
                    node=ascii(node.name),
                    count=number(constant_size(node)),
                    cap=number(MAX_CONSTANT),
                ),
            )
    if graph.library.gradient or graph.library.registered_gradients:
        raise refused(where, _("it registers gradient functions"))
    clashing = sorted(set(functions) & set().union(*ALLOWED_OPS.values()))
    if clashing:
        raise refused(
            where,
            _("its functions are named like ops: {names}").format(
                names=", ".join(clashing)
            ),
        )
    return functions


def constant_size(node):
    """How many numbers a Const node makes: a single value fills its whole shape."""
    return size_of(dim.size for dim in node.attr["value"].tensor.tensor_shape.dim)


def called_functions(node, functions):
    """The library functions a node calls: through its attributes (a call's f, a loop's
    body, a condition's branches) or as its op."""
    names = {node.op} & set(functions)
    for value in node.attr.values():
        if value.HasField("func"):
            names.add(value.func.name)
        if value.HasField("list"):
            names.update(function.name for function in value.list.func)
    return names


def reachable(start_node, functions, where):
    """The functions `start_node` calls, directly or not; a missing one or a function that
    calls itself (an endless recursion) is refused."""
    found, open_calls = set(), set()

    def visit(name):
        if name in open_calls:
            raise refused(
                where, _("its function {name} calls itself").format(name=ascii(name))
            )
        if name in found:
            return
        if name not in functions:
            raise refused(
                where,
                _("it calls a function it does not hold: {name}").format(
                    name=ascii(name)
                ),
            )
        open_calls.add(name)
        for node in functions[name].node_def:
            for called in sorted(called_functions(node, functions)):
                visit(called)
        open_calls.discard(name)
        found.add(name)

    for name in sorted(called_functions(start_node, functions) if start_node else ()):
        visit(name)
    return found


def saved_objects(object_graph, serving, where):
    """The kinds of saved objects ('variable:float32', ...); refuses objects with their own
    save code and concrete functions other than the serving signature's (`serving`)."""
    kinds, functions = set(), set(object_graph.concrete_functions)
    for node in object_graph.nodes:
        kind = node.WhichOneof("kind")
        if node.saveable_objects or node.registered_saver or node.registered_name:
            raise refused(where, _("it saves objects with their own save code"))
        if kind == "user_object":
            kind += ":" + node.user_object.identifier
        elif kind == "variable":
            kind += ":" + dtype_name(node.variable.dtype)
        elif kind == "bare_concrete_function":
            functions.add(node.bare_concrete_function.concrete_function_name)
        kinds.add(str(kind))
    if functions - serving:
        raise refused(where, _("it keeps functions besides its serving signature"))
    return kinds


def check_weights_size(folder, saved_model):
    """At most MAX_WEIGHTS numbers, as the saved objects and the checkpoint's index declare
    them (read before any is restored)."""
    import tensorflow as tf

    declared = sum(
        size_of(dim.size for dim in node.variable.shape.dim)
        for node in saved_model.meta_graphs[0].object_graph_def.nodes
        if node.WhichOneof("kind") == "variable"
    )
    try:
        reader = tf.train.load_checkpoint(str(folder / "variables" / "variables"))
        stored = sum(map(size_of, reader.get_variable_to_shape_map().values()))
    except (tf.errors.OpError, ValueError) as error:
        raise ModelError(
            _("{folder}: its variables are not readable ({error})").format(
                folder=folder,
                error=(str(error).strip().splitlines() or [type(error).__name__])[0],
            )
        ) from None
    if max(declared, stored) > MAX_WEIGHTS:
        raise refused(
            folder,
            _("its variables hold {count} numbers (at most {cap})").format(
                count=number(max(declared, stored)), cap=number(MAX_WEIGHTS)
            ),
        )


def size_of(shape):
    size = 1
    for dim in shape:
        size *= max(int(dim), 0)
    return size


# Deriving the lists ------------------------------------------------------------------
def fresh_export_profile():
    """The union of export_profile over fresh raw exports of every model both styles
    define: what ALLOWED_OPS and ALLOWED_OBJECTS must be."""

    profile = {part: set() for part in [*PARTS, "objects"]}
    for model_name in MODEL_NAMES:
        saved_model = fresh_export(model_name)
        for part, found in export_profile(saved_model, model_name).items():
            profile[part] |= found
    return profile


if __name__ == "__main__":
    from compare.quiet import load_tensorflow_quietly

    load_tensorflow_quietly()
    for part, found in fresh_export_profile().items():
        print(f"{part}: {sorted(found)}")
