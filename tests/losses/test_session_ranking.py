import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from kerasts.losses import BPRMax, TOP1Max  # noqa: E402
from kerasts.models import HRNN  # noqa: E402

# One step, three slots; slot 2's target repeats slot 0's, and a fourth slot is padding (target 0).
TARGETS = np.array([[1], [2], [1], [0]], "int32")
LOGITS = np.array([[[0.0, 2.0, 0.5, 0.0]], [[0.0, 1.0, -1.0, 0.0]], [[0.0, 0.3, 0.2, 0.0]], [[0.0, 0.0, 0.0, 0.0]]],
                  "float32")


def _catalog(size):
    return [f"i{index}" for index in range(1, size + 1)]


def _sigmoid(value):
    return 1 / (1 + np.exp(-value))


def test_bpr_max_by_hand():
    per_slot = keras.ops.convert_to_numpy(BPRMax(regularization=0.5, elu=0.0, reduction=None)(TARGETS, LOGITS))
    # Slot 0: positive r=2.0; its only negative is slot 1's target (item 2): r_j=0.5, weight 1.
    expected0 = -np.log(_sigmoid(2.0 - 0.5)) + 0.5 * 0.5 ** 2
    # Slot 1: positive r=-1.0 (item 2); negatives item 1 from slots 0 and 2, both scored 1.0.
    expected1 = -np.log(_sigmoid(-1.0 - 1.0)) + 0.5 * 1.0
    np.testing.assert_allclose(per_slot[:2, 0], [expected0, expected1], rtol=1e-5)
    # (slot 3 is padding: its target never serves as a negative; its own loss is masked by sample_weight)


def test_bpr_max_with_shared_negatives_and_elu_by_hand():
    # Only item 3 can be drawn: both shared negatives are item 3, after the in-batch ones.
    loss = BPRMax(regularization=0.5, elu=0.5, item_popularity=[0, 0, 0, 4], num_negatives=2, reduction=None)
    per_slot = keras.ops.convert_to_numpy(loss(TARGETS, LOGITS))

    def elu(value):
        return value if value > 0 else 0.5 * np.expm1(value)

    def bpr_max(positive, negatives):
        weights = np.exp(negatives) / np.exp(negatives).sum()
        return -np.log((weights * _sigmoid(positive - negatives)).sum()) + 0.5 * (weights * negatives ** 2).sum()

    # Slot 0 (target 1, r=2.0): in-batch item 2 (0.5), then item 3 twice (0.0 each).
    # Slot 1 (target 2, r=elu(-1.0)): in-batch item 1 from slots 0 and 2 (1.0 each), then item 3 twice (0.0).
    expected = [bpr_max(2.0, np.array([0.5, 0.0, 0.0])), bpr_max(elu(-1.0), np.array([1.0, 1.0, 0.0, 0.0]))]
    np.testing.assert_allclose(per_slot[:2, 0], expected, rtol=1e-5)
    restored = BPRMax.from_config(loss.get_config())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(restored(TARGETS, LOGITS)), per_slot, rtol=1e-6)


def test_shared_negatives_skip_the_slots_own_target():
    targets = np.array([[3], [1]], "int32")
    logits = np.array([[[0.0, 0.2, 0.0, 5.0]], [[0.0, 1.0, 0.4, -2.0]]], "float32")
    loss = TOP1Max(item_popularity=[0, 0, 0, 4], num_negatives=3, reduction=None)
    per_slot = keras.ops.convert_to_numpy(loss(targets, logits))[:, 0]
    # Slot 0's target is item 3, the only drawable one: its one negative is slot 1's target (item 1, 0.2).
    np.testing.assert_allclose(per_slot[0], _sigmoid(0.2 - 5.0) + _sigmoid(0.04), rtol=1e-5)
    # Slot 1: slot 0's target (item 3, -2.0) and three draws of item 3, all weighted alike.
    np.testing.assert_allclose(per_slot[1], _sigmoid(-2.0 - 1.0) + _sigmoid(4.0), rtol=1e-5)


