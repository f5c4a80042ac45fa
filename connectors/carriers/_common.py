"""Shared machinery of the carrier connectors: scan times, places, and scans -> canonical events.

Every carrier connector reads its payload into `Scan`s (one per tracking event / checkpoint) and
hands them to `build_events`, which orders them by scan time and emits one `shipment.update` per
scan plus a `customs.update` right after each scan that is a customs milestone.

Times. A scan time with an offset is the provider's (`time_source="provider"`, the wall time and
its offset kept in `occurred_at_local`, the IANA zone added when the scan's location resolves to a
zone with that very offset). A wall time without offset is placed in the zone of the scan's
location (`connectors.carriers._zones`; `time_source="resolved_zone"`). When that zone cannot be
known for certain the hub does not guess: the event takes the receive time with
`time_source="received"` and no local time. Raising instead would dead-letter every other,
perfectly dated scan of the payload. An impossible date (month 20) is a broken record and raises
`SkippableRecordError` naming the field.

Identity. A scan's event id is made of the source, the carrier, the tracking number and the
scan's own identity as the carrier wrote it (raw time text, code, description, location), never
of the resolved instant, so redelivering a whole tracking history yields the same ids.

Order. Scans are emitted oldest first. Carriers list them newest first (DHL, UPS, 17TRACK) or
oldest first (AfterShip, EasyPost); the direction is read off the dated scans, then scans are
sorted by instant. When a scan's time fell back to the receive time, its instant says nothing
about its place in the history, so the carrier's own sequence is kept instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.core import get_global

from connectors.boundary import capped_text
from connectors.carriers._status import ROUTINE_STATUSES
from connectors.carriers._zones import Place, resolve_zone
from schemas.errors import SkippableRecordError
from schemas.events import (
    CanonicalEvent,
    Customs,
    CustomsStatus,
    Direction,
    ReasonCode,
    Reference,
    Shipment,
    ShipmentStatus,
    Source,
    make_event_id,
)
from schemas.timestamps import localize, parse_iso

TimeSource = Literal["provider", "resolved_zone", "received"]

_TERRITORY_ALIASES: Mapping[str, list[str]] = get_global("territory_aliases")
_COUNTRIES: frozenset[str] = frozenset(
    code
    for code in map(str, Locale("en").territories)
    if len(code) == 2 and code.isalpha() and code not in {"EU", "EZ", "UN", "QO", "ZZ"}
)
_MAX_OFFSET = timedelta(hours=14)
_COLON_CLOCK = re.compile(r"\d{1,2}:\d{2}:\d{2}")


# --- JSON access -----------------------------------------------------------------------------
def mapping_at(value: Any, where: str) -> Mapping[str, Any]:
    """`value` as a JSON object, or a record error naming `where`."""
    if not isinstance(value, Mapping):
        raise SkippableRecordError(f"{where}: expected an object, got {_kind(value)}")
    return value


def optional_mapping(value: Any, where: str) -> Mapping[str, Any]:
    """A JSON object that may be absent or null (then empty)."""
    return {} if value is None else mapping_at(value, where)


def list_at(value: Any, where: str) -> list[Any]:
    """`value` as a JSON array (absent or null is empty), or a record error naming `where`."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise SkippableRecordError(f"{where}: expected an array, got {_kind(value)}")
    return value


