"""Export in pure TensorFlow: step 5, save the trained model and load it back.

Keras' one call is written out: a serving function with a fixed input signature, traced
into a graph and saved with the variables it reads as a SavedModel folder. The raw model
returns logits, so the softmax goes into the signature. Any TensorFlow program
(TF Serving, the TFLite converter) can run the folder without this code.
Its twin is keras_impl/export.py.
"""

import tensorflow as tf


# Step 5: export ----------------------------------------------------------------
def save(model, folder, input_shape=(28, 28, 1)):
    """A SavedModel of `model` (built for `input_shape`) whose serving signature maps
    float32 images in [0, 1] to class probabilities."""

    @tf.function(
        input_signature=[tf.TensorSpec([None, *input_shape], tf.float32, name="images")]
    )
    def serve(images):  # (B, 28, 28, 1)
        logits = model(images, training=False)  # (B, 10); moving statistics, no dropout
        return {"probabilities": tf.nn.softmax(logits)}  # (B, 10)

    tf.saved_model.save(model, str(folder), signatures={"serving_default": serve})
    return folder


def load(folder):
    """The saved module: its variables under their attribute names
    (loaded.conv_kernel, ...) and loaded.signatures["serving_default"], a graph that
    needs none of our Python code."""
    return tf.saved_model.load(str(folder))


def predict_probabilities(loaded, images):
    serve = loaded.signatures["serving_default"]
    return serve(
        images=tf.convert_to_tensor(images, tf.float32)  # signatures take keywords only
    )["probabilities"].numpy()  # (B, 10)
