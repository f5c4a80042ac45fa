"""Calendar days in the buyer's time zone and week: regions, and end-of-day deadlines.

Consumer law counts periods in whole calendar days where the buyer lives: the day of the event
(the delivery, the notice) is not counted, and the period ends at the end of its last day, local
time (Regulation 1182/71 art. 3(1) and 3(2)(b), applied to Directive 2011/83/EU by its recital
41; the same convention in UK, Chinese and Brazilian law). A deadline is therefore the UTC instant
of 23:59:59.999999 on the last day in the buyer's zone, never "start + N * 24 hours".

The Case only knows the buyer's country, not the address, so a country maps to the IANA zones
of its distinct civil times (`schemas.territories.country_zones`, from the tz database's
`zone.tab`, the zone of the capital or most populous area first). Multi-zone countries are handled
by computing the deadline in each of the country's zones and choosing:

* the LATEST instant for a right of the buyer (a return window): no buyer anywhere in the country
  is cut off early; the price is a few hours of extra generosity for part of the country (every
  zone counts, remote islands such as the Azores or Fernando de Noronha included);
* the EARLIEST instant for an obligation of the merchant (an SLA counted in days): the hub warns
  before the deadline of any buyer in the country has passed.

A country the tz database does not know, or an unknown country, is treated as "anywhere on
Earth": UTC+14 and UTC-12, the first and the last places where a calendar day ends.

Business days and weekend rolls skip the weekend of the buyer's country as CLDR states it
(`schemas.territories.weekend_days`): Friday and Saturday in Saudi Arabia, Kuwait or Egypt,
Saturday and Sunday in most of the world.

Public holidays are not modelled: a period rolled past a weekend (`roll_weekend`) is not rolled
past a public holiday. This errs against the buyer by at most the number of holidays at the end
of a period; see `return_windows.toml`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from schemas.territories import country_zones, main_zone, weekend_days
from schemas.timestamps import zone

Counting = Literal["calendar_days", "business_days"]
Prefer = Literal["latest", "earliest"]

SATURDAY_SUNDAY: frozenset[int] = frozenset({5, 6})
"""CLDR's world-default weekend, for a period counted without a country."""

ANYWHERE_ON_EARTH: tuple[str, ...] = ("Etc/GMT-14", "Etc/GMT+12")
"""UTC+14 (Line Islands) and UTC-12: every calendar day on Earth ends between these two (the POSIX
`Etc/GMT` names have inverted signs)."""

_EU_MEMBER_STATES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)
# EU territory with an ISO 3166-1 code of its own: Aland (FI) and the French outermost regions.
_EU_OWN_CODES = frozenset("AX GF GP MQ RE YT MF".split())

REGIONS: dict[str, frozenset[str]] = {
    "EU": _EU_MEMBER_STATES | _EU_OWN_CODES,
    "EEA": _EU_MEMBER_STATES | _EU_OWN_CODES | frozenset({"IS", "LI", "NO"}),
}
"""Named groups of ISO 3166-1 alpha-2 codes that policy rules may name in `regions`."""


def zones_for(country: str | None) -> tuple[str, ...]:
    """The zones a buyer of this country may be in; anywhere on Earth when unknown."""
    return (country_zones(country) if country else ()) or ANYWHERE_ON_EARTH


def display_zone(country: str | None) -> str | None:
    """The country's main zone, for showing instants to a person; None when unknown."""
    return main_zone(country)


def local_day(instant: datetime, zone_name: str) -> date:
    """The calendar date of an instant in a zone."""
    return instant.astimezone(zone(zone_name)).date()


def end_of_day(day: date, zone_name: str) -> datetime:
    """The last instant (23:59:59.999999) of a local calendar day, in UTC.

    On a day whose last hour repeats (a DST fall-back at midnight) the later occurrence is taken.
    """
    local = datetime.combine(day, time(23, 59, 59, 999999), tzinfo=zone(zone_name))
    return local.replace(fold=1).astimezone(UTC)


def add_days(
    day: date, days: int, counting: Counting, weekend: frozenset[int] = SATURDAY_SUNDAY
) -> date:
    """The day `days` days after `day` (the start day itself is not counted).

    Business days skip the `weekend` weekdays (Monday = 0); public holidays are not modelled.
    """
    if counting == "calendar_days":
        return day + timedelta(days=days)
    current, remaining = day, days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() not in weekend:
            remaining -= 1
    return current


def roll_past_weekend(day: date, weekend: frozenset[int] = SATURDAY_SUNDAY) -> date:
    """A last day on a weekend day moves to the next day that is not one."""
    while day.weekday() in weekend:
        day += timedelta(days=1)
    return day


@dataclass(frozen=True, slots=True)
class ZonedDeadline:
    """A day-counted deadline: the UTC instant, the zone whose end of day set it, its last day."""

    due_at: datetime
    zone: str
    last_day: date


def day_deadline(
    start: datetime,
    *,
    days: int,
    counting: Counting,
    country: str | None,
    prefer: Prefer,
    roll_weekend: bool = False,
    count_start_day: bool = False,
) -> ZonedDeadline:
    """End of the last day of a period of `days` days starting on `start`'s local date.

    The start day is not counted unless `count_start_day` (Japanese law counts it). Computed in
    every zone of the buyer's country; business days and `roll_weekend` skip the weekend of the
    buyer's country (`schemas.territories.weekend_days`: Friday-Saturday in Saudi Arabia);
    `prefer` picks the latest (a buyer's right) or the
    earliest (a merchant's obligation) of them. Ties keep the country's main zone.
    """
    weekend = weekend_days(country)
    best: ZonedDeadline | None = None
    for zone_name in zones_for(country):
        first = local_day(start, zone_name)
        if count_start_day:
            first -= timedelta(days=1)
        last = add_days(first, days, counting, weekend)
        if roll_weekend:
            last = roll_past_weekend(last, weekend)
        candidate = ZonedDeadline(end_of_day(last, zone_name), zone_name, last)
        if best is None or (
            candidate.due_at > best.due_at if prefer == "latest" else candidate.due_at < best.due_at
        ):
            best = candidate
    assert best is not None  # zones_for never returns an empty tuple
    return best