def test_top1_max_by_hand():
    per_slot = keras.ops.convert_to_numpy(TOP1Max(reduction=None)(TARGETS, LOGITS))
    expected0 = _sigmoid(0.5 - 2.0) + _sigmoid(0.25)
    np.testing.assert_allclose(per_slot[0, 0], expected0, rtol=1e-5)


@pytest.mark.parametrize("loss", [BPRMax(), TOP1Max(), BPRMax(item_popularity=[0] + [1] * 6, num_negatives=4)])
def test_hrnn_trains_with_the_ranking_losses(loss):
    keras.utils.set_random_seed(0)
    model = HRNN(_catalog(6), units=8, embedding_dim=4, num_slots=6)
    model.compile(kerasts.optimizers.Adam(0.05), loss=loss)
    items = np.tile(np.arange(1, 7, dtype="int32")[:, None], (1, 4))
    flags = np.zeros((6, 4), "float32")
    flags[:, 0] = 1
    inputs = {"items": items, "session_start": flags, "user_start": flags}
    targets = items % 6 + 1  # item i -> i + 1
    losses = model.fit(inputs, targets, batch_size=6, epochs=30, verbose=0, shuffle=False).history["loss"]
    assert losses[-1] < losses[0]  # (TOP1-max cannot go below 0.5: its sigmoid(r_j^2) term)
    assert (np.argmax(keras.ops.convert_to_numpy(model(inputs))[:, 0, 1:], axis=-1) + 1 == targets[:, 0]).mean() > 0.8


def _log_softmax_first(values):
    values = np.asarray(values, dtype="float64")
    return -(values[0] - np.log(np.exp(values).sum()))


def test_sampled_cross_entropy_by_hand():
    from kerasts.losses import SampledCrossEntropy

    targets = np.array([[1], [2]], "int32")
    logits = np.array([[[0.0, 2.0, 0.5, -1.0]], [[0.0, 1.0, -1.0, 0.3]]], "float32")
    # Only item 3 can be sampled: the two shared negatives are both item 3.
    plain = SampledCrossEntropy([0, 0, 0, 4], num_negatives=2, logq_correction=False, reduction=None)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(plain(targets, logits))[:, 0],
                               [_log_softmax_first([2.0, 0.5, -1.0, -1.0]), _log_softmax_first([-1.0, 1.0, 0.3, 0.3])],
                               rtol=1e-5)
    # With log-Q: in-batch items lose log(popularity share), sampled ones log(sampling probability);
    # alpha 50 makes item 3 (4 of 6 events) all but certain to be drawn, with probability ~1.
    corrected = SampledCrossEntropy([0, 1, 1, 4], num_negatives=2, alpha=50.0, reduction=None)
    share = np.log(1 / 6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(corrected(targets, logits))[:, 0],
                               [_log_softmax_first([2.0 - share, 0.5 - share, -1.0, -1.0]),
                                _log_softmax_first([-1.0 - share, 1.0 - share, 0.3, 0.3])], rtol=1e-4)


def test_hrnn_trains_with_sampled_cross_entropy():
    from kerasts.losses import SampledCrossEntropy

    keras.utils.set_random_seed(0)
    model = HRNN(_catalog(6), units=8, embedding_dim=4, num_slots=6)
    model.compile(kerasts.optimizers.Adam(0.05), loss=SampledCrossEntropy([0] + [1] * 6, num_negatives=3))
    items = np.tile(np.arange(1, 7, dtype="int32")[:, None], (1, 4))
    flags = np.zeros((6, 4), "float32")
    flags[:, 0] = 1
    inputs = {"items": items, "session_start": flags, "user_start": flags}
    targets = items % 6 + 1
    model.fit(inputs, targets, batch_size=6, epochs=30, verbose=0, shuffle=False)
    assert (np.argmax(keras.ops.convert_to_numpy(model(inputs))[:, 0, 1:], axis=-1) + 1 == targets[:, 0]).mean() > 0.8
