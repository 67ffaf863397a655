"""Where a training step's time goes, from TensorFlow's profiler.

Each style's step (a callable running one training step) runs a few times under
`tf.profiler.experimental`; the trace lands in `<logdir>/<style>/plugins/profile/<run>/`
as `<host>.xplane.pb`, which TensorBoard's profile plugin and Perfetto open. The
summary reads that file back (XSpace protobuf, shipped with TensorFlow):

- the steps are the `tf.profiler.experimental.Trace` events this module wraps each
  call in, on the Python thread;
- ops are the events named "<node>:<OpType>" on the TensorFlow threads of the
  "/host:CPU" plane (tf_Compute/... inter-op threads; the Eigen threads that help
  inside an op carry no op events);
- op time = the time at least one op runs (the union over threads, inside the steps),
  so it is at most the wall time; op CPU time sums them, so two ops at once count
  twice; the gap = wall - op time: Python, dispatch, executor and profiler overhead;
- input time = tf.data's "Iterator::..." events inside the steps, if any.
"""

import glob
import importlib
import os
import time

from tabulate import tabulate

PS_PER_MS = 1e9
# Ops that call other ops: their events would span (and count again) the ops inside.
CONTAINER_OPS = {
    "PartitionedCall",
    "StatefulPartitionedCall",
    "While",
    "StatelessWhile",
    "If",
    "StatelessIf",
    "Case",
    "StatelessCase",
}
XPLANE_MODULES = (  # where XSpace lives, newest TensorFlow first
    "tensorflow.tsl.profiler.protobuf.xplane_pb2",
    "tsl.profiler.protobuf.xplane_pb2",
    "tensorflow.core.profiler.protobuf.xplane_pb2",
)


def xplane_module():
    """The xplane_pb2 module of this TensorFlow, or None."""
    for name in XPLANE_MODULES:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def read_xspace(path):
    """The XSpace protobuf in an .xplane.pb file."""
    space = xplane_module().XSpace()
    with open(path, "rb") as trace:
        space.ParseFromString(trace.read())
    return space


def is_op(metadata):
    """TensorFlow op events are named "<node name>:<op type>", the type as display name."""
    op_type = metadata.display_name
    return (
        bool(op_type)
        and metadata.name.endswith(":" + op_type)
        and op_type not in CONTAINER_OPS
    )


def step_event_name(style):
    """The name of the Trace event around each profiled step: not a tf.function's."""
    return f"profiled step: {style}"


def events(space):
    """(line name, metadata, start ps, end ps) of every event, on one clock."""
    for plane in space.planes:
        for line in plane.lines:
            base = line.timestamp_ns * 1000
            for event in line.events:
                metadata = plane.event_metadata[event.metadata_id]
                start = base + event.offset_ps
                yield line.name, metadata, start, start + event.duration_ps


def clipped(start, end, windows):
    """Parts of [start, end) inside the (sorted, disjoint) windows."""
    for window_start, window_end in windows:
        low, high = max(start, window_start), min(end, window_end)
        if low < high:
            yield low, high


def union_length(intervals):
    """Total length covered by possibly overlapping intervals."""
    total, reach = 0, None
    for start, end in sorted(intervals):
        if reach is None or start > reach:
            total += end - start
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total


def summarise_trace(path, step_name, top=5):
    """Per-step wall, op, gap and input milliseconds of the `step_name` steps in a trace,
    and the `top` ops by time. Returns a dict; {"available": False, ...} without steps."""
    space = read_xspace(path)
    windows, ops, inputs, op_lines = [], [], [], set()
    for line_name, metadata, start, end in events(space):
        if metadata.name == step_name:
            windows.append((start, end))
        elif is_op(metadata):
            ops.append((line_name, metadata, start, end))
        elif metadata.name.startswith("Iterator::"):
            inputs.append((start, end))
    if not windows:
        return {"available": False, "reason": f"no '{step_name}' step in {path}"}
    windows.sort()
    op_parts, per_op = [], {}
    for line_name, metadata, start, end in ops:
        parts = list(clipped(start, end, windows))
        if parts:
            op_lines.add(line_name)
        op_parts += parts
        per_op[metadata.name] = per_op.get(metadata.name, 0) + sum(
            high - low for low, high in parts
        )
    input_parts = [part for s, e in inputs for part in clipped(s, e, windows)]
    steps = len(windows)
    wall = sum(end - start for start, end in windows)
    op_time = union_length(op_parts)
    op_cpu = sum(end - start for start, end in op_parts)
    ranked = sorted(per_op.items(), key=lambda item: -item[1])[:top]
    return {
        "available": True,
        "trace": path,
        "steps": steps,
        "wall_ms_per_step": wall / steps / PS_PER_MS,
        "op_ms_per_step": op_time / steps / PS_PER_MS,
        "op_cpu_ms_per_step": op_cpu / steps / PS_PER_MS,
        "gap_ms_per_step": (wall - op_time) / steps / PS_PER_MS,
        "input_ms_per_step": union_length(input_parts) / steps / PS_PER_MS,
        "op_threads": len(op_lines),
        "top_ops": [
            {
                "op": name.rsplit(":", 1)[0],
                "type": name.rsplit(":", 1)[1],
                "ms_per_step": total / steps / PS_PER_MS,
                "share_of_op_cpu": total / op_cpu if op_cpu else 0.0,
            }
            for name, total in ranked
        ],
    }


