"""Service metrics of the after-sales desk, pure: `case.changes` records in, figures per group out.

`ServiceMetrics` keeps, per case, the few facts the metrics need: from the newest Case seen on
`case.changes`, plus what only the change records tell (buyer contacts, SLA breaches, survey
answers). Per group (region, marketplace, reason) it keeps running totals, adjusted when a
case's facts change, so reading the figures costs nothing per case. Feeding the same record
twice, or records out of order, gives the same figures: a case's contribution is replaced,
never added twice. No clock, no Kafka: the same records always give the same figures.

Figures of a group (`GroupFigures`):

    cases_opened             cases with an opening event
    first_response_seconds   histogram: return request (else opening) -> first merchant answer
                             (an agent's first reply or request for information counts)
    refund_seconds           histogram: return request (else opening) -> first refund
    resolution_seconds       histogram: opening -> resolution
    resolved                 cases refunded, exchanged, reshipped, closed or rejected
    first_contact_resolved   resolved, not escalated, never reopened, after one buyer request at
                             most
    escalated                a dispute was opened, an SLA deadline was breached or an agent
                             escalated the case
    sla_breached             an SLA deadline was breached (an `sla.breach` change)
    disputed                 a dispute was opened (chargeback, A-to-z claim, PayPal case)
    csat_responses / csat_satisfied / csat_score_sum   survey answers (satisfied: >= 80 % of
                             the scale, i.e. 4 or 5 of 5)

and the rates first-contact resolution (`first_contact_resolved / resolved`), escalation and
dispute (`/ cases_opened`) and CSAT (`csat_satisfied / csat_responses`).

The region of a case is its first support region (`translations.regions.REGIONS.routes_for`);
a case whose buyer country arrives later moves group, and the totals follow.

CSAT hook: no provider sends satisfaction surveys yet. A survey source hands each answer to
`ServiceMetrics.observe_survey(SurveyResponse(...))`; on a topic, a JSON record
`{"event_type": "survey.completed", "survey": {SurveyResponse}}` does the same through
`observe_bytes` (the follower of `case.changes` feeds every record through it). A survey that
arrives before its case is kept and counted once the case is known.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from schemas.case import Case, CaseStatus
from schemas.timestamps import UtcDatetime

HOUR = 3600.0
DURATION_BUCKETS: tuple[float, ...] = (
    1 * HOUR, 4 * HOUR, 8 * HOUR, 24 * HOUR, 48 * HOUR, 72 * HOUR, 120 * HOUR, 168 * HOUR,
    336 * HOUR, 720 * HOUR,
)
"""Histogram upper bounds in seconds: 1 h, 4 h, 8 h, 1 d, 2 d, 3 d, 5 d, 7 d, 14 d, 30 d."""

RESOLVED_STATUSES: frozenset[CaseStatus] = frozenset(
    {"refunded", "exchanged", "reshipped", "closed", "rejected"}
)
BUYER_CONTACT_TYPES = frozenset({"return.requested", "refund.requested", "order.cancelled"})
SLA_BREACH = "sla.breach"
SURVEY_EVENT_TYPE = "survey.completed"
UNKNOWN = "unknown"

GroupKey = tuple[str, str, str]
"""(region, marketplace, reason)"""
RegionOf = Callable[[Case], str]


def default_region_of(case: Case) -> str:
    """The case's first support region (the default region when none matches)."""
    from translations.regions import REGIONS  # loads and validates regions.toml once

    return REGIONS.routes_for(case)[0].code


class SurveyResponse(BaseModel):
    """A buyer's answer to a satisfaction survey about a case."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str = Field(min_length=1)
    survey_id: str = Field(min_length=1, description="the provider's id of the answer")
    score: int = Field(ge=0)
    scale: int = Field(5, ge=1, description="the best possible score")
    responded_at: UtcDatetime

    @property
    def satisfied(self) -> bool:
        return self.score * 5 >= self.scale * 4


class _ChangeView(BaseModel):
    """What the metrics read of a `case.changes` record (the rest is ignored)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    case_id: str
    event_id: str
    event_type: str
    case: Case


