"""Return-window eligibility: is the buyer's return (withdrawal) inside the window that applies?

The rules are data (`return_windows.toml`, model `WindowRules`). For a case, the applicable rules
are chosen by buyer country and marketplace (`streams.policy.matching`):

* every matching `statutory` rule applies: the law is a floor no marketplace can go below;
* the most specific matching `marketplace_policy` applies in addition (Amazon's 30 days);
* a `statutory_default` applies only when no marketplace policy does: a law that lets the seller
  state a different return policy (Japan's Act on Specified Commercial Transactions art. 15-3);
* the `default` rule applies only when nothing else does.

Each applicable rule gives a deadline; the LATEST one governs, since the buyer may rely on the
most generous right they have. A deadline is the end of the last day of the period in the
buyer's time zone (`streams.policy.localtime`, which also documents multi-zone countries).

The instant judged is the return request when there is one (the notice of withdrawal only has to
be sent inside the period: Directive 2011/83/EU art. 11(2)), else `at`. The result is `unknown`
while the milestone a rule counts from (usually the delivery) is not known.

`evaluate_window` is a pure function of the case, the rules and `at`: a delivery event that
arrives late changes `case.milestones.delivered_at`, and evaluating the new case gives the new
answer; nothing is cached and nothing needs to be invalidated.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.case import Case
from schemas.timestamps import UtcDatetime
from streams.policy.localtime import Counting, ZonedDeadline, day_deadline
from streams.policy.matching import (
    FILE_CONFIG,
    CaseFacts,
    RuleId,
    Selector,
    case_facts,
    most_specific,
)

WindowKind = Literal["statutory", "statutory_default", "marketplace_policy", "default"]
WindowState = Literal["within_window", "outside_window", "unknown"]
Clock = Literal["delivery", "order"]

_CLOCK_MILESTONE: dict[Clock, str] = {"delivery": "delivered_at", "order": "ordered_at"}


class WindowRule(Selector):
    """One return window: how many days, from which event, by which law or policy."""

    id: RuleId
    kind: WindowKind
    days: int = Field(gt=0, le=3650)
    counting: Counting = "calendar_days"
    clock: Clock = "delivery"
    roll_weekend: bool = Field(False, description="a last day on Sat/Sun moves to Monday")
    count_start_day: bool = Field(False, description="the day of the clock event is day 1")
    send_back_days: int | None = Field(
        None, gt=0, description="days to send the goods back, counted from the notice of withdrawal"
    )
    source: str = Field(min_length=1)
    note: str = ""

    def describe(self) -> str:
        unit = "business days" if self.counting == "business_days" else "days"
        return f"{self.days} {unit} from {self.clock}"


class WindowRules(BaseModel):
    """The versioned return-window table (`return_windows.toml`)."""

    model_config = FILE_CONFIG

    version: str = Field(min_length=1)
    effective_from: date
    effective_until: date | None = None
    rules: tuple[WindowRule, ...] = Field(alias="rule", min_length=1)


class WindowStatus(BaseModel):
    """Whether the return is inside its window, the deadline, and the rule that set it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: WindowState
    reason: str
    rule_id: str | None = None
    rule_kind: WindowKind | None = None
    source: str | None = None
    period: str | None = Field(None, description='the rule\'s period, e.g. "14 days from delivery"')
    started_at: UtcDatetime | None = Field(None, description="the milestone the period counts from")
    deadline: UtcDatetime | None = Field(None, description="end of the last day, buyer's zone")
    zone: str | None = Field(None, description="IANA zone whose end of day set the deadline")
    last_day: date | None = Field(None, description="the last day of the period, local date")
    checked_at: UtcDatetime | None = None
    checked: Literal["return_requested_at", "at"] | None = None
    send_back_by: UtcDatetime | None = Field(
        None, description="when the goods must be sent back, counted from the return request"
    )
    considered: tuple[str, ...] = Field((), description="ids of every rule that applied")


def applicable_rules(facts: CaseFacts, rules: WindowRules) -> list[WindowRule]:
    """The rules that apply to a case, statutory floors first (see the module docstring)."""
    matching = [rule for rule in rules.rules if rule.matches(facts)]
    statutory = [rule for rule in matching if rule.kind == "statutory"]
    policy = most_specific([rule for rule in matching if rule.kind == "marketplace_policy"])
    fallback_law = [rule for rule in matching if rule.kind == "statutory_default"]
    chosen = [*statutory, policy] if policy is not None else [*statutory, *fallback_law]
    if chosen:
        return chosen
    default = next((rule for rule in matching if rule.kind == "default"), None)
    return [default] if default is not None else []


def evaluate_window(case: Case, rules: WindowRules, *, at: datetime) -> WindowStatus:
    """Judge the case's return against the return window that applies to it.

    Args:
        case: the case as the case stream publishes it.
        rules: the return-window table.
        at: the instant to judge when the buyer has not asked for the return yet.

    Returns:
        within_window / outside_window with the deadline and the governing rule, or unknown when
        the milestone the window counts from is not known yet.
    """
    facts = case_facts(case)
    candidates = applicable_rules(facts, rules)
    considered = tuple(rule.id for rule in candidates)
    if not candidates:
        return WindowStatus(state="unknown", reason="no return-window rule applies to this case")
    computed: list[tuple[WindowRule, datetime, ZonedDeadline]] = []
    for rule in candidates:
        start: datetime | None = getattr(case.milestones, _CLOCK_MILESTONE[rule.clock])
        if start is None:
            return WindowStatus(
                state="unknown",
                reason=f"the window counts from {rule.clock}, which is not known yet",
                rule_id=rule.id, rule_kind=rule.kind, source=rule.source,
                period=rule.describe(), considered=considered,
            )
        deadline = day_deadline(
            start, days=rule.days, counting=rule.counting, country=facts.country,
            prefer="latest", roll_weekend=rule.roll_weekend, count_start_day=rule.count_start_day,
        )
        computed.append((rule, start, deadline))
    # The most generous right governs; on equal deadlines the earlier listed (statutory) rule.
    rule, start, deadline = max(computed, key=lambda item: item[2].due_at)
    requested = case.milestones.return_requested_at
    checked_at = requested if requested is not None else at
    inside = checked_at <= deadline.due_at
    what = "the return request" if requested is not None else "now"
    return WindowStatus(
        state="within_window" if inside else "outside_window",
        reason=f"{what} is {'inside' if inside else 'after the end of'} the window "
               f"({rule.describe()})",
        rule_id=rule.id,
        rule_kind=rule.kind,
        source=rule.source,
        period=rule.describe(),
        started_at=start,
        deadline=deadline.due_at,
        zone=deadline.zone,
        last_day=deadline.last_day,
        checked_at=checked_at,
        checked="return_requested_at" if requested is not None else "at",
        send_back_by=_send_back_by(case, rule, facts),
        considered=considered,
    )


def _send_back_by(case: Case, rule: WindowRule, facts: CaseFacts) -> datetime | None:
    requested = case.milestones.return_requested_at
    if rule.send_back_days is None or requested is None:
        return None
    return day_deadline(
        requested, days=rule.send_back_days, counting="calendar_days", country=facts.country,
        prefer="latest", roll_weekend=rule.roll_weekend,
    ).due_at
