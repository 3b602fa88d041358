import numpy as np

from kerasts.data.retrieval import HISTORY_FEATURE, joined


class HistoryRecommender:
    """Gives a `TwoTower` whose query tower reads `HISTORY` the interface every kerasts recommender
    shares, `recommend(history, k, exclude_seen=True)`, so `evaluate_recommender` can score it.

    Args:
        model: a `TwoTower` with its candidate index built (`index_candidates`).
        history_length: items of the history fed to the query tower (newest kept), as in training.
    """

    def __init__(self, model, history_length=50):
        self.model = model
        self.history_length = history_length

    def recommend(self, history, k, exclude_seen=True):
        history = [str(item) for item in history]
        query = {HISTORY_FEATURE: np.array([joined(history[-self.history_length:])], dtype=object)}
        ids, _ = self.model.retrieve(query, k, seen_item_ids=[history] if exclude_seen else None)
        return ids[0].astype(object)


def history_two_tower(item_ids, embedding_dim=64, item_feature_vocabularies=None, temperature=0.05,
                      logq_correction=True):
    """The two-tower set-up of the examples and benchmarks, over `retrieval_examples`' features.

    The query tower mean-pools the embeddings of the user's `HISTORY` items and reads them out
    through one hidden layer; the candidate tower embeds `ITEM_ID` and each multi-valued item
    feature in `item_feature_vocabularies` (name -> values, e.g. genres). Cosine scores.
    """
    from kerasts.layers.tower import Tower
    from kerasts.models.two_tower.two_tower import TwoTower

    vocabulary = sorted(str(item) for item in set(item_ids))
    query = Tower({HISTORY_FEATURE: {"type": "multi_categorical", "vocabulary": vocabulary,
                                     "embedding_dim": embedding_dim}},
                  output_dim=embedding_dim, hidden_units=(2 * embedding_dim,))
    candidate_features = {"ITEM_ID": {"type": "categorical", "vocabulary": vocabulary, "embedding_dim": embedding_dim}}
    for name, values in (item_feature_vocabularies or {}).items():
        candidate_features[name] = {"type": "multi_categorical", "vocabulary": sorted(values), "embedding_dim": 16}
    candidate = Tower(candidate_features, output_dim=embedding_dim)
    return TwoTower(query, candidate, temperature=temperature, cosine=True, logq_correction=logq_correction)
