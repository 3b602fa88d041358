import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerasts.layers import Tower  # noqa: E402
from kerasts.testing import TestCase  # noqa: E402

FEATURES = {
    "USER_ID": {"type": "categorical", "vocabulary": ["u1", "u2", "u3"], "embedding_dim": 4},
    "GENRES": {"type": "multi_categorical", "vocabulary": ["horror", "comedy", "drama"], "embedding_dim": 3},
    "age": {"type": "numeric", "units": 2, "mean": 30.0, "std": 10.0},
}


def _inputs():
    return {"USER_ID": tf.constant(["u1", "u2", "zz", "u3"]),
            "GENRES": tf.constant(["horror|comedy", "", "drama", "comedy|unknown"]),
            "age": tf.constant([20.0, 30.0, 40.0, 50.0])}


class TowerHarnessTest(TestCase):
    def test_harness(self):
        self.run_layer_test(Tower, {"features": FEATURES, "output_dim": 5, "hidden_units": (6,), "dropout": 0.1},
                            _inputs(), expected_output_shape=(4, 5))


def _linear_tower():
    """A tower whose readout is the identity over the concatenated groups, to see each group."""
    tower = Tower(FEATURES, output_dim=4 + 3 + 2)
    tower.build()
    tower._readout.kernel.assign(np.eye(9, dtype="float32"))
    return tower


def test_groups_embed_pool_and_standardise():
    tower = _linear_tower()
    out = tower(_inputs()).numpy()
    user_table = tower.groups._group_layers["USER_ID"].embeddings.numpy()
    genre_table = tower.groups._group_layers["GENRES"].embeddings.numpy()
    # Unknown ids use the out-of-vocabulary row 0; known ids their position + 1.
    np.testing.assert_allclose(out[2, :4], user_table[0], rtol=1e-6)
    np.testing.assert_allclose(out[1, :4], user_table[2], rtol=1e-6)
    # Multi-valued: the mean of the values' rows; an empty string gives zeros; unknown values use row 0.
    np.testing.assert_allclose(out[0, 4:7], (genre_table[1] + genre_table[2]) / 2, rtol=1e-5)
    np.testing.assert_allclose(out[1, 4:7], 0.0)
    np.testing.assert_allclose(out[3, 4:7], (genre_table[2] + genre_table[0]) / 2, rtol=1e-5)
    # Numeric: standardised, so age 30 gives the dense layer's bias (zero) through a ReLU.
    np.testing.assert_allclose(out[1, 7:], 0.0)


def test_multi_valued_rows_of_separate_ids_equal_joined_strings():
    tower = Tower(FEATURES, output_dim=5, hidden_units=(6,))
    joined = tower(_inputs()).numpy()
    lists = {**_inputs(), "GENRES": tf.constant([["horror", "comedy"], ["", ""], ["drama", ""], ["comedy", "unknown"]])}
    np.testing.assert_allclose(tower(lists).numpy(), joined, rtol=1e-6)
    column = {**_inputs(), "GENRES": tf.reshape(_inputs()["GENRES"], (-1, 1))}  # joined strings, as a column
    np.testing.assert_allclose(tower(column).numpy(), joined, rtol=1e-6)
    assert tower.input_signature(lists=True)["GENRES"].shape.as_list() == [None, None]
    assert tower.input_signature()["GENRES"].shape.as_list() == [None]


def test_integer_ids_are_read_as_their_decimal_strings():
    tower = Tower({"ITEM_ID": {"type": "categorical", "vocabulary": [10, 20]}}, output_dim=3)
    np.testing.assert_allclose(tower({"ITEM_ID": tf.constant([20])}).numpy(),
                               tower({"ITEM_ID": tf.constant(["20"])}).numpy())


@pytest.mark.parametrize(
    "features, message",
    [
        ({}, "non-empty dict"),
        ({"x": {"type": "image"}}, "'type' in"),
        ({"x": {"type": "categorical"}}, "needs a non-empty 'vocabulary'"),
    ],
)
def test_bad_specs(features, message):
    with pytest.raises(ValueError, match=message):
        Tower(features)


def test_missing_feature_is_named():
    inputs = _inputs()
    inputs.pop("GENRES")
    with pytest.raises(ValueError, match=r"lacks input feature\(s\) \['GENRES'\]"):
        Tower(FEATURES)(inputs)
