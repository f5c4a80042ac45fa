"""Return-window eligibility, counted in calendar days in the buyer's time zone.

Calendar used below (2026): Mar 2 is a Monday, Mar 7 a Saturday, Mar 29 the day Europe moves to
summer time, Mar 8 the day the US does. Expected deadlines are worked out by hand in comments.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.case import Case, CaseMilestones
from schemas.events import make_event_id
from streams.policy import evaluate_window, load_policy
from streams.policy.windows import WindowRules

POLICY = load_policy()
RULES: WindowRules = POLICY.windows
END_OF_DAY: tuple[int, int, int, int] = (23, 59, 59, 999999)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
        microsecond: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=UTC)


def local(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0,
          second: int = 0, microsecond: int = 0) -> datetime:
    """A wall time in an IANA zone."""
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=ZoneInfo(zone))


def make_case(
    country: str | None = "DE",
    *,
    marketplace: str | None = None,
    sources: tuple[str, ...] = (),
    **milestones: Any,
) -> Case:
    """A case as the case stream publishes it; `sources` become timeline event ids."""
    timeline = [make_event_id(source, "window-test", index) for index, source in enumerate(sources)]
    return Case(
        case_id="case-window-test",
        order_id="1001",
        buyer_country=country,
        marketplace=marketplace,
        reason_code="changed_mind",
        timeline=timeline,
        opened_at=utc(2026, 3, 1),
        milestones=CaseMilestones(ordered_at=utc(2026, 2, 25, 12), **milestones),
    )


# A German buyer gets the parcel at 00:30 on Tuesday 3 March, Berlin time: 23:30 UTC on Monday
# 2 March. Day 0 is 3 March in Berlin, so day 14 is Tuesday 17 March, ending 23:59:59.999999 CET
# = 22:59:59.999999 UTC. Counting UTC dates would end the window a whole day earlier (16 March).
DE_DELIVERED = utc(2026, 3, 2, 23, 30)
DE_DEADLINE = local("Europe/Berlin", 2026, 3, 17, *END_OF_DAY)


@pytest.mark.parametrize(
    ("requested", "state"),
    [
        pytest.param(local("Europe/Berlin", 2026, 3, 16, 10, 0), "within_window", id="day-13"),
        pytest.param(local("Europe/Berlin", 2026, 3, 17, 13, 0), "within_window",
                     id="day-14-afternoon-already-17-march-in-utc"),
        pytest.param(local("Europe/Berlin", 2026, 3, 17, 23, 30), "within_window",
                     id="day-14-late-evening"),
        pytest.param(local("Europe/Berlin", 2026, 3, 18, 0, 10), "outside_window",
                     id="day-15-just-after-midnight-still-17-march-in-utc"),
        pytest.param(local("Europe/Berlin", 2026, 3, 18, 10, 0), "outside_window", id="day-15"),
    ],
)
def test_german_buyer_window_is_counted_in_berlin_time(requested: datetime, state: str) -> None:
    case = make_case("DE", delivered_at=DE_DELIVERED, return_requested_at=requested)

    status = evaluate_window(case, RULES, at=utc(2026, 4, 30))

    assert status.state == state
    assert status.rule_id == "eu-withdrawal-14d"
    assert status.deadline == DE_DEADLINE
    assert status.deadline == utc(2026, 3, 17, 22, 59, 59, 999999)
    assert status.zone == "Europe/Berlin"
    assert status.last_day is not None and status.last_day.isoformat() == "2026-03-17"
    assert status.checked == "return_requested_at"
    assert "Directive 2011/83/EU" in (status.source or "")


def test_portugal_and_finland_differ_for_the_same_delivery_instant() -> None:
    # 23:30 UTC on 2 March is 01:30 on 3 March in Helsinki (EET) but 23:30 on 2 March in Lisbon
    # and 22:30 in the Azores. Finland: day 14 = 17 March, ends 21:59:59.999999 UTC.
    # Portugal: day 14 = 16 March; the Azores (UTC-1) end it last: 00:59:59.999999 UTC, 17 March.
    requested = utc(2026, 3, 17, 9, 0)
    finland = evaluate_window(
        make_case("FI", delivered_at=DE_DELIVERED, return_requested_at=requested), RULES,
        at=requested,
    )
    portugal = evaluate_window(
        make_case("PT", delivered_at=DE_DELIVERED, return_requested_at=requested), RULES,
        at=requested,
    )

    assert finland.deadline == local("Europe/Helsinki", 2026, 3, 17, *END_OF_DAY)
    assert finland.state == "within_window"
    assert portugal.deadline == local("Atlantic/Azores", 2026, 3, 16, *END_OF_DAY)
    assert portugal.deadline == utc(2026, 3, 17, 0, 59, 59, 999999)
    assert portugal.zone == "Atlantic/Azores"
    assert portugal.state == "outside_window"


def test_eu_window_ending_on_saturday_rolls_to_monday_but_uk_does_not() -> None:
    # Delivered Saturday 7 March (11:00 Berlin, 10:00 London). Day 14 is Saturday 21 March.
    # EU: Regulation 1182/71 moves it to Monday 23 March. UK: ends Saturday 21 March.
    delivered, requested = utc(2026, 3, 7, 10, 0), utc(2026, 3, 23, 12, 0)
    germany = evaluate_window(
        make_case("DE", delivered_at=delivered, return_requested_at=requested), RULES, at=requested
    )
    britain = evaluate_window(
        make_case("GB", delivered_at=delivered, return_requested_at=requested), RULES, at=requested
    )

    assert germany.deadline == local("Europe/Berlin", 2026, 3, 23, *END_OF_DAY)
    assert germany.state == "within_window"
    assert britain.rule_id == "uk-cancellation-14d"
    assert britain.deadline == local("Europe/London", 2026, 3, 21, *END_OF_DAY)
    assert britain.state == "outside_window"


def test_eu_goods_must_be_sent_back_within_14_days_of_the_request() -> None:
    # Request on Tuesday 10 March (Berlin): day 14 is Tuesday 24 March.
    case = make_case("DE", delivered_at=DE_DELIVERED, return_requested_at=utc(2026, 3, 10, 9))

    status = evaluate_window(case, RULES, at=utc(2026, 3, 10, 9))

    assert status.send_back_by == local("Europe/Berlin", 2026, 3, 24, *END_OF_DAY)


@pytest.mark.parametrize(
    ("requested", "state"),
    [
        pytest.param(utc(2026, 3, 13, 15, 0), "within_window", id="day-7-23h-beijing"),
        pytest.param(utc(2026, 3, 13, 16, 30), "outside_window", id="day-8-00h30-beijing"),
    ],
)
def test_chinese_buyer_has_seven_days_from_the_day_after_signing(
    requested: datetime, state: str
) -> None:
    # Signed for at 04:00 on Friday 6 March, Beijing (20:00 UTC on 5 March): the 7 days run
    # 7-13 March and end 23:59:59.999999 CST = 15:59:59.999999 UTC on 13 March.
    case = make_case("CN", delivered_at=utc(2026, 3, 5, 20, 0), return_requested_at=requested)

    status = evaluate_window(case, RULES, at=requested)

    assert status.rule_id == "cn-seven-day-no-reason"
    assert status.deadline == local("Asia/Shanghai", 2026, 3, 13, *END_OF_DAY)
    assert status.state == state


@pytest.mark.parametrize(
    ("requested", "state"),
    [
        pytest.param(utc(2026, 3, 17, 20, 0), "within_window", id="day-7"),
        pytest.param(utc(2026, 3, 18, 2, 0), "within_window", id="day-7-23h-sao-paulo"),
        pytest.param(utc(2026, 3, 18, 13, 0), "outside_window", id="day-8"),
    ],
)
def test_brazilian_buyer_has_seven_days_ending_last_in_acre(
    requested: datetime, state: str
) -> None:
    # Received Tuesday 10 March at 12:00 in São Paulo (15:00 UTC): day 7 is Tuesday 17 March in
    # every Brazilian zone; Acre and western Amazonas (UTC-5, one civil time) end it last, at
    # 04:59:59.999999 UTC on 18 March.
    case = make_case("BR", delivered_at=utc(2026, 3, 10, 15, 0), return_requested_at=requested)

    status = evaluate_window(case, RULES, at=requested)

    assert status.rule_id == "br-cdc-arrependimento-7d"
    assert status.deadline == local("America/Rio_Branco", 2026, 3, 17, *END_OF_DAY)
    assert ZoneInfo(status.zone).utcoffset(status.deadline) == timedelta(hours=-5)
    assert status.state == state


@pytest.mark.parametrize(
    ("requested", "state"),
    [
        pytest.param(utc(2026, 4, 10, 5, 0), "within_window", id="day-30-22h-los-angeles"),
        pytest.param(utc(2026, 4, 10, 12, 0), "outside_window", id="day-31"),
    ],
)
def test_us_amazon_order_has_the_marketplace_30_days(requested: datetime, state: str) -> None:
    # Delivered 10 March, 18:00 UTC: 10 March in every US zone. Day 30 is Thursday 9 April;
    # Hawaii (UTC-10, no DST) ends it last: 09:59:59.999999 UTC on 10 April.
    case = make_case(
        "US", marketplace="ATVPDKIKX0DER", sources=("amazon",),
        delivered_at=utc(2026, 3, 10, 18, 0), return_requested_at=requested,
    )

    status = evaluate_window(case, RULES, at=requested)

    assert status.rule_id == "amazon-30d"
    assert status.rule_kind == "marketplace_policy"
    assert status.considered == ("amazon-30d",)
    assert status.deadline == local("Pacific/Honolulu", 2026, 4, 9, *END_OF_DAY)
    assert status.state == state


def test_us_order_on_no_known_marketplace_gets_the_default_window() -> None:
    case = make_case("US", delivered_at=utc(2026, 3, 10, 18, 0))

    status = evaluate_window(case, RULES, at=utc(2026, 3, 20))

    assert status.rule_id == "default-30d"
    assert status.state == "within_window"
    assert status.checked == "at"


def test_amazon_policy_longer_than_the_eu_right_governs_for_a_german_buyer() -> None:
    requested = local("Europe/Berlin", 2026, 3, 23, 10, 0)  # day 20
    case = make_case("DE", marketplace="A1PA6795UKMFR9", sources=("amazon",),
                     delivered_at=DE_DELIVERED, return_requested_at=requested)

    status = evaluate_window(case, RULES, at=requested)

    assert status.state == "within_window"
    assert status.rule_id == "amazon-30d"
    assert status.considered == ("eu-withdrawal-14d", "amazon-30d")
    # day 30 from 3 March is 2 April, in summer time (CEST) by then
    assert status.deadline == local("Europe/Berlin", 2026, 4, 2, *END_OF_DAY)


def test_japanese_default_right_counts_the_day_of_receipt_and_yields_to_a_marketplace() -> None:
    # Received Monday 2 March, 12:00 JST; 8 days counted from that day end on 9 March.
    delivered = utc(2026, 3, 2, 3, 0)
    plain = evaluate_window(make_case("JP", delivered_at=delivered), RULES, at=delivered)
    amazon = evaluate_window(
        make_case("JP", marketplace="A1VC38T7YXB528", sources=("amazon",), delivered_at=delivered),
        RULES, at=delivered,
    )

    assert plain.rule_id == "jp-mail-order-8d"
    assert plain.deadline == local("Asia/Tokyo", 2026, 3, 9, *END_OF_DAY)
    assert amazon.considered == ("amazon-30d",)


def test_mexican_buyer_has_five_business_days() -> None:
    # Delivered Friday 6 March (12:00 Mexico City). Business days 9-13 March: the last one is
    # Friday 13 March; Mazatlán, Hermosillo and Tijuana (UTC-7 that day) end it last.
    case = make_case("MX", delivered_at=utc(2026, 3, 6, 18, 0))

    status = evaluate_window(case, RULES, at=utc(2026, 3, 14, 6, 0))

    assert status.rule_id == "mx-lfpc-revocation-5bd"
    assert status.deadline == utc(2026, 3, 14, 6, 59, 59, 999999)
    assert status.state == "within_window"


def test_window_is_unknown_until_delivery_and_re_evaluated_when_it_appears() -> None:
    requested = utc(2026, 3, 20, 9, 0)
    before = make_case("DE", return_requested_at=requested)

    unknown = evaluate_window(before, RULES, at=requested)

    assert unknown.state == "unknown"
    assert unknown.deadline is None
    assert "delivery" in unknown.reason
    # The delivery event arrives late; the case builder folds it in; evaluating the new case is
    # all it takes.
    delivered_recently = before.model_copy(update={"milestones": before.milestones.model_copy(
        update={"delivered_at": utc(2026, 3, 10, 9, 0)})})
    delivered_long_ago = before.model_copy(update={"milestones": before.milestones.model_copy(
        update={"delivered_at": utc(2026, 3, 1, 9, 0)})})

    assert evaluate_window(delivered_recently, RULES, at=requested).state == "within_window"
    assert evaluate_window(delivered_long_ago, RULES, at=requested).state == "outside_window"


def test_without_a_request_the_window_is_judged_at_the_given_instant() -> None:
    case = make_case("DE", delivered_at=DE_DELIVERED)

    assert evaluate_window(case, RULES, at=DE_DEADLINE).state == "within_window"
    late = DE_DEADLINE + timedelta(microseconds=1)
    assert evaluate_window(case, RULES, at=late).state == "outside_window"


def test_unknown_country_is_counted_anywhere_on_earth() -> None:
    # Default 30 days. Delivered 12:00 UTC on 2 March: still 2 March at UTC-12, whose day 30
    # (1 April) ends at 11:59:59.999999 UTC on 2 April, later than anywhere else.
    case = make_case(None, delivered_at=utc(2026, 3, 2, 12, 0))

    status = evaluate_window(case, RULES, at=utc(2026, 3, 3))

    assert status.rule_id == "default-30d"
    assert status.deadline == utc(2026, 4, 2, 11, 59, 59, 999999)
    assert status.zone == "Etc/GMT+12"


@settings(max_examples=200, deadline=None)
@given(
    country=st.sampled_from(["DE", "PT", "GB", "CN", "BR", "US", "MX", "JP", "SA", "FI", "ES"]),
    delivered=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31),
                           timezones=st.just(UTC)),
    later_by=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
)
def test_a_later_delivery_never_shortens_the_window(
    country: str, delivered: datetime, later_by: timedelta
) -> None:
    first = evaluate_window(make_case(country, delivered_at=delivered), RULES, at=delivered)
    second = evaluate_window(
        make_case(country, delivered_at=delivered + later_by), RULES, at=delivered
    )

    assert first.deadline is not None and second.deadline is not None
    assert second.deadline >= first.deadline
    assert first.deadline > delivered
    assert first.zone is not None
    local_end = first.deadline.astimezone(ZoneInfo(first.zone))
    assert (local_end.hour, local_end.minute, local_end.second) == (23, 59, 59)
