"""What a fresh raw_tf_impl/export.py export holds, comparable op for op with a folder from
elsewhere (compare/safety/model_files/provenance.py calls it last): its variables under their paths, the
serving signature's call and the saved functions tf.saved_model.load calls, each function spelled
out in place of its traced name. The fresh export is written in TensorFlow's in-memory file
system, so a check writes no file.
"""

import functools

from compare.language import _
from compare.safety.model_files.architectures import (
    WEIGHT_MAPS,
    ModelError,
    check_sizes,
    refused,
)
from compare.styles import STYLES

SERVING_INPUT, SERVING_OUTPUT = "images", "probabilities"
# Attributes that say how a call runs, not what it computes (they differ between machines).
RUN_ATTRIBUTES = frozenset({"config_proto", "executor_type"})


def parsed(data, path):
    from google.protobuf.message import DecodeError
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    try:
        saved_model.ParseFromString(data)
    except (DecodeError, RuntimeError) as error:
        raise ModelError(
            _("{path}: not a readable SavedModel ({error})").format(
                path=path, error=error
            )
        ) from None
    return saved_model


def tensor_node(name):
    """'StatefulPartitionedCall:0' or '^NoOp' -> 'StatefulPartitionedCall', 'NoOp'."""
    return name.lstrip("^").split(":")[0]


def check_against_a_fresh_export(saved_model, where):
    """The variables and the serving function a fresh raw_tf_impl/export.py export of the
    same network for the same sizes holds, to the op and the attribute: the time and
    memory of serving are then the lecture's network's. Returns (model name, input shape,
    classes)."""
    meta_graph = saved_model.meta_graphs[0]
    serving = meta_graph.signature_def["serving_default"]
    input_shape = dims(serving.inputs[SERVING_INPUT])[1:]
    classes = dims(serving.outputs[SERVING_OUTPUT])[1]
    variables = saved_variables(meta_graph.object_graph_def)
    names = [
        name
        for name, weight_map in WEIGHT_MAPS.items()
        if {path for _index, path in weight_map} <= set(variables)
    ]
    if not names:
        shown = sorted(map(ascii, variables))
        raise refused(
            where,
            _(
                "its variables {names} are neither the raw cnn's nor cnn_bn_dropout's"
            ).format(
                names=", ".join(shown[:8] + ["..."] * (len(shown) > 8)) or _("nothing")
            ),
        )
    check_sizes(input_shape, classes, where)
    expected_variables, expected_serving = export_template(
        names[0], input_shape, classes
    )
    described = {"model": names[0], "shape": input_shape, "classes": classes}
    if variables != expected_variables:
        raise refused(
            where,
            _(
                "its variables are not those of the raw {model} for inputs {shape} "
                "and {classes} classes"
            ).format(**described),
        )
    if serving_calls(saved_model) != expected_serving:
        raise refused(
            where,
            _(
                "its serving function is not the one raw_tf_impl/export.py writes "
                "for the {model}"
            ).format(**described),
        )
    return names[0], input_shape, classes


@functools.lru_cache(maxsize=8)
def export_template(model_name, input_shape, classes):
    """(variables, serving calls) of a fresh export of `model_name`."""
    saved_model = fresh_export(model_name, input_shape, classes)
    object_graph = saved_model.meta_graphs[0].object_graph_def
    return saved_variables(object_graph), serving_calls(saved_model)


def fresh_export(model_name, input_shape=(28, 28, 1), classes=10):
    """The parsed saved_model.pb of raw_tf_impl/export.py's export of a fresh
    `model_name`, written in TensorFlow's in-memory file system: no file is written."""
    import tensorflow as tf

    raw = STYLES["raw_tf"]
    model = raw.module(model_name).build_model(
        input_shape=input_shape, num_classes=classes
    )
    folder = f"ram://compare-fresh-export/{model_name}"
    raw.module("export").save(model, folder, input_shape)
    try:
        with tf.io.gfile.GFile(f"{folder}/saved_model.pb", "rb") as file:
            return parsed(file.read(), folder)
    finally:
        tf.io.gfile.rmtree(folder)


def dims(tensor_info):
    return tuple(dim.size for dim in tensor_info.tensor_shape.dim)


