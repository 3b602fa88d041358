"""Frequency strings: one parser for every module that takes a `frequency` argument."""

import re

# Amazon Forecast / pandas spellings -> (canonical base, pandas period alias).
_BASES = {
    "min": "min", "T": "min", "H": "H", "h": "H", "D": "D", "W": "W",
    "M": "M", "MS": "M", "ME": "M", "Q": "Q", "QS": "Q", "QE": "Q", "Y": "Y", "A": "Y", "YS": "Y", "YE": "Y",
}
_PERIOD_ALIASES = {"min": "min", "H": "h", "D": "D", "W": "W", "M": "M", "Q": "Q", "Y": "Y"}
# Series with only an order, no calendar (competition data, exports): "step", or "step-12" for a
# season of 12 steps. Their grid is the integer step index and they get no calendar features.
STEP = "step"
_STEPS = re.compile(r"step(?:-(\d+))?")


def step_season(frequency):
    """The season of a step frequency (`"step-12"` -> 12, `"step"` -> 1); None for a calendar one."""
    match = _STEPS.fullmatch(frequency.strip()) if isinstance(frequency, str) else None
    if match is None:
        return None
    season = int(match.group(1) or 1)
    if season < 1:
        raise ValueError(f"The season in frequency {frequency!r} must be at least 1 step.")
    return season


def parse_frequency(frequency):
    """`"2H"` -> `(2, "H")`; bases: min (or T), H, D, W (with an anchor, e.g. W-SUN), M, Q, Y, and
    `"step"` / `"step-<season>"` (a step index without a calendar) -> `(1, "step")`."""
    if not isinstance(frequency, str):
        raise TypeError(f"`frequency` must be a string such as 'H' or 'D', got {frequency!r}.")
    if step_season(frequency) is not None:
        return 1, STEP
    match = re.fullmatch(r"(\d*)([A-Za-z]+)(-[A-Za-z]+)?", frequency.strip())
    if not match or match.group(2) not in _BASES:
        raise ValueError(
            f"Unknown frequency {frequency!r}: expected one of {sorted(set(_BASES))}, optionally with a "
            "multiple (e.g. '15min', '2H') or an anchor (e.g. 'W-SUN'), or 'step-<season>' (e.g. 'step-12') "
            "for series with a step index and no calendar."
        )
    multiple = int(match.group(1)) if match.group(1) else 1
    if multiple < 1:
        raise ValueError(f"The multiple in frequency {frequency!r} must be at least 1.")
    return multiple, _BASES[match.group(2)]


def period_alias(frequency):
    """The pandas period alias for a frequency (`"2H"` -> `"2h"`), anchors kept; None for steps."""
    multiple, base = parse_frequency(frequency)
    if base == STEP:
        return None
    anchor = frequency.strip().partition("-")[2]
    alias = _PERIOD_ALIASES[base] + (f"-{anchor}" if anchor and base == "W" else "")
    return f"{multiple}{alias}" if multiple > 1 else alias
