"""The machine's floors, measured where the code runs, with TensorFlow.

Three numbers bound how fast any training step can go on this machine:

- compute: fp32 FLOP/s of chained 1024x1024 matmuls in one graph call;
- memory: GB/s of a STREAM-like triad `a = b + s * c` on arrays far larger than the
  caches;
- dispatch: the time of calling a trivial `tf.function` from Python.

Every measurement is repeated and reported as {"median", "min", "max"}; the roofline
(compare/bench/roofline.py) takes the medians. `measure_floors()` takes about 5 s on a
2-core machine, `measure_floors(quick=True)` under 2 s.
"""

import statistics
import time

import numpy as np
from tabulate import tabulate

from compare.stats import spread

FULL = {  # sizes of the full measurement
    "matmul_size": 1024,
    "matmul_products": 10,
    "triad_elements": 2**25,  # 128 MiB per float32 array
    "dispatch_calls": 400,
    "repeats": 5,
}
QUICK = {  # the same, small enough for tests
    "matmul_size": 512,
    "matmul_products": 10,
    "triad_elements": 2**23,  # 32 MiB per array
    "dispatch_calls": 100,
    "repeats": 3,
}
FLOAT32_BYTES = 4
STREAM_BYTES = 3 * FLOAT32_BYTES  # triad as STREAM counts it: read b, c; write a
# Two kernels, s * c then b + (s * c), as unfused TensorFlow and NumPy run it: the
# temporary is written once and read once more.
TWO_KERNEL_BYTES = 5 * FLOAT32_BYTES


def seconds_of(run, repeats, warmup=1):
    """Wall seconds of `repeats` calls of `run`, after `warmup` untimed calls."""
    for _ in range(warmup):
        run()
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return timings


def matmul_peak(size=1024, products=10, repeats=5):
    """fp32 GFLOP/s of `products` chained size x size matmuls in one graph call.

    Each product depends on the last, so none can be skipped; 2 n^3 FLOPs each.
    """
    import tensorflow as tf

    factor = tf.random.stateless_normal([size, size], seed=[0, 0]) / size**0.5
    start_matrix = tf.random.stateless_normal([size, size], seed=[0, 1])

    @tf.function
    def chained_products():
        product = start_matrix
        for _ in tf.range(products):
            product = tf.matmul(product, factor)
        return product

    timings = seconds_of(lambda: chained_products().numpy(), repeats)
    flops = 2 * size**3 * products
    return {
        "gflops_per_second": spread([flops / t / 1e9 for t in timings]),
        "size": size,
        "products": products,
        "repeats": repeats,
    }


def matmul_peak_gflops(size=1024, products=20, repeats=3):
    """The best GFLOP/s of `matmul_peak`: one number, as compare/bench/bench.py uses."""
    return matmul_peak(size, products, repeats)["gflops_per_second"]["max"]


def bandwidths(elements, timings, traffic_bytes):
    """GB/s of a triad two ways: STREAM's 12 bytes per element, and the bytes the
    kernels really move (`traffic_bytes` per element)."""
    return {
        "stream_gb_per_second": spread(
            [STREAM_BYTES * elements / t / 1e9 for t in timings]
        ),
        "traffic_gb_per_second": spread(
            [traffic_bytes * elements / t / 1e9 for t in timings]
        ),
        "traffic_bytes_per_element": traffic_bytes,
    }


def triad_tf(elements=2**25, repeats=5, jit_compile=False):
    """GB/s of `a = b + s * c` in a tf.function, `a` a new tensor each call.

    Unfused, TensorFlow runs two kernels (Mul, then AddV2): 20 bytes per element move.
    With `jit_compile=True` XLA fuses them into one loop: 12 bytes, STREAM's triad.
    """
    import tensorflow as tf

    b = tf.random.stateless_uniform([elements], seed=[0, 1])
    c = tf.random.stateless_uniform([elements], seed=[0, 2])
    scale = tf.constant(3.0)

    @tf.function(jit_compile=jit_compile)
    def triad(b, c, scale):
        return b + scale * c

    timings = seconds_of(lambda: triad(b, c, scale), repeats)
    traffic = STREAM_BYTES if jit_compile else TWO_KERNEL_BYTES
    return {
        **bandwidths(elements, timings, traffic),
        "elements": elements,
        "repeats": repeats,
    }


def triad_numpy(elements=2**25, repeats=5):
    """GB/s of NumPy's triad, `np.add(b, s * c, out=a)` written as two passes.

    `s * c` is a temporary: 20 bytes per element move (c read, tmp written; b and tmp
    read, a written). The temporary is allocated once, outside the timing, so that
    the page faults of a fresh 128 MiB array are not measured.
    """

    rng = np.random.default_rng(0)
    b, c = rng.random(elements, np.float32), rng.random(elements, np.float32)
    a, scaled = np.empty_like(b), np.empty_like(b)
    scale = np.float32(3.0)

    def triad():
        np.multiply(c, scale, out=scaled)
        np.add(b, scaled, out=a)

    timings = seconds_of(triad, repeats)
    return {
        **bandwidths(elements, timings, TWO_KERNEL_BYTES),
        "elements": elements,
        "repeats": repeats,
    }


