"""The roofline of one training epoch of the lecture's CNN: its ops at the machine's floors.

Every op of a training step (forward, backward, Adam) gets its FLOPs and bytes moved
per training sample. Conventions:

- a multiply-add is 2 FLOPs; a comparison, a max, an exp or a square root is 1;
- float32 and int32 are 4 bytes;
- bytes = the op's inputs read + its outputs written, each once, as if no op found
  another's output in cache (no fusion, no reuse between ops);
- weights and their gradients are read or written once per batch, so per sample their
  bytes (and Adam's FLOPs) are divided by the batch size.

An op then takes max(FLOPs / peak FLOP/s, bytes / bandwidth); the epoch the sum over
ops plus one dispatch per graph call (floors.py measures all three). A variant's
measured epoch time divided by this is how far it is from the floor. It is a floor
only as far as the no-reuse assumption holds: a batch's activations (128 x 26 x 26 x 32
floats = 11 MB) may stay in a large cache, and fused ops (conv + bias + ReLU) skip
writes, so measured ops can beat their memory term.
"""

import math

from tabulate import tabulate

from compare.bench.flops import conv_multiply_adds

FLOAT32_BYTES = 4
ADAM_FLOPS_PER_PARAMETER = 12  # m: 3, v: 4, update: sqrt, +eps, *alpha, /, - (5)
ADAM_ARRAYS_MOVED = 7  # reads param, m, v, grad; writes param, m, v


def softmax_cross_entropy_flops(classes):
    """Forward: max, subtract, exp, sum per class, then log and the label's pick;
    backward: divide by the sum, subtract the one-hot, scale by 1/batch (the mean)."""
    forward = 4 * classes + 2
    backward = 2 * classes + 1
    return forward + backward


def op_costs(
    batch_size=128, input_shape=(28, 28, 1), filters=32, kernel=3, pool=2, classes=10
):
    """Per-sample FLOPs and bytes of each op of one training step, in execution order.

    Returns [{"op", "pass", "flops", "bytes", "counted_by_flops_py"}, ...];
    `counted_by_flops_py` marks the conv and dense products that flops.py counts.
    """
    height, width, channels = input_shape
    image = height * width * channels  # 784
    conv_out = (height - kernel + 1) * (width - kernel + 1) * filters  # 26*26*32
    pooled = (height - kernel + 1) // pool * ((width - kernel + 1) // pool) * filters
    conv_kernel = kernel * kernel * channels * filters  # 288
    dense_kernel = pooled * classes  # 5408 * 10
    parameters = conv_kernel + filters + dense_kernel + classes
    conv_flops = 2 * conv_multiply_adds(height, width, channels, filters, kernel)
    dense_flops = 2 * pooled * classes
    window_compares = (pool * pool - 1) * pooled  # max of each pool x pool window
    weights = 1 / batch_size  # a weight's read or write, shared by the batch
    bytes_of = FLOAT32_BYTES

    rows = [  # (op, pass, flops, values moved, counted by flops.py)
        ("conv2d", "forward", conv_flops, image + conv_kernel * weights + conv_out, 1),
        ("conv bias add", "forward", conv_out, 2 * conv_out + filters * weights, 0),
        ("relu", "forward", conv_out, 2 * conv_out, 0),
        ("max-pool", "forward", window_compares, conv_out + pooled, 0),
        ("reshape", "forward", 0, 0, 0),  # a view: nothing moves
        (
            "dense matmul",
            "forward",
            dense_flops,
            pooled + dense_kernel * weights + classes,
            1,
        ),
        ("dense bias add", "forward", classes, 2 * classes + classes * weights, 0),
        (
            "softmax cross-entropy",
            "forward+backward",
            softmax_cross_entropy_flops(classes),
            classes + 1 + 1 + classes,  # logits, label in; loss, logits' gradient out
            0,
        ),
        ("dense bias grad", "backward", classes, classes + classes * weights, 0),
        (
            "dense kernel grad",
            "backward",
            dense_flops,
            pooled + classes + dense_kernel * weights,
            1,
        ),
        (
            "dense input grad",
            "backward",
            dense_flops,
            classes + dense_kernel * weights + pooled,
            1,
        ),
        ("reshape", "backward", 0, 0, 0),
        # reads the pool's input, output and output gradient; writes the input gradient
        ("max-pool grad", "backward", window_compares, 2 * conv_out + 2 * pooled, 0),
        ("relu grad", "backward", conv_out, 3 * conv_out, 0),  # grad, features -> grad
        ("conv bias grad", "backward", conv_out, conv_out + filters * weights, 0),
        (
            "conv2d filter grad",
            "backward",
            conv_flops,
            image + conv_out + conv_kernel * weights,
            1,
        ),
        (
            "adam update",
            "update",
            ADAM_FLOPS_PER_PARAMETER * parameters * weights,
            ADAM_ARRAYS_MOVED * parameters * weights,
            0,
        ),
    ]
    return [
        {
            "op": op,
            "pass": stage,
            "flops": flops,
            "bytes": values * bytes_of,
            "counted_by_flops_py": bool(counted),
        }
        for op, stage, flops, values, counted in rows
    ]


