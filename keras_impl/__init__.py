"""The lecture's CNN written the Keras way (see cnn.py)."""

from keras_impl.cnn import build_model, compile_model, evaluate, train

__all__ = ["build_model", "compile_model", "train", "evaluate"]
