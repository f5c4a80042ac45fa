"""Who is responsible for what went wrong, and the resolution the hub suggests.

The rules are data (`responsibility.toml`, model `ResponsibilityRules`), an ordered list where the
first rule whose conditions all hold wins; the last rule has no conditions and catches the rest.
Each rule names the responsible party, the suggested resolution, who pays the return shipping and
who bears the duties, with a human explanation and its source: the law of the buyer's
jurisdiction when the rule cites one for the buyer's country (`[[rule.cites]]`), otherwise the
marketplace or house policy the rule rests on for everyone. EU law is cited only to EU/EEA buyers
(`loading` rejects a file that would cite it to anyone else).

Conditions read the case only: the reason code, the return leg's latest carrier status
(`case.shipment`; the Case does not carry the outbound parcel's status, so an outbound loss is
recognised by a delivery that never happened), the latest customs status, whether the outbound
parcel was delivered, whether a payment dispute is open, the case type, whether a declared
disruption (force majeure: a natural disaster, a strike, a closed border) covers the case, and
the return-window state when the caller passes it (`assess_case` does).

Declared disruptions are data too (`[[disruption]]` in the same file): a period and the buyer
countries or regions it hit. A case is covered when its buyer country is named and the time
from the order to the delivery (or to now-known milestones when undelivered) overlaps the period.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.case import Case, CaseType
from schemas.events import CustomsStatus, ReasonCode, ShipmentStatus
from streams.policy.matching import FILE_CONFIG, RULE_CONFIG, RuleId, Selector, case_facts
from streams.policy.windows import WindowState

Party = Literal[
    "carrier", "merchant", "customer", "force_majeure", "payment_dispute", "undetermined"
]
Resolution = Literal[
    "full_refund", "return_and_refund", "exchange", "repair", "reship", "partial_refund",
    "reject_with_reason", "manual_review",
]
Payer = Literal["merchant", "customer", "carrier", "none"]


class Conditions(BaseModel):
    """What must hold for a rule to match; every named condition must hold."""

    model_config = RULE_CONFIG

    reasons: tuple[ReasonCode, ...] = ()
    shipment_statuses: tuple[ShipmentStatus, ...] = ()
    customs_statuses: tuple[CustomsStatus, ...] = ()
    case_types: tuple[CaseType, ...] = ()
    delivered: bool | None = Field(None, description="the outbound parcel reached the buyer")
    disputed: bool | None = None
    force_majeure: bool | None = Field(None, description="a declared disruption covers the case")
    window: tuple[WindowState, ...] = Field(
        (), description="the return-window state; needs the caller to pass it"
    )

    def is_catch_all(self) -> bool:
        return self == Conditions()


class Citation(Selector):
    """The law a rule rests on for the buyers of one jurisdiction (the countries/regions named)."""

    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _names_a_jurisdiction(self) -> Self:
        if not self.names_place():
            raise ValueError("a citation names the countries or regions whose law it cites")
        return self


class ResponsibilityRule(BaseModel):
    """One responsibility rule: conditions, the responsible party and the suggested resolution.

    `source` is what the rule rests on for every buyer (a marketplace's or the house policy);
    the first of `cites` that names the buyer's country replaces it with that country's law.
    """

    model_config = RULE_CONFIG

    id: RuleId
    when: Conditions = Field(default_factory=Conditions)
    party: Party
    resolution: Resolution
    return_shipping: Payer
    duties: Payer
    explanation: str = Field(min_length=1)
    source: str = Field(min_length=1)
    cites: tuple[Citation, ...] = ()

    def source_for(self, country: str | None) -> str:
        """The rule's source for a buyer of this country: their law when cited, else `source`."""
        for citation in self.cites:
            if country in citation.all_countries():
                return citation.source
        return self.source


class Disruption(Selector):
    """A declared force-majeure event: where (buyer countries/regions) and when."""

    id: RuleId
    start: date
    end: date = Field(description="last day of the disruption, inclusive")
    description: str = Field(min_length=1)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError("end is before start")
        if not self.names_place():
            raise ValueError("a disruption names the countries or regions it hit")
        return self


class ResponsibilityRules(BaseModel):
    """The versioned responsibility table (`responsibility.toml`)."""

    model_config = FILE_CONFIG

    version: str = Field(min_length=1)
    effective_from: date
    effective_until: date | None = None
    rules: tuple[ResponsibilityRule, ...] = Field(alias="rule", min_length=1)
    disruptions: tuple[Disruption, ...] = Field((), alias="disruption")


class Responsibility(BaseModel):
    """The responsible party, the suggested resolution, who pays, and the rule that said so."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    party: Party
    resolution: Resolution
    return_shipping_paid_by: Payer
    duties_paid_by: Payer
    rule_id: str
    explanation: str
    source: str
    disruption_id: str | None = Field(None, description="the declared disruption that matched")


def assess(
    case: Case, rules: ResponsibilityRules, *, window: WindowState | None = None
) -> Responsibility:
    """Apply the first matching responsibility rule to the case.

    A rule with a `window` condition only matches when the caller passes the window state.
    """
    disruption = covering_disruption(case, rules)
    for rule in rules.rules:
        if _holds(rule.when, case, window=window, force_majeure=disruption is not None):
            return Responsibility(
                party=rule.party,
                resolution=rule.resolution,
                return_shipping_paid_by=rule.return_shipping,
                duties_paid_by=rule.duties,
                rule_id=rule.id,
                explanation=rule.explanation,
                source=rule.source_for(case_facts(case).country),
                disruption_id=disruption.id if disruption and rule.when.force_majeure else None,
            )
    # load_policy guarantees a final catch-all; a hand-built table may lack one.
    return Responsibility(
        party="undetermined", resolution="manual_review", return_shipping_paid_by="none",
        duties_paid_by="none", rule_id="none",
        explanation="no responsibility rule matched", source="streams.policy.responsibility",
    )


def covering_disruption(case: Case, rules: ResponsibilityRules) -> Disruption | None:
    """The first declared disruption that hit the buyer's country while the order was under way."""
    facts = case_facts(case)
    milestones = case.milestones
    begin = milestones.ordered_at or case.opened_at
    end = milestones.delivered_at or milestones.return_requested_at or case.updated_at or begin
    if begin is None or end is None:
        return None
    for disruption in rules.disruptions:
        if facts.country not in disruption.all_countries():
            continue
        if begin.date() <= disruption.end and disruption.start <= end.date():
            return disruption
    return None


def _holds(
    when: Conditions, case: Case, *, window: WindowState | None, force_majeure: bool
) -> bool:
    checks: list[bool] = []
    if when.reasons:
        checks.append(case.reason_code in when.reasons)
    if when.shipment_statuses:
        checks.append(case.shipment is not None and case.shipment.status in when.shipment_statuses)
    if when.customs_statuses:
        checks.append(case.customs is not None and case.customs.status in when.customs_statuses)
    if when.case_types:
        checks.append(case.case_type in when.case_types)
    if when.delivered is not None:
        checks.append((case.milestones.delivered_at is not None) == when.delivered)
    if when.disputed is not None:
        checks.append(case.disputed == when.disputed)
    if when.force_majeure is not None:
        checks.append(force_majeure == when.force_majeure)
    if when.window:
        checks.append(window is not None and window in when.window)
    return all(checks)
