import numpy as np


def plot_fan_chart(history, actuals, samples, title="", ax=None, history_steps=None, history_dates=None,
                   future_dates=None):
    """Draws one series' forecast: P10-P90 band, median, history and actuals.

    Args:
        history: past values, shape `(length,)`.
        actuals: realised values over the horizon, `(horizon,)` (NaN where unknown).
        samples: sample paths over the horizon, `(num_samples, horizon)`.
        title: axes title.
        ax: matplotlib axes to draw on; a new figure's when omitted.
        history_steps: how many of the last history steps to show (all if None).
        history_dates, future_dates: the dates of the history and horizon steps, for a date axis
            (steps from the forecast start without them).

    Returns:
        The matplotlib axes.
    """
    import matplotlib.pyplot as plt

    history = np.asarray(history, dtype=np.float64)
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != len(actuals):
        raise ValueError(f"`samples` must have shape (num_samples, {len(actuals)}), got {samples.shape}.")
    if history_steps is not None:
        history = history[-history_steps:]
        history_dates = None if history_dates is None else history_dates[-history_steps:]
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.5))
    dated = history_dates is not None and future_dates is not None
    past = history_dates if dated else np.arange(-len(history), 0)
    future = future_dates if dated else np.arange(len(actuals))
    p10, p50, p90 = np.quantile(samples, [0.1, 0.5, 0.9], axis=0)
    ax.plot(past, history, color="black", linewidth=1, label="history")
    if np.isfinite(np.asarray(actuals, dtype=np.float64)).any():  # a forecast past the data has none to show
        ax.plot(future, actuals, color="black", linewidth=1, linestyle="--", label="actual")
    ax.fill_between(future, p10, p90, color="tab:blue", alpha=0.3, label="P10-P90")
    ax.plot(future, p50, color="tab:blue", linewidth=1.5, label="median")
    ax.axvline(future[0] if dated else 0, color="grey", linewidth=0.5)
    ax.set_title(title)
    ax.set_xlabel("date" if dated else "steps from the forecast start")
    if dated:  # full dates on every tick overlap at this width
        from matplotlib import dates

        locator = dates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(dates.ConciseDateFormatter(locator))
    ax.legend(loc="upper left", fontsize="small")
    return ax
