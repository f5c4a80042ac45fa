"""Calendar days in the buyer's time zone: the zone table, regions, and end-of-day deadlines.

Consumer law counts periods in whole calendar days where the buyer lives: the day of the event
(the delivery, the notice) is not counted, and the period ends at the end of its last day, local
time (Regulation 1182/71 art. 3(1) and 3(2)(b), applied to Directive 2011/83/EU by its recital
41; the same convention in UK, Chinese and Brazilian law). A deadline is therefore the UTC instant
of 23:59:59.999999 on the last day in the buyer's zone, never "start + N * 24 hours".

The Case only knows the buyer's country, not the address, so a country maps to a tuple of IANA
zones (`COUNTRY_ZONES`, the main zone first). Multi-zone countries are handled by computing the
deadline in each of the country's zones and choosing:

* the LATEST instant for a right of the buyer (a return window): no buyer anywhere in the country
  is cut off early; the price is up to one day of extra generosity for part of the country;
* the EARLIEST instant for an obligation of the merchant (an SLA counted in days): the hub warns
  before the deadline of any buyer in the country has passed.

Only zones where a meaningful share of buyers live are listed (Azores and the Canary Islands are;
Fernando de Noronha, Lord Howe, the Chatham Islands and the western Aleutians are not), and zones
with identical offsets all year are listed once. A country missing from the table, or an unknown
country, is treated as "anywhere on Earth": UTC+14 and UTC-12, the first and the last places
where a calendar day ends.

Public holidays are not modelled: a period rolled past a weekend (`roll_weekend`) is not rolled
past a public holiday. This errs against the buyer by at most the number of holidays at the end
of a period; see `return_windows.toml`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from schemas.timestamps import zone

Counting = Literal["calendar_days", "business_days"]
Prefer = Literal["latest", "earliest"]

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

COUNTRY_ZONES: dict[str, tuple[str, ...]] = {
    # EU and EEA
    "AT": ("Europe/Vienna",), "BE": ("Europe/Brussels",), "BG": ("Europe/Sofia",),
    "HR": ("Europe/Zagreb",), "CY": ("Asia/Nicosia",), "CZ": ("Europe/Prague",),
    "DK": ("Europe/Copenhagen",), "EE": ("Europe/Tallinn",), "FI": ("Europe/Helsinki",),
    "FR": ("Europe/Paris",), "DE": ("Europe/Berlin",), "GR": ("Europe/Athens",),
    "HU": ("Europe/Budapest",), "IE": ("Europe/Dublin",), "IT": ("Europe/Rome",),
    "LV": ("Europe/Riga",), "LT": ("Europe/Vilnius",), "LU": ("Europe/Luxembourg",),
    "MT": ("Europe/Malta",), "NL": ("Europe/Amsterdam",), "PL": ("Europe/Warsaw",),
    "PT": ("Europe/Lisbon", "Atlantic/Azores"), "RO": ("Europe/Bucharest",),
    "SK": ("Europe/Bratislava",), "SI": ("Europe/Ljubljana",),
    "ES": ("Europe/Madrid", "Atlantic/Canary"), "SE": ("Europe/Stockholm",),
    "AX": ("Europe/Mariehamn",), "GF": ("America/Cayenne",), "GP": ("America/Guadeloupe",),
    "MQ": ("America/Martinique",), "RE": ("Indian/Reunion",), "YT": ("Indian/Mayotte",),
    "MF": ("America/Marigot",),
    "IS": ("Atlantic/Reykjavik",), "LI": ("Europe/Vaduz",), "NO": ("Europe/Oslo",),
    # Rest of Europe
    "GB": ("Europe/London",), "CH": ("Europe/Zurich",), "TR": ("Europe/Istanbul",),
    "UA": ("Europe/Kyiv",),
    "RU": (
        "Europe/Moscow", "Europe/Kaliningrad", "Europe/Samara", "Asia/Yekaterinburg",
        "Asia/Omsk", "Asia/Novosibirsk", "Asia/Krasnoyarsk", "Asia/Irkutsk", "Asia/Yakutsk",
        "Asia/Vladivostok", "Asia/Magadan", "Asia/Kamchatka",
    ),
    # Asia and the Middle East
    "CN": ("Asia/Shanghai",), "HK": ("Asia/Hong_Kong",), "MO": ("Asia/Macau",),
    "TW": ("Asia/Taipei",), "JP": ("Asia/Tokyo",), "KR": ("Asia/Seoul",),
    "SG": ("Asia/Singapore",), "MY": ("Asia/Kuala_Lumpur",), "TH": ("Asia/Bangkok",),
    "VN": ("Asia/Ho_Chi_Minh",), "PH": ("Asia/Manila",), "IN": ("Asia/Kolkata",),
    "ID": ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"),
    "SA": ("Asia/Riyadh",), "AE": ("Asia/Dubai",), "IL": ("Asia/Jerusalem",),
    "EG": ("Africa/Cairo",), "ZA": ("Africa/Johannesburg",),
    # Americas
    "US": (
        "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
        "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu",
    ),
    "CA": (
        "America/Toronto", "America/St_Johns", "America/Halifax", "America/Winnipeg",
        "America/Regina", "America/Edmonton", "America/Vancouver",
    ),
    "MX": (
        "America/Mexico_City", "America/Cancun", "America/Mazatlan", "America/Hermosillo",
        "America/Ciudad_Juarez", "America/Tijuana",
    ),
    "BR": ("America/Sao_Paulo", "America/Manaus", "America/Rio_Branco"),
    "AR": ("America/Argentina/Buenos_Aires",), "CL": ("America/Santiago",),
    "CO": ("America/Bogota",), "PE": ("America/Lima",), "UY": ("America/Montevideo",),
    "PR": ("America/Puerto_Rico",),
    # Oceania
    "AU": (
        "Australia/Sydney", "Australia/Brisbane", "Australia/Adelaide", "Australia/Darwin",
        "Australia/Perth",
    ),
    "NZ": ("Pacific/Auckland",),
}
"""Buyer country -> the IANA zones its buyers live in, the country's main zone first."""


