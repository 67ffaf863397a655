"""The one serving signature a raw_tf_impl/export.py export has, checked from
saved_model.pb alone (compare/safety/model_files/provenance.py calls it): its name, method, the
input and output tensors' names, dtypes and ranks, and an init op that does nothing."""

from compare.language import N_, _
from compare.safety.model_files.architectures import refused
from compare.safety.model_files.fresh_export import (
    SERVING_INPUT,
    SERVING_OUTPUT,
    dtype_name,
    tensor_node,
)

SIGNATURES = ("__saved_model_init_op", "serving_default")
SERVING_METHOD = "tensorflow/serving/predict"
EXPECTED_SIGNATURE = N_(
    "images float32 (None, height, width, channels) -> probabilities float32 "
    "(None, classes)"
)


def check_signatures(meta_graph, nodes, where):
    """The serving signature raw_tf_impl/export.py writes, and the empty init op; returns
    the node the serving signature's output comes from."""
    import tensorflow as tf

    def described(tensor, key):
        dtype = dtype_name(tensor.dtype)
        shape = (
            "(?)"
            if tensor.tensor_shape.unknown_rank
            else str(
                tuple(
                    None if dim.size == -1 else dim.size
                    for dim in tensor.tensor_shape.dim
                )
            ).replace(",)", ")")
        )
        return f"{key} {dtype} {shape}"

    def fits(tensors, key, rank):
        if list(tensors) != [key]:
            return False
        tensor = tensors[key]
        dims = [dim.size for dim in tensor.tensor_shape.dim]
        return (
            tensor.dtype == tf.float32.as_datatype_enum
            and not tensor.tensor_shape.unknown_rank
            and len(dims) == rank
            and dims[0] == -1
            and all(size > 0 for size in dims[1:])
        )

    signatures = meta_graph.signature_def
    if sorted(signatures) != sorted(SIGNATURES):
        raise refused(
            where,
            _("it has the signatures {found}, not only serving_default").format(
                found=", ".join(sorted(map(ascii, signatures))) or _("nothing")
            ),
        )
    serving = signatures["serving_default"]
    if (
        serving.method_name != SERVING_METHOD
        or not fits(serving.inputs, SERVING_INPUT, 4)
        or not fits(serving.outputs, SERVING_OUTPUT, 2)
    ):
        found = " -> ".join(
            ", ".join(described(tensors[key], ascii(key)) for key in sorted(tensors))
            for tensors in (serving.inputs, serving.outputs)
        )
        raise refused(
            where,
            _("its serving signature is {found}, not {expected}").format(
                found=found, expected=_(EXPECTED_SIGNATURE)
            ),
        )
    init = signatures["__saved_model_init_op"]
    init_nodes = [tensor_node(tensor.name) for tensor in init.outputs.values()]
    main_ops = [
        tensor_node(name)
        for collection in meta_graph.collection_def.values()
        for name in collection.node_list.value
    ]
    if (
        init.inputs
        or set(meta_graph.collection_def) - {"saved_model_main_op"}
        or not all(
            name in nodes and nodes[name].op == "NoOp" and not nodes[name].input
            for name in init_nodes + main_ops
        )
    ):
        raise refused(where, _("its init op does something"))
    input_node = nodes.get(tensor_node(serving.inputs[SERVING_INPUT].name))
    serve_node = tensor_node(serving.outputs[SERVING_OUTPUT].name)
    if (
        input_node is None
        or input_node.op != "Placeholder"
        or nodes.get(serve_node) is None
    ):
        raise refused(where, _("its serving signature names tensors it does not hold"))
    return serve_node
