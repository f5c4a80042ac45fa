"""SLA deadlines of a case and the warning/breach notifications they produce, in event time.

The rules are data (`sla.toml`, model `SlaRules`). Each rule names a deadline (`name`), the
milestone that starts it (`starts_at`), its length (`hours`, exact; or `days`, ending at the end of
the last day in the buyer's zone), the milestones that meet it (`met_by`) and when to warn.

Per deadline name, the applicable rules are:

* every matching `binding = "law"` rule (a legal deadline always applies), and
* the most specific matching `binding = "policy"` rule (defaults + per-marketplace, per-region
  and per-payment-provider overrides; the first in file order among equally specific ones);

and the EARLIEST resulting due instant binds, since every one of them must be met.

Everything is computed from the case's event-time milestones: the same case gives the same
deadlines and the same notifications whenever and wherever it is evaluated. A replay of old
events therefore produces the same breaches, and `due_notifications` over consecutive windows
(a, b], (b, c] gives exactly the notifications of (a, c], each once (`tests/unit/test_sla.py`).

Each notification's `id` is `case_id:deadline:kind:due_at`, so a timer that fires twice, or on
two workers, produces the same id and is deduplicated downstream. How the ticks are driven is in
`streams.policy.firing`.
"""

from __future__ import annotations

import weakref
from datetime import date, datetime, timedelta
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.case import Case, CaseStatus
from schemas.timestamps import UtcDatetime, format_utc
from streams.policy.localtime import Counting, day_deadline
from streams.policy.matching import (
    FILE_CONFIG,
    CaseFacts,
    RuleId,
    Selector,
    case_facts,
    most_specific,
)

Milestone = Literal[
    "ordered_at", "delivered_at", "return_requested_at", "responded_at", "label_created_at",
    "last_return_scan_at", "return_received_at", "customs_held_at", "refunded_at",
    "dispute_opened_at", "closed_at", "first_reply_at", "escalated_at",
]
"""The names of `schemas.case.CaseMilestones` fields (a test keeps the two in step)."""
Binding = Literal["law", "policy"]
NotificationKind = Literal["warning", "breach"]
DeadlineState = Literal["open", "warning", "breached", "met", "met_late"]

DeadlineName = str


class SlaRule(Selector):
    """One deadline rule: started by a milestone, met by others, `hours` or `days` long."""

    id: RuleId
    name: DeadlineName = Field(pattern=r"^[a-z][a-z0-9_]*$")
    binding: Binding = "policy"
    starts_at: Milestone
    hours: int | None = Field(None, gt=0)
    days: int | None = Field(None, gt=0)
    counting: Counting = "calendar_days"
    waits_for: Milestone | None = Field(
        None, description="the deadline exists only once this milestone is known, and is never "
                          "due before the end of the day `after_wait_days` after it"
    )
    after_wait_days: int = Field(0, ge=0)
    met_by: tuple[Milestone, ...] = ()
    while_status: tuple[CaseStatus, ...] = Field(
        (), description="the deadline exists only while the case has one of these statuses"
    )
    warn_before_hours: int | None = Field(None, gt=0)
    source: str = Field(min_length=1)
    note: str = ""

    @model_validator(mode="after")
    def _one_length(self) -> Self:
        if (self.hours is None) == (self.days is None):
            raise ValueError("give exactly one of hours and days")
        if self.hours is not None and self.warn_before_hours is not None:
            if self.warn_before_hours >= self.hours:
                raise ValueError("warn_before_hours must be shorter than the deadline")
        return self

    def describe(self) -> str:
        if self.hours is not None:
            length = f"{self.hours} h"
        else:
            unit = "business days" if self.counting == "business_days" else "days"
            length = f"{self.days} {unit}"
        text = f"{length} from {self.starts_at}"
        if self.waits_for is not None:
            text += f", not before {self.waits_for} + {self.after_wait_days} d"
        return text


class SlaRules(BaseModel):
    """The versioned SLA table (`sla.toml`)."""

    model_config = FILE_CONFIG

    version: str = Field(min_length=1)
    effective_from: date
    effective_until: date | None = None
    rules: tuple[SlaRule, ...] = Field(alias="deadline", min_length=1)


class Deadline(BaseModel):
    """One deadline of a case, as the binding rule sets it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    rule_id: str
    binding: Binding
    source: str
    period: str
    started_by: Milestone
    started_at: UtcDatetime
    due_at: UtcDatetime
    warn_at: UtcDatetime | None = None
    met_by: Milestone | None = None
    met_at: UtcDatetime | None = None
    zone: str | None = Field(None, description="for day-counted deadlines: the zone that set it")
    considered: tuple[str, ...] = ()

    def met_before(self, instant: datetime) -> bool:
        """True when the deadline was met at or before `instant`."""
        return self.met_at is not None and self.met_at <= instant

    def state_at(self, at: datetime) -> DeadlineState:
        """Where the deadline stands at an instant."""
        if self.met_before(at):
            return "met" if self.met_before(self.due_at) else "met_late"
        if at > self.due_at:
            return "breached"
        if self.warn_at is not None and at >= self.warn_at:
            return "warning"
        return "open"


class SlaNotification(BaseModel):
    """A warning or a breach of one deadline, at the event-time instant it happened."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="case_id:deadline:kind:due_at; the same fact has the same id")
    case_id: str
    deadline: str
    kind: NotificationKind
    at: UtcDatetime = Field(description="warn_at for a warning, due_at for a breach")
    due_at: UtcDatetime
    started_by: Milestone
    started_at: UtcDatetime
    rule_id: str
    binding: Binding
    source: str


