"""Agents' actions: records on `case.actions` become canonical events, and the case fold
applies them once each (assignee, replies, escalation, proposals, close and reopen)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.actions import ActionRecord, AgentAction, AgentRef, Proposal, Reply
from schemas.money import Money
from streams.cases import apply_events, case_id_for_order, fold_events
from streams.console_actions import action_event, action_event_id, normalize_action
from streams.correlation import route
from streams.ingest import ingest_record
from streams.normalize import RawKafkaRecord
from tests.support.events import at, event_factory

AIKO = AgentRef(agent_id="jp-aiko", name="佐藤 愛子", region="JP")
KEN = AgentRef(agent_id="jp-ken", name="鈴木 健", region="JP")
ORDER = "JP-7001"
CASE_ID = case_id_for_order(ORDER)


def record(kind: str, hours: float, action_id: str | None = None, **fields: Any) -> ActionRecord:
    action = AgentAction(action_id=action_id or f"action-{kind}-{hours}", kind=kind,  # type: ignore[arg-type]
                         agent=fields.pop("agent", AIKO), **fields)
    return ActionRecord(case_id=CASE_ID, order_id=ORDER, region="JP", at=at(hours), action=action)


def raw(value: bytes, offset: int = 7) -> RawKafkaRecord:
    return RawKafkaRecord(source="console", topic="case.actions", partition=1, offset=offset,
                          timestamp_ms=None, key=CASE_ID.encode(), value=value, headers=())


def opening(hours: float = 0, **overrides: Any) -> Any:
    return event_factory(order_id=ORDER, occurred_at=at(hours), buyer_country="JP",
                         marketplace="rakuma-jp", **overrides)


REPLY = Reply(template="acknowledge", text="ご連絡ありがとうございます。", language="ja",
              buyer_text="Thank you for contacting us.", buyer_language="en",
              translation="translated")


def test_an_action_record_becomes_an_event_routed_by_order_with_its_case_reference() -> None:
    event = action_event(record("take", 1, assignee=AIKO))
    assert event.type == "case.assigned"
    assert event.source == "console" and event.source_kind == "agent"
    assert event.order_id == ORDER
    assert event.reference_values("case") == [CASE_ID]
    assert event.event_id == action_event_id("action-take-1")
    assert route(event).case_id == CASE_ID


def test_the_ingest_stage_turns_an_action_record_into_one_inbox_event_of_the_case() -> None:
    value = record("note", 2, note="buyer called").model_dump_json().encode()
    ingested = ingest_record(raw(value), now=at(3))
    assert ingested.dead_letter is None
    assert [(r.key, r.kind) for r in ingested.records] == [(CASE_ID.encode(), "event")]


@pytest.mark.parametrize("value", [b"", b"{}", b"not json", b'{"case_id": "x"}',
                                   b'{"schema_version": 1, "case_id": "c", "order_id": "o", '
                                   b'"region": "JP", "at": "2026-03-01T09:00:00Z", "action": '
                                   b'{"action_id": "a-123456", "kind": "fly", "agent": {}}}'])
def test_a_record_that_is_not_an_action_is_a_dead_letter_with_its_reason(value: bytes) -> None:
    normalized = normalize_action(raw(value), now=at(1))
    assert normalized.events == []
    assert normalized.dead_letter is not None
    assert normalized.dead_letter.reason.startswith("not an action record")
    assert normalized.dead_letter.value == value


def test_the_same_action_delivered_twice_is_applied_once() -> None:
    took = action_event(record("take", 1, action_id="same-action-1", assignee=KEN))
    again = action_event(record("take", 1, action_id="same-action-1", assignee=KEN), raw=None)
    change = apply_events(None, [opening(), took], case_id=CASE_ID)
    assert change is not None
    assert apply_events(change.ledger, [again], case_id=CASE_ID) is None
    assert change.case is not None
    assert [entry.action.action_id for entry in change.case.history] == ["same-action-1"]


def test_the_fold_keeps_who_did_what_and_when() -> None:
    events = [
        opening(0),
        action_event(record("take", 1, assignee=KEN)),
        action_event(record("reply", 2, reply=REPLY)),
        action_event(record("note", 3, note="checked the photos", agent=KEN)),
        action_event(record("propose", 4, proposal=Proposal(
            resolution="partial_refund", amount=Money(amount="1500", currency="JPY")))),
        action_event(record("reply", 5, reply=REPLY)),
    ]
    case = fold_events(CASE_ID, len(events), events)[0]
    assert case is not None
    assert case.assignee == KEN
    assert [(e.action.kind, e.action.agent.agent_id, e.at) for e in case.history] == [
        ("take", "jp-aiko", at(1)), ("reply", "jp-aiko", at(2)), ("note", "jp-ken", at(3)),
        ("propose", "jp-aiko", at(4)), ("reply", "jp-aiko", at(5)),
    ]
    assert case.history[1].action.reply == REPLY
    assert case.milestones.first_reply_at == at(2)
    assert case.milestones.responded_at == at(2)
    assert case.proposal is not None and case.proposal.amount == Money(amount="1500",
                                                                         currency="JPY")
    assert case.status == "requested" and not case.escalated


def test_escalating_and_closing_change_the_case_and_the_buyer_coming_back_reopens_it() -> None:
    events = [
        opening(0),
        action_event(record("escalate", 1, note="fraud suspected")),
        action_event(record("close", 2)),
    ]
    closed = fold_events(CASE_ID, 3, events)[0]
    assert closed is not None
    assert closed.escalated and closed.milestones.escalated_at == at(1)
    assert closed.status == "closed" and closed.milestones.closed_at == at(2)
    dispute = event_factory(order_id=ORDER, type="dispute.opened", occurred_at=at(5),
                            references=["dispute:CB-1"])
    reopened = fold_events(CASE_ID, 4, [*events, dispute])[0]
    assert reopened is not None
    assert reopened.reopened == 1
    assert reopened.status == "disputed"
    assert reopened.dispute_ids == ["CB-1"]


def test_a_late_action_takes_its_place_in_history_by_time() -> None:
    late = action_event(record("note", 1, note="first"))
    early = action_event(record("note", 0.5, note="earlier"))
    case = fold_events(CASE_ID, 3, sorted([opening(), late, early],
                                          key=lambda e: (e.occurred_at, e.event_id)))[0]
    assert case is not None
    assert [e.action.note for e in case.history] == ["earlier", "first"]


@pytest.mark.parametrize(("fields", "problem"), [
    pytest.param({"kind": "propose", "proposal": {"resolution": "partial_refund"}},
                 "positive amount", id="partial refund without money"),
    pytest.param({"kind": "propose", "proposal": {"resolution": "reject"}},
                 "gives its reason", id="rejection without reason"),
    pytest.param({"kind": "propose", "proposal": {
        "resolution": "exchange", "amount": {"amount": "5", "currency": "EUR"}}},
                 "names no amount", id="exchange with money"),
    pytest.param({"kind": "reply"}, "carries reply", id="reply without text"),
    pytest.param({"kind": "note", "note": "  "}, "has text", id="blank note"),
    pytest.param({"kind": "take"}, "carries assignee", id="take without assignee"),
    pytest.param({"kind": "close", "assignee": AIKO.model_dump()}, "carries no assignee",
                 id="close with an assignee"),
])
def test_an_incomplete_action_is_refused(fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        AgentAction.model_validate({"action_id": "action-0001", "agent": AIKO, **fields})


def test_money_of_a_proposal_is_decimal_with_its_currency() -> None:
    proposal = Proposal(resolution="compensation",
                        amount=Money(amount="12.50", currency="EUR"))
    assert str(proposal.amount.amount) == "12.50"  # type: ignore[union-attr]
    assert proposal.model_dump(mode="json")["amount"] == {"amount": "12.50", "currency": "EUR"}


def test_an_action_event_must_come_from_the_console_with_its_action() -> None:
    with pytest.raises(ValidationError, match="come from the console"):
        event_factory(order_id=ORDER, type="case.closed")
    event = action_event(record("close", 1))
    assert isinstance(event.occurred_at, datetime)