def text_at(value: Any, where: str) -> str | None:
    """A JSON string or number as stripped text; null or blank is None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise SkippableRecordError(f"{where}: expected text, got {_kind(value)}")
    text = str(value).strip()
    return text or None


def required_text(value: Any, where: str) -> str:
    """Like `text_at`, but missing, null or blank is a record error."""
    text = text_at(value, where)
    if text is None:
        raise SkippableRecordError(f"missing field {where!r}")
    return text


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


# --- places ----------------------------------------------------------------------------------
def country_code(value: Any) -> str | None:
    """An ISO 3166-1 alpha-2 code from an alpha-2 or alpha-3 code; anything else is None."""
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    if len(code) == 3 and code.isalpha():
        aliases = _TERRITORY_ALIASES.get(code) or []
        code = aliases[0] if aliases else ""
    return code if code in _COUNTRIES else None


def join_location(*parts: str | None) -> str | None:
    """Location parts as one display string ("Charlotte, NC, US")."""
    present = [part for part in parts if part]
    return ", ".join(present) or None


# --- times -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ScanTime:
    """When a scan happened, and how the hub knows it."""

    utc: datetime
    local: datetime | None
    zone: str | None
    source: TimeSource

    @property
    def known(self) -> bool:
        """True unless the time fell back to the hub's receive time."""
        return self.source != "received"


def received_time(received_at: datetime) -> ScanTime:
    """The fallback: the hub's receive time, with no local time."""
    return ScanTime(utc=received_at.astimezone(UTC), local=None, zone=None, source="received")


def iso_scan_time(
    value: Any, *, where: str, place: Place | None, received_at: datetime
) -> ScanTime:
    """An ISO 8601 scan time: with offset as stated, without offset placed in `place`'s zone.

    Raises:
        SkippableRecordError: not a string, or not a real date and time (naming `where`).
    """
    raw = required_text(value, where)
    if not isinstance(value, str):
        raise SkippableRecordError(f"{where}: expected an ISO 8601 timestamp, got {raw!r}")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise SkippableRecordError(f"{where}: impossible timestamp {raw!r} ({exc})") from exc
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return wall_scan_time(parsed, place=place, received_at=received_at)
    stated = parse_iso(raw)
    offset = parsed.utcoffset()
    zone = _zone_with_offset(place, stated.utc, offset) if stated.local is not None else None
    return ScanTime(utc=stated.utc, local=stated.local, zone=zone, source="provider")


def wall_scan_time(wall: datetime, *, place: Place | None, received_at: datetime) -> ScanTime:
    """A wall time without offset, placed in the scan location's zone when that is certain."""
    zone = resolve_zone(place) if place is not None else None
    if zone is None:
        return received_time(received_at)
    placed = localize(wall.replace(tzinfo=None), zone)
    return ScanTime(utc=placed.utc, local=placed.local, zone=zone, source="resolved_zone")


def utc_and_wall_time(wall: datetime, utc_wall: datetime, *, place: Place | None) -> ScanTime:
    """A scan stated twice, as local wall time and as UTC wall time (UPS `gmt*`, 17TRACK).

    The local offset is their difference; an implausible difference (beyond ±14 h or not whole
    minutes) keeps only the UTC instant.
    """
    utc = utc_wall.replace(tzinfo=UTC)
    offset = wall.replace(tzinfo=None) - utc_wall.replace(tzinfo=None)
    if abs(offset) > _MAX_OFFSET or offset % timedelta(minutes=1):
        return ScanTime(utc=utc, local=None, zone=None, source="provider")
    local = wall.replace(tzinfo=timezone(offset))
    zone = _zone_with_offset(place, utc, offset)
    return ScanTime(utc=utc, local=local, zone=zone, source="provider")


def compact_wall_time(date: Any, time: Any, *, where_date: str, where_time: str) -> datetime:
    """UPS-style `YYYYMMDD` + `HHMMSS` (a dropped leading zero, "74700", is restored).

    The UPS Track API also writes times as `HH:MM:SS` (`gmtTime`, `time` in some responses):
    that form is read as the same clock, so both give the same scan and the same event id.

    Raises:
        SkippableRecordError: missing, non-numeric or impossible date or time, naming the field.
    """
    day = required_text(date, where_date)
    clock = text_at(time, where_time) or "000000"
    if _COLON_CLOCK.fullmatch(clock):
        hours, minutes, seconds = clock.split(":")
        clock = f"{hours.zfill(2)}{minutes}{seconds}"
    if len(clock) == 5:
        clock = clock.zfill(6)
    if len(day) != 8 or not day.isdigit():
        raise SkippableRecordError(f"{where_date}: expected YYYYMMDD, got {day!r}")
    if len(clock) != 6 or not clock.isdigit():
        raise SkippableRecordError(f"{where_time}: expected HHMMSS, got {clock!r}")
    try:
        return datetime(  # noqa: DTZ001 - a wall time whose zone is resolved by the caller
            int(day[:4]), int(day[4:6]), int(day[6:]),
            int(clock[:2]), int(clock[2:4]), int(clock[4:]),
        )
    except ValueError as exc:
        raise SkippableRecordError(
            f"{where_date}/{where_time}: impossible date or time {day} {clock} ({exc})"
        ) from exc