def notification_id(case_id: str, deadline: str, kind: NotificationKind, due_at: datetime) -> str:
    """The deterministic id of a notification."""
    return f"{case_id}:{deadline}:{kind}:{format_utc(due_at)}"


_KNOWN_DEADLINES: dict[tuple[int, int], tuple[weakref.ref[Case], tuple[Deadline, ...]]] = {}


def deadlines(case: Case, rules: SlaRules) -> list[Deadline]:
    """Every started deadline of the case, earliest due first.

    A deadline whose starting milestone (or `waits_for`) is not known yet, or whose case is not
    in one of its `while_status` statuses, does not exist yet.
    """
    # A case is immutable, and one policy step asks for the deadlines of the same case several
    # times (and the next step of the case for its previous case's): remember them while the
    # case object lives.
    key = (id(case), id(rules))
    known = _KNOWN_DEADLINES.get(key)
    if known is not None and known[0]() is case:
        return list(known[1])
    found = _deadlines(case, rules)
    _KNOWN_DEADLINES[key] = (weakref.ref(case), tuple(found))
    weakref.finalize(case, _KNOWN_DEADLINES.pop, key, None)
    return found


def _deadlines(case: Case, rules: SlaRules) -> list[Deadline]:
    facts = case_facts(case)
    by_name: dict[str, list[SlaRule]] = {}
    for rule in rules.rules:
        by_name.setdefault(rule.name, []).append(rule)
    found: list[Deadline] = []
    for name, named_rules in by_name.items():
        applicable = _applicable(named_rules, facts)
        computed = [d for d in (_deadline(case, rule, facts) for rule in applicable) if d]
        if not computed:
            continue
        binding = min(computed, key=lambda d: d.due_at)
        found.append(binding.model_copy(update={
            "considered": tuple(rule.id for rule in applicable),
            "name": name,
        }))
    return sorted(found, key=lambda d: (d.due_at, d.name))


def due_notifications(
    case: Case, rules: SlaRules, *, since: datetime, until: datetime
) -> list[SlaNotification]:
    """The warnings and breaches whose instant falls in (since, until], in time order.

    A warning is due at `warn_at` and a breach at `due_at`, each only when the deadline was not
    met by then (in event time). Windows that tile a period give each notification exactly once.
    """
    found: list[SlaNotification] = []
    for deadline in deadlines(case, rules):
        instants: tuple[tuple[NotificationKind, datetime | None], ...] = (
            ("warning", deadline.warn_at), ("breach", deadline.due_at),
        )
        for kind, instant in instants:
            if instant is None or not since < instant <= until:
                continue
            if deadline.met_before(instant):
                continue
            found.append(_notification(case.case_id, deadline, kind, instant))
    return sorted(found, key=lambda n: (n.at, n.deadline, n.kind))


def _notification(
    case_id: str, deadline: Deadline, kind: NotificationKind, instant: datetime
) -> SlaNotification:
    return SlaNotification(
        id=notification_id(case_id, deadline.name, kind, deadline.due_at),
        case_id=case_id,
        deadline=deadline.name,
        kind=kind,
        at=instant,
        due_at=deadline.due_at,
        started_by=deadline.started_by,
        started_at=deadline.started_at,
        rule_id=deadline.rule_id,
        binding=deadline.binding,
        source=deadline.source,
    )


def _applicable(rules: list[SlaRule], facts: CaseFacts) -> list[SlaRule]:
    matching = [rule for rule in rules if rule.matches(facts)]
    law = [rule for rule in matching if rule.binding == "law"]
    policy = most_specific([rule for rule in matching if rule.binding == "policy"])
    return [*law, policy] if policy is not None else law


def _deadline(case: Case, rule: SlaRule, facts: CaseFacts) -> Deadline | None:
    milestones = case.milestones
    started_at: datetime | None = getattr(milestones, rule.starts_at)
    if started_at is None:
        return None
    if rule.while_status and case.status not in rule.while_status:
        return None
    zone: str | None = None
    if rule.hours is not None:
        due_at = started_at + timedelta(hours=rule.hours)
    else:
        assert rule.days is not None  # the model validator requires hours or days
        counted = day_deadline(
            started_at, days=rule.days, counting=rule.counting, country=facts.country,
            prefer="earliest",
        )
        due_at, zone = counted.due_at, counted.zone
    if rule.waits_for is not None:
        waited: datetime | None = getattr(milestones, rule.waits_for)
        if waited is None:
            return None
        floor = day_deadline(
            waited, days=rule.after_wait_days, counting="calendar_days", country=facts.country,
            prefer="earliest",
        )
        if floor.due_at > due_at:
            due_at, zone = floor.due_at, floor.zone
    warn_at = None
    if rule.warn_before_hours is not None:
        warn_at = due_at - timedelta(hours=rule.warn_before_hours)
        if warn_at <= started_at:
            warn_at = None
    met = [(getattr(milestones, name), name) for name in rule.met_by]
    met = [(when, name) for when, name in met if when is not None]
    met_at, met_by = min(met) if met else (None, None)
    return Deadline(
        name=rule.name,
        rule_id=rule.id,
        binding=rule.binding,
        source=rule.source,
        period=rule.describe(),
        started_by=rule.starts_at,
        started_at=started_at,
        due_at=due_at,
        warn_at=warn_at,
        met_by=met_by,
        met_at=met_at,
        zone=zone,
    )
