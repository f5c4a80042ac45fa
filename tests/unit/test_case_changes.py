"""Several events applied to a case as one change: the same Case as one at a time."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.cases import apply_event, apply_events
from tests.unit.test_case_fold import CASE_ID, build, scenario


def in_groups(events, sizes):  # type: ignore[no-untyped-def]
    """Apply `events` in consecutive groups of the given sizes; every change made."""
    ledger, case, changes, position = None, None, [], 0
    for size in sizes:
        group = events[position : position + size]
        position += size
        if not group:
            break
        change = apply_events(ledger, group, case_id=CASE_ID, previous=case)
        assert change is not None
        changes.append(change)
        ledger, case = change.ledger, change.case
    return ledger, case, changes


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=12), st.randoms())
def test_grouping_never_changes_the_case(sizes, rnd) -> None:  # type: ignore[no-untyped-def]
    events = scenario()
    rnd.shuffle(events)
    sizes = [*sizes, len(events)]  # whatever is left goes in the last group
    _, one_by_one = build(events)
    ledger, grouped, changes = in_groups(events, sizes)
    assert grouped == one_by_one
    assert ledger is not None and ledger.version == len(events)
    assert [e for change in changes for e in change.events] == events


def test_a_change_lists_its_events_in_the_order_applied() -> None:
    events = scenario()
    change = apply_events(None, events[:3], case_id=CASE_ID)
    assert change is not None
    assert [event.event_id for event in change.events] == [e.event_id for e in events[:3]]
    assert change.ledger.applied == tuple(e.event_id for e in events[:3])
    assert change.case is not None and change.case.version == 3
    assert change.changed_fields == ["opened"]


def test_duplicates_inside_and_outside_the_group_are_skipped() -> None:
    events = scenario()
    first = apply_events(None, events[:2], case_id=CASE_ID)
    assert first is not None
    again = apply_events(
        first.ledger, [events[1], events[2], events[2], events[0]], case_id=CASE_ID,
        previous=first.case,
    )
    assert again is not None
    assert [event.event_id for event in again.events] == [events[2].event_id]
    assert again.ledger.version == 3
    assert apply_events(again.ledger, events[:3], case_id=CASE_ID) is None


def test_one_event_is_a_change_of_one() -> None:
    events = scenario()
    change = apply_event(None, events[0], case_id=CASE_ID)
    assert change is not None and change.events == (events[0],)
    assert change.ledger.version == 1
