import numpy as np

from kerasts._checks import check_positive_int
from kerasts.protocols.forecaster import Forecaster


class NPTS(Forecaster):
    """Non-parametric time series sampler (after GluonTS's NPTS), for probabilistic baselines.

    Each future value is drawn from the series' own past: step `t` copies the value `k`
    seasons back (`k = 1, 2, ...`, at most `max_seasons`), with `k` drawn with weight
    `exp(-kernel_scale * (k - 1))`, so recent seasons count most. Draws are ancestral:
    a step may copy an earlier sampled step, so paths are joint. Unobserved past values
    are never drawn; a step with nothing to draw from is NaN.

    Args:
        season_length: the season `m` (1 for the plain, non-seasonal sampler).
        kernel_scale: decay of the weights per season back.
        max_seasons: how many seasons back may be drawn from.
        prediction_length: steps `predict_paths` forecasts.
    """

    def __init__(self, season_length=1, kernel_scale=1.0, max_seasons=50, *, prediction_length):
        super().__init__(prediction_length)
        check_positive_int("season_length", season_length)
        check_positive_int("max_seasons", max_seasons)
        if kernel_scale < 0:
            raise ValueError(f"`kernel_scale` must be at least 0, got {kernel_scale!r}.")
        self.season_length = int(season_length)
        self.kernel_scale = float(kernel_scale)
        self.max_seasons = int(max_seasons)

    def get_config(self):
        return {**super().get_config(), "season_length": self.season_length, "kernel_scale": self.kernel_scale,
                "max_seasons": self.max_seasons}

    def sample(self, history, horizon, num_samples, seed):
        """Paths `(series, num_samples, horizon)` from `history` `(series, length)`."""
        history = np.atleast_2d(np.asarray(history, dtype=np.float64))
        num_series, length = history.shape
        generator = np.random.default_rng(seed)
        paths = np.concatenate(
            [np.repeat(history[:, None], num_samples, axis=1), np.full((num_series, num_samples, horizon), np.nan)],
            axis=2,
        )
        # A series whose own history (from its first observed value) is shorter than a season samples from
        # its recent steps instead (lag 1), as MASE's scale does.
        observed = ~np.isnan(history)
        lags = np.where(length - observed.argmax(axis=1) >= self.season_length, self.season_length, 1)[:, None]
        seasons_back = np.arange(1, self.max_seasons + 1)
        decay = np.exp(-self.kernel_scale * (seasons_back - 1))
        for step in range(length, length + horizon):
            positions = step - seasons_back[None, :] * lags  # (series, k); before the grid's start: none
            candidates = np.take_along_axis(paths, np.maximum(positions, 0)[:, None, :], axis=2)  # (series, samples, k)
            weights = decay * ~np.isnan(candidates) * (positions >= 0)[:, None, :]
            totals = weights.sum(axis=-1, keepdims=True)
            cumulative = np.cumsum(weights, axis=-1) / np.where(totals > 0, totals, 1.0)
            draws = (generator.random((num_series, num_samples, 1)) < cumulative).argmax(axis=-1)
            chosen = np.take_along_axis(candidates, draws[..., None], axis=-1)[..., 0]
            paths[:, :, step] = np.where(totals[..., 0] > 0, chosen, np.nan)
        return paths[:, :, length:]

    def predict_paths(self, panel, origin=None, num_samples=100, seed=0):
        return self.sample(panel.target[:, :self.forecast_origin(panel, origin)], self.prediction_length,
                           num_samples, seed)
