"""Public holidays per country and subdivision, from the ``holidays`` package.

Pure and cached: a calendar asks for one year's set at a time, and every
business-time sum over that year reuses it. The package is imported on first
use, so an inbox without a country costs nothing (the import takes ~90 ms).
"""

from __future__ import annotations

from datetime import date
from functools import cache, lru_cache

__all__ = ["check_region", "public_holidays"]

# Far enough for any due time worth computing; a year outside it is refused
# rather than computed (and cached) for a date a hostile input made up.
MIN_YEAR, MAX_YEAR = 1970, 2200


@cache
def _supported() -> dict[str, tuple[str, ...]]:
    import holidays  # ~90 ms, paid only by calendars with a country

    return {c.upper(): tuple(s) for c, s in holidays.list_supported_countries().items()}


def check_region(country: object, subdivision: object = None) -> tuple[str, str | None]:
    """The country code (ISO 3166-1 alpha-2, as ``DE``) and subdivision (``BY``) as
    the package spells them. Raises ValueError naming what is unknown."""
    if not isinstance(country, str) or not country.strip():
        raise ValueError(f"a country is a code such as DE or US, got {country!r}")
    code = country.strip().upper()
    subdivisions = _supported().get(code)
    if subdivisions is None:
        raise ValueError(f"unknown country for public holidays: {country!r}")
    if subdivision is None or subdivision == "":
        return code, None
    if not isinstance(subdivision, str):
        raise ValueError(f"a subdivision is a code such as BY, got {subdivision!r}")
    wanted = subdivision.strip().upper()
    for known in subdivisions:
        if known.upper() == wanted:
            return code, known
    raise ValueError(
        f"unknown subdivision {subdivision!r} of {code}; known: {', '.join(subdivisions)}"
    )


@lru_cache(maxsize=1024)
def public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """The public holidays of one year in a region checked by ``check_region``."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"no public holidays are computed for the year {year}")
    import holidays

    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))
