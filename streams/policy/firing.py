"""The policy clock: firing every SLA warning and breach exactly once, surviving restarts.

`advance_clock` is the pure step; `streams.policy.steps` folds it into the policy agent's
state, and `streams.policy_stream` wires that agent:

1. Ticks. A leader-only faust timer (`name="policy_clock"`) reads the wall clock, the only place
   time enters, and sends one tick to EVERY partition of `policy.clock` (explicit `partition=`),
   the topic where the case builder sends each new Case snapshot keyed by case_id. A
   partition's tick is thus processed in order with that partition's snapshots, by the worker
   that owns the partition's `policy_clocks` table. A leader change may delay ticks; none is
   needed for correctness.
2. On a tick, the policy agent runs `advance_clock(clock, case, policy.sla, until=tick.at)` for
   each case of that partition, sends each returned notification to `case.changes` keyed by
   case_id with `notification.id` as its event id, and, when something fired, stores the
   returned `PolicyClock` in the changelogged table (a quiet tick writes nothing: the next one
   looks back from the beginning anyway). After a restart or rebalance the clock comes back
   from its changelog: nothing fires twice, nothing is lost.
3. A tick fires nothing for a case that changed less than a settle window ago (processing
   time, `quiet_until`): events of one case come from several providers on several topics, and
   a burst or a replay delivers them out of event-time order. Judging a deadline while the
   answer that met it is still in flight would fire a false breach; a quiet case is judged on
   everything known about it, whose milestones are a fold of its events in event-time order.
4. On a snapshot, the agent stores the new case and moves the clock's watermark to the
   snapshot's event time; it fires only for the deadline instances that the change ENDED
   without a "met" milestone (present in the case as it was, absent now: a customs release
   clears `customs_held_at`, a closed dispute leaves status "disputed", a new scan replaces
   the scan-gap deadline), up to the instant the change happened. Those are gone by the next
   tick, so they fire here, also in a replay where no ticks are interleaved with the old
   events. Everything else waits for a tick.

Why exactly once: notifications are pure functions of the case's event-time milestones
(`due_notifications` over (a, b] and (b, c] equals (a, c]); `fired` remembers the ids sent for
this case, and the ids are deterministic (`case_id:deadline:kind:due_at`), so a second tick, a
tick on another worker after a rebalance, or a send retried after a crash before the table
update gives the same id and is dropped by consumers. A notification that becomes due "in the
past" because a late event moved a milestone is fired by the next tick (the clock looks back to
the beginning, minus what already fired), not lost.

`fired` holds a handful of ids per case (at most two per deadline instance); it lives as long as
the case's entry in the table.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from schemas.case import Case
from schemas.timestamps import UtcDatetime
from streams.policy.sla import SlaNotification, SlaRules, due_notifications

BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)
"""Where a new clock starts looking: notifications of old events are due too (replays)."""


class PolicyClock(BaseModel):
    """How far a case's policy clock has run, and the notification ids already fired."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str
    watermark: UtcDatetime | None = Field(None, description="the latest tick or event time seen")
    fired: tuple[str, ...] = ()


def advance_clock(
    clock: PolicyClock, case: Case, rules: SlaRules, *, until: datetime
) -> tuple[PolicyClock, list[SlaNotification]]:
    """Run the case's clock to `until`: the notifications not fired before, and the new clock.

    An `until` at or before the watermark (a duplicated or reordered tick, an old event) changes
    nothing.
    """
    if clock.watermark is not None and until <= clock.watermark:
        return clock, []
    already = set(clock.fired)
    new = [
        notification
        for notification in due_notifications(case, rules, since=BEGINNING, until=until)
        if notification.id not in already
    ]
    advanced = clock.model_copy(
        update={"watermark": until, "fired": (*clock.fired, *(item.id for item in new))}
    )
    return advanced, new

