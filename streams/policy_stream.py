"""Faust wiring of the after-sales policy: the `policy` agent, its table and its clock timer.

    policy.clock --policy--> case.policy (compacted, keyed by case_id): the CasePolicy record
                        \\--> case.changes: `sla.warning` / `sla.breach` CaseChangeRecords
                        \\--> dlq.policy: inputs that could not be handled, with the reason
    timer `policy_clock` (leader only, every HUB_POLICY_CLOCK_INTERVAL_SECONDS)
        --> policy.clock: one PolicyTick to EVERY partition (explicit partition=)

The case builder sends the full current Case, keyed by case_id, to `policy.clock` after every
change; the timer's ticks reach each partition in order with that partition's snapshots, on
the worker that owns the partition's `policy_clocks` table (case_id -> latest case, policy
clock, fired notifications). The agent decodes, calls the pure steps of
`streams.policy.steps` and sends what they return; the design (event time, the settle window
that keeps out-of-order deliveries from firing false breaches, replays, why every deadline
fires once per kind) is in that module and in `streams.policy.firing`.

Delivery is at-least-once: the agent sends, then stores; faust flushes the producer before it
commits input offsets. A worker killed after its store took a step but before the step's sends
reached the broker replays the input, and the step sends the same records again (the steps
recognise a replayed input). A notification's `event_id` on `case.changes` is its
deterministic id (`case_id:deadline:kind:due_at`): consumers drop repeats. No exception leaves
the agent or the timer: a record that cannot be handled goes to `dlq.policy` with its reason.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from hub.settings import Settings
from schemas.case import CASE
from streams.case_stream import CaseChangeRecord, partition_of, tick_every_partition
from streams.dead_letters import DeadLetter, as_header_pairs
from streams.policy.loading import Policy
from streams.policy.steps import (
    CASE_POLICY,
    POLICY_TICK,
    PolicyState,
    PolicyStep,
    PolicyTick,
    decode_header,
    decode_state,
    encode_state,
    on_snapshot,
    on_tick,
    tick_may_touch,
)
from streams.topics import TopicNames, dlq_topic

log = logging.getLogger("streams.policy")

POLICY_STAGE = "policy"
TABLE_NAME = "policy_clocks"
AGENT_NAME = "policy"
TIMER_NAME = "policy_clock"
TICK_KEY = b"\x00policy-tick"
DEFAULT_SETTLE_SECONDS = 60.0
"""How long a case must be quiet before a tick judges its deadlines (`streams.policy.steps`)."""
SLA_EVENT_TYPES = {"warning": "sla.warning", "breach": "sla.breach"}


def dlq_policy_topic(topics: TopicNames) -> str:
    """`dlq.policy` of the deployment (with its prefix)."""
    return topics.name(dlq_topic(POLICY_STAGE))


def sla_change_record(step_state: PolicyState, notification_id: str, kind: str) -> bytes:
    """The `case.changes` record of one notification: the stored snapshot, `changed_fields`
    ["sla"], the notification's id as `event_id`."""
    case = step_state.case
    record = CaseChangeRecord(
        case_id=case.case_id, version=case.version, event_id=notification_id,
        event_type=SLA_EVENT_TYPES[kind], changed_fields=["sla"], case=case,
    )
    return record.model_dump_json().encode()


