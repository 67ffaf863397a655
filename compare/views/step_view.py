"""`python -m compare step` as text: compare/step.py's report, side by side, in the
current language. Fits 80 columns (batches up to 4 digits).

Numbers are written as the language writes them (compare.language): the loss and the
gradient norms with 6 decimals (2.313855, in Brazil 2,313855), the differences, tiny, in
scientific notation with 2 significant digits (1.2E-7, in Brazil 1,2E-7), an exact zero
as 0.
"""

import json
import textwrap

from tabulate import tabulate

from compare.language import _, exact, number, scientific, speaking
from compare.views.glossary import glossary_markdown, glossary_text

WIDTH = 80
DECIMALS = 6  # float32 holds about 7 significant digits
TERMS = ("mini_batch", "learning_rate", "tracing")  # its words in the glossary


def shape_text(shape):
    return "(" + ", ".join(str(size) for size in shape) + ")"


def where(compared):
    """Where a difference was found, after a comma: 'in the gradient of conv_bias'."""
    if compared["what"] == "loss":
        return _("in the loss")
    if compared["what"] == "logits":
        return _("in the logits")
    if compared["what"] == "gradient":
        return _("in the gradient of {variable}").format(variable=compared["name"])
    return _("in {variable} after the Adam step").format(variable=compared["name"])


def table(rows, headers, markdown):
    """A rounded table for the terminal, or a GitHub one (its cells' | escaped)."""
    if markdown:
        rows = [[cell.replace("|", "\\|") for cell in row] for row in rows]
        headers = [header.replace("|", "\\|") for header in headers]
    return tabulate(
        rows,
        headers,
        tablefmt="github" if markdown else "rounded_outline",
        disable_numparse=True,  # the numbers are already written in the user's language
    )


def shapes_table(report, markdown):
    rows = [
        [
            layer["keras_layer"],
            shape_text(layer["keras_shape"]),
            layer["raw_op"],
            shape_text(layer["raw_shape"]),
        ]
        for layer in report["layers"]
    ]
    headers = [_("Keras layer"), "Keras", _("Raw TF op"), _("Raw TF")]
    return table(rows, headers, markdown)


def loss_table(report, markdown):
    differences = {
        compared["what"]: compared["max_abs_difference"]
        for compared in report["differences"]
        if compared["what"] in ("loss", "logits")
    }
    rows = [
        [
            _("Loss"),
            number(report["loss"]["keras"], DECIMALS),
            number(report["loss"]["raw_tf"], DECIMALS),
            scientific(differences["loss"]),
        ],
        [
            _("Logits, largest |value|"),
            number(report["logits"]["keras_max_abs"], DECIMALS),
            number(report["logits"]["raw_tf_max_abs"], DECIMALS),
            scientific(differences["logits"]),
        ],
    ]
    headers = ["", "Keras", _("Raw TF"), _("max |Δ|")]
    return table(rows, headers, markdown)


def gradients_table(report, markdown):
    rows = [
        [
            gradient["keras"],
            gradient["raw_tf"],
            number(gradient["keras_norm"], DECIMALS),
            number(gradient["raw_tf_norm"], DECIMALS),
            scientific(gradient["max_abs_difference"]),
        ]
        for gradient in report["gradients"]
    ]
    headers = [
        _("Keras weight"),
        _("Raw TF variable"),
        "Keras",
        _("Raw TF"),
        _("max |Δ|"),
    ]
    return table(rows, headers, markdown)


def introduction(report):
    dataset = report["dataset"]
    text = _(
        "{dataset}: the raw loop's first mini-batch at seed {seed}, {batch} of its "
        "{train} training images; model {model}. The raw model is drawn from another "
        "seed, then given the Keras weights; each style runs its own forward pass, loss "
        "and gradients."
    ).format(
        dataset=dataset["name"],
        seed=report["seed"],
        batch=number(report["batch_size"]),
        train=number(dataset["train_size"]),
        model=report["model"],
    )
    if "dropout_rate" in report:
        text += " " + _(
            "Dropout rate {rate} in this step: the two styles draw their masks from "
            "different random generators, so they would drop different units. Batch "
            "norm normalises with this batch's statistics (training mode)."
        ).format(rate=exact(report["dropout_rate"]))
    return text


def shapes_note(report):
    return _(
        "The raw shapes are read from the graph of the raw model's own __call__, traced "
        "for this batch. Keras' Dense applies the softmax; the raw model returns the "
        "logits, and its loss applies the softmax."
    )


def after_step(report):
    largest = max(
        report["weights_after_step"], key=lambda weight: weight["max_abs_difference"]
    )
    return _(
        "After one Adam step in each style (learning rate {lr}), the weights differ by "
        "at most {difference} ({variable})."
    ).format(
        lr=exact(report["lr"]),
        difference=scientific(largest["max_abs_difference"]),
        variable=largest["raw_tf"],
    )


def verdict(report):
    """The one line: the largest difference overall, and whether it is rounding."""
    if not report["same_shapes"]:
        layer = next(
            layer
            for layer in report["layers"]
            if layer["keras_shape"] != layer["raw_shape"]
        )
        return _("The shapes differ after {layer}: not the same model.").format(
            layer=layer["keras_layer"]
        )
    largest = report["largest_difference"]
    if largest["max_abs_difference"] == 0:
        return _(
            "Largest difference: 0. Every number above is the same, bit for bit, in "
            "both styles: the same model."
        )
    if report["within_float32_rounding"]:
        return _(
            "Largest difference: {difference}, {where}: within float32 rounding "
            "(sums of n terms, added in another order, may differ by about "
            "√n·{roundoff} of their scale; here up to {tolerance}). The same model."
        ).format(
            difference=scientific(largest["max_abs_difference"]),
            where=where(largest),
            roundoff=scientific(report["unit_roundoff"]),
            tolerance=scientific(largest["tolerance"]),
        )
    beyond = next(
        compared for compared in report["differences"] if not compared["within"]
    )
    return _(
        "Largest difference: {difference}, {where}. Beyond float32 rounding {beyond}: "
        "a difference of {gap}, more than its tolerance {tolerance}."
    ).format(
        difference=scientific(largest["max_abs_difference"]),
        where=where(largest),
        beyond=where(beyond),
        gap=scientific(beyond["max_abs_difference"]),
        tolerance=scientific(beyond["tolerance"]),
    )


def render_step(report, fmt, lang=None):
    """The report as text in `fmt`: table (80 columns), markdown or json (every number
    unrounded, with its tolerance)."""
    if fmt == "json":
        return json.dumps(report, indent=2) + "\n"
    with speaking(lang):
        markdown = fmt == "markdown"

        def heading(text, level):
            return f"{'#' * level} {text}" if markdown else text

        def paragraph(text):
            return textwrap.fill(text, WIDTH, break_on_hyphens=False)

        parts = [
            heading(_("One mini-batch through both styles, from the same weights"), 2),
            paragraph(introduction(report)),
            heading(_("Output shape after each layer"), 3),
            shapes_table(report, markdown),
            paragraph(shapes_note(report)),
            heading(_("Loss and logits"), 3),
            loss_table(report, markdown),
            heading(_("Gradient L2 norm of each variable"), 3),
            gradients_table(report, markdown),
            paragraph(after_step(report)),
            paragraph(verdict(report)),
            (
                _("Words used above:") + "\n\n" + glossary_markdown(None, TERMS)
                if markdown
                else glossary_text(WIDTH, TERMS)
            ),
        ]
        return "\n\n".join(parts) + "\n"
