"""The lecture's CNN written in pure TensorFlow, without Keras (see cnn.py)."""

from raw_tf_impl.cnn import build_model, compile_model, evaluate, train

__all__ = ["build_model", "compile_model", "train", "evaluate"]
