"""Country facts from reference data: IANA zones (tzdata's `zone.tab`) and CLDR weekends (babel)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from schemas.territories import country_zones, main_zone, single_zone, weekend_days
from streams.policy.localtime import ANYWHERE_ON_EARTH, add_days, day_deadline, zones_for
from translations.regions import load_regions

END_OF_DAY = (23, 59, 59, 999999)
FRIDAY, SATURDAY, SUNDAY = 4, 5, 6


@pytest.mark.parametrize(
    ("country", "zone"),
    [
        ("KW", "Asia/Kuwait"), ("BH", "Asia/Bahrain"), ("QA", "Asia/Qatar"), ("OM", "Asia/Muscat"),
        ("VE", "America/Caracas"), ("EC", "America/Guayaquil"), ("AD", "Europe/Andorra"),
        ("MC", "Europe/Monaco"),
    ],
)
def test_countries_the_regions_serve_have_their_own_zone(country: str, zone: str) -> None:
    assert main_zone(country) == zone
    assert zones_for(country) != ANYWHERE_ON_EARTH


def test_every_buyer_country_of_a_region_has_a_time_zone() -> None:
    regions = load_regions()
    missing = {country for region in regions.regions
               for country in region.buyer_countries if not country_zones(country)}
    assert missing == set()


@pytest.mark.parametrize(
    ("country", "main"),
    [("US", "America/New_York"), ("CA", "America/Toronto"), ("RU", "Europe/Moscow"),
     ("BR", "America/Sao_Paulo"), ("AU", "Australia/Sydney"), ("ES", "Europe/Madrid"),
     ("CN", "Asia/Shanghai"), ("MX", "America/Mexico_City")],
)
def test_the_main_zone_of_a_multi_zone_country_is_its_capitals_or_most_populous(
    country: str, main: str
) -> None:
    assert country_zones(country)[0] == main


def test_zones_of_one_civil_time_count_once_and_legal_time_wins() -> None:
    assert country_zones("DE") == ("Europe/Berlin",)  # Busingen keeps Berlin's time
    assert country_zones("CN") == ("Asia/Shanghai",)  # Beijing time is China's legal time
    assert "Pacific/Galapagos" in country_zones("EC")
    assert single_zone("EC") is None
    assert single_zone("kw") == "Asia/Kuwait"
    assert country_zones("XX") == () and main_zone(None) is None


@pytest.mark.parametrize(
    ("country", "weekend"),
    [("SA", {FRIDAY, SATURDAY}), ("KW", {FRIDAY, SATURDAY}), ("BH", {FRIDAY, SATURDAY}),
     ("QA", {FRIDAY, SATURDAY}), ("OM", {FRIDAY, SATURDAY}), ("EG", {FRIDAY, SATURDAY}),
     ("AE", {SATURDAY, SUNDAY}), ("IN", {SUNDAY}), ("US", {SATURDAY, SUNDAY}),
     ("DE", {SATURDAY, SUNDAY}), ("XX", {SATURDAY, SUNDAY}), (None, {SATURDAY, SUNDAY})],
)
def test_weekends_come_from_cldr(country: str | None, weekend: set[int]) -> None:
    assert weekend_days(country) == weekend


def test_business_days_skip_the_countrys_weekend() -> None:
    thursday = date(2026, 3, 12)
    assert add_days(thursday, 2, "business_days", weekend_days("SA")) == date(2026, 3, 16)
    assert add_days(thursday, 2, "business_days", weekend_days("DE")) == date(2026, 3, 16)
    # From Wednesday: Saudi Arabia works Sunday, Germany works Friday.
    wednesday = date(2026, 3, 11)
    assert add_days(wednesday, 2, "business_days", weekend_days("SA")) == date(2026, 3, 15)
    assert add_days(wednesday, 2, "business_days", weekend_days("DE")) == date(2026, 3, 13)


def test_a_kuwaiti_deadline_ends_in_kuwait_and_rolls_past_friday_and_saturday() -> None:
    # Thursday 12 March 2026, 09:00 in Kuwait: one calendar day ends on Friday 13 March, a
    # weekend day in Kuwait, so it rolls to Sunday 15 March, 23:59:59.999999 Kuwait time.
    start = datetime(2026, 3, 12, 6, tzinfo=UTC)

    deadline = day_deadline(start, days=1, counting="calendar_days", country="KW",
                            prefer="earliest", roll_weekend=True)

    assert deadline.zone == "Asia/Kuwait"
    assert deadline.last_day == date(2026, 3, 15)
    assert deadline.due_at == datetime(2026, 3, 15, *END_OF_DAY, tzinfo=ZoneInfo("Asia/Kuwait"))
    assert deadline.due_at - start < timedelta(days=4)
