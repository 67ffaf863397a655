"""Orchestrates the comparison of keras_impl and raw_tf_impl; run it with `python -m compare`."""