class _SurveyRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: Literal["survey.completed"]
    survey: SurveyResponse


_CHANGE = TypeAdapter(_ChangeView)
_SURVEY_RECORD = TypeAdapter(_SurveyRecord)


@dataclass(frozen=True, slots=True)
class _Basis:
    """The metric facts of one version of a case."""

    version: int
    group: GroupKey
    first_response: float | None
    refund: float | None
    resolution: float | None
    resolved: bool
    disputed: bool
    escalated: bool = False  # by an agent
    reopened: bool = False  # the buyer came back after an agent closed it


@dataclass(frozen=True, slots=True)
class _Facts:
    """One case's whole contribution to its group's totals."""

    group: GroupKey
    first_response: float | None
    refund: float | None
    resolution: float | None
    resolved: bool
    first_contact_resolved: bool
    escalated: bool
    sla_breached: bool
    disputed: bool
    csat_score: float | None  # score on a 0..1 scale
    csat_satisfied: bool


@dataclass(slots=True)
class _Track:
    basis: _Basis | None = None
    contacts: set[str] = field(default_factory=set)
    breached: bool = False
    survey: SurveyResponse | None = None
    counted: _Facts | None = None


@dataclass(slots=True)
class Histogram:
    """A histogram with fixed upper bounds; `counts[i]` is the non-cumulative count of bucket i
    (the last one is +Inf)."""

    bounds: tuple[float, ...] = DURATION_BUCKETS
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0] * (len(self.bounds) + 1)

    def add(self, value: float, sign: int = 1) -> None:
        index = next((i for i, bound in enumerate(self.bounds) if value <= bound), len(self.bounds))
        self.counts[index] += sign
        self.total += sign * value
        self.count += sign

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, cumulative count) pairs, ending with (inf, count)."""
        running = 0
        pairs = []
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += count
            pairs.append((bound, running))
        return pairs

    def quantile(self, q: float) -> float | None:
        """An estimate of quantile `q` (linear inside the bucket), None without observations."""
        if self.count <= 0:
            return None
        rank = q * self.count
        lower = 0.0
        previous = 0
        for bound, running in self.cumulative():
            if running >= rank:
                if bound == float("inf"):
                    return lower
                inside = running - previous
                fraction = (rank - previous) / inside if inside else 1.0
                return lower + (bound - lower) * fraction
            lower, previous = bound, running
        return lower

    def copy(self) -> Histogram:
        return Histogram(self.bounds, list(self.counts), self.total, self.count)


@dataclass(slots=True)
class GroupFigures:
    """The figures of one (region, marketplace, reason) group."""

    region: str
    marketplace: str
    reason: str
    cases_opened: int = 0
    resolved: int = 0
    first_contact_resolved: int = 0
    escalated: int = 0
    sla_breached: int = 0
    disputed: int = 0
    csat_responses: int = 0
    csat_satisfied: int = 0
    csat_score_sum: float = 0.0
    first_response_seconds: Histogram = field(default_factory=Histogram)
    refund_seconds: Histogram = field(default_factory=Histogram)
    resolution_seconds: Histogram = field(default_factory=Histogram)

    @property
    def labels(self) -> dict[str, str]:
        return {"region": self.region, "marketplace": self.marketplace, "reason": self.reason}

    @property
    def first_contact_resolution_rate(self) -> float | None:
        return _ratio(self.first_contact_resolved, self.resolved)

    @property
    def escalation_rate(self) -> float | None:
        return _ratio(self.escalated, self.cases_opened)

    @property
    def dispute_rate(self) -> float | None:
        return _ratio(self.disputed, self.cases_opened)

    @property
    def csat(self) -> float | None:
        return _ratio(self.csat_satisfied, self.csat_responses)

    @property
    def empty(self) -> bool:
        return self.cases_opened == 0 and self.csat_responses == 0

    def apply(self, facts: _Facts, sign: int) -> None:
        self.cases_opened += sign
        self.resolved += sign * facts.resolved
        self.first_contact_resolved += sign * facts.first_contact_resolved
        self.escalated += sign * facts.escalated
        self.sla_breached += sign * facts.sla_breached
        self.disputed += sign * facts.disputed
        if facts.csat_score is not None:
            self.csat_responses += sign
            self.csat_satisfied += sign * facts.csat_satisfied
            self.csat_score_sum += sign * facts.csat_score
        for histogram, value in (
            (self.first_response_seconds, facts.first_response),
            (self.refund_seconds, facts.refund),
            (self.resolution_seconds, facts.resolution),
        ):
            if value is not None:
                histogram.add(value, sign)

    def merged(self, other: GroupFigures) -> GroupFigures:
        """The sum of two groups' figures (labels of `self`)."""
        total = self.copy()
        total.cases_opened += other.cases_opened
        total.resolved += other.resolved
        total.first_contact_resolved += other.first_contact_resolved
        total.escalated += other.escalated
        total.sla_breached += other.sla_breached
        total.disputed += other.disputed
        total.csat_responses += other.csat_responses
        total.csat_satisfied += other.csat_satisfied
        total.csat_score_sum += other.csat_score_sum
        for mine, theirs in (
            (total.first_response_seconds, other.first_response_seconds),
            (total.refund_seconds, other.refund_seconds),
            (total.resolution_seconds, other.resolution_seconds),
        ):
            mine.counts = [a + b for a, b in zip(mine.counts, theirs.counts, strict=True)]
            mine.total += theirs.total
            mine.count += theirs.count
        return total

    def copy(self) -> GroupFigures:
        return GroupFigures(
            self.region, self.marketplace, self.reason, self.cases_opened, self.resolved,
            self.first_contact_resolved, self.escalated, self.sla_breached, self.disputed,
            self.csat_responses,
            self.csat_satisfied, self.csat_score_sum, self.first_response_seconds.copy(),
            self.refund_seconds.copy(), self.resolution_seconds.copy(),
        )

    def as_json(self) -> dict[str, Any]:
        """JSON-able figures, with rates and p50/p90 estimates of each duration."""
        durations = {
            name: {
                "count": histogram.count,
                "sum": histogram.total,
                "p50": histogram.quantile(0.5),
                "p90": histogram.quantile(0.9),
                "buckets": [[_bound(b), c] for b, c in histogram.cumulative()],
            }
            for name, histogram in (
                ("first_response_seconds", self.first_response_seconds),
                ("refund_seconds", self.refund_seconds),
                ("resolution_seconds", self.resolution_seconds),
            )
        }
        return {
            **self.labels,
            "cases_opened": self.cases_opened,
            "resolved": self.resolved,
            "first_contact_resolved": self.first_contact_resolved,
            "escalated": self.escalated,
            "sla_breached": self.sla_breached,
            "disputed": self.disputed,
            "csat_responses": self.csat_responses,
            "csat_satisfied": self.csat_satisfied,
            "first_contact_resolution_rate": self.first_contact_resolution_rate,
            "escalation_rate": self.escalation_rate,
            "dispute_rate": self.dispute_rate,
            "csat": self.csat,
            **durations,
        }


