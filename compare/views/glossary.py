"""The five words of the lecture a newcomer may not know, one term per idea, in plain words:
printed under the comparison table and under `compare step`, and as a Markdown list for
the lesson notebooks (`glossary_markdown(lang)`). The Portuguese names the English term
too, the one the TensorFlow and Keras docs use."""

import textwrap

from compare.language import N_, _, speaking

TERMS = {  # key: (term, its English name in Portuguese output, what it means)
    "mini_batch": (
        N_("mini-batch"),
        "mini-batch",
        N_(
            "the few images the model sees before each change of its weights "
            "(batch, for short)"
        ),
    ),
    "learning_rate": (
        N_("learning rate"),
        "learning rate",
        N_(
            "how big a step the optimizer (Adam) takes each time it changes the weights"
        ),
    ),
    "tracing": (
        N_("tracing"),
        "tracing",
        N_(
            "the first call of a @tf.function: TensorFlow runs the Python code once "
            "and writes its operations down as a graph"
        ),
    ),
    "graph_call": (
        N_("graph call"),
        "graph call",
        N_(
            "one run of that graph, already written down: no Python in between, "
            "no tracing again"
        ),
    ),
    "steady_throughput": (
        N_("steady throughput"),
        "steady throughput",
        N_("images trained per second once tracing is over and the speed holds"),
    ),
}


def entries(keys=None, lang=None):
    """[(term, meaning)] for `keys` (all five by default), in `lang` (None: the current
    language); in Portuguese the term is followed by its English name."""
    with speaking(lang):
        found = []
        for key in keys or TERMS:
            term, english, meaning = TERMS[key]
            shown = _(term)
            if shown != term:
                shown += " " + _("(in English: {term})").format(term=english)
            found.append((shown, _(meaning)))
        return found


def glossary_markdown(lang, keys=None):
    """The glossary as a Markdown list, one term a line: `- **term**: meaning.`"""
    return "\n".join(
        f"- **{term}**: {meaning}." for term, meaning in entries(keys, lang)
    )


def glossary_text(width, keys=None, lang=None):
    """The glossary under a heading, for a terminal: one entry a line, wrapped to `width`
    (None: not wrapped) with its continuation indented."""
    with speaking(lang):
        lines = [_("Words used above:")]
        for term, meaning in entries(keys):
            entry = f"- {term}: {meaning}."
            if width:
                entry = textwrap.fill(
                    entry, width, subsequent_indent="  ", break_on_hyphens=False
                )
            lines.append(entry)
        return "\n".join(lines)
