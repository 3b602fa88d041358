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


def test_an_embedding_trains_through_fit_as_with_dense_gradients():
    ids = np.array([[0, 0, 1], [0, 2, 2]])
    targets = np.array([[1.0], [0.0]])

    def fitted(optimizer):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((3,), dtype="int32"), keras.layers.Embedding(4, 2),
                                  keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)])
        model.compile(optimizer, loss="mse")
        model.fit(ids, targets, epochs=3, batch_size=2, verbose=0)
        return keras.ops.convert_to_numpy(model.layers[0].embeddings)

    class DenseGradientsAdam(keras.optimizers.Adam):  # the reference: every gradient made dense by hand
        def apply(self, grads, trainable_variables=None):
            return super().apply([tf.convert_to_tensor(gradient) for gradient in grads], trainable_variables)

    np.testing.assert_allclose(fitted(kerasts.optimizers.Adam(0.1)), fitted(DenseGradientsAdam(0.1)), rtol=1e-5)


def test_a_saved_model_reloads_with_the_optimizer(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(kerasts.optimizers.Adam(0.02, global_clipnorm=3.0), loss="mse")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
    model.save(tmp_path / "model.keras")
    optimizer = keras.saving.load_model(tmp_path / "model.keras").optimizer
    assert isinstance(optimizer, kerasts.optimizers.Adam)
    assert optimizer.get_config() == model.optimizer.get_config()
