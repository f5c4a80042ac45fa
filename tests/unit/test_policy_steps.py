"""The policy agent's pure steps: snapshots and ticks in, notifications and assessments out.

Cases are German Shopify returns requested at T0 (Monday 2 March 2026, 10:00 UTC): the house
first-response deadline is T0 + 48 h with a warning 12 h before (sla.toml,
`first-response-default`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.case import Case, CaseMilestones
from streams.policy import load_policy
from streams.policy.steps import (
    PolicyState,
    PolicyStep,
    decode_header,
    decode_state,
    encode_state,
    on_snapshot,
    on_tick,
    tick_may_touch,
)

POLICY = load_policy()
T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
WARN = T0 + timedelta(hours=36)
DUE = T0 + timedelta(hours=48)
WARNING_ID = f"case-1:first_response:warning:{DUE:%Y-%m-%dT%H:%M:%SZ}"
BREACH_ID = f"case-1:first_response:breach:{DUE:%Y-%m-%dT%H:%M:%SZ}"
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)  # processing time, long after the events
SETTLE = timedelta(seconds=60)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def case_at(version: int, updated: datetime, **milestones: Any) -> Case:
    return Case(
        case_id="case-1", order_id="o-1", marketplace="shopify", buyer_country="DE",
        version=version, opened_at=T0, updated_at=updated, status="requested",
        milestones=CaseMilestones(return_requested_at=T0, **milestones),
    )


def ids(step: PolicyStep) -> list[str]:
    return [n.id for n in step.notifications]


def run(state: PolicyState | None, step: PolicyStep) -> PolicyState | None:
    return step.store if step.store is not None else state


@pytest.fixture
def requested() -> PolicyState:
    step = on_snapshot(None, case_at(1, T0), POLICY)
    assert step.store is not None
    return step.store


def test_a_new_case_is_assessed_and_stored_with_its_next_instant(requested: PolicyState) -> None:
    step = on_snapshot(None, case_at(1, T0), POLICY)

    assert ids(step) == []
    assert step.publish is not None and step.store is not None
    deadline = step.publish.deadlines[0]
    assert (deadline.name, deadline.state, deadline.due_at) == ("first_response", "open", DUE)
    assert step.publish.breached == () and step.publish.warned == ()
    assert "first-response-default" in step.publish.rule_ids
    assert step.publish.responsibility.rule_id in step.publish.rule_ids
    assert step.store.next_at == WARN


def test_ticks_fire_the_warning_then_the_breach_each_once(requested: PolicyState) -> None:
    state: PolicyState | None = requested
    fired: list[str] = []
    for at in (hours(1), hours(35.9), hours(36), hours(40), hours(48), hours(48.5), hours(200)):
        assert state is not None
        step = on_tick(state, at, POLICY)
        fired += ids(step)
        state = run(state, step)

    assert fired == [WARNING_ID, BREACH_ID]
    assert state is not None and state.next_at is None


def test_a_quiet_tick_stores_and_publishes_nothing(requested: PolicyState) -> None:
    assert on_tick(requested, hours(10), POLICY) == PolicyStep()


def test_breach_tick_republishes_the_assessment_with_the_flags(requested: PolicyState) -> None:
    step = on_tick(requested, hours(49), POLICY)

    assert ids(step) == [WARNING_ID, BREACH_ID]
    assert step.publish is not None
    assert step.publish.breached == ("first_response",)
    assert step.publish.warned == ("first_response",)
    assert step.publish.notifications == (WARNING_ID, BREACH_ID)
    assert step.publish.deadlines[0].state == "breached"
    assert step.publish.assessed_at == hours(49)


def test_a_replayed_tick_sends_what_it_fired_again_and_nothing_else(
    requested: PolicyState,
) -> None:
    first = on_tick(requested, hours(40), POLICY)
    assert first.store is not None
    second = on_tick(first.store, hours(49), POLICY)
    assert second.store is not None

    # The worker stored both steps and died before their sends reached the broker.
    replay_40 = on_tick(second.store, hours(40), POLICY)
    replay_49 = on_tick(second.store, hours(49), POLICY)

    assert (ids(replay_40), replay_40.replay) == ([WARNING_ID], True)
    assert (ids(replay_49), replay_49.replay) == ([BREACH_ID], True)
    assert replay_49.store == second.store
    assert replay_49.publish == second.publish
    assert on_tick(second.store, hours(45), POLICY) == PolicyStep(replay=True)


def test_old_events_give_the_same_notifications_whenever_they_are_processed() -> None:
    # Request at T0, answered late at T0 + 60 h: processed long after the fact.
    v1 = on_snapshot(None, case_at(1, T0), POLICY)
    v2 = on_snapshot(v1.store, case_at(2, hours(60), responded_at=hours(60)), POLICY)
    assert v2.store is not None

    # The snapshots judge nothing that still exists; the first tick fires, in event time.
    assert ids(v1) == ids(v2) == []
    assert v2.publish is not None and v2.publish.deadlines[0].state == "met_late"
    assert v2.publish.breached == ("first_response",)
    tick = on_tick(v2.store, datetime(2026, 11, 1, tzinfo=UTC), POLICY)
    assert ids(tick) == [WARNING_ID, BREACH_ID]
    assert tick.store is not None and tick.store.next_at is None


def test_an_answer_in_time_that_arrives_after_later_events_fires_nothing() -> None:
    # A refund dated T0 + 5 d is processed first, then the request (T0), then the answer
    # (T0 + 2 h): the partial case after the request lacks the answer, which is not a breach.
    refunded = case_at(1, hours(120), refunded_at=hours(120)).model_copy(
        update={"milestones": CaseMilestones(refunded_at=hours(120))})
    v1 = on_snapshot(None, refunded, POLICY, now=NOW, settle=SETTLE)
    v2 = on_snapshot(v1.store, case_at(2, hours(120), refunded_at=hours(120)), POLICY,
                     now=NOW, settle=SETTLE)
    assert v2.store is not None
    early_tick = on_tick(v2.store, NOW + timedelta(seconds=1), POLICY)
    v3 = on_snapshot(v2.store, case_at(3, hours(120), refunded_at=hours(120),
                                       responded_at=hours(2)), POLICY, now=NOW, settle=SETTLE)
    assert v3.store is not None

    assert ids(v1) == ids(v2) == ids(v3) == []
    assert early_tick == PolicyStep()  # still settling: the answer may be in flight
    assert ids(on_tick(v3.store, NOW + SETTLE, POLICY)) == []
    assert v3.store.next_at is None


def test_a_tick_waits_for_the_settle_window_then_judges_the_case() -> None:
    step = on_snapshot(None, case_at(1, T0), POLICY, now=NOW, settle=SETTLE)
    assert step.store is not None

    assert on_tick(step.store, NOW + SETTLE - timedelta(seconds=1), POLICY) == PolicyStep()
    assert ids(on_tick(step.store, NOW + SETTLE, POLICY)) == [WARNING_ID, BREACH_ID]
    header = decode_header(encode_state(step.store))
    assert header.quiet_until == NOW + SETTLE
    assert not tick_may_touch(header, NOW) and tick_may_touch(header, NOW + SETTLE)


def test_a_deadline_the_change_ends_fires_on_the_snapshot_up_to_the_change() -> None:
    # The return parcel was scanned at T0 + 10 h, then not again for 7 days: the 5-day scan-gap
    # deadline of the first scan ended (replaced by the new scan's) after it was breached.
    answered = {"responded_at": hours(1)}
    v1 = on_snapshot(None, case_at(1, hours(10), last_return_scan_at=hours(10), **answered),
                     POLICY)
    late_scan = case_at(2, hours(178), last_return_scan_at=hours(178), **answered)
    in_time_scan = case_at(2, hours(40), last_return_scan_at=hours(40), **answered)

    gap_due = f"{hours(130):%Y-%m-%dT%H:%M:%SZ}"
    assert ids(on_snapshot(v1.store, late_scan, POLICY)) == [
        f"case-1:return_scan_gap:warning:{gap_due}", f"case-1:return_scan_gap:breach:{gap_due}",
    ]
    assert ids(on_snapshot(v1.store, in_time_scan, POLICY)) == []


def test_a_change_that_tells_no_time_fires_nothing_for_what_it_ended() -> None:
    # A customs release delivered after later events: the hold's deadline ends, but when is
    # unknown, so no breach is claimed.
    held = case_at(1, hours(200), responded_at=hours(1), customs_held_at=hours(20))
    released = case_at(2, hours(200), responded_at=hours(1))
    v1 = on_snapshot(None, held, POLICY)

    assert ids(on_snapshot(v1.store, released, POLICY)) == []


def test_an_answer_in_time_means_no_notification_ever() -> None:
    v1 = on_snapshot(None, case_at(1, T0), POLICY)
    v2 = on_snapshot(v1.store, case_at(2, hours(10), responded_at=hours(10)), POLICY)
    assert v2.store is not None

    assert ids(v2) == [] and ids(on_tick(v2.store, hours(500), POLICY)) == []
    assert v2.store.next_at is None
    assert v2.publish is not None and v2.publish.deadlines[0].state == "met"


def test_a_replayed_snapshot_resends_its_notifications_and_the_latest_assessment() -> None:
    first_scan = case_at(1, hours(10), responded_at=hours(1), last_return_scan_at=hours(10))
    late_scan = case_at(2, hours(178), responded_at=hours(1), last_return_scan_at=hours(178))
    v1 = on_snapshot(None, first_scan, POLICY)
    v2 = on_snapshot(v1.store, late_scan, POLICY)
    assert v2.store is not None and len(ids(v2)) == 2

    # The worker stored v2 and died before its sends reached the broker: both replay.
    again_v1 = on_snapshot(v2.store, first_scan, POLICY)
    again_v2 = on_snapshot(v2.store, late_scan, POLICY)

    assert (ids(again_v2), again_v2.replay, again_v2.store) == (ids(v2), True, v2.store)
    assert again_v2.publish == v2.publish
    assert (ids(again_v1), again_v1.publish, again_v1.store) == ([], v2.publish, v2.store)


def test_a_late_event_that_makes_a_notification_due_fires_on_the_next_tick() -> None:
    # The clock already ran to T0 + 100 h on an older version without a return request.
    early = case_at(1, T0).model_copy(update={"milestones": CaseMilestones()})
    v1 = on_snapshot(None, early, POLICY)
    assert v1.store is not None
    ticked = v1.store.model_copy(update={
        "clock": v1.store.clock.model_copy(update={"watermark": hours(100)})
    })

    late = on_snapshot(ticked, case_at(2, T0), POLICY)
    assert late.store is not None

    assert ids(late) == []
    assert late.store.next_at == WARN
    assert ids(on_tick(late.store, hours(101), POLICY)) == [WARNING_ID, BREACH_ID]


def test_a_future_dated_event_does_not_run_the_clock_ahead() -> None:
    future = case_at(1, hours(1000))

    step = on_snapshot(None, future, POLICY, now=hours(1))

    assert ids(step) == []
    assert step.store is not None
    assert step.store.clock.watermark == hours(1) + timedelta(minutes=5)


def test_table_values_carry_a_header_a_tick_reads_without_parsing(
    requested: PolicyState,
) -> None:
    value = encode_state(requested)
    header = decode_header(value)

    assert (header.next_at, header.last_tick, header.quiet_until) == (WARN, None, None)
    assert decode_state(value) == requested
    assert not tick_may_touch(header, hours(35))
    assert tick_may_touch(header, WARN)

    fired = on_tick(requested, hours(40), POLICY).store
    assert fired is not None
    after = decode_header(encode_state(fired))
    assert (after.next_at, after.last_tick) == (DUE, hours(40))
    assert tick_may_touch(after, hours(40))  # a replayed tick must see its own sends again
    assert not tick_may_touch(after, hours(41))


def test_published_records_are_deterministic(requested: PolicyState) -> None:
    first = on_tick(requested, hours(49), POLICY)
    second = on_tick(requested, hours(49), POLICY)

    assert first.publish is not None and second.publish is not None
    assert first.publish.model_dump_json() == second.publish.model_dump_json()
