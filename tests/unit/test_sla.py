"""SLA deadlines and their warning/breach notifications, in event time.

2026 calendar: Monday 2 March, Friday 13 March, Tuesday 17 March; Europe is on CET (UTC+1)
until 29 March.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, get_args
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.case import Case, CaseMilestones, CaseStatus
from schemas.events import make_event_id
from streams.policy import (
    PolicyClock,
    SlaNotification,
    advance_clock,
    deadlines,
    due_notifications,
    load_policy,
)
from streams.policy.firing import BEGINNING
from streams.policy.sla import Deadline, Milestone, SlaRules

RULES: SlaRules = load_policy().sla
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
    sources: tuple[str, ...] = ("shopify",),
    marketplace: str | None = "shopify",
    status: CaseStatus = "requested",
    **milestones: Any,
) -> Case:
    timeline = [make_event_id(source, "sla-test", index) for index, source in enumerate(sources)]
    return Case(
        case_id="case-sla-test",
        buyer_country=country,
        marketplace=marketplace,
        status=status,
        timeline=timeline,
        opened_at=utc(2026, 3, 1),
        milestones=CaseMilestones(ordered_at=utc(2026, 2, 20), **milestones),
    )


def named(case: Case, name: str) -> Deadline:
    found = [deadline for deadline in deadlines(case, RULES) if deadline.name == name]
    assert len(found) == 1, found
    return found[0]


def ticks(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    instants = [start]
    while instants[-1] < end:
        instants.append(min(instants[-1] + step, end))
    return instants


def fire_over(case: Case, instants: list[datetime]) -> list[SlaNotification]:
    fired: list[SlaNotification] = []
    for since, until in zip(instants, instants[1:], strict=False):
        fired += due_notifications(case, RULES, since=since, until=until)
    return fired


def test_milestone_names_are_the_case_milestones() -> None:
    assert set(get_args(Milestone)) == set(CaseMilestones.model_fields)


# --- Refund -------------------------------------------------------------------------------


def test_eu_refund_is_due_14_days_after_the_request_once_the_goods_are_back() -> None:
    # Request Monday 2 March (11:00 Berlin), goods back 9 March. Directive art. 13: 14 days from
    # the notice -> end of Monday 16 March, Berlin. The house default (14 days from receipt,
    # 23 March) is later, so the law binds.
    case = make_case("DE", return_requested_at=utc(2026, 3, 2, 10),
                     return_received_at=utc(2026, 3, 9, 12))

    refund = named(case, "refund")

    assert refund.rule_id == "refund-eu-withdrawal"
    assert refund.binding == "law"
    assert refund.due_at == local("Europe/Berlin", 2026, 3, 16, *END_OF_DAY)
    assert refund.warn_at == refund.due_at - timedelta(hours=72)
    assert refund.considered == ("refund-eu-withdrawal", "refund-default")
    assert "2011/83/EU art. 13" in refund.source


def test_eu_refund_after_goods_that_arrive_late_is_due_the_day_after_receipt() -> None:
    # Goods back on Friday 20 March, after the 14 days: due at the end of Saturday 21 March.
    case = make_case("DE", return_requested_at=utc(2026, 3, 2, 10),
                     return_received_at=utc(2026, 3, 20, 9))

    assert named(case, "refund").due_at == local("Europe/Berlin", 2026, 3, 21, *END_OF_DAY)


def test_no_refund_deadline_before_the_goods_are_back() -> None:
    case = make_case("DE", return_requested_at=utc(2026, 3, 2, 10))

    assert [d.name for d in deadlines(case, RULES)] == ["first_response"]


def test_refund_in_time_is_met_and_never_notified() -> None:
    case = make_case("DE", return_requested_at=utc(2026, 3, 2, 10),
                     responded_at=utc(2026, 3, 2, 11), return_received_at=utc(2026, 3, 9, 12),
                     refunded_at=utc(2026, 3, 12, 8))

    refund = named(case, "refund")

    assert refund.met_by == "refunded_at"
    assert refund.state_at(utc(2026, 4, 1)) == "met"
    assert due_notifications(case, RULES, since=BEGINNING, until=utc(2026, 5, 1)) == []


@pytest.mark.parametrize(
    ("country", "rule_id", "due_at"),
    [
        # Received Monday 9 March: UK 14 days after that day, China 7 days.
        ("GB", "refund-uk-cancellation", local("Europe/London", 2026, 3, 23, *END_OF_DAY)),
        ("CN", "refund-cn-seven-day", local("Asia/Shanghai", 2026, 3, 16, *END_OF_DAY)),
        # No law in the US: the house default, 14 days after receipt.
        ("US", "refund-default", local("America/New_York", 2026, 3, 23, *END_OF_DAY)),
    ],
)
def test_refund_deadlines_outside_the_eu(country: str, rule_id: str, due_at: datetime) -> None:
    case = make_case(country, return_requested_at=utc(2026, 3, 2, 10),
                     return_received_at=utc(2026, 3, 9, 12))

    refund = named(case, "refund")

    assert (refund.rule_id, refund.due_at) == (rule_id, due_at)


def test_amazon_two_business_days_bind_before_the_eu_law() -> None:
    # Received Friday 13 March: two business days are Monday 16 and Tuesday 17 March.
    case = make_case("DE", sources=("amazon",), marketplace="A1PA6795UKMFR9",
                     return_requested_at=utc(2026, 3, 5, 10),
                     return_received_at=utc(2026, 3, 13, 10))

    refund = named(case, "refund")

    assert refund.rule_id == "refund-amazon"
    assert refund.due_at == local("Europe/Berlin", 2026, 3, 17, *END_OF_DAY)
    assert refund.considered == ("refund-eu-withdrawal", "refund-amazon")


# --- First response: warning, then breach, each exactly once -------------------------------

REQUESTED = utc(2026, 3, 2, 10)  # 48 h: due 4 March 10:00; warned 12 h before, 3 March 22:00


def test_first_response_warning_then_breach_fire_once_over_hourly_ticks() -> None:
    case = make_case("DE", return_requested_at=REQUESTED)

    fired = fire_over(case, ticks(REQUESTED, utc(2026, 3, 6), timedelta(hours=1)))

    assert [(n.kind, n.at) for n in fired] == [
        ("warning", utc(2026, 3, 3, 22)),
        ("breach", utc(2026, 3, 4, 10)),
    ]
    assert fired[1].id == "case-sla-test:first_response:breach:2026-03-04T10:00:00Z"
    assert fired[0].id == "case-sla-test:first_response:warning:2026-03-04T10:00:00Z"
    assert {n.rule_id for n in fired} == {"first-response-default"}


def test_the_tick_that_reaches_the_instant_fires_it() -> None:
    case = make_case("DE", return_requested_at=REQUESTED)

    assert due_notifications(case, RULES, since=utc(2026, 3, 3, 21), until=utc(2026, 3, 3, 22))
    assert not due_notifications(case, RULES, since=utc(2026, 3, 3, 22), until=utc(2026, 3, 3, 23))


@pytest.mark.parametrize(
    ("responded", "kinds"),
    [
        pytest.param(utc(2026, 3, 3, 12), [], id="answered-before-the-warning"),
        pytest.param(utc(2026, 3, 3, 23), ["warning"], id="answered-after-the-warning"),
        pytest.param(utc(2026, 3, 4, 10), ["warning"], id="answered-exactly-at-due"),
        pytest.param(utc(2026, 3, 5, 9), ["warning", "breach"], id="answered-late"),
    ],
)
def test_a_response_stops_what_has_not_happened_yet(responded: datetime, kinds: list[str]) -> None:
    case = make_case("DE", return_requested_at=REQUESTED, responded_at=responded)

    fired = fire_over(case, ticks(REQUESTED, utc(2026, 3, 6), timedelta(hours=1)))

    assert [n.kind for n in fired] == kinds


def test_a_replayed_case_gives_the_same_notifications_whenever_it_is_evaluated() -> None:
    case = make_case("DE", return_requested_at=REQUESTED)

    live = fire_over(case, ticks(REQUESTED, utc(2026, 3, 6), timedelta(minutes=7)))
    replay = due_notifications(case, RULES, since=BEGINNING, until=utc(2027, 1, 1))

    assert live == replay


def test_policy_clock_fires_each_notification_once_despite_duplicate_and_late_ticks() -> None:
    case = make_case("DE", return_requested_at=REQUESTED)
    clock = PolicyClock(case_id=case.case_id)
    sent: list[str] = []
    for tick in [utc(2026, 3, 3, 23), utc(2026, 3, 3, 23), utc(2026, 3, 3, 20), utc(2026, 3, 5),
                 utc(2026, 3, 5)]:
        clock, new = advance_clock(clock, case, RULES, until=tick)
        sent += [n.id for n in new]

    assert sent == [
        "case-sla-test:first_response:warning:2026-03-04T10:00:00Z",
        "case-sla-test:first_response:breach:2026-03-04T10:00:00Z",
    ]
    assert clock.watermark == utc(2026, 3, 5)


def test_policy_clock_fires_a_notification_made_due_in_the_past_by_a_late_event() -> None:
    clock = PolicyClock(case_id="case-sla-test")
    clock, _ = advance_clock(clock, make_case("DE"), RULES, until=utc(2026, 3, 5))
    # The return request of 2 March reaches the case builder only on 6 March.
    late = make_case("DE", return_requested_at=REQUESTED)

    clock, new = advance_clock(clock, late, RULES, until=utc(2026, 3, 6))

    assert [n.kind for n in new] == ["warning", "breach"]


# --- Other deadlines -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "rule_id", "due_at"),
    [
        # Held Monday 2 March 10:00 UTC: 5 days -> end of Saturday 7 March, Berlin.
        ("DE", "customs-hold-default", local("Europe/Berlin", 2026, 3, 7, *END_OF_DAY)),
        # Brazil: 10 days -> 12 March in every zone; Fernando de Noronha (UTC-2) ends it first.
        ("BR", "customs-hold-br", local("America/Noronha", 2026, 3, 12, *END_OF_DAY)),
    ],
)
def test_customs_hold_deadline_by_region(country: str, rule_id: str, due_at: datetime) -> None:
    case = make_case(country, customs_held_at=utc(2026, 3, 2, 10))

    hold = named(case, "customs_hold")

    assert (hold.rule_id, hold.due_at) == (rule_id, due_at)


def test_return_scan_gap_moves_with_each_scan_and_ends_on_receipt() -> None:
    scanned = make_case("DE", last_return_scan_at=utc(2026, 3, 2, 10))
    received = make_case("DE", last_return_scan_at=utc(2026, 3, 4, 10),
                         return_received_at=utc(2026, 3, 4, 10))

    gap = named(scanned, "return_scan_gap")

    assert gap.due_at == utc(2026, 3, 7, 10)
    assert gap.warn_at == utc(2026, 3, 5, 10)
    assert named(received, "return_scan_gap").state_at(utc(2026, 3, 20)) == "met"


@pytest.mark.parametrize(
    ("provider", "rule_id", "days"),
    [("stripe", "dispute-response-stripe", 7), ("paypal", "dispute-response-paypal", 10),
     ("adyen", "dispute-response-default", 7)],
)
def test_dispute_response_deadline_by_payment_provider(
    provider: str, rule_id: str, days: int
) -> None:
    # Opened Monday 2 March 10:00 UTC (11:00 Berlin).
    case = make_case("DE", sources=("shopify", provider), status="disputed",
                     dispute_opened_at=utc(2026, 3, 2, 10))

    dispute = named(case, "dispute_response")

    assert dispute.rule_id == rule_id
    assert dispute.due_at == local("Europe/Berlin", 2026, 3, 2 + days, *END_OF_DAY)


def test_dispute_deadline_ends_when_the_dispute_closes() -> None:
    case = make_case("DE", sources=("stripe",), status="refunded",
                     dispute_opened_at=utc(2026, 3, 2, 10))

    assert [d.name for d in deadlines(case, RULES)] == []


# --- Tiling: however the timer slices time, every notification fires exactly once ----------

_HOUR = timedelta(hours=1)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    start = draw(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 1),
                              timezones=st.just(UTC)))

    def maybe(offset_hours: int) -> datetime | None:
        return start + draw(st.integers(0, offset_hours)) * _HOUR if draw(st.booleans()) else None

    return make_case(
        draw(st.sampled_from(["DE", "PT", "GB", "CN", "BR", "US", None])),
        sources=draw(st.sampled_from([("shopify",), ("amazon", "stripe"), ("hub", "paypal")])),
        status=draw(st.sampled_from(["requested", "disputed", "received"])),
        return_requested_at=start,
        responded_at=maybe(96),
        last_return_scan_at=maybe(200),
        return_received_at=maybe(400),
        refunded_at=maybe(800),
        customs_held_at=maybe(300),
        dispute_opened_at=maybe(100),
    )


@settings(max_examples=150, deadline=None)
@given(case=cases(), cuts=st.lists(st.integers(1, 60 * 24 * 60 - 1), max_size=40))
def test_any_split_of_time_fires_the_same_notifications_once(case: Case, cuts: list[int]) -> None:
    assert case.milestones.return_requested_at is not None
    begin = case.milestones.return_requested_at - timedelta(days=1)
    end = begin + timedelta(days=60)
    instants = [begin, *sorted(begin + timedelta(minutes=cut) for cut in set(cuts)), end]

    sliced = fire_over(case, instants)
    whole = due_notifications(case, RULES, since=begin, until=end)

    assert sliced == whole
    assert len({n.id for n in sliced}) == len(sliced)


@settings(max_examples=100, deadline=None)
@given(case=cases(), offsets=st.lists(st.integers(0, 60 * 24), min_size=1, max_size=30))
def test_the_clock_fires_everything_due_once_whatever_order_ticks_arrive(
    case: Case, offsets: list[int]
) -> None:
    assert case.milestones.return_requested_at is not None
    clock = PolicyClock(case_id=case.case_id)
    sent: list[str] = []
    tick_times = [case.milestones.return_requested_at + offset * _HOUR for offset in offsets]
    for tick in tick_times:
        clock, new = advance_clock(clock, case, RULES, until=tick)
        sent += [n.id for n in new]

    expected = due_notifications(case, RULES, since=BEGINNING, until=max(tick_times))
    assert sent == [n.id for n in expected]


def test_amazon_business_days_skip_the_saudi_weekend() -> None:
    # Received Thursday 12 March in Riyadh: Friday and Saturday are the weekend in Saudi Arabia
    # (CLDR), so the two business days are Sunday 15 and Monday 16 March, Riyadh time.
    case = make_case("SA", sources=("amazon",), marketplace="A17E79C6D8DWNP",
                     return_requested_at=utc(2026, 3, 5, 10),
                     return_received_at=utc(2026, 3, 12, 7))

    refund = named(case, "refund")

    assert refund.rule_id == "refund-amazon"
    assert refund.due_at == local("Asia/Riyadh", 2026, 3, 16, *END_OF_DAY)
