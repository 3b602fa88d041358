"""Frequency strings: one parser for every module that takes a `frequency` argument."""

import re

# Amazon Forecast / pandas spellings -> (canonical base, pandas period alias).
_BASES = {
    "min": "min", "T": "min", "H": "H", "h": "H", "D": "D", "W": "W",
    "M": "M", "MS": "M", "ME": "M", "Q": "Q", "QS": "Q", "QE": "Q", "Y": "Y", "A": "Y", "YS": "Y", "YE": "Y",
}
_PERIOD_ALIASES = {"min": "min", "H": "h", "D": "D", "W": "W", "M": "M", "Q": "Q", "Y": "Y"}


def parse_frequency(frequency):
    """`"2H"` -> `(2, "H")`; bases: min (or T), H, D, W (with an anchor, e.g. W-SUN), M, Q, Y."""
    if not isinstance(frequency, str):
        raise TypeError(f"`frequency` must be a string such as 'H' or 'D', got {frequency!r}.")
    match = re.fullmatch(r"(\d*)([A-Za-z]+)(-[A-Za-z]+)?", frequency.strip())
    if not match or match.group(2) not in _BASES:
        raise ValueError(
            f"Unknown frequency {frequency!r}: expected one of {sorted(set(_BASES))}, optionally with a "
            "multiple (e.g. '15min', '2H') or an anchor (e.g. 'W-SUN')."
        )
    multiple = int(match.group(1)) if match.group(1) else 1
    if multiple < 1:
        raise ValueError(f"The multiple in frequency {frequency!r} must be at least 1.")
    return multiple, _BASES[match.group(2)]


def period_alias(frequency):
    """The pandas period alias for a frequency (`"2H"` -> `"2h"`), anchors kept."""
    multiple, base = parse_frequency(frequency)
    anchor = frequency.strip().partition("-")[2]
    alias = _PERIOD_ALIASES[base] + (f"-{anchor}" if anchor and base == "W" else "")
    return f"{multiple}{alias}" if multiple > 1 else alias