class ServiceMetrics:
    """Running service figures per (region, marketplace, reason), fed one record at a time."""

    def __init__(self, *, region_of: RegionOf = default_region_of) -> None:
        self._region_of = region_of
        self._cases: dict[str, _Track] = {}
        self._groups: dict[GroupKey, GroupFigures] = {}
        self.records_seen = 0
        self.records_skipped = 0

    def observe_bytes(self, value: bytes | None) -> bool:
        """Feed one raw `case.changes` record (or a survey record); False if it is neither."""
        self.records_seen += 1
        if value is None:
            self.records_skipped += 1
            return False
        try:
            document = json.loads(value)
            if isinstance(document, dict) and document.get("event_type") == SURVEY_EVENT_TYPE:
                self.observe_survey(_SURVEY_RECORD.validate_python(document).survey)
            else:
                change = _CHANGE.validate_python(document)
                self.observe_change(change.case_id, change.event_id, change.event_type,
                                    change.case)
        except (ValueError, ValidationError):
            self.records_skipped += 1
            return False
        return True

    def observe_change(self, case_id: str, event_id: str, event_type: str, case: Case) -> None:
        """Feed one case change: the event that changed the case and the case after it."""
        track = self._cases.setdefault(case_id, _Track())
        if event_type in BUYER_CONTACT_TYPES:
            track.contacts.add(event_id)
        if event_type == SLA_BREACH:
            track.breached = True
        if track.basis is None or case.version > track.basis.version:
            track.basis = _basis(case, self._region_of(case))
        self._recount(track)

    def observe_survey(self, response: SurveyResponse) -> None:
        """Feed one survey answer (the latest answer of a case counts)."""
        track = self._cases.setdefault(response.case_id, _Track())
        if track.survey is None or response.responded_at >= track.survey.responded_at:
            track.survey = response
        self._recount(track)

    def observe_all(self, records: Iterable[bytes]) -> None:
        for value in records:
            self.observe_bytes(value)

    def groups(self) -> list[GroupFigures]:
        """Every non-empty group's figures (copies), sorted by their labels."""
        return [self._groups[key].copy() for key in sorted(self._groups)
                if not self._groups[key].empty]

    def totals(self) -> GroupFigures:
        """All groups summed."""
        total = GroupFigures("all", "all", "all")
        for group in self._groups.values():
            total = total.merged(group)
        return total

    @property
    def cases(self) -> int:
        return sum(1 for track in self._cases.values() if track.basis is not None)

    def _recount(self, track: _Track) -> None:
        facts = _facts(track)
        if facts == track.counted:
            return
        if track.counted is not None:
            self._group(track.counted.group).apply(track.counted, -1)
        if facts is not None:
            self._group(facts.group).apply(facts, +1)
        track.counted = facts

    def _group(self, key: GroupKey) -> GroupFigures:
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = GroupFigures(*key)
        return group


