"""What a fresh raw_tf_impl/export.py export holds, listed once: the ops each part of
its graph uses and the kinds of its saved objects (compare/safety/model_files/provenance.py refuses
anything else). Tied to the TensorFlow release that made it; a test derives the lists
again from the installed TensorFlow and compares."""

# Made by `python -m compare.safety.model_files.provenance` (TensorFlow 2.21): the ops each part of a fresh
# raw_tf_impl/export.py export of cnn and of cnn_bn_dropout uses, joined. A test checks that a
# fresh export uses exactly these, so the list cannot grow unnoticed.
ALLOWED_OPS = {
    "graph": frozenset(
        {
            "Const",
            "NoOp",
            "Placeholder",
            "ReadVariableOp",
            "StatefulPartitionedCall",
            "VarHandleOp",
        }
    ),
    "serve": frozenset(
        {
            "AddV2",
            "BiasAdd",
            "Const",
            "Conv2D",
            "Identity",
            "MatMul",
            "MaxPool",
            "Mul",
            "NoOp",
            "ReadVariableOp",
            "Relu",
            "Reshape",
            "Rsqrt",
            "Softmax",
            "StatefulPartitionedCall",
            "Sub",
        }
    ),
    "save": frozenset(
        {
            "Const",
            "DisableCopyOnRead",
            "Identity",
            "MergeV2Checkpoints",
            "NoOp",
            "Pack",
            "ReadVariableOp",
            "SaveV2",
            "Select",
            "ShardedFilename",
            "StaticRegexFullMatch",
            "StringJoin",
        }
    ),
    "restore": frozenset(
        {"AssignVariableOp", "Const", "Identity", "NoOp", "RestoreV2"}
    ),
}
# The kinds of saved objects such an export holds (made the same way): the module, its
# variables (float32 weights, cnn_bn_dropout's int64 dropout seed) and the signature.
ALLOWED_OBJECTS = frozenset(
    {
        "bare_concrete_function",
        "user_object:_generic_user_object",
        "user_object:signature_map",
        "variable:float32",
        "variable:int64",
    }
)
