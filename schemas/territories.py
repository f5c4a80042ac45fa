"""Facts about a country the hub takes from reference data, never from hand-written tables.

* Time zones come from the IANA tz database shipped in the `tzdata` package (`zone.tab`: one row
  per country and zone, the zone names `zoneinfo` loads). `country_zones` gives every zone of a
  country with distinct civil time, `main_zone` the one shown to a person, `single_zone` the
  zone of a country whose whole territory keeps one civil time.
* Weekends come from CLDR through babel (`Locale.weekend_start` / `weekend_end` of the
  territory's most likely locale): Friday-Saturday in Saudi Arabia and Kuwait, Sunday only in
  India, Saturday-Sunday where CLDR says nothing more specific (its world default).

Choices where the data gives several answers (documented here, tested in `test_territories`):

* The main zone of a multi-zone country is the zone of its capital or most populous area. IANA
  orders `zone.tab` rows geographically ("most populous first where that does not contradict
  geography"), which puts the capital first for most countries; `_MAIN_ZONE` names the few where
  it does not (Canada starts at Newfoundland, Russia at Kaliningrad, Brazil at Fernando de
  Noronha, Australia at Lord Howe Island, Ukraine at Crimea).
* Zones that change their UTC offset to the same values in the same hours of `REFERENCE_YEARS`
  are one civil time
  (Busingen and Berlin, Ceuta and Madrid): `country_zones` keeps the first of them, so a
  deadline is not computed twice for the same clock.
* `_NOT_LEGAL_TIME` drops zones IANA lists that are not the country's legal time: Asia/Urumqi is
  Xinjiang's local convention, while China's legal time is Beijing time everywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import metadata, resources

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.localedata import locale_identifiers

from schemas.timestamps import zone

_MAIN_ZONE: dict[str, str] = {
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
}
"""Multi-zone countries whose first `zone.tab` row is not the capital's or most populous zone."""

_NOT_LEGAL_TIME = frozenset({"Asia/Urumqi"})

_RELEASE_YEAR = int(metadata.version("tzdata").split(".")[0])  # "2026.6": the 6th of 2026
REFERENCE_YEARS: tuple[int, int] = (_RELEASE_YEAR - 1, _RELEASE_YEAR + 2)
"""First and last year (inclusive) over which two zones must agree to count as one civil time:
around the release of the installed tz data, so the comparison is deterministic for a release."""

_SATURDAY, _SUNDAY = 5, 6


@cache
def _zone_table() -> dict[str, tuple[str, ...]]:
    """Country -> its `zone.tab` zones in file order (legal-time exceptions removed)."""
    text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    table: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        country, _coordinates, zone_name = line.split("\t")[:3]
        if zone_name not in _NOT_LEGAL_TIME:
            table.setdefault(country, []).append(zone_name)
    return {country: tuple(zones) for country, zones in table.items()}


@cache
def _offsets(zone_name: str) -> tuple[tuple[datetime, timedelta | None], ...]:
    """The zone's UTC offset from the start of `REFERENCE_YEARS` and every change of it to the
    hour, up to their end: equal tuples mean one civil time.

    Offsets are read once a day and each change is bisected to its hour (a day-by-day scan
    would miss zones that differ only in the hour they change; an hour-by-hour one is slow).
    """
    tz = zone(zone_name)
    start = datetime(REFERENCE_YEARS[0], 1, 1, tzinfo=UTC)
    days = (datetime(REFERENCE_YEARS[1] + 1, 1, 1, tzinfo=UTC) - start).days
    changes: list[tuple[datetime, timedelta | None]] = [(start, tz.utcoffset(start))]
    for day in range(1, days + 1):
        instant = start + timedelta(days=day)
        offset = tz.utcoffset(instant)
        if offset == changes[-1][1]:
            continue
        low, high = instant - timedelta(days=1), instant  # offset changes in (low, high]
        while high - low > timedelta(hours=1):
            middle = low + timedelta(hours=(high - low) // timedelta(hours=1) // 2)
            if tz.utcoffset(middle) == offset:
                high = middle
            else:
                low = middle
        changes.append((high, offset))
    return tuple(changes)


@cache
def country_zones(country: str) -> tuple[str, ...]:
    """The IANA zones of a country's distinct civil times, its main zone first; () when unknown.

    Args:
        country: ISO 3166-1 alpha-2 code, any case.
    """
    code = country.strip().upper()
    listed = _zone_table().get(code, ())
    if not listed:
        return ()
    main = _MAIN_ZONE.get(code, listed[0])
    distinct: list[str] = []
    seen: set[tuple[tuple[datetime, timedelta | None], ...]] = set()
    for zone_name in (main, *(name for name in listed if name != main)):
        offsets = _offsets(zone_name)
        if offsets not in seen:
            seen.add(offsets)
            distinct.append(zone_name)
    return tuple(distinct)


def main_zone(country: str | None) -> str | None:
    """The zone of the country's capital or most populous area; None when unknown."""
    zones = country_zones(country) if country else ()
    return zones[0] if zones else None


def single_zone(country: str | None) -> str | None:
    """The country's zone when its whole territory keeps one civil time; None otherwise."""
    zones = country_zones(country) if country else ()
    return zones[0] if len(zones) == 1 else None


def known_countries() -> frozenset[str]:
    """Every country the IANA data gives a zone."""
    return frozenset(_zone_table())


def listed_zones() -> frozenset[str]:
    """Every zone the IANA country table names (before merging zones of one civil time)."""
    return frozenset(name for zones in _zone_table().values() for name in zones)


@cache
def weekend_days(country: str | None) -> frozenset[int]:
    """The weekdays (Monday = 0) that are the weekend in the country, from CLDR.

    An unknown country or one CLDR has no locale for gets CLDR's world default, Saturday-Sunday.
    """
    locale = _territory_locale(country.strip().upper()) if country else None
    if locale is None:
        return frozenset({_SATURDAY, _SUNDAY})
    start, end = locale.weekend_start, locale.weekend_end
    # A weekend may wrap around the week (CLDR allows e.g. Saturday-Sunday as 5..6, or 6..0).
    length = (end - start) % 7 + 1
    return frozenset((start + offset) % 7 for offset in range(length))


def _territory_locale(territory: str) -> Locale | None:
    """The locale CLDR finds most likely for a territory (its `und_XX` likely subtag), else any
    locale of the territory: babel keeps week data per locale, resolved from its territory."""
    likely = get_global("likely_subtags").get(f"und_{territory}")
    candidates = [likely] if likely else []
    # `und_US` has no likely subtag of its own (plain `und` resolves to en_Latn_US).
    candidates += sorted(ident for ident in locale_identifiers()
                         if ident.rsplit("_", 1)[-1] == territory)
    for ident in candidates:
        try:
            locale = Locale.parse(ident)
        except (UnknownLocaleError, ValueError):
            continue
        if locale.territory == territory:
            return locale
    return None
