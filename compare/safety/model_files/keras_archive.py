"""Is a .keras file one this project exported? Read from the zip's directory, its config
and its HDF5 structure before Keras reads any of it (compare/safety/model_files/provenance.py does the same
for SavedModels); Keras' own safe_mode would refuse configs that carry code.
"""

import io
import json
import stat
import zipfile
from pathlib import Path

from compare.language import _, number
from compare.safety.model_files.architectures import (
    MAX_WEIGHTS,
    ModelError,
    keras_config_model,
    refused,
)

# A .keras archive holds exactly these, each at most this big once inflated (a fresh cnn:
# 64 bytes, 5 KB and 240 KB): checked before Keras reads a byte of them.
KERAS_MEMBERS = {
    "metadata.json": 2**16,
    "config.json": 2**20,
    "model.weights.h5": 2**27,  # MAX_WEIGHTS float32 numbers and room to spare
}
MAX_H5_OBJECTS = 1000  # groups and datasets in model.weights.h5: a fresh cnn's holds 15


def check_keras_archive(path):
    """Raise ModelError unless the zip at `path` holds exactly a .keras file's members, each
    within KERAS_MEMBERS' bound once inflated (zipfile stops reading a member at the size
    its directory declares), and a config of the lecture's layers and sizes; nothing is
    built. Returns (model name, input shape, classes)."""
    path = Path(path)
    if not stat.S_ISREG(path.stat().st_mode) or not zipfile.is_zipfile(path):
        raise not_readable(path, _("not a zip archive"))
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            check_keras_members(path, members)
            config = json.loads(archive.read("config.json"))
            found = keras_config_model(config, path)
            check_keras_weights(archive.read("model.weights.h5"), path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RecursionError) as error:
        raise not_readable(path, error) from None
    return found


def check_keras_weights(data, path):
    """model.weights.h5's datasets, from its HDF5 structure before Keras reads one: hard
    links only, stored in the file, at most MAX_WEIGHTS numbers as declared (a dataset
    never written, or compressed, takes almost no room whatever its shape)."""
    import h5py

    numbers, seen = 0, 0
    with h5py.File(io.BytesIO(data), "r") as weights:
        groups = [weights]
        while groups:
            group = groups.pop()
            for name in group:
                seen += 1
                if seen > MAX_H5_OBJECTS:
                    raise refused(
                        path,
                        _("model.weights.h5 holds more than {count} objects").format(
                            count=number(MAX_H5_OBJECTS)
                        ),
                    )
                item = group.get(name)
                plain = isinstance(group.get(name, getlink=True), h5py.HardLink)
                if isinstance(item, h5py.Dataset):
                    plain = plain and not (item.external or item.is_virtual)
                    plain = plain and item.dtype.kind in "fiub"
                    numbers += item.size
                elif isinstance(item, h5py.Group):
                    groups.append(item)
                if not plain:
                    raise refused(
                        path,
                        _(
                            "model.weights.h5 keeps {name} as a link, outside the file "
                            "or not as numbers"
                        ).format(name=ascii(f"{group.name}/{name}")),
                    )
    if numbers > MAX_WEIGHTS:
        raise refused(
            path,
            _("model.weights.h5 declares {count} numbers (at most {cap})").format(
                count=number(numbers), cap=number(MAX_WEIGHTS)
            ),
        )


def not_readable(path, reason):
    return ModelError(
        _("{path}: not a readable keras model ({error})").format(
            path=path, error=reason
        )
    )


def check_keras_members(path, members):
    names = [member.filename for member in members]
    if sorted(names) != sorted(KERAS_MEMBERS):
        shown = sorted(map(ascii, set(names)))
        raise refused(
            path,
            _("it holds {found}, not exactly {expected}").format(
                found=", ".join(shown[:6] + ["..."] * (len(shown) > 6)) or _("nothing"),
                expected=", ".join(KERAS_MEMBERS),
            ),
        )
    for member in members:
        cap = KERAS_MEMBERS[member.filename]
        if member.file_size > cap:
            raise refused(
                path,
                _("{member} would inflate to {size} bytes (at most {cap})").format(
                    member=member.filename,
                    size=number(member.file_size),
                    cap=number(cap),
                ),
            )
