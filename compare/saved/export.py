"""--export DIR: where a trained model goes, saved the way its style does, and the rule
that nothing is ever overwritten."""

from pathlib import Path

from compare.data import IMAGE_SHAPE
from compare.language import _
from compare.saved.architectures import ModelError
from compare.saved.predict import export_module


def export_path(folder, implementation, model_name="cnn"):
    """Where `--export DIR` puts a trained model: DIR/keras_cnn.keras, DIR/raw_tf_cnn/ (a SavedModel)."""
    name = f"{implementation}_{model_name}"
    return Path(folder) / (f"{name}.keras" if implementation == "keras" else name)


def refuse_to_overwrite(path, flag):
    """The project's rule: never overwrite a file the user did not name."""
    if path.exists() or path.is_symlink():
        raise ModelError(
            _(
                "{flag}: {path} already exists; not overwriting it (move it away or "
                "choose another path)"
            ).format(flag=flag, path=path)
        )


def check_export(folder, implementations, model_names):
    """Fail before training, not after, where an export would overwrite something."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ModelError(
            _("--export {folder} is a file, not a folder").format(folder=folder)
        )
    for implementation in implementations:
        for model_name in model_names:
            refuse_to_overwrite(
                export_path(folder, implementation, model_name), "--export"
            )


def export_model(
    implementation, model, folder, model_name="cnn", input_shape=(*IMAGE_SHAPE, 1)
):
    """Save a trained model under `folder` (created if missing) the way its style does; returns the path."""
    path = export_path(folder, implementation, model_name)
    refuse_to_overwrite(path, "--export")
    path.parent.mkdir(parents=True, exist_ok=True)
    if implementation == "keras":
        export_module("keras").save(model, path)
    else:
        export_module("raw_tf").save(model, path, input_shape)
    return path
