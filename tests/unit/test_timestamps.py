from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from schemas.timestamps import UtcDatetime, format_utc, from_epoch_seconds, localize, parse_iso


class Stamped(BaseModel):
    at: UtcDatetime


@pytest.mark.parametrize(
    ("text", "utc", "local_offset_hours"),
    [
        ("2016-08-12T13:58:29-04:00", datetime(2016, 8, 12, 17, 58, 29, tzinfo=UTC), -4),
        ("2024-03-05T09:00:00+09:00", datetime(2024, 3, 5, 0, 0, tzinfo=UTC), 9),
        ("2024-03-05T00:00:00Z", datetime(2024, 3, 5, 0, 0, tzinfo=UTC), None),
        ("2017-01-25T10:00:00.000-00:00", datetime(2017, 1, 25, 10, 0, tzinfo=UTC), None),
        ("2024-06-01T12:00:00+00:00", datetime(2024, 6, 1, 12, 0, tzinfo=UTC), 0),
    ],
)
def test_offsets_are_kept_and_z_or_unknown_offset_state_no_local_time(
    text: str, utc: datetime, local_offset_hours: int | None
) -> None:
    stated = parse_iso(text)
    assert stated.utc == utc
    if local_offset_hours is None:
        assert stated.local is None
    else:
        assert stated.local is not None
        assert stated.local.utcoffset() == timedelta(hours=local_offset_hours)


def test_naive_time_needs_a_zone() -> None:
    with pytest.raises(ValueError, match="no offset"):
        parse_iso("2024-01-15T10:30:00")


@pytest.mark.parametrize(
    ("wall", "zone", "utc"),
    [
        # New York is UTC-5 in January and UTC-4 in July.
        (
            datetime(2024, 1, 15, 10, 30),
            "America/New_York",
            datetime(2024, 1, 15, 15, 30, tzinfo=UTC),
        ),
        (
            datetime(2024, 7, 15, 10, 30),
            "America/New_York",
            datetime(2024, 7, 15, 14, 30, tzinfo=UTC),
        ),
        (datetime(2024, 7, 15, 10, 30), "Europe/Berlin", datetime(2024, 7, 15, 8, 30, tzinfo=UTC)),
        (datetime(2024, 7, 15, 10, 30), "Asia/Shanghai", datetime(2024, 7, 15, 2, 30, tzinfo=UTC)),
        (
            datetime(2024, 7, 15, 10, 30),
            "America/Sao_Paulo",
            datetime(2024, 7, 15, 13, 30, tzinfo=UTC),
        ),
    ],
)
def test_naive_local_time_is_placed_in_its_zone(wall: datetime, zone: str, utc: datetime) -> None:
    stated = localize(wall, zone)
    assert stated.utc == utc
    assert stated.zone == zone
    assert stated.local is not None and stated.local.replace(tzinfo=None) == wall


def test_unknown_zone_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown IANA"):
        localize(datetime(2024, 1, 1), "Mars/Olympus_Mons")


def test_naive_datetime_is_refused_by_models() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        Stamped(at=datetime(2024, 1, 1, 12, 0))


def test_aware_datetime_is_stored_as_utc_and_serialized_with_z() -> None:
    stamped = Stamped(at=datetime(2024, 1, 1, 21, 0, tzinfo=timezone(timedelta(hours=9))))
    assert stamped.at.tzinfo == UTC
    assert stamped.model_dump_json() == '{"at":"2024-01-01T12:00:00Z"}'


def test_epoch_seconds_are_utc() -> None:
    assert from_epoch_seconds(1234567890) == datetime(2009, 2, 13, 23, 31, 30, tzinfo=UTC)


_ZONES = st.sampled_from(
    [
        "UTC",
        "America/New_York",
        "Europe/London",
        "Asia/Tokyo",
        "Asia/Kolkata",
        "America/Sao_Paulo",
        "Australia/Lord_Howe",
        "Asia/Riyadh",
    ]
)


@given(
    instant=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
    zone=_ZONES,
)
def test_any_local_rendering_parses_back_to_the_same_instant(instant: datetime, zone: str) -> None:
    from zoneinfo import ZoneInfo

    local = instant.astimezone(ZoneInfo(zone))
    stated = parse_iso(local.isoformat())
    assert stated.utc == instant
    assert Stamped(at=local).at == instant
    assert parse_iso(format_utc(instant)).utc == instant


# Every kind of offset a provider or a zone database can give, seconds-precise ones included
# (local mean time of old zone rules), and zones whose offset is zero without being UTC.
_OFFSETS = st.one_of(
    st.timezones(),
    st.builds(
        timezone,
        st.integers(min_value=-86_399, max_value=86_399).map(lambda s: timedelta(seconds=s)),
    ),
    st.sampled_from([UTC, ZoneInfo("UTC"), ZoneInfo("Europe/London"), timezone(timedelta(0))]),
)
UTC_DATETIME = TypeAdapter(UtcDatetime)


@given(
    value=st.datetimes(
        # A day from either end of datetime's range, so any offset converts to UTC in range.
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=_OFFSETS
    )
)
def test_json_of_any_aware_instant_is_format_utc(value: datetime) -> None:
    stamped = Stamped(at=value)
    expected = format_utc(value)
    assert stamped.model_dump_json() == f'{{"at":"{expected}"}}'
    assert stamped.model_dump(mode="json") == {"at": expected}
    assert UTC_DATETIME.dump_json(UTC_DATETIME.validate_python(value)) == f'"{expected}"'.encode()
    assert Stamped.model_validate_json(stamped.model_dump_json()) == stamped


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 1, 1, tzinfo=UTC), "2026-01-01T00:00:00Z"),
        (datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC), "2026-01-01T00:00:00.000001Z"),
        (datetime(2026, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC), "2026-01-01T00:00:00.500000Z"),
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00Z"),
        (datetime(999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), "0999-12-31T23:59:59.999999Z"),
        (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), "9999-12-31T23:59:59Z"),
        (datetime(2026, 1, 1, 14, tzinfo=timezone(timedelta(hours=14))), "2026-01-01T00:00:00Z"),
        (datetime(2026, 1, 1, 3, tzinfo=timezone(-timedelta(seconds=30))),
         "2026-01-01T03:00:30Z"),
        (datetime(2026, 1, 1, 3, tzinfo=ZoneInfo("Europe/London")), "2026-01-01T03:00:00Z"),
        # 01:30 happens twice in New York on 2025-11-02: fold picks EDT or EST.
        (datetime(2025, 11, 2, 1, 30, tzinfo=ZoneInfo("America/New_York")),
         "2025-11-02T05:30:00Z"),
        (datetime(2025, 11, 2, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York")),
         "2025-11-02T06:30:00Z"),
    ],
)
def test_json_is_utc_with_z_and_microseconds_only_when_present(
    value: datetime, expected: str
) -> None:
    assert format_utc(value) == expected
    assert Stamped(at=value).model_dump_json() == f'{{"at":"{expected}"}}'


def test_python_dumps_keep_the_utc_datetime() -> None:
    value = datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=9)))
    dumped = Stamped(at=value).model_dump()["at"]
    assert dumped == value and dumped.tzinfo == UTC


def test_serialization_schema_is_a_string() -> None:
    schema = Stamped.model_json_schema(mode="serialization")
    assert schema["properties"]["at"] == {"title": "At", "type": "string"}
    validation = Stamped.model_json_schema(mode="validation")["properties"]["at"]
    assert validation == {"format": "date-time", "title": "At", "type": "string"}