def newest_trace(folder):
    """The newest *.xplane.pb under `folder`, or None."""
    traces = glob.glob(os.path.join(folder, "**", "*.xplane.pb"), recursive=True)
    return max(traces, key=os.path.getmtime) if traces else None


class ProfilerUnavailable(Exception):
    """The profiler would not start, or could not write its trace."""


def trace_steps(step, name, count, folder):
    """Run `step` `count` times under the profiler, writing the trace under `folder`.

    One untimed call after the profiler starts absorbs its start-up cost, which
    otherwise lands in the first step. A failing step's own error goes through.
    """
    import tensorflow as tf

    try:
        tf.profiler.experimental.start(folder)
    except Exception as error:  # already running, or not built into this TensorFlow
        raise ProfilerUnavailable(f"{type(error).__name__}: {error}") from error
    try:
        step()
        for number in range(count):
            trace_name = step_event_name(name)
            with tf.profiler.experimental.Trace(trace_name, step_num=number, _r=1):
                step()
    finally:
        try:
            tf.profiler.experimental.stop()
        except Exception as error:  # the trace could not be written
            raise ProfilerUnavailable(f"{type(error).__name__}: {error}") from error


def profile_steps(steps, logdir, count=20, warmup=2, top=5):
    """Profile each of `steps` ({style name: callable running one training step})
    for `count` steps, each style's trace in `<logdir>/<style>/`.

    Returns {"available": True, "logdir", "seconds", "styles": {name: summary}}, each
    summary as summarise_trace returns it; {"available": False, "reason"} where the
    profiler cannot run or its trace cannot be read (a style's own failure is its
    summary's reason).
    """
    if xplane_module() is None:
        return {"available": False, "reason": "TensorFlow ships no xplane_pb2 here"}
    try:
        import tensorflow as tf  # noqa: F401
    except ImportError as error:
        return {"available": False, "reason": f"TensorFlow does not import: {error}"}
    started = time.perf_counter()
    styles = {}
    for name, step in steps.items():
        for _ in range(warmup):  # traces the tf.function outside the profile
            step()
        folder = os.path.join(logdir, name)
        try:
            trace_steps(step, name, count, folder)
        except ProfilerUnavailable as error:
            reason = f"the profiler failed: {error}".splitlines()[0]
            return {"available": False, "reason": reason}
        path = newest_trace(folder)
        if path is None:
            styles[name] = {"available": False, "reason": f"no trace in {folder}"}
            continue
        try:
            styles[name] = summarise_trace(path, step_event_name(name), top)
        except Exception as error:  # a trace this protobuf cannot parse
            reason = f"unreadable trace {path}: {type(error).__name__}: {error}"
            styles[name] = {"available": False, "reason": reason.splitlines()[0]}
    return {
        "available": True,
        "logdir": logdir,
        "seconds": time.perf_counter() - started,
        "styles": styles,
    }


def markdown(profile):
    """Per-style time split and top ops as a GitHub markdown section."""
    if not profile.get("available"):
        return f"### Profile\n\nNo profile: {profile.get('reason')}\n"
    rows, top_rows = [], []
    for name, summary in profile["styles"].items():
        if not summary.get("available"):
            rows.append((name, summary.get("reason"), "", "", "", "", ""))
            continue
        rows.append(
            (
                name,
                summary["steps"],
                f"{summary['wall_ms_per_step']:.2f}",
                f"{summary['op_ms_per_step']:.2f}",
                f"{summary['op_cpu_ms_per_step']:.2f}",
                f"{summary['gap_ms_per_step']:.2f}",
                f"{summary['input_ms_per_step']:.2f}",
            )
        )
        top_rows += [
            (
                name,
                op["op"],
                op["type"],
                f"{op['ms_per_step']:.3f}",
                f"{op['share_of_op_cpu']:.0%}",
            )
            for op in summary["top_ops"]
        ]
    headers = (
        "style",
        "steps",
        "wall ms/step",
        "op ms/step",
        "op CPU ms/step",
        "gap ms/step",
        "input ms/step",
    )
    table = tabulate(rows, headers, tablefmt="github", disable_numparse=True)
    top_headers = ("style", "op", "type", "ms/step", "share of op CPU")
    top_table = tabulate(
        top_rows, top_headers, tablefmt="github", disable_numparse=True
    )
    note = (
        "op: time with at least one op running; op CPU: summed over threads; "
        "gap: wall - op (Python, dispatch, executor, profiler). "
        f"Traces: `{profile['logdir']}` (TensorBoard's profile plugin, Perfetto)."
    )
    return f"### Profile\n\n{table}\n\n{top_table}\n\n{note}\n"
