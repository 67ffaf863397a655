"""Model files read as hostile until checked: a SavedModel or .keras archive is loaded
only if it is one of the two architectures (architectures.py) and could have come from
this project's own export (provenance.py for SavedModels, against a fresh export made
here, fresh_export.py: its ops among allowed_ops.py's, its signatures as
signatures.py expects; keras_archive.py for .keras zips: bounded members, no bomb, the
lecture's config)."""