def floor_values(floors):
    """The three numbers the roofline takes, from measure_floors() or a plain dict."""
    return {
        "peak_flops_per_second": floors["peak_flops_per_second"],
        "bandwidth_bytes_per_second": floors["bandwidth_bytes_per_second"],
        "dispatch_seconds": floors["dispatch_seconds"],
    }


def roofline_seconds_per_epoch(
    samples, batch_size, floors, graph_calls=None, **model_shape
):
    """The least seconds an epoch of `samples` can take at `batch_size`.

    graph_calls: Python-to-graph calls per epoch; None is one per batch,
    ceil(samples / batch_size); 1 is a whole epoch per call. `model_shape`: the
    keyword arguments of op_costs (input_shape, filters, kernel, pool, classes).
    Returns {"samples", "batch_size", "graph_calls", "floors", "ops": [op_costs' rows
    + "compute_seconds", "memory_seconds", "seconds", "bound"], "flops_per_sample",
    "bytes_per_sample", "op_seconds", "dispatch_seconds", "total_seconds"}.
    """
    if graph_calls is None:
        graph_calls = math.ceil(samples / batch_size)
    used = floor_values(floors)
    ops = []
    for cost in op_costs(batch_size, **model_shape):
        compute = cost["flops"] * samples / used["peak_flops_per_second"]
        memory = cost["bytes"] * samples / used["bandwidth_bytes_per_second"]
        bound = "free" if compute == memory == 0 else "compute"
        if memory > compute:
            bound = "memory"
        ops.append(
            {
                **cost,
                "compute_seconds": compute,
                "memory_seconds": memory,
                "seconds": max(compute, memory),
                "bound": bound,
            }
        )
    op_seconds = sum(op["seconds"] for op in ops)
    dispatch_seconds = graph_calls * used["dispatch_seconds"]
    return {
        "samples": samples,
        "batch_size": batch_size,
        "graph_calls": graph_calls,
        "floors": used,
        "ops": ops,
        "flops_per_sample": sum(op["flops"] for op in ops),
        "bytes_per_sample": sum(op["bytes"] for op in ops),
        "op_seconds": op_seconds,
        "dispatch_seconds": dispatch_seconds,
        "total_seconds": op_seconds + dispatch_seconds,
    }


def times_roofline(measured_seconds, roofline):
    """A measured epoch time as a multiple of the roofline's."""
    return measured_seconds / roofline["total_seconds"]


def markdown(roofline):
    """The per-op table and the totals as a GitHub markdown section."""
    rows = [
        (
            op["op"],
            op["pass"],
            f"{op['flops']:,.0f}",
            f"{op['bytes']:,.0f}",
            f"{op['flops'] / op['bytes']:.2f}" if op["bytes"] else "-",
            op["bound"],
            f"{op['seconds'] * 1e3:.2f}",
        )
        for op in roofline["ops"]
    ]
    rows.append(
        (
            "**all ops**",
            "",
            f"{roofline['flops_per_sample']:,.0f}",
            f"{roofline['bytes_per_sample']:,.0f}",
            f"{roofline['flops_per_sample'] / roofline['bytes_per_sample']:.2f}",
            "",
            f"{roofline['op_seconds'] * 1e3:.2f}",
        )
    )
    calls = roofline["graph_calls"]
    dispatch_ms = roofline["floors"]["dispatch_seconds"] * 1e3
    rows.append(
        (
            f"dispatch: {calls} graph calls x {dispatch_ms:.3f} ms",
            "",
            "",
            "",
            "",
            "",
            f"{roofline['dispatch_seconds'] * 1e3:.2f}",
        )
    )
    rows.append(
        ("**roofline**", "", "", "", "", "", f"{roofline['total_seconds'] * 1e3:.2f}")
    )
    headers = (
        "op",
        "pass",
        "FLOP/sample",
        "bytes/sample",
        "FLOP/byte",
        "bound",
        "ms/epoch",
    )
    table = tabulate(
        rows, headers, tablefmt="github", disable_numparse=True, stralign="right"
    )
    floors = roofline["floors"]
    title = (
        f"### Roofline: {roofline['samples']:,} samples, batch "
        f"{roofline['batch_size']}, {calls} graph calls"
    )
    note = (
        f"At {floors['peak_flops_per_second'] / 1e9:.1f} GFLOP/s and "
        f"{floors['bandwidth_bytes_per_second'] / 1e9:.1f} GB/s; bytes assume no "
        "cache reuse and no fusion between ops."
    )
    return f"{title}\n\n{table}\n\n{note}\n"
