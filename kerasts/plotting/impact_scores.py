import numpy as np


def plot_impact_scores(scores, title="Impact scores", ax=None):
    """Draws each feature's overall impact score (`Predictor.impact_scores()[0]`) as a horizontal bar,
    positive to the right, with its magnitude (the mean of the absolute per-series scores) as a dot.

    Args:
        scores: a DataFrame indexed by feature with `impact` and `magnitude` columns.
        title: axes title.
        ax: matplotlib axes to draw on; a new figure's when omitted.

    Returns:
        The matplotlib axes.
    """
    import matplotlib.pyplot as plt

    missing = {"impact", "magnitude"} - set(getattr(scores, "columns", ()))
    if missing:
        raise ValueError(f"`scores` needs columns 'impact' and 'magnitude' (Predictor.impact_scores()[0]); "
                         f"it lacks {sorted(missing)}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.5 + 0.45 * len(scores)), constrained_layout=True)
    positions = np.arange(len(scores))[::-1]
    ax.barh(positions, scores["impact"], color=np.where(scores["impact"] >= 0, "tab:blue", "tab:red"),
            label="impact (mean over series)")
    ax.plot(scores["magnitude"], positions, "ko", markersize=4, label="magnitude (mean |score|)")
    ax.set_yticks(positions, [str(name) for name in scores.index])
    ax.axvline(0, color="grey", linewidth=0.8)
    reach = float(max(scores["impact"].abs().max(), scores["magnitude"].max()))
    ax.set_xlim(-min(1.0, max(0.01, 1.2 * reach)), min(1.0, max(0.01, 1.2 * reach)))  # scores lie in [-1, 1]
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    return ax
