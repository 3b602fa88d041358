"""Synthetic data with known structure, for tests and examples that must not need real data."""

import numpy as np
import pandas as pd

from kerasts import likelihoods


def synthetic_forecast_table(num_series=4, length=240, frequency="h", start="2024-01-01",
                             likelihood="negative_binomial", seed=0):
    """Seasonal series in the Amazon Forecast target layout.

    Each series has its own level (spread over two orders of magnitude), a daily and a
    weekly cycle in its mean, and noise drawn from the named likelihood family around
    that mean: `"negative_binomial"` or `"poisson"` give counts, `"gaussian"` and
    `"student_t"` real values.

    Returns:
        A DataFrame with columns `item_id`, `timestamp`, `target_value`, sorted by both.
    """
    if likelihood not in ("negative_binomial", "poisson", "gaussian", "student_t"):
        raise ValueError(
            f"`likelihood` must be 'negative_binomial', 'poisson', 'gaussian' or 'student_t', got {likelihood!r}."
        )
    if num_series < 1 or length < 1:
        raise ValueError(f"`num_series` and `length` must be positive, got {num_series} and {length}.")
    generator = np.random.default_rng(seed)
    timestamps = pd.date_range(start, periods=length, freq=frequency)
    hours = timestamps.hour.to_numpy() + 24 * timestamps.dayofweek.to_numpy()
    levels = 10.0 ** generator.uniform(0.5, 2.5, size=(num_series, 1))
    phase = generator.uniform(0, 2 * np.pi, size=(num_series, 1))
    cycle = 1.0 + 0.5 * np.sin(2 * np.pi * hours / 24 + phase) + 0.2 * np.sin(2 * np.pi * hours / 168)
    mean = (levels * cycle).astype("float32")
    parameters = {
        "negative_binomial": lambda: np.stack([mean, np.full_like(mean, 0.05)], -1),
        "poisson": lambda: mean[..., None],
        "gaussian": lambda: np.stack([mean, 0.1 * mean], -1),
        "student_t": lambda: np.stack([mean, 0.1 * mean, np.full_like(mean, 5.0)], -1),
    }[likelihood]()
    values = np.asarray(likelihoods.get(likelihood).sample(parameters, 1, seed=seed))[0]
    return pd.DataFrame({
        "item_id": np.repeat([f"item_{index}" for index in range(num_series)], length),
        "timestamp": np.tile(timestamps, num_series),
        "target_value": values.reshape(-1).astype("float64"),
    })


def synthetic_interactions(num_users=500, num_items=1000, events_per_user=30, num_groups=10, follow_rate=0.5,
                           seed=0):
    """Interactions in the Amazon Personalize layout with structure a recommender can learn.

    Users belong to `num_groups` taste groups, each owning a block of items. A user's next item
    is, with probability `follow_rate`, the successor of their previous item within the block
    (sequels, next episodes); otherwise a block item drawn with a popularity skew; one event in
    ten is any item of the catalog. A fifth of the events are purchases, the rest clicks.

    Returns:
        A DataFrame with `USER_ID`, `ITEM_ID` (strings), `TIMESTAMP` (epoch seconds) and
        `EVENT_TYPE`, sorted by user and time.
    """
    if num_items < num_groups:
        raise ValueError(f"`num_items` ({num_items}) must be at least `num_groups` ({num_groups}).")
    generator = np.random.default_rng(seed)
    block = num_items // num_groups
    skew = 1.0 / np.arange(1, block + 1)
    skew /= skew.sum()
    rows = []
    for user in range(num_users):
        first_item = (user % num_groups) * block
        item = first_item + generator.choice(block, p=skew)
        time = 1_700_000_000 + int(generator.integers(0, 30 * 86400))
        for _ in range(events_per_user):
            rows.append((f"u{user}", f"i{item}", time))
            time += int(generator.integers(60, 3 * 86400))
            draw = generator.random()
            if draw < follow_rate:
                item = first_item + (item - first_item + 1) % block
            elif draw < 0.9:
                item = first_item + generator.choice(block, p=skew)
            else:
                item = int(generator.integers(0, num_items))
    table = pd.DataFrame(rows, columns=["USER_ID", "ITEM_ID", "TIMESTAMP"])
    table["EVENT_TYPE"] = np.where(generator.random(len(table)) < 0.2, "purchase", "click")
    return table


def synthetic_multitask(n, dim=100, correlation=0.5, num_sines=10, scale=1.0, noise_std=0.1, alphas=None, betas=None,
                        seed=0):
    """Two regression tasks whose correlation is controlled, as in the MMoE paper's section 4.

    Two orthogonal unit vectors u1, u2 give task weights `w1 = scale * u1` and
    `w2 = scale * (correlation * u1 + sqrt(1 - correlation**2) * u2)`, so the cosine of the
    weights is `correlation`; inputs are x ~ N(0, I); targets
    `y_i = w_i.x + sum_j sin(alpha_j * w_i.x + beta_j) + noise` with the `num_sines` pairs
    `alpha_j, beta_j` shared by both tasks and Gaussian noise of `noise_std`.

    The paper leaves `alpha_j, beta_j` open. By default they are drawn from N(0, 1), which gives
    smooth, nearly linear targets; Google Research's generator for the paper uses the integers
    `alphas = 1..m` and `betas = j**2` (j = 0..m-1): far more non-linear targets. `alphas` and
    `betas`, when given, replace the draws (the inputs for a seed stay the same).

    Returns:
        `(x, y)`: x of shape (n, dim) float32; y a dict with `"task_1"` and `"task_2"`, each (n,).
    """
    if not -1 <= correlation <= 1:
        raise ValueError(f"`correlation` must lie in [-1, 1], got {correlation!r}.")
    generator = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(generator.normal(size=(dim, 2)))
    u1, u2 = basis[:, 0], basis[:, 1]
    weights = [scale * u1, scale * (correlation * u1 + np.sqrt(1 - correlation ** 2) * u2)]
    drawn_alphas, drawn_betas = generator.normal(size=num_sines), generator.normal(size=num_sines)
    alphas = drawn_alphas if alphas is None else _sine_parameters(alphas, "alphas", num_sines)
    betas = drawn_betas if betas is None else _sine_parameters(betas, "betas", num_sines)
    x = generator.normal(size=(n, dim))
    targets = {}
    for task, weight in enumerate(weights, start=1):
        projection = x @ weight
        waves = np.sin(alphas[None, :] * projection[:, None] + betas[None, :]).sum(axis=1)
        targets[f"task_{task}"] = (projection + waves + generator.normal(scale=noise_std, size=n)).astype("float32")
    return x.astype("float32"), targets


def _sine_parameters(values, name, num_sines):
    values = np.asarray(values, dtype="float64")
    if values.shape != (num_sines,):
        raise ValueError(f"`{name}` must hold one value per sine, shape ({num_sines},); got shape {values.shape}.")
    return values
