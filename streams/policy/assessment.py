"""One combined policy view of a case: return window, SLA deadlines and responsibility.

`assess_case(case, policy, at=...)` is pure: the same case, policy and instant always give the
same `PolicyAssessment`. `at` is used only where a case has no event that answers the question
yet (the return window before a return request; each deadline's state). The `Policy` is loaded
once at startup with `load_policy()` (`streams.policy.loading`).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from schemas.case import Case
from schemas.timestamps import UtcDatetime
from streams.policy.loading import Policy, load_policy
from streams.policy.localtime import display_zone
from streams.policy.responsibility import Responsibility, assess
from streams.policy.sla import Deadline, DeadlineState, deadlines
from streams.policy.windows import WindowStatus, evaluate_window

__all__ = ["AssessedDeadline", "Policy", "PolicyAssessment", "assess_case", "load_policy"]


class AssessedDeadline(Deadline):
    """A deadline with where it stands at the assessment instant."""

    state: DeadlineState


class PolicyAssessment(BaseModel):
    """The window, the deadlines and the responsibility of one case at one instant."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str
    order_id: str | None = None
    buyer_country: str | None = None
    marketplace: str | None = None
    assessed_at: UtcDatetime
    buyer_zone: str | None = None
    policy_versions: dict[str, str]
    window: WindowStatus
    deadlines: tuple[AssessedDeadline, ...]
    responsibility: Responsibility


def assess_case(case: Case, policy: Policy, *, at: datetime) -> PolicyAssessment:
    """Assess a case against the policy at instant `at` (timezone-aware)."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    window = evaluate_window(case, policy.windows, at=at)
    assessed = tuple(
        AssessedDeadline(**deadline.model_dump(), state=deadline.state_at(at))
        for deadline in deadlines(case, policy.sla)
    )
    return PolicyAssessment(
        case_id=case.case_id,
        order_id=case.order_id,
        buyer_country=case.buyer_country,
        marketplace=case.marketplace,
        assessed_at=at,
        buyer_zone=display_zone(case.buyer_country),
        policy_versions=policy.versions(),
        window=window,
        deadlines=assessed,
        responsibility=assess(case, policy.responsibility, window=window.state),
    )