def _zone_with_offset(place: Place | None, utc: datetime, offset: timedelta | None) -> str | None:
    zone = resolve_zone(place) if place is not None else None
    if zone is None or offset is None:
        return None
    return zone if utc.astimezone(ZoneInfo(zone)).utcoffset() == offset else None


# --- language --------------------------------------------------------------------------------
def header_language(headers: Mapping[str, str] | None) -> str | None:
    """The primary language tag of a `Content-Language` header, when the provider sent one."""
    value = (headers or {}).get("content-language") or ""
    primary = value.split(",", 1)[0].split("-", 1)[0].split("_", 1)[0].strip().lower()
    return primary if 2 <= len(primary) <= 3 and primary.isalpha() else None


# --- scans -> events -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Case:
    """What names the case of a shipment: its references and the strongest of them."""

    references: tuple[Reference, ...]
    order_id: str | None = None

    @property
    def case_key(self) -> str:
        """`order:<id>` when the merchant's order is known, else `tracking:<number>`."""
        for kind in ("order", "tracking"):
            for reference in self.references:
                if reference.kind == kind:
                    return str(reference)
        return str(self.references[0])


def tracking_case(
    tracking_number: str,
    *,
    order_ids: Iterable[str | None] = (),
    other_tracking: Iterable[str | None] = (),
    return_ids: Iterable[str | None] = (),
) -> Case:
    """The case of one tracking number, led by the merchant's order ids when the payload has them.

    Args:
        other_tracking: further numbers of the same parcel (a last-mile carrier's number).
        return_ids: the merchant's return (RMA) numbers the carrier keeps for the parcel.
    """
    orders = list(dict.fromkeys(order for order in order_ids if order))
    numbers = list(dict.fromkeys([tracking_number, *(n for n in other_tracking if n)]))
    returns = list(dict.fromkeys(number for number in return_ids if number))
    references = (
        *(Reference(kind="order", value=order) for order in orders),
        *(Reference(kind="return", value=number) for number in returns),
        *(Reference(kind="tracking", value=number) for number in numbers),
    )
    return Case(references=references, order_id=orders[0] if orders else None)


@dataclass(frozen=True, slots=True)
class Scan:
    """One tracking event of one parcel, read off a carrier payload."""

    tracking_number: str
    carrier: str
    status: ShipmentStatus
    raw_status: str
    raw_description: str | None
    time: ScanTime
    identity: tuple[object, ...]
    country: str | None = None
    location: str | None = None
    customs: CustomsStatus | None = None
    language: str | None = None
    reason_code: ReasonCode | None = None
    raw_reason: str | None = None
    direction: Direction | None = None


def chronological(scans: Sequence[Scan], *, listed_newest_first: bool = False) -> list[Scan]:
    """Scans oldest first (see the module docstring for undated scans).

    Args:
        listed_newest_first: the carrier's documented order, used only when fewer than two
            scans are dated and the order cannot be read off the payload itself.
    """
    ordered = list(scans)
    dated = [scan for scan in ordered if scan.time.known]
    newest_first = (
        dated[0].time.utc > dated[-1].time.utc if len(dated) >= 2 else listed_newest_first
    )
    if newest_first:
        ordered.reverse()
    if len(dated) == len(ordered):
        ordered.sort(key=lambda scan: scan.time.utc)
    return ordered


