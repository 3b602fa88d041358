import os
import warnings

import numpy as np
import pandas as pd

from kerasts._checks import check_positive_int, finite_number
from kerasts.protocols.forecaster import Forecaster

METHODS = ("ets", "arima", "theta")
# The 80% interval's half-width in standard deviations of a normal distribution.
_Z_80 = 1.2815515655446004


def statsforecast_available():
    try:
        import statsforecast  # noqa: F401
    except ImportError:
        return False
    return True


class StatisticalForecaster(Forecaster):
    """ETS, ARIMA or Theta per series (statsforecast's `AutoETS`, `AutoARIMA`, `AutoTheta`), as a
    `kerasts.protocols.Forecaster`: the optional extra `kerasts[stats]`.

    Each series is fitted anew from its history before each origin (as these local methods are),
    its missing steps inside the history carried forward and its steps before its first observation
    left out; a series shorter than two seasons is fitted without seasonality, and one the method
    cannot fit at all (ETS refuses a few points) gets statsforecast's naive fallback. Sample paths are
    drawn from the normal distribution the method's mean and 80% interval give, step by step, its
    standard deviation bounded by `spread_limit` times the series' largest |value| before the origin:
    a multiplicative-error ETS fitted to a volatile short series can otherwise widen its interval
    geometrically, to millions of times the series' scale (and even the paths' median follows), and
    ARIMA fitted to a series with as many parameters as values gives an infinite one. The
    series are fitted in `n_jobs` processes (statsforecast's own parallelism; the forecasts are the
    same for any number).

    Args:
        method: `"ets"`, `"arima"` or `"theta"`.
        season_length: the season `m`.
        prediction_length: steps to forecast.
        n_jobs: processes to fit the series in; `None` (default) uses every CPU this process may run on.
        options: keyword arguments of the statsforecast model (`AutoARIMA(approximation=True)`,
            `AutoETS(model="ZZN")`), over its defaults.
        spread_limit: the largest standard deviation of a step's paths, as a multiple of the series'
            largest |value| before the origin (default 1, chosen by measurement on five datasets:
            benchmarks/RESULTS.md); `None` leaves the method's interval as it is, infinite ones too.
        verbose: when truthy, statsforecast's progress bar while the series are fitted (a long wait
            on thousands of series).
    """

    def __init__(self, method, season_length, *, prediction_length, n_jobs=None, options=None, spread_limit=1.0,
                 verbose=0):
        super().__init__(prediction_length)
        if method not in METHODS:
            raise ValueError(f"`method` must be one of {METHODS}, got {method!r}.")
        if not statsforecast_available():
            raise ValueError(f"The {method} forecaster needs statsforecast: pip install 'kerasts[stats]'.")
        self.method = method
        self.season_length = check_positive_int("season_length", season_length)
        self.n_jobs = None if n_jobs is None else check_positive_int("n_jobs", n_jobs)
        self.verbose = verbose
        if spread_limit is not None and finite_number(spread_limit, "`spread_limit`") <= 0:
            raise ValueError(f"`spread_limit` must be positive (or None), got {spread_limit!r}.")
        self.spread_limit = spread_limit
        if options is not None and not isinstance(options, dict):
            raise TypeError(f"`options` must be a dict of the {method} model's arguments, "
                            f"got {type(options).__name__}.")
        self.options = dict(options or {})
        if "season_length" in self.options:
            raise ValueError("Give the season as `season_length`, not inside `options`.")
        try:  # a misspelt or ill-typed option is named now, not deep inside the first forecast
            self._model(self.season_length)
        except (TypeError, ValueError) as error:
            raise ValueError(f"`options` {self.options} do not suit statsforecast's {self._model_class().__name__}: "
                             f"{error}") from None

    def get_config(self):
        return {**super().get_config(), "method": self.method, "season_length": self.season_length,
                "n_jobs": self.n_jobs, "options": self.options, "spread_limit": self.spread_limit,
                "verbose": self.verbose}

    def _model_class(self):
        from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

        return {"ets": AutoETS, "arima": AutoARIMA, "theta": AutoTheta}[self.method]

    def _model(self, season_length):
        return self._model_class()(**{**self.options, "season_length": season_length})

    def _processes(self):
        # The CPUs this process may use, not the machine's: a container or a pinned job often gets fewer.
        if self.n_jobs:
            return self.n_jobs
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

    def predict_paths(self, panel, origin=None, num_samples=100, seed=0):
        origin = self.forecast_origin(panel, origin)
        mean, sigma = self._normal_forecast(panel, origin)
        if self.spread_limit is not None:
            with warnings.catch_warnings():  # a series with nothing before the origin has no scale (and no mean)
                warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
                scale = np.nanmax(np.abs(panel.target[:, :origin]), axis=1)
            sigma = np.minimum(sigma, self.spread_limit * np.nan_to_num(scale)[:, None])
        noise = np.random.default_rng(seed).standard_normal((len(panel.keys), num_samples, self.prediction_length))
        return mean[:, None] + sigma[:, None] * noise

    def _normal_forecast(self, panel, origin):
        """Each series' mean and standard deviation a step, `(series, horizon)` each, from the method's
        forecast and 80% interval (a standard deviation of 0 where the method gives no interval, the largest
        float where it gives an infinite one)."""
        from statsforecast import StatsForecast
        from statsforecast.models import Naive

        history = pd.DataFrame(panel.target[:, :origin]).T  # steps x series
        horizon = self.prediction_length
        mean = np.full((len(panel.keys), horizon), np.nan)
        sigma = np.zeros_like(mean)
        frames = {True: [], False: []}  # by whether a series is long enough for its season
        for row in range(history.shape[1]):
            values = history[row].ffill().dropna()  # carried forward inside, nothing before the start
            if values.size:  # one value is enough for the naive fallback
                seasonal = self.season_length > 1 and values.size >= 2 * self.season_length
                frames[seasonal].append(pd.DataFrame({"unique_id": row, "ds": np.arange(values.size),
                                                      "y": values.to_numpy(dtype="float64")}))
        for seasonal, parts in frames.items():
            if not parts:
                continue
            model = self._model(self.season_length if seasonal else 1)
            with warnings.catch_warnings():  # the worker processes inherit the filter
                # ARIMA's approximate search notes each candidate whose optimiser stopped early; the chosen model
                # is refitted exactly, so the note tells a user nothing they can act on.
                warnings.filterwarnings("ignore", "possible convergence problem", UserWarning)
                result = StatsForecast(models=[model], freq=1, fallback_model=Naive(), n_jobs=self._processes(),
                                       verbose=bool(self.verbose)).forecast(df=pd.concat(parts), h=horizon, level=[80])
            name = [column for column in result.columns if column not in ("unique_id", "ds") and "-" not in column][0]
            for row, part in result.groupby("unique_id", sort=False):
                mean[row] = part[name].to_numpy()
                sigma[row] = (part[f"{name}-hi-80"] - part[f"{name}-lo-80"]).to_numpy() / (2 * _Z_80)
        return mean, np.nan_to_num(sigma)
