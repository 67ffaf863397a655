"""--export DIR: where a trained model goes, saved the way its style does, and the rule
that nothing is ever overwritten."""

from pathlib import Path

from compare.data import IMAGE_SHAPE
from compare.language import _
from compare.safety import atomic, locks
from compare.safety.model_files.architectures import ModelError
from compare.saved.predict import export_module


def export_path(folder, style, model_name="cnn"):
    """Where `--export DIR` puts a trained model: DIR/keras_cnn.keras, DIR/raw_tf_cnn/ (a SavedModel)."""
    name = f"{style}_{model_name}"
    return Path(folder) / (f"{name}.keras" if style == "keras" else name)


def refuse_to_overwrite(path, flag):
    """The project's rule: never overwrite a file the user did not name."""
    if path.exists() or path.is_symlink():
        raise overwrite_refused(path, flag)


def overwrite_refused(path, flag):
    return ModelError(
        _(
            "{flag}: {path} already exists; not overwriting it (move it away or "
            "choose another path)"
        ).format(flag=flag, path=path)
    )


def check_export(folder, styles, model_names):
    """Fail before training, not after, where an export would overwrite something; then
    hold each target's lock for the run, so that a second run exporting there is
    refused now, not overwritten (or overwriting) at the end."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ModelError(
            _("--export {folder} is a file, not a folder").format(folder=folder)
        )
    targets = [
        export_path(folder, style, model_name)
        for style in styles
        for model_name in model_names
    ]
    for path in targets:
        refuse_to_overwrite(path, "--export")
    locks.make_folder(folder)  # the locks lie in it
    atomic.remember_folder(folder, "--export")
    for path in targets:
        locks.hold(locks.beside(path), "--export", path)
        refuse_to_overwrite(path, "--export")  # made before the lock was taken


def save_new(path, save, flag):
    """`save(temporary path)` writes a model beside `path`, renamed into place only
    where nothing is there by then (compare/safety/atomic.py)."""
    locks.hold(locks.beside(path), flag, path)
    refuse_to_overwrite(path, flag)
    atomic.create(path, save, flag, exists=lambda _path: overwrite_refused(path, flag))
    return path


def export_model(style, model, folder, model_name="cnn", input_shape=(*IMAGE_SHAPE, 1)):
    """Save a trained model under `folder` (created if missing) the way its style does; returns the path."""
    path = export_path(folder, style, model_name)
    refuse_to_overwrite(path, "--export")
    path.parent.mkdir(parents=True, exist_ok=True)
    if style == "keras":
        return save_new(
            path, lambda to: export_module("keras").save(model, to), "--export"
        )
    return save_new(
        path,
        lambda to: export_module("raw_tf").save(model, to, input_shape),
        "--export",
    )