def zones_for(country: str | None) -> tuple[str, ...]:
    """The zones a buyer of this country may be in; anywhere on Earth when unknown."""
    if country is None:
        return ANYWHERE_ON_EARTH
    return COUNTRY_ZONES.get(country.upper(), ANYWHERE_ON_EARTH)


def display_zone(country: str | None) -> str | None:
    """The country's main zone, for showing instants to a person; None when unknown."""
    zones = COUNTRY_ZONES.get(country.upper()) if country else None
    return zones[0] if zones else None


def local_day(instant: datetime, zone_name: str) -> date:
    """The calendar date of an instant in a zone."""
    return instant.astimezone(zone(zone_name)).date()


def end_of_day(day: date, zone_name: str) -> datetime:
    """The last instant (23:59:59.999999) of a local calendar day, in UTC.

    On a day whose last hour repeats (a DST fall-back at midnight) the later occurrence is taken.
    """
    local = datetime.combine(day, time(23, 59, 59, 999999), tzinfo=zone(zone_name))
    return local.replace(fold=1).astimezone(UTC)


def add_days(day: date, days: int, counting: Counting) -> date:
    """The day `days` days after `day` (the start day itself is not counted).

    Business days skip Saturdays and Sundays; public holidays are not modelled.
    """
    if counting == "calendar_days":
        return day + timedelta(days=days)
    current, remaining = day, days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def roll_past_weekend(day: date) -> date:
    """A last day on a Saturday or Sunday moves to the following Monday."""
    weekday = day.weekday()
    return day + timedelta(days=7 - weekday) if weekday >= 5 else day


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
    every zone of the buyer's country; `prefer` picks the latest (a buyer's right) or the
    earliest (a merchant's obligation) of them. Ties keep the country's main zone.
    """
    best: ZonedDeadline | None = None
    for zone_name in zones_for(country):
        first = local_day(start, zone_name)
        if count_start_day:
            first -= timedelta(days=1)
        last = add_days(first, days, counting)
        if roll_weekend:
            last = roll_past_weekend(last)
        candidate = ZonedDeadline(end_of_day(last, zone_name), zone_name, last)
        if best is None or (
            candidate.due_at > best.due_at if prefer == "latest" else candidate.due_at < best.due_at
        ):
            best = candidate
    assert best is not None  # zones_for never returns an empty tuple
    return best
