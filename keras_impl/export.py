"""Export the Keras way: step 5, save the trained model and load it back.

One call each: `save` writes the architecture, the weights and the optimizer state
into one .keras file; `load_model` rebuilds the model from it, ready to predict or to
train on. Its twin, written without Keras, is raw_tf_impl/export.py.
"""

import keras


# Step 5: export ----------------------------------------------------------------
def save(model, path):
    """The whole model in one file; Keras wants the name to end in .keras."""
    model.save(path)
    return path


def load(path):
    return keras.models.load_model(path)


def predict_probabilities(model, images):
    """The last layer is the softmax, so the outputs are the probabilities."""
    return model.predict(images, verbose=0)  # (B, 10)
