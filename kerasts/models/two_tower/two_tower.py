import keras
import keras_rs
import numpy as np
import tensorflow as tf

from kerasts._checks import check_positive_int, shown
from kerasts._distributed_build import DistributedBuildMixin
from kerasts._training_graph_release import TrainingGraphReleaseMixin
from kerasts.export import Endpoint, ServingEndpointsMixin
from kerasts.protocols.recommender import injected_positions

# Added to the logits of accidental hits: far below any real logit, finite so softmax stays finite.
_ACCIDENTAL_HIT_PENALTY = -1e9


def remove_accidental_hits(logits, labels, candidate_ids):
    """Pushes down the logits of in-batch negatives that are the row's positive item again.

    keras-rs 0.4's `RemoveAccidentalHits` adds the smallest *positive* float instead of a large
    negative number, so it changes nothing (tests/models/two_tower shows it); this does the job.
    """
    # Compared as codes of the batch's distinct ids: for 1,024 rows, 12.3 ms as strings, 2.0 as integers.
    _, codes = tf.unique(candidate_ids)
    positive_codes = tf.gather(codes, tf.argmax(labels, axis=-1))
    duplicate = tf.cast(tf.equal(positive_codes[:, None], codes[None, :]), logits.dtype) - labels
    return logits + duplicate * _ACCIDENTAL_HIT_PENALTY


def tower_signature(tower, name, lists=False):
    """TensorSpecs of a tower's raw inputs: from `Tower.input_signature` (`lists`: multi-valued features
    as rows of separate strings) or a functional model's inputs."""
    if hasattr(tower, "input_signature"):
        return tower.input_signature(lists)
    if isinstance(tower, keras.Model) and isinstance(getattr(tower, "input", None), dict):
        return {key: tf.TensorSpec((None,) + tuple(value.shape[1:]), value.dtype, name=key)
                for key, value in tower.input.items()}
    raise ValueError(f"Cannot tell the inputs of the {name} tower: use kerasts.layers.Tower or a functional "
                     "keras.Model with a dict of named inputs.")


