"""The words of the table, the code view and the report. They are written here in English;
the lecture's Portuguese for them (its own words for the lecture's table) is in the
catalog that compare/language.py reads."""

from compare.language import LANGUAGES, _, speaking

WORDS = {
    "title": "Keras vs pure TensorFlow",
    "characteristic": "Characteristic",
    "keras": "Keras",
    "raw_tf": "Pure TensorFlow",
    # The lecture's two rows: "high" means fast development, not fast training.
    "abstraction": (
        "Abstraction level",
        "High: focused on fast development",
        "Low: detailed control",
    ),
    "typical_use": (
        "Typical use",
        "Rapid prototyping",
        "Research / advanced customisation",
    ),
    "steps": {
        "define": "define",
        "compile": "compile",
        "train": "train",
        "evaluate": "evaluate",
    },
    "step_heading": "Step {number}: {name}",
    "extras_heading": "Extras: beyond the four steps",
    "loc": "Lines of code: {step}",
    "loc_extras": (
        "Lines of code: extras (loop inside the graph, batch order, checkpoints)"
    ),
    "loc_total": "Lines of code: total (with imports)",
    "params": "Trainable parameters",
    "first_epoch": "First epoch, tracing included (s)",
    "trace": "Tracing: first graph call minus a later one (s)",
    "steady": "Steady throughput (samples/s)",
    "train_time": "Train time (s)",
    "test_loss": "Test loss",
    "test_accuracy": "Test accuracy",
    "keras_call": "Keras call",
    "hides": "What it hides",
    "raw_lines": "Raw TensorFlow that does it",
    "concept_map": "Concept map",
    "curves": "Training curves",
    "loss": "loss",
    "accuracy": "accuracy",
    "epoch": "epoch",
    "train": "train",
    "test": "test",
    "loc_chart": "Lines of code per step",
    "side_by_side": "The two styles, step by step",
    "measured": "Measured comparison",
}


def translated(words):
    """`words` (strings, tuples and dicts of them) in the current language."""
    if isinstance(words, str):
        return _(words)
    if isinstance(words, tuple):
        return tuple(translated(word) for word in words)
    return {key: translated(word) for key, word in words.items()}


def words_in(lang):
    with speaking(lang):
        return translated(WORDS)


TEXT = {lang: words_in(lang) for lang in LANGUAGES}


def step_titles(lang):
    """Column and step headings for the code view."""
    words = TEXT[lang]
    titles = {name: words[name] for name in ("keras", "raw_tf")}
    for number, (step, name) in enumerate(words["steps"].items(), start=1):
        titles[step] = words["step_heading"].format(number=number, name=name)
    titles["extras"] = words["extras_heading"]
    return titles