def _basis(case: Case, region: str) -> _Basis:
    milestones = case.milestones
    request = milestones.return_requested_at or case.opened_at
    resolved = case.status in RESOLVED_STATUSES
    return _Basis(
        version=case.version,
        group=(region, case.marketplace or UNKNOWN, case.reason_code or UNKNOWN),
        first_response=_seconds(request, milestones.responded_at),
        refund=_seconds(request, milestones.refunded_at),
        resolution=_seconds(case.opened_at, _resolved_at(case)) if resolved else None,
        resolved=resolved,
        disputed=milestones.dispute_opened_at is not None or case.disputed,
        escalated=case.escalated,
        reopened=case.reopened > 0,
    )


def _facts(track: _Track) -> _Facts | None:
    basis = track.basis
    if basis is None:
        return None
    escalated = basis.disputed or track.breached or basis.escalated
    survey = track.survey
    return _Facts(
        group=basis.group,
        first_response=basis.first_response,
        refund=basis.refund,
        resolution=basis.resolution,
        resolved=basis.resolved,
        first_contact_resolved=(basis.resolved and not escalated and not basis.reopened
                                and len(track.contacts) <= 1),
        escalated=escalated,
        sla_breached=track.breached,
        disputed=basis.disputed,
        csat_score=survey.score / survey.scale if survey is not None else None,
        csat_satisfied=survey.satisfied if survey is not None else False,
    )


def _resolved_at(case: Case) -> datetime | None:
    milestones = case.milestones
    if case.status == "rejected":
        return milestones.responded_at or case.updated_at
    found = [m for m in (milestones.refunded_at, milestones.closed_at) if m is not None]
    return min(found) if found else case.updated_at


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


def _bound(bound: float) -> float | str:
    return "+Inf" if bound == float("inf") else bound


__all__ = [
    "DURATION_BUCKETS",
    "GroupFigures",
    "Histogram",
    "ServiceMetrics",
    "SurveyResponse",
    "default_region_of",
]