def build_events(
    source: Source,
    scans: Sequence[Scan],
    *,
    case: Case,
    received_at: datetime,
    current: Scan | None = None,
    listed_newest_first: bool = False,
    direction: Direction | None = None,
) -> list[CanonicalEvent]:
    """Canonical events of one parcel's scans, oldest first.

    Args:
        current: the carrier's shipment-level status (AfterShip tag, EasyPost tracker status);
            emitted last, only when it says something the latest scan does not.
        listed_newest_first: the carrier lists scans newest first (see `chronological`).
        direction: the tracking's direction when the payload states it for the whole parcel
            (a tracking marked as a return, `connectors.carriers._returns`); a scan's own wins.
    """
    if direction is not None:
        scans = [scan if scan.direction else replace(scan, direction=direction) for scan in scans]
        if current is not None and current.direction is None:
            current = replace(current, direction=direction)
    ordered = chronological(scans, listed_newest_first=listed_newest_first)
    if current is not None and (not ordered or _says_more(current, ordered[-1])):
        ordered.append(current)
    events: list[CanonicalEvent] = []
    seen: set[str] = set()
    for scan in ordered:
        event_id = make_event_id(source, scan.carrier, scan.tracking_number, *scan.identity)
        if event_id in seen:
            continue
        seen.add(event_id)
        events.append(_shipment_event(source, scan, event_id, case, received_at))
        if scan.customs is not None:
            events.append(
                _customs_event(source, scan, scan.customs, event_id, case, received_at)
            )
    return events


def _says_more(current: Scan, latest: Scan) -> bool:
    """Whether the carrier's shipment-level status adds to its latest scan.

    Compared on the canonical status: AfterShip InTransit_001 after an InTransit_007 checkpoint
    says nothing new, Exception_013 after a Delivered (or another Exception) checkpoint does: its
    reason code is new. A routine status after a
    customs scan (which the hub maps to `customs`) says nothing new either.
    """
    if current.status == latest.status and current.reason_code == latest.reason_code:
        return False
    return not (latest.status == "customs" and current.status in ROUTINE_STATUSES)


def _capped(text: str | None) -> str | None:
    """Free text of a scan as events keep it (`connectors.boundary.capped_text`)."""
    return None if text is None else capped_text(text)


def _common_fields(scan: Scan, case: Case, received_at: datetime) -> dict[str, Any]:
    return {
        "source_kind": "carrier",
        "occurred_at": scan.time.utc,
        "occurred_at_local": scan.time.local,
        "source_timezone": scan.time.zone,
        "time_source": scan.time.source,
        "received_at": received_at,
        "order_id": case.order_id,
        "case_key": case.case_key,
        "references": case.references,
        "text": _capped(scan.raw_description),
        "language": scan.language if scan.raw_description else None,
    }


def _shipment_event(
    source: Source, scan: Scan, event_id: str, case: Case, received_at: datetime
) -> CanonicalEvent:
    return CanonicalEvent(
        event_id=event_id,
        source=source,
        type="shipment.update",
        reason_code=scan.reason_code,
        raw_reason=_capped(scan.raw_reason),
        shipment=Shipment(
            carrier=scan.carrier,
            tracking_number=scan.tracking_number,
            status=scan.status,
            raw_status=scan.raw_status,
            raw_description=_capped(scan.raw_description),
            country=scan.country,
            location=_capped(scan.location),
            direction=scan.direction,
        ),
        **_common_fields(scan, case, received_at),
    )


def _customs_event(
    source: Source,
    scan: Scan,
    status: CustomsStatus,
    scan_event_id: str,
    case: Case,
    received_at: datetime,
) -> CanonicalEvent:
    return CanonicalEvent(
        event_id=make_event_id(source, scan_event_id, "customs", status),
        source=source,
        type="customs.update",
        customs=Customs(status=status, country=scan.country, direction=scan.direction),
        **_common_fields(scan, case, received_at),
    )