def dtype_name(enum):
    import tensorflow as tf

    try:
        return tf.dtypes.as_dtype(enum).name
    except TypeError:
        return "?"


def object_paths(object_graph):
    """{'conv_kernel': its node id, 'signatures.serving_default': ...}: each saved object
    under its attribute path from the saved module."""
    found, stack = {}, [(0, ())]
    while stack:
        node_id, path = stack.pop()
        if node_id in found.values() or node_id >= len(object_graph.nodes):
            continue
        found[".".join(path)] = node_id
        for child in object_graph.nodes[node_id].children:
            stack.append((child.node_id, (*path, child.local_name)))
    return found


def saved_variables(object_graph):
    """{'conv_kernel': ('float32', (3, 3, 1, 32)), 'batch_norm.gamma': ...}."""
    found = {}
    for path, node_id in object_paths(object_graph).items():
        node = object_graph.nodes[node_id]
        if node.WhichOneof("kind") == "variable":
            shape = tuple(dim.size for dim in node.variable.shape.dim)
            found[path] = (dtype_name(node.variable.dtype), shape)
    return found


def serving_calls(saved_model):
    """What serving runs, comparable between exports: the signature's call in the graph
    (what TensorFlow Serving runs) and the saved functions tf.saved_model.load calls, with
    the variables each is given (see canonical_node)."""
    meta_graph = saved_model.meta_graphs[0]
    object_graph = meta_graph.object_graph_def
    serving = meta_graph.signature_def["serving_default"]
    name = tensor_node(serving.outputs[SERVING_OUTPUT].name)
    functions = {
        function.signature.name: function
        for function in meta_graph.graph_def.library.function
    }
    node = next(node for node in meta_graph.graph_def.node if node.name == name)
    paths = object_paths(object_graph)
    path_of = {node_id: path for path, node_id in paths.items()}
    saved = []
    for path, node_id in sorted(paths.items()):
        kind = object_graph.nodes[node_id].WhichOneof("kind")
        if kind != "bare_concrete_function":
            continue
        bare = object_graph.nodes[node_id].bare_concrete_function
        concrete = object_graph.concrete_functions[bare.concrete_function_name]
        saved.append(
            (
                path,
                tuple(bare.argument_keywords),
                bare.allowed_positional_arguments,
                bare.function_spec.SerializeToString(deterministic=True),
                canonical_function(bare.concrete_function_name, functions),
                tuple(path_of.get(node_id, "?") for node_id in concrete.bound_inputs),
                concrete.canonicalized_input_signature.SerializeToString(
                    deterministic=True
                ),
                concrete.output_signature.SerializeToString(deterministic=True),
            )
        )
    return canonical_node(node, functions), tuple(saved)


def canonical_node(node, functions):
    """What a node computes, comparable between two exports: each function it calls in
    place of the function's name (tracing numbers them), attributes that only say how it
    runs left out. reachable() has refused calls that never end."""
    attributes = []
    for key in sorted(node.attr):
        value = node.attr[key]
        if key.startswith("_") or key in RUN_ATTRIBUTES:
            continue
        if value.HasField("func"):
            attributes.append((key, canonical_call(value.func, functions)))
        elif value.HasField("list") and value.list.func:
            called = tuple(canonical_call(f, functions) for f in value.list.func)
            attributes.append((key, called))
        else:
            attributes.append((key, value.SerializeToString(deterministic=True)))
    return (node.name, node.op, tuple(node.input), node.device, tuple(attributes))


def canonical_call(name_attr, functions):
    """A function called with attributes: both, the function spelled out."""
    attributes = tuple(
        (key, value.SerializeToString(deterministic=True))
        for key, value in sorted(name_attr.attr.items())
    )
    return attributes, canonical_function(name_attr.name, functions)


def canonical_function(name, functions):
    function = functions[name]
    signature = type(function.signature)()
    signature.CopyFrom(function.signature)
    signature.name = ""
    return (
        signature.SerializeToString(deterministic=True),
        tuple(sorted(function.ret.items())),
        tuple(sorted(function.control_ret.items())),
        tuple(sorted(canonical_node(node, functions) for node in function.node_def)),
    )
