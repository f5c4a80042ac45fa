"""After-sales policy as pure functions of a Case: return windows, SLA deadlines, responsibility.

The rules are data, in three versioned TOML files next to this package's modules
(`return_windows.toml`, `sla.toml`, `responsibility.toml`), loaded and validated together at
startup by `load_policy()`. Nothing here reads the clock, the environment or Kafka: every
function takes the case (and, where a question has no event-time answer yet, an instant `at`),
so replays and tests give the same answers. `streams.policy.firing` documents how the lead wires
the SLA timer on the stream.

Modules: `localtime` (buyer time zones, end-of-day deadlines), `matching` (rule selectors),
`windows`, `sla`, `responsibility`, `firing`, `loading` (`Policy`, `load_policy`),
`assessment` (`PolicyAssessment`, `assess_case`).
"""

from __future__ import annotations

from streams.policy.assessment import AssessedDeadline, PolicyAssessment, assess_case
from streams.policy.firing import PolicyClock, advance_clock
from streams.policy.loading import Policy, PolicyConfigurationError, load_policy
from streams.policy.responsibility import Responsibility, assess
from streams.policy.sla import Deadline, SlaNotification, deadlines, due_notifications
from streams.policy.windows import WindowStatus, evaluate_window

__all__ = [
    "AssessedDeadline",
    "Deadline",
    "Policy",
    "PolicyAssessment",
    "PolicyClock",
    "PolicyConfigurationError",
    "Responsibility",
    "SlaNotification",
    "WindowStatus",
    "advance_clock",
    "assess",
    "assess_case",
    "deadlines",
    "due_notifications",
    "evaluate_window",
    "load_policy",
]
