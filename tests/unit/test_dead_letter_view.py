"""The offline parts of `hub dlq`: letter ids, grouping, how bytes and times are shown."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import typer

from hub.cli_dlq import operator_zone, shown_bytes, shown_time
from hub.dead_letter_tool import DeadLetterRecord, group_dead_letters, parse_letter_id
from schemas.settings import load_settings


def letter(offset: int, source: str, reason: str, failed_at: datetime | None) -> DeadLetterRecord:
    return DeadLetterRecord(
        partition=0, offset=offset, stage="normalize", source=source, reason=reason,
        error="SkippableRecordError", original_topic=f"raw.{source}", original_partition=0,
        original_offset=offset, failed_at=failed_at, key=None, value=b"{", headers=())


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("3:41", (3, 41), id="ok"),
    pytest.param("3-41", pytest.raises(ValueError, match="PARTITION:OFFSET"), id="dash"),
    pytest.param(":41", pytest.raises(ValueError, match="PARTITION:OFFSET"), id="no-partition"),
    pytest.param("3:-1", pytest.raises(ValueError, match="PARTITION:OFFSET"), id="negative"),
])
def test_letter_ids_are_partition_colon_offset(text: str, expected: object) -> None:
    if isinstance(expected, tuple):
        assert parse_letter_id(text) == expected
    else:
        with expected:  # type: ignore[attr-defined]
            parse_letter_id(text)


def test_groups_are_counted_largest_first_with_their_newest_letter() -> None:
    t1, t2 = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)
    letters = [letter(0, "shopify", "bad json", t2), letter(1, "stripe", "bad json", t1),
               letter(2, "stripe", "no amount", None), letter(3, "shopify", "bad json", t1)]

    groups = group_dead_letters(letters, "reason")

    assert [(g.value, g.count, g.sources, g.newest) for g in groups] == [
        ("bad json", 3, ("shopify", "stripe"), "0:0"), ("no amount", 1, ("stripe",), "0:2")]
    assert [(g.value, g.count) for g in group_dead_letters(letters, "source")] == [
        ("shopify", 2), ("stripe", 2)]


def test_bytes_are_shown_as_json_text_hex_or_base64() -> None:
    assert shown_bytes(b'{"a": "\xc3\xa9"}') == ("json", '{\n  "a": "\u00e9"\n}')
    assert shown_bytes(b"{not json") == ("utf-8", "{not json")
    assert shown_bytes(b"\xff\x00") == ("hex", "ff 00")
    assert shown_bytes(b"\xff" * 100)[0] == "base64"


def test_times_are_shown_in_the_zone_of_each_instant() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    winter, summer = datetime(2026, 1, 5, 9, tzinfo=UTC), datetime(2026, 7, 5, 9, tzinfo=UTC)
    assert shown_time(winter, berlin) == "2026-01-05 10:00:00 CET"
    assert shown_time(summer, berlin) == "2026-07-05 11:00:00 CEST"
    assert shown_time(None, berlin) == "?"


def test_the_zone_comes_from_the_option_then_the_setting() -> None:
    settings = load_settings(operator_tz="Asia/Tokyo")
    assert operator_zone(None, settings) == ZoneInfo("Asia/Tokyo")
    assert operator_zone("America/Sao_Paulo", settings) == ZoneInfo("America/Sao_Paulo")
    assert operator_zone(None, load_settings(operator_tz=None)) is None  # the local zone
    with pytest.raises(typer.Exit):
        operator_zone("Mars/Olympus_Mons", settings)
