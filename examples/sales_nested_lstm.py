"""Next month's sales per shop and item with a Nested LSTM (the Predict-Future-Sales task).

    python examples/sales_nested_lstm.py sales_train.csv [--window 12] [--units 32] [--epochs 10]

Reads daily sales (`date`, `shop_id`, `item_id`, `item_price`, `item_cnt_day`; dates as in the
competition file, e.g. 02.01.2013), sums them into monthly counts per shop and item (no row = no
sale = 0), clips counts to [0, 20] as the task scores them, and trains a NestedLSTM(depth=2)
regressor on `--window` months of history to predict the next month. The last month is held
out; the script prints the validation RMSE next to the last-month baseline (next month = this
month).
"""

import argparse

import keras
import numpy as np
import pandas as pd

import kerasts
from kerasts.metrics import rmse

REQUIRED = ["date", "shop_id", "item_id", "item_price", "item_cnt_day"]


def monthly_counts(sales):
    """(shop, item) x month matrix of clipped monthly counts, months in order."""
    missing = [column for column in REQUIRED if column not in sales.columns]
    if missing:
        raise ValueError(f"The sales table lacks column(s) {missing}; it has {list(sales.columns)}.")
    months = pd.to_datetime(sales["date"], format="mixed", dayfirst=True).dt.to_period("M")
    counts = sales.assign(month=months).pivot_table(index=["shop_id", "item_id"], columns="month",
                                                   values="item_cnt_day", aggfunc="sum", fill_value=0.0)
    full_range = pd.period_range(counts.columns.min(), counts.columns.max(), freq="M")
    return counts.reindex(columns=full_range, fill_value=0.0).clip(0, 20).to_numpy(dtype="float32")


def sequences(counts, window, last_target):
    """(history, next month) pairs whose target month is at most `last_target`."""
    inputs, targets = [], []
    for target in range(window, last_target + 1):
        inputs.append(counts[:, target - window:target])
        targets.append(counts[:, target])
    return np.concatenate(inputs)[..., None], np.concatenate(targets)[:, None]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv")
    parser.add_argument("--window", type=int, default=12)
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    try:
        counts = monthly_counts(pd.read_csv(arguments.csv))
    except ValueError as error:
        parser.error(str(error))
    months = counts.shape[1]
    if months < arguments.window + 2:
        parser.error(f"{months} months of sales; --window {arguments.window} needs at least {arguments.window + 2}.")
    keras.utils.set_random_seed(arguments.seed)
    train_x, train_y = sequences(counts, arguments.window, months - 2)
    valid_x, valid_y = counts[:, -1 - arguments.window:-1, None], counts[:, -1:]
    model = keras.Sequential([
        keras.Input((arguments.window, 1)),
        kerasts.layers.NestedLSTM(arguments.units, depth=2),
        keras.layers.Dense(1),
    ])
    model.compile(kerasts.optimizers.Adam(1e-3), loss="mse")
    model.fit(train_x, train_y, batch_size=256, epochs=arguments.epochs, verbose=0,
              validation_data=(valid_x, valid_y),
              callbacks=[keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)])
    prediction = np.clip(model.predict(valid_x, batch_size=1024, verbose=0), 0, 20)
    print(f"{counts.shape[0]:,} shop-item series x {months} months; validation = the last month")
    print(f"NestedLSTM(depth=2, {arguments.units} units) RMSE: {rmse(valid_y, prediction):.4f}")
    print(f"last-month baseline RMSE:          {rmse(valid_y, valid_x[:, -1]):.4f}")


if __name__ == "__main__":
    main()