@keras.saving.register_keras_serializable(package="kerasts")
class TwoTower(DistributedBuildMixin, ServingEndpointsMixin, TrainingGraphReleaseMixin, keras.Model):
    """Two-tower retrieval trained with an in-batch softmax and the sampling-bias (log-Q) correction.

    Each training example is a positive (query, candidate) pair; every other candidate of the
    batch is a negative. The logit of candidate j for query i is `q_i . c_j / temperature`, minus
    `log p_j` (the probability that j appears in a batch) when `logq_correction` is on, so
    popular items are not over-penalised as negatives; in-batch copies of the row's positive
    item are removed; optionally only the hardest negatives are kept. The loss is computed
    inside the model (`compile(optimizer)` without `loss`), as in TensorFlow Recommenders.

    Args:
        query_tower: a layer or model mapping the query features dict to embeddings
            (e.g. `kerasts.layers.Tower`).
        candidate_tower: the same for candidates; both end in the same embedding size.
        candidate_id: the candidate feature holding the item id (for accidental hits and the index).
        temperature: logits are divided by it.
        cosine: L2-normalise both embeddings (scores become cosines).
        logq_correction: subtract the log of each candidate's sampling probability, given in the
            inputs as `candidate_sampling_probability` (see `kerasts.data.retrieval_examples`).
        remove_accidental_hits: drop in-batch negatives that are the positive item again.
        num_hard_negatives: keep only this many highest-scoring negatives per row (`None`: all).

    Call arguments:
        inputs: dict with `"query"` and/or `"candidate"` (dicts of raw features) and, for
            training with the correction, `"candidate_sampling_probability"` (batch,).
        training: passed to the towers.

    Returns the dict `{"query_embedding", "candidate_embedding"}` for the sides given.

    Example:
        >>> model = TwoTower(Tower(user_features, 32), Tower(item_features, 32))
        >>> model.compile(kerasts.optimizers.Adam(1e-3))
        >>> model.fit(tf.data.Dataset.from_tensor_slices(examples).shuffle(10_000).batch(1024), epochs=5)
        >>> model.index_candidates(catalog)            # brute-force top-K index over the items
        >>> ids, scores = model.retrieve({"HISTORY": ["1|2|3"]}, k=10, seen_item_ids=[["1", "2", "3"]])
        >>> model.export("two_tower", k=10)            # endpoints serve and recommend

    Reference:
        Yi et al., "Sampling-Bias-Corrected Neural Modeling for Large Corpus Item
        Recommendations", RecSys 2019.
    """

    def __init__(self, query_tower, candidate_tower, candidate_id="ITEM_ID", temperature=1.0, cosine=False,
                 logq_correction=True, remove_accidental_hits=True, num_hard_negatives=None, **kwargs):
        super().__init__(**kwargs)
        if not temperature > 0:
            raise ValueError(f"`temperature` must be positive, got {temperature!r}.")
        if num_hard_negatives is not None and num_hard_negatives < 1:
            raise ValueError(f"`num_hard_negatives` must be None or positive, got {num_hard_negatives!r}.")
        self.query_tower = query_tower
        self.candidate_tower = candidate_tower
        self.candidate_id = candidate_id
        self.temperature = float(temperature)
        self.cosine = bool(cosine)
        self.logq_correction = bool(logq_correction)
        self.remove_accidental_hits = bool(remove_accidental_hits)
        self.num_hard_negatives = num_hard_negatives
        self._sampling_correction = keras_rs.layers.SamplingProbabilityCorrection()
        self._hard_negatives = (keras_rs.layers.HardNegativeMining(num_hard_negatives)
                                if num_hard_negatives is not None else None)
        self._index = None

    def build(self, input_shape=None):
        # kerasts Towers know their weights from their specs; building them here lets a saved
        # model reload without tracing string inputs through symbolic float placeholders.
        for tower in (self.query_tower, self.candidate_tower):
            if not tower.built and hasattr(tower, "input_signature"):
                tower.build()
        self.built = True

    def _embed(self, tower, features, training):
        embedding = tower(features, training=training)
        return keras.ops.normalize(embedding, axis=-1) if self.cosine else embedding

    def call(self, inputs, training=False):
        outputs = {}
        if "query" in inputs:
            outputs["query_embedding"] = self._embed(self.query_tower, inputs["query"], training)
        if "candidate" in inputs:
            outputs["candidate_embedding"] = self._embed(self.candidate_tower, inputs["candidate"], training)
        if not outputs:
            raise ValueError(f"TwoTower inputs need a 'query' and/or 'candidate' dict; got keys {sorted(inputs)}.")
        return outputs

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if "query_embedding" not in y_pred or "candidate_embedding" not in y_pred:
            raise ValueError("Training a TwoTower needs both 'query' and 'candidate' features in each example.")
        logits = keras.ops.matmul(y_pred["query_embedding"],
                                  keras.ops.transpose(y_pred["candidate_embedding"])) / self.temperature
        labels = keras.ops.eye(keras.ops.shape(logits)[0], dtype=logits.dtype)
        if self.logq_correction:
            if "candidate_sampling_probability" not in x:
                raise ValueError("logq_correction needs 'candidate_sampling_probability' in the inputs "
                                 "(kerasts.data.retrieval_examples adds it), or logq_correction=False.")
            logits = self._sampling_correction(logits, keras.ops.cast(x["candidate_sampling_probability"],
                                                                      logits.dtype))
        if self.remove_accidental_hits:
            logits = remove_accidental_hits(logits, labels, tf.reshape(x["candidate"][self.candidate_id], (-1,)))
        if self._hard_negatives is not None:
            logits, labels = self._hard_negatives(logits, labels)
        per_example = keras.losses.categorical_crossentropy(labels, logits, from_logits=True)
        if sample_weight is not None:
            per_example = per_example * keras.ops.cast(keras.ops.reshape(sample_weight, (-1,)), per_example.dtype)
        loss = keras.ops.mean(per_example)
        if self.losses:
            loss = loss + keras.ops.sum(self.losses)
        # Keras's train step expects a loss scaled for the replicas it sums gradients over.
        return loss / tf.distribute.get_strategy().num_replicas_in_sync

    def serving_signature(self):
        """Raw features of both towers (strings for ids), for `export`."""
        return {"query": tower_signature(self.query_tower, "query"),
                "candidate": tower_signature(self.candidate_tower, "candidate")}

    # Serving: a brute-force top-K index over the catalog.

    def index_candidates(self, candidates, batch_size=4096):
        """Embeds the catalog for `retrieve` and the exported `recommend` endpoint.

        Args:
            candidates: dict (or DataFrame) of the candidate tower's features, one row per item,
                including `candidate_id`.
        """
        columns = {name: np.asarray(candidates[name]) for name in tower_signature(self.candidate_tower, "candidate")
                   if name in candidates}
        if self.candidate_id not in candidates:
            raise ValueError(f"`candidates` lacks the id column {self.candidate_id!r}.")
        ids = np.asarray(candidates[self.candidate_id]).astype(str)
        if ids.size == 0:
            raise ValueError("`candidates` is empty: an index needs at least one item.")
        if len(set(ids)) != ids.size:
            raise ValueError(f"`candidates` repeats ids in {self.candidate_id!r}: one row per item.")
        embeddings = np.concatenate([
            keras.ops.convert_to_numpy(self({"candidate": {name: values[start:start + batch_size]
                                                           for name, values in columns.items()}})
                                       ["candidate_embedding"])
            for start in range(0, ids.size, batch_size)])
        self._index = TopKIndex(ids, embeddings)
        self._top_k = self._top_k_function()
        return self

    def _top_k_function(self):
        """One compiled graph from raw query features to the top-k ids and scores (`_ranked`, which the
        exported `recommend` endpoints also run, so they agree with `retrieve`)."""

        @tf.function(input_signature=[tower_signature(self.query_tower, "query"),
                                      tf.TensorSpec((None, None), tf.string, name="seen_item_ids"),
                                      tf.TensorSpec((), tf.int32, name="k")])
        def top_k(features, seen_item_ids, k):
            return self._ranked(features, seen_item_ids, k)

        return top_k

    def _ranked(self, features, seen_item_ids, k):
        return self._index(self({"query": features})["query_embedding"], seen_item_ids, k)

    @property
    def index_ids(self):
        """The indexed catalog's ids, in index order."""
        self._check_index()
        return list(self._index.ids)

    def index_scores(self, query_features):
        """`(queries, indexed items)` scores of the whole index for raw query features (what `retrieve`
        ranks)."""
        self._check_index()
        # `predict_on_batch` runs the traced predict function: a query tower called eagerly took 7 ms a request.
        return self._index.scores(self.predict_on_batch({"query": query_features})["query_embedding"])

    def _check_index(self):
        if self._index is None:
            raise ValueError("No candidate index: call index_candidates(catalog) first.")

    def retrieve(self, query_features, k, seen_item_ids=None, exploration=0.0, exploration_pool=None, seed=None):
        """Top-`k` item ids and scores per query row, best first.

        Args:
            query_features: dict of the query tower's raw features, batch axis first. Unknown ids
                go to each lookup's out-of-vocabulary row.
            k: items per query.
            seen_item_ids: per query row, item ids to exclude (e.g. the user's history).
            exploration: fraction of the `k` slots (rounded) given to items drawn uniformly from
                the next `exploration_pool` (default `10 * k`) ranks, placed last; reproducible
                for a given `seed`.

        Returns:
            `(ids, scores)`: arrays of shape (queries, min(k, catalog size)); ids are the catalog's
            string ids. Excluded items are never returned: where fewer than `k` items are left, the
            row ends in ids `""` with score `-inf`.
        """
        self._check_index()
        check_positive_int("k", k)
        if not 0 <= exploration < 1:
            raise ValueError(f"`exploration` must lie in [0, 1), got {exploration!r}.")
        rows = self._query_rows(query_features)
        catalog = len(self._index.ids)
        explored = int(round(exploration * min(k, catalog)))
        fetch = min(k + (exploration_pool or 10 * k) if explored else k, catalog)
        ids, scores = self._top_k(query_features, pad_ids(seen_item_ids, rows), fetch)
        ids = keras.ops.convert_to_numpy(ids).astype(str)
        scores = keras.ops.convert_to_numpy(scores)
        k = min(k, catalog)
        if not explored:
            return ids[:, :k], scores[:, :k]
        generator = np.random.default_rng(seed)
        picks = np.stack([injected_positions(ids.shape[1], k, explored, generator) for _ in range(rows)])
        return np.take_along_axis(ids, picks, axis=1), np.take_along_axis(scores, picks, axis=1)

    def _query_rows(self, query_features):
        """The number of queries, after checking each feature the query tower reads: present, one value
        per query, strings where the tower takes strings."""
        if not isinstance(query_features, dict):
            raise TypeError(f"`query_features` must be a dict of feature name -> values, got "
                            f"{type(query_features).__name__}.")
        signature = tower_signature(self.query_tower, "query")
        missing = sorted(set(signature) - set(query_features))
        if missing:
            raise ValueError(f"`query_features` lacks feature(s) {missing} of the query tower.")
        rows = set()
        for name, spec in signature.items():
            values = np.asarray(query_features[name])
            if values.ndim == 0:
                raise TypeError(f"Query feature {name!r} must hold one value per query (a list or array), got "
                                f"a single {type(query_features[name]).__name__}.")
            if spec.dtype == tf.string and not all(isinstance(value, (str, bytes)) for value in values.ravel()):
                bad = next(value for value in values.ravel() if not isinstance(value, (str, bytes)))
                bad = shown(bad)
                raise TypeError(f"Query feature {name!r} holds strings (ids joined by '|'), but one value is "
                                f"{bad!r} ({type(bad).__name__}).")
            rows.add(len(values))
        if len(rows) != 1:
            raise ValueError(f"The query features have different numbers of rows: {sorted(rows)}.")
        return rows.pop()

    def serving_endpoints(self, k=10):
        """`serve` (both towers' embeddings) and, once `index_candidates` has run, `recommend`: raw
        query features and `seen_item_ids` (strings, padded with `""`) in, the catalog's string
        `item_ids` and `scores` of the top `k` out, with the index inside (see `kerasts.export`).
        `recommend_lists` is `recommend` taking each multi-valued query feature as a row of
        separate ids padded with `""` (`[["m1", "m2", ""]]` for `"m1|m2"`): its graph uses only
        LiteRT's built-in operators, so `export(path, format="litert")` converts it.
        """
        endpoints = super().serving_endpoints()
        if self._index is not None:
            top = min(int(k), len(self._index.ids))

            def recommend(features, seen_item_ids):
                ids, scores = self._ranked(features, seen_item_ids, top)
                return {"item_ids": ids, "scores": scores}

            seen_spec = tf.TensorSpec((None, None), tf.string, name="seen_item_ids")
            endpoints["recommend"] = Endpoint(recommend, [tower_signature(self.query_tower, "query"), seen_spec])
            endpoints["recommend_lists"] = Endpoint(recommend, [tower_signature(self.query_tower, "query", lists=True),
                                                                seen_spec])
        return endpoints

    def litert_endpoints(self):
        """The endpoints `export(format="litert")` converts by default (none before `index_candidates`)."""
        return [] if self._index is None else ["recommend_lists"]

    def export_resources(self):
        return [] if self._index is None else [self._index]

    def get_config(self):
        return {
            **super().get_config(),
            "query_tower": keras.saving.serialize_keras_object(self.query_tower),
            "candidate_tower": keras.saving.serialize_keras_object(self.candidate_tower),
            "candidate_id": self.candidate_id,
            "temperature": self.temperature,
            "cosine": self.cosine,
            "logq_correction": self.logq_correction,
            "remove_accidental_hits": self.remove_accidental_hits,
            "num_hard_negatives": self.num_hard_negatives,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in ("query_tower", "candidate_tower"):
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)


