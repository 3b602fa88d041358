import keras
import numpy as np
import pytest
import tensorflow as tf

import kerasts

# Rows 0 and 2 of a 4 x 2 table looked up: row 0 twice (an id repeated in a batch).
SPARSE = tf.IndexedSlices(tf.constant([[1.0, 1.0], [1.0, 1.0], [2.0, 0.0]]), tf.constant([0, 0, 2]),
                          tf.constant([4, 2]))


def updated_table(optimizer, gradient, steps=2):
    table = keras.Variable(np.zeros((4, 2), "float32"))
    for _ in range(steps):
        optimizer.apply_gradients([(gradient, table)])
    return keras.ops.convert_to_numpy(table)


@pytest.mark.parametrize("options", [{}, {"global_clipnorm": 1.0}, {"clipnorm": 1.0}])
def test_a_sparse_gradient_moves_the_table_as_adam_moves_it_on_the_summed_gradient(options):
    dense = tf.convert_to_tensor(SPARSE)  # row 0: [2, 2], the sum of its two rows
    expected = updated_table(keras.optimizers.Adam(0.1, **options), dense)
    np.testing.assert_allclose(updated_table(kerasts.optimizers.Adam(0.1, **options), SPARSE), expected, rtol=1e-6)
    # Keras's own Adam squares the repeated id's rows one by one and moves it sqrt(2) times as far.
    keras_sparse = updated_table(keras.optimizers.Adam(0.1), SPARSE)
    assert not np.allclose(keras_sparse[0], updated_table(keras.optimizers.Adam(0.1), dense)[0])


class OneHotLookup(keras.layers.Layer):
    """An embedding lookup as a one-hot product: the same rows, with a dense gradient for the table."""

    def build(self, input_shape):
        self.embeddings = self.add_weight(shape=(4, 2))

    def call(self, ids):
        return keras.ops.matmul(keras.ops.one_hot(ids, 4), self.embeddings)


def test_an_embedding_trains_through_fit_as_its_one_hot_product_does_with_keras_adam():
    ids = np.array([[0, 0, 1], [0, 2, 2]])
    targets = np.array([[1.0], [0.0]])

    def fitted(lookup, optimizer):
        model = keras.Sequential([keras.Input((3,), dtype="int32"), lookup, keras.layers.GlobalAveragePooling1D(),
                                  keras.layers.Dense(1, kernel_initializer="ones")])
        lookup.set_weights([np.arange(8, dtype="float32").reshape(4, 2) / 10])
        model.compile(optimizer, loss="mse")
        model.fit(ids, targets, epochs=3, batch_size=2, shuffle=False, verbose=0)
        return keras.ops.convert_to_numpy(lookup.weights[0])

    np.testing.assert_allclose(fitted(keras.layers.Embedding(4, 2), kerasts.optimizers.Adam(0.1)),
                               fitted(OneHotLookup(), keras.optimizers.Adam(0.1)), rtol=1e-5, atol=1e-6)


def test_a_saved_model_reloads_with_the_optimizer(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(kerasts.optimizers.Adam(0.02, global_clipnorm=3.0), loss="mse")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
    model.save(tmp_path / "model.keras")
    optimizer = keras.saving.load_model(tmp_path / "model.keras").optimizer
    assert isinstance(optimizer, kerasts.optimizers.Adam)
    assert optimizer.get_config() == model.optimizer.get_config()
