"""The words of the table, the code view and the report, in English and in the seed lecture's
Portuguese (its own words for the seed table)."""

TEXT = {
    "en": {
        "title": "Keras vs pure TensorFlow",
        "characteristic": "Characteristic",
        "keras": "Keras",
        "raw_tf": "Pure TensorFlow",
        "abstraction": (
            "Abstraction level",
            "High (focused on speed)",
            "Low (detailed control)",
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
        "loc_extras": "Lines of code: extras (same batch order, checkpoints)",
        "loc_total": "Lines of code: total (with imports)",
        "params": "Trainable parameters",
        "first_epoch": "First epoch, tracing included (s)",
        "trace": "Tracing: first graph call minus steady time (s)",
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
        "side_by_side": "The two implementations, step by step",
        "measured": "Measured comparison",
    },
    "pt": {
        "title": "Keras vs TensorFlow puro",
        "characteristic": "Característica",
        "keras": "Keras",
        "raw_tf": "TensorFlow puro",
        "abstraction": (
            "Nível de Abstração",
            "Alto (focado em rapidez)",
            "Baixo (controle detalhado)",
        ),
        "typical_use": (
            "Uso Típico",
            "Prototipagem rápida",
            "Pesquisa/personalização avançada",
        ),
        "steps": {
            "define": "definir",
            "compile": "compilar",
            "train": "treinar",
            "evaluate": "avaliar",
        },
        "step_heading": "Passo {number}: {name}",
        "extras_heading": "Extras: além dos quatro passos",
        "loc": "Linhas de código: {step}",
        "loc_extras": "Linhas de código: extras (mesma ordem dos lotes, checkpoints)",
        "loc_total": "Linhas de código: total (com imports)",
        "params": "Parâmetros treináveis",
        "first_epoch": "Primeira época, com tracing (s)",
        "trace": "Tracing: primeira chamada do grafo menos o tempo estável (s)",
        "steady": "Vazão estável (amostras/s)",
        "train_time": "Tempo de treino (s)",
        "test_loss": "Perda no teste",
        "test_accuracy": "Acurácia no teste",
        "keras_call": "Chamada Keras",
        "hides": "O que ela esconde",
        "raw_lines": "TensorFlow puro que faz o mesmo",
        "concept_map": "Mapa de conceitos",
        "curves": "Curvas de treino",
        "loss": "perda",
        "accuracy": "acurácia",
        "epoch": "época",
        "train": "treino",
        "test": "teste",
        "loc_chart": "Linhas de código por passo",
        "side_by_side": "As duas implementações, passo a passo",
        "measured": "Comparação medida",
    },
}
LANGUAGES = tuple(TEXT)


def step_titles(lang):
    """Column and step headings for the code view."""
    words = TEXT[lang]
    titles = {name: words[name] for name in ("keras", "raw_tf")}
    for number, (step, name) in enumerate(words["steps"].items(), start=1):
        titles[step] = words["step_heading"].format(number=number, name=name)
    titles["extras"] = words["extras_heading"]
    return titles
