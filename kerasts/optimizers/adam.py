import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="kerasts")
class Adam(keras.optimizers.Adam):
    """Keras's Adam, with each sparse gradient summed into a dense one before clipping and the update.

    An embedding's gradient comes as one row per looked-up id (`tf.IndexedSlices`). Keras 3's Adam
    updates its moments over the whole table either way, but on such a gradient it squares each row
    on its own: an id looked up n times in a batch gets the sum of its rows' squares as second moment
    instead of the square of their sum, and so moves up to sqrt(n) times as far as Adam would move it
    (its global-norm clipping counts the rows the same way). Summing the rows first gives Adam's update,
    as tf-keras's optimizers did by deduplicating, and costs less than Keras's sparse path
    (benchmarks/RESULTS.md, "Adam on embeddings"). Dense gradients are untouched.

    Args:
        As `keras.optimizers.Adam`.

    Example:
        >>> model.compile(kerasts.optimizers.Adam(1e-3), loss="mse")

    Reference:
        Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
    """

    def apply(self, grads, trainable_variables=None):
        grads = [tf.convert_to_tensor(gradient) if isinstance(gradient, tf.IndexedSlices) else gradient
                 for gradient in grads]
        return super().apply(grads, trainable_variables)
