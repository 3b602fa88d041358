import keras
import tensorflow as tf

from kerasts.frequencies import parse_frequency

# GluonTS's feature sets by frequency base; each feature is scaled into [-0.5, 0.5].
FEATURES_BY_FREQUENCY = {
    "min": ("minute_of_hour", "hour_of_day", "day_of_week", "day_of_month", "day_of_year"),
    "H": ("hour_of_day", "day_of_week", "day_of_month", "day_of_year"),
    "D": ("day_of_week", "day_of_month", "day_of_year"),
    "W": ("day_of_month", "week_of_year"),
    "M": ("month_of_year",),
    "Q": (),
    "Y": (), "step": (),  # a step index has no calendar
}
SECONDS_PER_DAY = 86_400


def _floor_divide(numerator, denominator):
    return tf.math.floordiv(numerator, tf.constant(denominator, numerator.dtype))


def _civil_date(days):
    """Days since 1970-01-01 -> (year, month 1..12, day 1..31), proleptic Gregorian, exact."""
    shifted = days + 719_468  # days since 0000-03-01
    era = _floor_divide(shifted, 146_097)
    day_of_era = shifted - era * 146_097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096) // 365
    day_of_march_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_from_march = (5 * day_of_march_year + 2) // 153
    day = day_of_march_year - (153 * month_from_march + 2) // 5 + 1
    month = tf.where(month_from_march < 10, month_from_march + 3, month_from_march - 9)
    year = year_of_era + era * 400 + tf.cast(month <= 2, days.dtype)
    return year, month, day


def _days_to_january_first(year):
    """Days from 1970-01-01 to January 1st of `year` (inverse of `_civil_date`)."""
    previous = year - 1  # January is month 11 of the March-based previous year
    era = _floor_divide(previous, 400)
    year_of_era = previous - era * 400
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + 306
    return era * 146_097 + day_of_era - 719_468


@keras.saving.register_keras_serializable(package="kerasts")
class CalendarFeatures(keras.layers.Layer):
    """Calendar features of timestamps, computed in the graph.

    Takes Unix timestamps (int64 seconds since 1970-01-01 UTC) and returns the time
    features GluonTS uses for the frequency, each scaled into [-0.5, 0.5]: minute of
    hour, hour of day, day of week (Monday 0), day of month, day of year, week of year
    (`(day_of_year - 1) // 7`, not the ISO week) or month of year. Because the features
    come from plain timestamps, a SavedModel that contains this layer needs no
    feature code on the serving side.

    With `holidays`, one more feature per country: the number of its holidays among the days the
    step's period touches (0 or 1 for hourly and daily steps, up to 7 for weekly ones), from the
    dates given, so the lookup travels inside a saved model too.

    Args:
        frequency: e.g. `"H"`, `"D"`, `"W"`, `"M"`, `"15min"` (its base picks the features).
        holidays: optional `{country code: [days since 1970-01-01, ...]}` (`kerasts.data.holiday_days`).
        **kwargs: base layer arguments.

    Call arguments:
        timestamps: int64 tensor of any shape.

    Returns:
        float tensor `timestamps.shape + (num_features,)`.

    Example:

    ```python
    seconds = pd.date_range("2024-01-01", periods=48, freq="h").astype("int64") // 10**9
    features = kerasts.layers.CalendarFeatures("H")(seconds.to_numpy()[None])  # (1, 48, 4)
    ```
    """

    def __init__(self, frequency, holidays=None, **kwargs):
        super().__init__(**kwargs)
        self.frequency = frequency
        self.holidays = {str(code): sorted(int(day) for day in days) for code, days in (holidays or {}).items()}
        if self.holidays and parse_frequency(frequency)[1] == "step":
            raise ValueError(f"Holidays need a calendar; the {frequency!r} frequency is a step index without one.")
        self.feature_names = FEATURES_BY_FREQUENCY[parse_frequency(frequency)[1]] + tuple(
            f"holidays_{code}" for code in self.holidays)

    @property
    def num_features(self):
        return len(self.feature_names)

    def _holiday_counts(self, seconds):
        """Per country, holidays among the days `[start, end)` each step's period touches; a step ends
        where the next one starts (the last one as long as the one before it)."""
        starts = seconds
        widths = seconds[..., 1:] - seconds[..., :-1]
        last_width = widths[..., -1:] if seconds.shape[-1] != 1 else tf.fill(tf.shape(seconds[..., :1]),
                                                                          tf.constant(SECONDS_PER_DAY, tf.int64))
        ends = starts + tf.concat([widths, last_width], axis=-1)
        first_day = _floor_divide(starts, SECONDS_PER_DAY)
        end_day = -_floor_divide(-ends, SECONDS_PER_DAY)  # ceiling: an hour touches its own day
        flat_first, flat_end = tf.reshape(first_day, [1, -1]), tf.reshape(end_day, [1, -1])
        counts = []
        for days in self.holidays.values():
            table = tf.constant(days, tf.int64, shape=(1, len(days)))
            inside = tf.searchsorted(table, flat_end) - tf.searchsorted(table, flat_first)
            counts.append(tf.reshape(tf.cast(inside, self.compute_dtype), tf.shape(seconds)))
        return counts

    def call(self, timestamps):
        seconds = tf.cast(timestamps, tf.int64)
        days = _floor_divide(seconds, SECONDS_PER_DAY)
        second_of_day = seconds - days * SECONDS_PER_DAY
        year, month, day = _civil_date(days)
        day_of_year = days - _days_to_january_first(year)  # 0-based
        raw = {
            "minute_of_hour": ((second_of_day // 60) % 60, 59),
            "hour_of_day": (second_of_day // 3600, 23),
            "day_of_week": ((days + 3) % 7, 6),  # 1970-01-01 was a Thursday
            "day_of_month": (day - 1, 30),
            "day_of_year": (day_of_year, 365),
            "week_of_year": (day_of_year // 7, 52),
            "month_of_year": (month - 1, 11),
        }
        dtype = self.compute_dtype
        features = [tf.cast(raw[name][0], dtype) / raw[name][1] - 0.5 for name in self.feature_names
                    if name in raw]
        if self.holidays:
            features += self._holiday_counts(seconds)
        if not features:
            return tf.zeros(tf.concat([tf.shape(seconds), [0]], 0), dtype=dtype)
        return tf.stack(features, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.num_features,)

    def get_config(self):
        return {**super().get_config(), "frequency": self.frequency, "holidays": self.holidays or None}
