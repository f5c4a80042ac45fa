"""The policy agent's state machine, pure: a case snapshot or a clock tick in, what to send out.

    on_snapshot(state, case, policy)  the case builder published a new Case on `policy.clock`
    on_tick(state, at, policy)        the leader's clock tick reached the case's partition

Each returns a `PolicyStep`: the `PolicyState` to store in the `policy_clocks` table (or None),
the SLA notifications to send to `case.changes`, and the `CasePolicy` to publish on the
compacted `case.policy` topic (or None). The agent (`streams.policy_stream`) only moves bytes.

Event time. Notifications and their ids are pure functions of the case's milestones, which
the case builder folds from the case's events in event-time order, so replaying old events
gives the same notifications as processing them live. A tick advances the case's clock to the
tick's instant and fires what fell due, but only once the case has been quiet for the settle
window (`quiet_until`, processing time): a case whose events are still arriving, out of
event-time order from several providers, is judged when they have landed, not on the partial
case that would show an in-time answer as missing. A snapshot moves the clock's watermark to
the snapshot's event time and fires only what the change ended (deadline instances of the case
as it was that the new case no longer has), up to the instant of the change
(`streams.policy.firing`).

Replays. A step whose input the state has already seen (a snapshot whose version is not newer
than the stored case's; a tick at or before the clock's watermark) is a replay: the worker may
have stored the state and died before its sends reached the broker. The step then returns the
outputs of that input again: the notifications it fired (each remembers its `trigger`), the
stored case's assessment, and the same state to store again (its changelog write may have been
lost too). Consumers deduplicate notifications by their deterministic id.

Table values carry a one-line header before the JSON (`encode_state`): the next instant a
notification of the case falls due, the latest tick that fired one, and the end of its settle
window. A tick reads only that header for the many cases with nothing due, instead of parsing
every stored case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from schemas.case import Case
from schemas.timestamps import UtcDatetime, format_utc
from streams.policy.assessment import PolicyAssessment, assess_case
from streams.policy.firing import BEGINNING, PolicyClock, advance_clock
from streams.policy.loading import Policy
from streams.policy.sla import (
    NotificationKind,
    SlaNotification,
    SlaRules,
    deadlines,
    due_notifications,
    notification_id,
)

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_NONE = b"-"
MAX_CLOCK_SKEW = timedelta(minutes=5)
"""A provider clock this far ahead of ours is believed; further ahead, the clock waits."""


class PolicyTick(BaseModel):
    """A clock tick on `policy.clock`: the leader's wall clock, sent to one partition."""

    model_config = _FROZEN

    kind: Literal["policy.tick"] = "policy.tick"
    at: UtcDatetime


class FiredNotification(BaseModel):
    """A notification the clock fired, and the input that fired it (to re-send on replay)."""

    model_config = _FROZEN

    trigger: str = Field(description='"case:<version>" or "tick:<instant>"')
    notification: SlaNotification


class PolicyState(BaseModel):
    """The `policy_clocks` table's value for one case."""

    model_config = _FROZEN

    case: Case
    clock: PolicyClock
    fired: tuple[FiredNotification, ...] = ()
    published_at: UtcDatetime = Field(description="the instant the last assessment was made at")
    next_at: UtcDatetime | None = Field(None, description="when the next notification is due")
    last_tick: UtcDatetime | None = Field(None, description="the latest tick that fired one")
    quiet_until: UtcDatetime | None = Field(
        None, description="processing time before which ticks leave the case alone (settling)"
    )


class CasePolicy(PolicyAssessment):
    """One record of `case.policy`: the assessment of the case, with its SLA flags.

    Deadlines are UTC instants; `breached` / `warned` name every deadline that was breached or
    warned about (now or before, in event time); `notifications` are the ids fired so far;
    `rule_ids` every rule the assessment used.
    """

    schema_version: Literal[1] = 1
    case_version: int
    clock: UtcDatetime | None = Field(None, description="how far the case's policy clock has run")
    breached: tuple[str, ...] = ()
    warned: tuple[str, ...] = ()
    notifications: tuple[str, ...] = ()
    rule_ids: tuple[str, ...] = ()


POLICY_TICK = TypeAdapter(PolicyTick)
POLICY_STATE = TypeAdapter(PolicyState)
CASE_POLICY = TypeAdapter(CasePolicy)


@dataclass(frozen=True, slots=True)
class PolicyStep:
    """What one input makes the agent do."""

    store: PolicyState | None = None
    notifications: tuple[SlaNotification, ...] = ()
    publish: CasePolicy | None = None
    replay: bool = False


