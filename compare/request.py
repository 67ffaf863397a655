"""What a comparison is asked to do: a plain `Request` (the command line's flags, by the
same names), and the combinations the study supports, each other one a one-line error
before any work. The Request is the one configuration of a training run, from the
command line to the harness: the study hands the harness one per model
(`for_model`), bench's workers make their own, and a Keras backend's process gets it
as JSON (`to_fields`, `from_fields`)."""

import dataclasses
from pathlib import Path

from compare.errors import CompareError
from compare.language import _
from compare.saved.export import check_export
from compare.styles import MODEL_NAMES, STYLES


@dataclasses.dataclass(frozen=True)
class Request:
    dataset: str = "auto"
    data_dir: Path | None = None
    train_samples: int | None = None
    test_samples: int | None = None
    epochs: int = 3
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0
    steps_per_execution: int | None = None
    styles: tuple = tuple(STYLES)  # ("keras", "raw_tf") or one of them
    backends: tuple | None = None  # Keras 3 backends, one process each
    model: str = "cnn"  # or "cnn_bn_dropout", or "both"
    strategy: str = "none"
    devices: int | None = None
    worker_timeout: int = 600
    coordinator: str | None = None  # multiworker: Keras on JAX's coordinator, HOST:PORT
    checkpoint_dir: Path | None = None
    resume: bool = False
    export: Path | None = None
    tensorboard: Path | None = None  # TensorBoard's curves, in <folder>/<style>/
    repeats: int = 1
    pair_rounds: int = 5  # the matched pairs' interleaved rounds; 0: not measured
    pair_steps: int = 32  # batches per pair measurement
    same_start: bool = False  # the raw model starts from the Keras model's weights
    seeds: int = 1  # independent initialisations: seed, seed + 1, ...
    target_accuracy: float = 0.88  # for --seeds: test accuracy to reach
    curves: bool = False  # score the test set after every epoch (not timed)
    quiet: bool = False
    jit_compile: bool | str = (
        "auto"  # bench's XLA variants, no flag: "auto" is off on CPUs
    )

    @property
    def models(self):
        return list(MODEL_NAMES) if self.model == "both" else [self.model]

    def for_model(self, model):
        """The request for one of its models: what the harness trains."""
        return dataclasses.replace(self, model=model)

    def to_fields(self):
        """The request as JSON can carry it: paths as text, tuples as lists."""
        return {
            field: str(value) if isinstance(value, Path) else value
            for field, value in dataclasses.asdict(self).items()
        }

    @classmethod
    def from_fields(cls, fields):
        types = {field.name: field.type for field in dataclasses.fields(cls)}
        return cls(
            **{
                name: (
                    Path(value)
                    if value is not None and "Path" in str(types[name])
                    else tuple(value)
                    if isinstance(value, list)
                    else value
                )
                for name, value in fields.items()
            }
        )

    def reported(self):
        """The settings a report's "config" shows (its keys are kept stable)."""
        fields = self.to_fields()
        return {name: fields[name] for name in REPORTED}


# The harness's settings, as reports have shown them since the first version.
REPORTED = (
    "epochs",
    "batch_size",
    "lr",
    "seed",
    "steps_per_execution",
    "jit_compile",
    "strategy",
    "devices",
    "worker_timeout",
    "checkpoint_dir",
    "same_start",
)


def check_request(request):
    """The combinations the study supports; anything else is one clear error, before any
    work. Errors name the command-line flags, which share the request's names."""
    check_strategy(request)
    if request.backends and "keras" not in request.styles:
        raise CompareError(
            _("--backends runs Keras; it does not combine with --only raw")
        )
    refuse_first(  # one run per style in <folder>/<style>
        [("backends", request.backends), ("model both", request.model == "both")]
        if request.tensorboard
        else [],
        _("{flag} does not combine with --{other}"),
        "other",
        flag="--tensorboard",
    )
    if request.same_start and len(request.styles) < 2:
        raise CompareError(_("--same-start needs both styles (not --only)"))
    if request.seeds > 1:
        refuse_first(
            [
                ("--checkpoint-dir", request.checkpoint_dir),
                ("--export", request.export),
                ("--backends", request.backends),
                ("--repeats", request.repeats > 1),
                ("--strategy", request.strategy != "none"),
                ("--model both", request.model == "both"),
            ],
            _("--seeds does not combine with {flag}"),
            "flag",
        )
    if request.resume and not request.checkpoint_dir:
        raise CompareError(
            _("--resume needs --checkpoint-dir, the folder to resume from")
        )
    for flag, value in (
        ("--checkpoint-dir", request.checkpoint_dir),
        ("--export", request.export),
    ):
        refuse_first(
            [
                ("strategy", request.strategy != "none"),
                ("backends", request.backends),
                ("repeats", request.repeats > 1),
            ]
            if value
            else [],
            _("{flag} does not combine with --{other}"),
            "other",
            flag=flag,
        )
    if request.export:
        check_export(request.export, request.styles, request.models)


def check_strategy(request):
    """--devices and --strategy, and what a distributed run does not combine with."""
    if request.strategy == "none":
        if request.devices:
            raise CompareError(_("--devices needs --strategy mirrored"))
        return
    if request.devices and request.strategy != "mirrored":
        raise CompareError(
            _(
                "--devices is for --strategy mirrored (multiworker: one device per worker)"
            )
        )
    refuse_first(
        [
            ("--tensorboard", request.tensorboard),  # before the curves it implies
            ("--plot or --report", request.curves),
            ("--backends", request.backends),
            ("--steps-per-execution", request.steps_per_execution),
        ],
        _("{flag} does not combine with --strategy {strategy}"),
        "flag",
        strategy=request.strategy,
    )
    if request.model != "cnn":
        raise CompareError(
            _(
                "--strategy {strategy} trains the lecture's cnn only (not --model {model})"
            ).format(strategy=request.strategy, model=request.model)
        )


def refuse_first(conflicts, message, field, **fields):
    """One error for the first of `conflicts` ((name, value) pairs) whose value is set:
    `message` with that name as its `field` and `fields` filled in."""
    for name, value in conflicts:
        if value:
            raise CompareError(message.format(**{field: name}, **fields))