def register_policy_stream(
    app: Any,
    settings: Settings,
    topics: TopicNames,
    policy: Policy,
    *,
    settle_seconds: float | None = None,
) -> None:
    """Declare the policy agent, its `policy_clocks` table and the leader's clock timer.

    `settle_seconds` (default: the `policy_settle_seconds` setting when there is one, else
    60 s): how long after its last change a case waits before a tick judges its deadlines.
    """
    if settle_seconds is None:
        settle_seconds = settings.policy_settle_seconds
    settle = timedelta(seconds=settle_seconds)

    def raw_topic(name: str) -> Any:
        return app.topic(name, value_serializer="raw", key_serializer="raw",
                         partitions=settings.partitions)

    clock_topic = raw_topic(topics.policy_clock)
    policy_out = raw_topic(topics.case_policy)
    changes_out = raw_topic(topics.case_changes)
    dead_letters = raw_topic(dlq_policy_topic(topics))
    clocks = app.Table(
        TABLE_NAME, partitions=settings.partitions, key_type=bytes, value_type=bytes,
        help="case_id -> latest case, policy clock and fired SLA notifications",
    )
    # Stored states a tick could not handle, with the value that failed: dead-lettered once per
    # value (per process), not on every tick.
    failed_on_tick: dict[bytes, bytes] = {}

    async def dead_letter(
        *, reason: str, error: str, source: str, topic: str, partition: int, offset: int,
        key: bytes | None, value: bytes, headers: object = None,
    ) -> None:
        letter = DeadLetter(
            stage=POLICY_STAGE, source=source, reason=reason, error=error, topic=topic,
            partition=partition, offset=offset, failed_at=datetime.now(UTC), key=key,
            value=value, original_headers=as_header_pairs(headers),
        )
        log.warning("dead letter from %s[%d]@%d: %s", topic, partition, offset, reason)
        try:
            await dead_letters.send(key=letter.key, value=letter.value, headers=letter.headers())
        except Exception:  # noqa: BLE001 - logged; never let the agent die
            log.exception("could not send a dead letter for %s[%d]@%d", topic, partition, offset)

    async def apply(key: bytes, step: PolicyStep) -> None:
        if step.notifications:
            assert step.store is not None  # a step that fires always has a state to store
            for notification in step.notifications:
                log.info("%s %s", SLA_EVENT_TYPES[notification.kind], notification.id)
                await changes_out.send(
                    key=key, value=sla_change_record(step.store, notification.id, notification.kind)
                )
        if step.publish is not None:
            await policy_out.send(key=key, value=CASE_POLICY.dump_json(step.publish))
        if step.store is not None:
            clocks[key] = encode_state(step.store)

    def stored_state(key: bytes) -> PolicyState | None:
        value = clocks.get(key)
        if value is None:
            return None
        try:
            return decode_state(value)
        except ValidationError:
            # A state this release cannot read starts over; ids are deterministic, so anything
            # fired again is a repeat that consumers drop.
            log.warning("unreadable policy state of %r: starting its clock over", key)
            return None

    async def on_case(key: bytes, value: bytes) -> None:
        case = CASE.validate_json(value)
        if key != case.case_id.encode():
            raise ValueError(f"key {key!r} is not the case id {case.case_id!r}")
        step = on_snapshot(stored_state(key), case, policy, now=datetime.now(UTC), settle=settle)
        await apply(key, step)

    async def on_partition_tick(partition: int, tick: PolicyTick, topic: str) -> None:
        # Read only the header of each value; parse the few cases the tick can touch.
        touched = [
            key for key, value in clocks.items()
            if partition_of(key, settings.partitions) == partition
            and _touchable(value, tick.at) and failed_on_tick.get(key) != value
        ]
        for key in touched:
            value = clocks.get(key)
            if value is None:
                continue
            try:
                await apply(key, on_tick(decode_state(value), tick.at, policy))
            except Exception as exc:  # noqa: BLE001 - one bad case must not stop the others
                log.exception("policy tick failed for %r", key)
                failed_on_tick[key] = value
                await dead_letter(
                    reason=f"cannot run the policy clock of {key.decode(errors='replace')}: {exc}",
                    error=type(exc).__name__, source="policy_clocks", topic=topic,
                    partition=partition, offset=-1, key=key, value=_case_bytes(value),
                )

    @app.agent(clock_topic, name=AGENT_NAME)
    async def policy_agent(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            try:
                if message.key == TICK_KEY:
                    tick = POLICY_TICK.validate_json(message.value)
                    await on_partition_tick(message.partition, tick, message.topic)
                else:
                    if message.key is None:
                        raise ValueError("a snapshot without a key")
                    await on_case(message.key, message.value)
            except Exception as exc:  # noqa: BLE001 - route every failure, never lose a record
                log.exception("policy failed on %s[%d]@%d", message.topic, message.partition,
                              message.offset)
                await dead_letter(
                    reason=f"cannot apply the policy: {exc}", error=type(exc).__name__,
                    source="policy.clock", topic=message.topic, partition=message.partition,
                    offset=message.offset, key=message.key,
                    value=message.value if isinstance(message.value, bytes) else b"",
                    headers=message.headers,
                )

    @app.timer(interval=settings.policy_clock_interval_seconds, on_leader=True,
               name=TIMER_NAME)
    async def policy_clock() -> None:
        value = POLICY_TICK.dump_json(PolicyTick(at=datetime.now(UTC)))
        await tick_every_partition(clock_topic, TICK_KEY, value, settings.partitions)


def _touchable(value: bytes, at: datetime) -> bool:
    try:
        return tick_may_touch(decode_header(value), at)
    except ValueError:
        return True  # an unreadable header: let the tick parse it (and dead-letter it)


def _case_bytes(value: bytes) -> bytes:
    """The case JSON of a stored state when it can be read (re-driving it to `policy.clock`
    replays its step), else the stored value as it is."""
    try:
        return CASE.dump_json(decode_state(value).case)
    except Exception:  # noqa: BLE001 - best effort: keep the raw value
        return value


__all__ = ["register_policy_stream", "dlq_policy_topic", "sla_change_record", "TICK_KEY"]