def snapshot_trigger(version: int) -> str:
    return f"case:{version}"


def tick_trigger(at: datetime) -> str:
    return f"tick:{format_utc(at)}"


def on_snapshot(
    state: PolicyState | None,
    case: Case,
    policy: Policy,
    *,
    now: datetime | None = None,
    settle: timedelta = timedelta(0),
    publish: bool = True,
) -> PolicyStep:
    """Take a new snapshot of the case: fire what the change ended, assess the case, store it.

    `now` is the processing time (the agent's wall clock): ticks leave the case alone until
    `now + settle`, and a provider's event dated more than `MAX_CLOCK_SKEW` after `now` does
    not run the clock ahead. `publish=False` skips the assessment (`PolicyStep.publish` is
    None): for a snapshot that a later one of the same change supersedes.
    """
    if state is not None and case.version <= state.case.version:
        return _replay(state, snapshot_trigger(case.version), policy, always=True)
    clock = state.clock if state is not None else PolicyClock(case_id=case.case_id)
    fired: list[SlaNotification] = []
    if state is not None:
        ended_at = _change_instant(state.case, case)
        if ended_at is not None and now is not None:
            ended_at = min(ended_at, now + MAX_CLOCK_SKEW)
        if ended_at is not None:
            fired = _ended(state.case, case, clock, policy.sla, until=ended_at)
    event_time = case.updated_at or case.opened_at
    if event_time is not None and now is not None:
        event_time = min(event_time, now + MAX_CLOCK_SKEW)
    watermark = _latest(clock.watermark, event_time)
    clock = clock.model_copy(update={
        "watermark": watermark, "fired": (*clock.fired, *(n.id for n in fired)),
    })
    stored = PolicyState(
        case=case,
        clock=clock,
        fired=_remember(state.fired if state else (), snapshot_trigger(case.version), fired),
        published_at=watermark or BEGINNING,
        next_at=next_instant(case, clock, policy.sla),
        last_tick=state.last_tick if state else None,
        quiet_until=now + settle if now is not None and settle > timedelta(0) else None,
    )
    return PolicyStep(store=stored, notifications=tuple(fired),
                      publish=published(stored, policy) if publish else None)


def on_tick(state: PolicyState, at: datetime, policy: Policy) -> PolicyStep:
    """Run the case's clock to the tick: fire what fell due, republish when something did."""
    trigger = tick_trigger(at)
    if state.clock.watermark is not None and at <= state.clock.watermark:
        return _replay(state, trigger, policy, always=False)
    if state.quiet_until is not None and at < state.quiet_until:
        return PolicyStep()  # still settling: a later tick judges the case
    clock, fired = advance_clock(state.clock, state.case, policy.sla, until=at)
    if not fired:
        # Nothing to say: a quiet tick writes nothing (the next one looks back anyway).
        return PolicyStep()
    stored = state.model_copy(update={
        "clock": clock,
        "fired": _remember(state.fired, trigger, fired),
        "published_at": at,
        "next_at": next_instant(state.case, clock, policy.sla),
        "last_tick": at,
    })
    return PolicyStep(store=stored, notifications=tuple(fired), publish=published(stored, policy))


def tick_may_touch(header: TableHeader, at: datetime) -> bool:
    """Whether a tick at `at` can fire or re-send anything for a case with this header."""
    settled = header.quiet_until is None or header.quiet_until <= at
    due = header.next_at is not None and header.next_at <= at and settled
    replayed = header.last_tick is not None and at <= header.last_tick
    return due or replayed


def published(state: PolicyState, policy: Policy) -> CasePolicy:
    """The `case.policy` record of a stored state (deterministic: the same state, same bytes)."""
    assessment = assess_case(state.case, policy, at=state.published_at)
    notes = [item.notification for item in state.fired]
    breached = {d.name for d in assessment.deadlines if d.state in ("breached", "met_late")}
    breached |= {n.deadline for n in notes if n.kind == "breach"}
    warned = {d.name for d in assessment.deadlines if d.state == "warning"}
    warned |= {n.deadline for n in notes if n.kind == "warning"}
    rule_ids = {assessment.responsibility.rule_id, *assessment.window.considered}
    for deadline in assessment.deadlines:
        rule_ids.update((deadline.rule_id, *deadline.considered))
    if assessment.window.rule_id:
        rule_ids.add(assessment.window.rule_id)
    if assessment.responsibility.disruption_id:
        rule_ids.add(assessment.responsibility.disruption_id)
    return CasePolicy(
        **dict(assessment),
        case_version=state.case.version,
        clock=state.clock.watermark,
        breached=tuple(sorted(breached)),
        warned=tuple(sorted(warned)),
        notifications=tuple(n.id for n in notes),
        rule_ids=tuple(sorted(rule_ids - {"none"})),
    )


