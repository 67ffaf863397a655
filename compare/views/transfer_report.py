"""The transfer-learning table (`python -m compare transfer`): the lecture's ResNet50
example in both styles, in the comparison table's formats (compare/views/report.py)."""

from compare.language import N_, _, exact, language, number, quantity, speaking
from compare.views.i18n import TEXT
from compare.views.report import report_text
from compare.views.tracing import tracing_cell


def seconds(value):
    return _("n/a") if value is None else number(value, 1)


def phase_tracing(phase):
    return tracing_cell(phase["trace_seconds"], phase.get("trace_noise_seconds"))


TRANSFER_ROWS = [  # (label, how to read it from a result); None: the row does not apply
    (
        N_("Lines of code: define (the lecture's model, preprocessing)"),
        lambda r: r["loc"]["define"],
    ),
    (N_("Lines of code: freeze and unfreeze"), lambda r: r["loc"]["freeze"]),
    (N_("Lines of code: load pretrained weights"), lambda r: r["loc"]["load"]),
    (
        N_("Lines of code: compile, train, evaluate (cnn.py's, reused)"),
        lambda r: r["loc"]["compile_train_evaluate"],
    ),
    (N_("Lines of code: total"), lambda r: r["loc"]["total"]),
    (
        N_("Parameters (trainable with the base frozen)"),
        lambda r: "{params} ({trainable})".format(
            params=number(r["params"]),
            trainable=number(r["transfer"]["head"]["trainable_params"]),
        ),
    ),
    (
        N_("Transfer, head only: tracing (s)"),
        lambda r: phase_tracing(r["transfer"]["head"]),
    ),
    (
        N_("Transfer, head only: training time (s)"),
        lambda r: seconds(r["transfer"]["head"]["train_seconds"]),
    ),
    (
        N_("Transfer, head only: test accuracy"),
        lambda r: number(r["transfer"]["head"]["test_accuracy"], 4),
    ),
    (
        N_("Fine-tuning: training time (s)"),
        lambda r: (
            seconds(r["transfer"]["fine_tune"]["train_seconds"])
            if "fine_tune" in r["transfer"]
            else None
        ),
    ),
    (
        N_("Fine-tuning: test accuracy"),
        lambda r: (
            number(r["transfer"]["fine_tune"]["test_accuracy"], 4)
            if "fine_tune" in r["transfer"]
            else None
        ),
    ),
    (N_("From scratch: tracing (s)"), lambda r: phase_tracing(r["scratch"])),
    (
        N_("From scratch: training time (s)"),
        lambda r: seconds(r["scratch"]["train_seconds"]),
    ),
    (
        N_("From scratch: test accuracy"),
        lambda r: number(r["scratch"]["test_accuracy"], 4),
    ),
    (
        N_("Transfer minus scratch (accuracy points)"),
        lambda r: signed(transfer_gain(r), 1),
    ),
]


def transfer_gain(result):
    """Accuracy points the best transfer phase gains over training from scratch."""
    best = max(phase["test_accuracy"] for phase in result["transfer"].values())
    return 100 * (best - result["scratch"]["test_accuracy"])


def signed(value, places):
    """+1.5 or -0.3: the sign always shown."""
    return ("+" if value >= 0 else "-") + number(abs(value), places)


def epochs(count):
    return quantity(count, "{count} epoch", "{count} epochs")


def transfer_summary(report):
    config, sizes, pretraining = (
        report["config"],
        report["sizes"],
        report["pretraining"],
    )
    lines = [
        _(
            "{name} from {source}, grey 28x28 resized to {size}x{size}x3. Target "
            "task: classes {classes}, {train} labelled images, {test} test images; "
            "mini-batch size {batch_size}, learning rate {lr}, head {epochs}, from "
            "scratch {scratch_epochs}, fine-tuning {fine_tune_epochs} (learning rate "
            "{fine_tune_lr}, stages {stages}), seed {seed}"
        ).format(
            name=report["dataset"]["name"],
            source=_(report["dataset"]["source"]),
            size=config["image_size"],
            classes=", ".join(map(str, config["target_classes"])),
            train=number(sizes["target_train"]),
            test=number(sizes["target_test"]),
            batch_size=config["batch_size"],
            lr=exact(config["lr"]),
            epochs=epochs(config["epochs"]),
            scratch_epochs=epochs(config["scratch_epochs"]),
            fine_tune_epochs=epochs(config["fine_tune_epochs"]),
            fine_tune_lr=exact(config["fine_tune_lr"]),
            stages=",".join(config["fine_tune_stages"]),
            seed=config["seed"],
        )
    ]
    if pretraining:
        lines.append(
            _(
                "Pretrained base: trained here the Keras way on classes {classes} "
                "({samples}, {epochs}, {seconds} s, source-task test accuracy "
                "{accuracy}), saved as a Keras weights file that both styles load"
            ).format(
                classes=", ".join(map(str, pretraining["classes"])),
                samples=quantity(
                    pretraining["samples"], "{count} image", "{count} images"
                ),
                epochs=epochs(pretraining["epochs"]),
                seconds=number(pretraining["train_seconds"]),
                accuracy=number(pretraining["test_accuracy"], 4),
            )
        )
    else:
        lines.append(
            {
                "imagenet": _(
                    "Pretrained base: ImageNet, through Keras' download-and-cache path"
                ),
                "none": _(
                    "Base: random weights (--weights none), frozen: what transfer "
                    "from nothing gives"
                ),
            }.get(
                config["weights"],
                _("Pretrained base: {weights}").format(weights=config["weights"]),
            )
        )
    return "\n".join(lines)


def render_transfer(report, fmt, lang=None):
    """The transfer-learning report as text in `fmt`: table, markdown, json or csv."""
    with speaking(lang):
        return render_transfer_in_language(report, fmt)


def render_transfer_in_language(report, fmt):
    results = report["results"]
    rows = [
        [_(label), *(read(r) for r in results)]
        for label, read in TRANSFER_ROWS
        if any(read(r) is not None for r in results)
    ]
    flat = [
        {
            "implementation": r["implementation"],
            **{f"loc_{k}": v for k, v in r["loc"].items()},
            "params": r["params"],
            "transfer_minus_scratch_points": transfer_gain(r),
            **{
                f"{name}_{key}": value
                for name, phase in [*r["transfer"].items(), ("scratch", r["scratch"])]
                for key, value in phase.items()
                if key != "loss"
            },
        }
        for r in results
    ]
    return report_text(
        report,
        fmt,
        _("ResNet50 transfer learning: Keras vs pure TensorFlow"),
        ["", *(TEXT[language()][r["implementation"]] for r in results)],
        rows,
        transfer_summary(report),
        flat,
    )
