"""Public holidays as day numbers, from the `holidays` package (the optional extra `kerasts[holidays]`),
for `CalendarFeatures(holidays=...)`: Amazon Forecast's holiday supplementary feature."""

import datetime

EPOCH = datetime.date(1970, 1, 1)


def holiday_days(countries, first_year, last_year):
    """`{country code: sorted days since 1970-01-01}` of each country's public holidays from `first_year`
    to `last_year`, as the `holidays` package lists them (observed days included).

    Raises:
        ImportError: without the `holidays` package.
        ValueError: for a country code the package does not know, naming it.
    """
    try:
        import holidays
    except ImportError as error:
        raise ImportError("Holiday features need the `holidays` package: pip install 'kerasts[holidays]'.") from error
    if isinstance(countries, str):
        countries = (countries,)
    supported = holidays.list_supported_countries()
    days = {}
    for code in countries:
        if code not in supported:
            raise ValueError(f"Unknown holiday country {code!r}: the holidays package knows ISO 3166 codes such as "
                             "'US', 'DE', 'PT', 'JP' (holidays.list_supported_countries() lists them).")
        calendar = holidays.country_holidays(code, years=range(int(first_year), int(last_year) + 1))
        days[code] = sorted((date - EPOCH).days for date in calendar)
    return days
