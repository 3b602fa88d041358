"""The Forecast workflow: a dataset group of Amazon Forecast tables -> a trained predictor (one
algorithm or AutoPredictor) -> backtest metrics, forecasts, queries and exports.

```python
group = kerasts.forecast.DatasetGroup("target.csv", related="related.csv", frequency="D")
predictor = kerasts.forecast.train_predictor(group, forecast_horizon=14, backtest_windows=3)
predictor.leaderboard, predictor.metrics             # AutoPredictor's candidates; the winner's backtest
predictor.forecast().to_csv("forecast.csv")          # every item, Forecast's export layout
predictor.save("predictor/")                          # kerasts.forecast.load_predictor("predictor/")
```
"""

from kerasts.forecast.algorithms import algorithm_names, register_algorithm
from kerasts.forecast.dataset_group import DOMAINS, DatasetGroup
from kerasts.forecast.predictor import Predictor, load_predictor, train_predictor

__all__ = ["DOMAINS", "DatasetGroup", "Predictor", "algorithm_names", "load_predictor", "register_algorithm",
           "train_predictor"]
