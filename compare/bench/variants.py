"""What `python -m compare bench` measures: the variants (a style with its speed
settings), the defaults, the benchmark's configuration (a Request, and what bench
adds) and its errors."""

import dataclasses

from compare.errors import CompareError
from compare.language import N_
from compare.request import Request

EPOCH = "epoch"  # steps_per_execution: all of an epoch's batches in one graph call
VARIANTS = {  # name: (style, changes from the style's defaults, description)
    "keras": (
        "keras",
        {},
        "Keras fit, 1 batch per graph call, on seeded_batches (tf.data, the raw loop's "
        "order), as the table trains",
    ),
    "keras_fit_shuffle": (
        "keras",
        {"fit_shuffle": True},
        "Keras fit, 1 batch per graph call, on NumPy arrays with fit's own shuffle: the "
        "lesson's train as written",
    ),
    "keras_fused": (
        "keras",
        {"steps_per_execution": EPOCH},
        "Keras fit, steps_per_execution = the epoch's batches (run_in_graph)",
    ),
    "keras_steps32": (
        "keras",
        {"steps_per_execution": 32},
        "Keras fit, steps_per_execution=32",
    ),
    "keras_tf_data": (
        "keras",
        {"steps_per_execution": 32, "tf_data": True},
        "Keras fit on tf.data (shuffle, batch, prefetch), steps_per_execution=32",
    ),
    "keras_xla": (
        "keras",
        {"steps_per_execution": 32, "jit_compile": True},
        "Keras fit, steps_per_execution=32, jit_compile=True (XLA)",
    ),
    "raw": (
        "raw_tf",
        {},
        "raw TF, the lesson's loop: 1 batch per @tf.function call",
    ),
    "raw_plus_bias": (
        "raw_tf",
        {"plus_bias": True},
        "raw TF, the lesson's loop, the conv bias added with + instead of "
        "tf.nn.bias_add: its gradient then a Sum apart from the conv's (an op choice)",
    ),
    "raw_fused": (
        "raw_tf",
        {"steps_per_execution": EPOCH},
        "raw TF, the whole epoch in one graph call (train_epoch_in_graph's loop)",
    ),
    "keras_no_nan_stop": (
        "keras",
        {"no_nan_stop": True},
        "Keras fit, defaults, without the divergence stop (the price of stopping at a NaN loss)",
    ),
    "keras_checkpoints": (
        "keras",
        {"checkpoints": True},
        "Keras fit with BackupAndRestore after every epoch, on seeded_batches",
    ),
    "raw_checkpoints": (
        "raw_tf",
        {"checkpoints": True},
        "raw TF, defaults, tf.train.Checkpoint after every epoch",
    ),
    "keras_jax": (
        "keras",
        {"backend": "jax"},
        "Keras fit, defaults, on the JAX backend",
    ),
    "keras_torch": (
        "keras",
        {"backend": "torch"},
        "Keras fit, defaults, on the PyTorch backend",
    ),
    "torch": ("torch", {}, "PyTorch eager, the same CNN (an outside reference)"),
}
DEFAULT_VARIANTS = (
    "keras",
    "keras_fit_shuffle",
    "keras_fused",
    "raw",
    "raw_plus_bias",
    "raw_fused",
)
MACHINE = "machine"  # the worker that measures the machine's floors and the pairs


class BenchError(CompareError):
    """A worker that failed or died."""


NO_TORCH = N_("PyTorch is not installed")  # a reason kept in the report


@dataclasses.dataclass(frozen=True)
class BenchConfig(Request):
    """What bench is asked: a Request (the data, the model, the seed, the epochs, the
    repeats, the matched pairs), with bench's defaults, and the batch sizes and variants
    it measures."""

    epochs: int = 2  # the first is warm-up; steady throughput comes from the others
    repeats: int = 3
    pair_steps: int = 64  # the matched pairs: batches per measurement
    pair_rounds: int = 7  # interleaved rounds per pair (0: not measured)
    batch_sizes: tuple = (128,)
    variants: tuple = DEFAULT_VARIANTS
    profile_dir: str | None = None  # where a profiler trace of each style is written

    def reported(self):
        """The settings bench's report shows (its keys are kept stable)."""
        fields = self.to_fields()
        return {name: fields[name] for name in BENCH_REPORTED}


# The settings bench's flags set and its report shows, in the report's order.
BENCH_REPORTED = (
    "dataset",
    "data_dir",
    "train_samples",
    "test_samples",
    "batch_sizes",
    "repeats",
    "epochs",
    "variants",
    "seed",
    "model",
    "pair_steps",
    "pair_rounds",
    "profile_dir",
)