def call_microseconds(function, args, calls, repeats):
    """Per-call µs of `function(*args)`: the median of `calls` calls, once per repeat."""
    function(*args)  # traces it
    medians = []
    for _ in range(repeats):
        timings = []
        for _ in range(calls):
            start = time.perf_counter()
            function(*args)
            timings.append(time.perf_counter() - start)
        medians.append(statistics.median(timings) * 1e6)
    return spread(medians)


def dispatch_floor(calls=400, repeats=5):
    """µs of one call of a trivial tf.function from Python: `x + 1` on a scalar, and
    the same taking a tf.Module of 4 scalar variables (as the raw training step takes
    the model and the optimizer)."""
    import tensorflow as tf

    class FourScalars(tf.Module):
        def __init__(self):
            super().__init__()
            self.scalars = [tf.Variable(float(i)) for i in range(4)]

    @tf.function
    def increment(x):
        return x + 1

    @tf.function
    def increment_by_module(module, x):
        return x + tf.add_n(module.scalars)

    x, module = tf.constant(1.0), FourScalars()
    return {
        "scalar_us": call_microseconds(increment, (x,), calls, repeats),
        "module_us": call_microseconds(
            increment_by_module, (module, x), calls, repeats
        ),
        "calls_per_repeat": calls,
        "repeats": repeats,
    }


def measure_floors(quick=False):
    """All floors, and the three numbers the roofline takes (medians):
    peak_flops_per_second, bandwidth_bytes_per_second, dispatch_seconds.

    The roofline's bandwidth is the unfused TF triad with the bytes its two kernels
    really move: bytes counted the way roofline.py counts each op's.
    """
    sizes = QUICK if quick else FULL
    repeats = sizes["repeats"]
    start = time.perf_counter()
    matmul = matmul_peak(sizes["matmul_size"], sizes["matmul_products"], repeats)
    tf_triad = triad_tf(sizes["triad_elements"], repeats)
    xla_triad = triad_tf(sizes["triad_elements"], repeats, jit_compile=True)
    numpy_triad = triad_numpy(sizes["triad_elements"], repeats)
    dispatch = dispatch_floor(sizes["dispatch_calls"], repeats)
    return {
        "quick": quick,
        "matmul": matmul,
        "triad_tf": tf_triad,
        "triad_tf_xla": xla_triad,
        "triad_numpy": numpy_triad,
        "dispatch": dispatch,
        "peak_flops_per_second": matmul["gflops_per_second"]["median"] * 1e9,
        "bandwidth_bytes_per_second": tf_triad["traffic_gb_per_second"]["median"] * 1e9,
        "dispatch_seconds": dispatch["scalar_us"]["median"] * 1e-6,
        "seconds": time.perf_counter() - start,
    }


def spread_cell(values, digits=1):
    """'median (min-max)' of a spread."""
    return (
        f"{values['median']:.{digits}f} ({values['min']:.{digits}f}"
        f"-{values['max']:.{digits}f})"
    )


def markdown(floors):
    """The floors as a GitHub markdown table: median (min-max) of each."""
    matmul, dispatch = floors["matmul"], floors["dispatch"]
    size, products = matmul["size"], matmul["products"]
    rows = [
        (
            f"fp32 matmul, {products} chained {size}x{size}",
            spread_cell(matmul["gflops_per_second"]),
            "GFLOP/s",
        )
    ]
    triads = (
        ("triad_tf", "TF triad (tf.function, Mul + AddV2)"),
        ("triad_tf_xla", "TF triad, XLA-fused"),
        ("triad_numpy", "NumPy triad (with a temporary)"),
    )
    for key, label in triads:
        triad = floors[key]
        mib = triad["elements"] * FLOAT32_BYTES / 2**20
        rows.append(
            (
                f"{label}, {mib:.0f} MiB arrays, STREAM 12 B/element",
                spread_cell(triad["stream_gb_per_second"]),
                "GB/s",
            )
        )
        if triad["traffic_bytes_per_element"] != STREAM_BYTES:
            rows.append(
                (
                    f"{label}, bytes moved: {triad['traffic_bytes_per_element']} B/element",
                    spread_cell(triad["traffic_gb_per_second"]),
                    "GB/s",
                )
            )
    rows += [
        ("dispatch: tf.function `x + 1`", spread_cell(dispatch["scalar_us"]), "µs"),
        (
            "dispatch: tf.function taking a tf.Module of 4 variables",
            spread_cell(dispatch["module_us"]),
            "µs",
        ),
    ]
    table = tabulate(rows, ("floor", "median (min-max)", "unit"), tablefmt="github")
    used = (
        f"The roofline takes {floors['peak_flops_per_second'] / 1e9:.1f} GFLOP/s, "
        f"{floors['bandwidth_bytes_per_second'] / 1e9:.1f} GB/s and "
        f"{floors['dispatch_seconds'] * 1e6:.0f} µs per graph call (medians)."
    )
    return f"### Machine floors\n\n{table}\n\n{used}\n"