def pad_ids(rows_of_ids, rows):
    """Per-row lists of ids -> a (rows, longest) string array padded with ""."""
    if rows_of_ids is None:
        return np.full((rows, 1), "", dtype=object)
    if len(rows_of_ids) != rows:
        raise ValueError(f"`seen_item_ids` has {len(rows_of_ids)} rows for {rows} queries: one list per query.")
    width = max([len(row) for row in rows_of_ids] + [1])
    padded = np.full((rows, width), "", dtype=object)
    for index, row in enumerate(rows_of_ids):
        padded[index, :len(row)] = [str(value) for value in row]
    return padded


class TopKIndex(tf.Module):
    """Brute-force top-K over item embeddings, excluding given ids; lives inside the SavedModel."""

    def __init__(self, ids, embeddings):
        super().__init__()
        self.ids = np.asarray(ids).astype(str)
        self._ids = tf.constant(self.ids)
        self._ids_and_blank = tf.constant(np.append(self.ids, ""))
        self._embeddings = tf.Variable(np.asarray(embeddings, dtype="float32"), trainable=False)
        self._positions = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(self._ids, tf.range(len(self.ids), dtype=tf.int64)),
            default_value=len(self.ids))  # unknown ids and padding: a position no item has

    def scores(self, query):
        """`(queries, items)` scores of every indexed item: dot products with the query embeddings."""
        return tf.matmul(tf.cast(query, tf.float32), self._embeddings, transpose_b=True)

    def __call__(self, query, seen_ids, k):
        scores = self.scores(query)
        positions = tf.cast(self._positions.lookup(tf.convert_to_tensor(seen_ids, tf.string)), tf.int32)
        # The seen items are removed from the best k + (seen per row) rather than masked over the whole
        # catalog: the same lists (top_k keeps the lower index first among ties) without a pass over it.
        fetched = tf.math.top_k(scores, k=tf.minimum(k + tf.shape(positions)[1], len(self.ids)))
        seen = tf.reduce_any(tf.equal(tf.expand_dims(fetched.indices, 2), tf.expand_dims(positions, 1)), axis=-1)
        top = tf.math.top_k(tf.where(seen, tf.float32.min, fetched.values), k=k)
        indices = tf.gather(fetched.indices, top.indices, batch_dims=1)
        # Excluded items fill the list only when fewer than k are left: never return them (they point
        # at the "" after the ids; gathering, not selecting strings, keeps to LiteRT's built-in operators).
        excluded = top.values <= tf.float32.min
        return (tf.gather(self._ids_and_blank, tf.where(excluded, len(self.ids), indices)),
                tf.where(excluded, tf.constant(float("-inf")), top.values))