def next_instant(case: Case, clock: PolicyClock, rules: SlaRules) -> datetime | None:
    """When the case's next notification falls due (None: nothing left to fire)."""
    already = set(clock.fired)
    instants: list[datetime] = []
    for deadline in deadlines(case, rules):
        kinds: tuple[tuple[NotificationKind, datetime | None], ...] = (
            ("warning", deadline.warn_at), ("breach", deadline.due_at),
        )
        for kind, instant in kinds:
            if instant is None or deadline.met_before(instant):
                continue
            if notification_id(case.case_id, deadline.name, kind, deadline.due_at) in already:
                continue
            instants.append(instant)
    return min(instants, default=None)


@dataclass(frozen=True, slots=True)
class TableHeader:
    """The first line of a `policy_clocks` value: enough for a tick to skip the case."""

    next_at: datetime | None
    last_tick: datetime | None
    quiet_until: datetime | None = None


def encode_state(state: PolicyState) -> bytes:
    """The table value: `<next_at>\\t<last_tick>\\t<quiet_until>\\n<state JSON>` (`-`: none)."""
    head = b"\t".join(
        format_utc(instant).encode() if instant is not None else _NONE
        for instant in (state.next_at, state.last_tick, state.quiet_until)
    )
    return head + b"\n" + POLICY_STATE.dump_json(state)


def decode_header(value: bytes) -> TableHeader:
    """Read only the header line of a table value."""
    head, _, _ = value.partition(b"\n")
    fields = [*head.split(b"\t"), b"", b""]
    return TableHeader(_instant(fields[0]), _instant(fields[1]), _instant(fields[2]))


def decode_state(value: bytes) -> PolicyState:
    """The state in a table value.

    Raises:
        pydantic.ValidationError: the value is not a policy state.
    """
    _, _, document = value.partition(b"\n")
    return POLICY_STATE.validate_json(document)


def _change_instant(before: Case, after: Case) -> datetime | None:
    """When the change from `before` to `after` happened, when the cases tell.

    The case is a fold of its events in event-time order and `updated_at` is the latest event
    time: when it moved, the new event is the latest and happened then. Otherwise the new event
    is older than others already known, and a milestone it set or moved gives its time; a change
    that tells no time (a customs release arriving late) gives None.
    """
    if after.updated_at is not None and (
        before.updated_at is None or after.updated_at > before.updated_at
    ):
        return after.updated_at
    moved = [
        value for name, value in after.milestones
        if value is not None and value != getattr(before.milestones, name)
    ]
    return min(moved) if moved else None


def _ended(
    before: Case, after: Case, clock: PolicyClock, rules: SlaRules, *, until: datetime
) -> list[SlaNotification]:
    """Notifications of the deadline instances `before` had and `after` has not, due by
    `until` and not fired yet."""
    remaining = {(d.name, d.due_at) for d in deadlines(after, rules)}
    ended = {(d.name, d.due_at) for d in deadlines(before, rules)} - remaining
    if not ended:
        return []
    already = set(clock.fired)
    return [
        n for n in due_notifications(before, rules, since=BEGINNING, until=until)
        if (n.deadline, n.due_at) in ended and n.id not in already
    ]


def _latest(first: datetime | None, second: datetime | None) -> datetime | None:
    found = [instant for instant in (first, second) if instant is not None]
    return max(found) if found else None


def _instant(text: bytes) -> datetime | None:
    if not text or text == _NONE:
        return None
    return datetime.fromisoformat(text.decode().replace("Z", "+00:00"))


def _replay(state: PolicyState, trigger: str, policy: Policy, *, always: bool) -> PolicyStep:
    notes = tuple(item.notification for item in state.fired if item.trigger == trigger)
    if not notes and not always:
        return PolicyStep(replay=True)
    return PolicyStep(store=state, notifications=notes, publish=published(state, policy),
                      replay=True)


def _remember(
    fired: tuple[FiredNotification, ...], trigger: str, new: list[SlaNotification]
) -> tuple[FiredNotification, ...]:
    return (*fired, *(FiredNotification(trigger=trigger, notification=n) for n in new))
