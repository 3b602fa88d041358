"""Amazon Forecast's explainability: impact scores of the related series and item attributes.

Each feature is scored by ablation: the forecast is made again with that feature set to a neutral
baseline (a covariate held at its training mean, which the network sees as zero after standardising; an
attribute set to the unknown code 0, the embedding every item unseen in the metadata gets), from the same
random draws, and the change of the forecast mean is measured. Per series and step the change is
`(with - without) / (|with| + |without|)`, in [-1, 1] like Forecast's normalised scores: positive
when the feature raises the forecast. A series' score is its mean over the horizon; the overall score
is the mean over series, next to the mean of the absolute scores (how much the feature moves
forecasts, whichever way).
"""

import dataclasses

import numpy as np
import pandas as pd

from kerasts.evaluation.backtest import predict_from_origins


def _ablations(panel, end):
    """Feature name -> (kind, panel without it), for every covariate, past-only covariate and attribute."""
    ablated = {}
    for field, kind in (("covariates", "related series"), ("past_covariates", "past-only related series")):
        values = getattr(panel, field)
        if values is None:
            continue
        names = panel.covariate_names if field == "covariates" else panel.past_covariate_names
        means = values[:, :end].reshape(-1, values.shape[-1]).mean(axis=0)
        for position, name in enumerate(names):
            held = values.copy()
            held[..., position] = means[position]
            ablated[name] = (kind, dataclasses.replace(panel, **{field: held}))
    if panel.static_categories is not None:
        for position, name in enumerate(panel.category_names):
            codes = panel.static_categories.copy()
            codes[:, position] = 0
            ablated[name] = ("item attribute", dataclasses.replace(panel, static_categories=codes))
    return ablated


def impact_scores(forecaster, panel, origins, num_samples, seed, training_end):
    """Per-series impact scores `(series ids x features)` and the overall table (`impact`, `magnitude`,
    `kind` per feature, largest magnitude first) of `forecaster` forecasting `panel` from `origins`.
    Series with origin -1 are left out."""
    ablations = _ablations(panel, training_end)
    if not ablations:
        raise ValueError("There is nothing to score: the predictor has no related series and no item attributes.")
    rows = np.flatnonzero(np.asarray(origins) >= 0)
    part, origins = panel.select(rows), np.asarray(origins)[rows]
    with_all = predict_from_origins(forecaster, part, origins, num_samples, seed).mean(axis=1)
    per_series, kinds = {}, {}
    for name, (kind, without) in ablations.items():
        moved = predict_from_origins(forecaster, without.select(rows), origins, num_samples, seed).mean(axis=1)
        total = np.abs(with_all) + np.abs(moved)
        relative = np.divide(with_all - moved, total, out=np.zeros_like(total), where=total > 0)
        per_series[name], kinds[name] = relative.mean(axis=1), kind
    items = pd.DataFrame(per_series, index=pd.Index(part.series_ids, name="series"))
    overall = pd.DataFrame({"kind": pd.Series(kinds), "impact": items.mean(), "magnitude": items.abs().mean()})
    overall.index.name = "feature"
    return items, overall.sort_values("magnitude", ascending=False, kind="stable")
