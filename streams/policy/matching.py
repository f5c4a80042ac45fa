"""What a policy rule is matched on, and the facts of a Case it is matched against.

A rule may name buyer `countries` and `regions` (see `localtime.REGIONS`), `marketplaces`,
`payment_providers` and an effective period; every named dimension must match and an empty one
matches anything. The more dimensions a rule names, the more specific it is.

The Case carries `marketplace` as the provider states it (Amazon's marketplace id
`A1PA6795UKMFR9`, Mercado Libre's site `MLB`, `shopify`, a hub-protocol marketplace's registered
name), and no payment provider at all. Both are therefore also read from the case's timeline:
every canonical event id starts with its source (`schemas.events.make_event_id`), so a case with
an `amazon:...` event is an Amazon case and one with a `stripe:...` event was paid through Stripe.
A rule's `marketplaces` may name either the source (`amazon`) or the exact marketplace value.

Effective periods are compared with the date the contract was made: the order date when known,
else the date the case opened (law in force at the time of the contract applies).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.case import Case
from schemas.events import SOURCE_KINDS
from streams.policy.localtime import REGIONS

RULE_CONFIG = ConfigDict(frozen=True, extra="forbid")
FILE_CONFIG = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

RuleId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)]
"""A rule's stable id: lower-case letters, digits and dashes."""


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """The facts of a case that policy rules select on."""

    country: str | None
    marketplaces: frozenset[str]
    payment_providers: frozenset[str]
    contract_date: date | None


def case_facts(case: Case) -> CaseFacts:
    """Read the selection facts of a case (country, marketplace, payment provider, date)."""
    marketplaces: set[str] = set()
    providers: set[str] = set()
    for event_id in case.timeline:
        source = event_id.partition(":")[0]
        kind = SOURCE_KINDS.get(source)
        if kind == "marketplace":
            marketplaces.add(source)
        elif kind == "payment":
            providers.add(source)
    if case.marketplace:
        marketplaces.add(case.marketplace.lower())
    contract = case.milestones.ordered_at or case.opened_at
    return CaseFacts(
        country=case.buyer_country.upper() if case.buyer_country else None,
        marketplaces=frozenset(marketplaces),
        payment_providers=frozenset(providers),
        contract_date=contract.date() if contract is not None else None,
    )


class Selector(BaseModel):
    """The part of a rule that says which cases it applies to."""

    model_config = RULE_CONFIG

    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    marketplaces: tuple[str, ...] = ()
    payment_providers: tuple[str, ...] = ()
    effective_from: date | None = None
    effective_until: date | None = Field(None, description="first day the rule no longer applies")

    @field_validator("countries")
    @classmethod
    def _upper_countries(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(value.strip().upper() for value in values)

    @field_validator("marketplaces", "payment_providers")
    @classmethod
    def _lower_names(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(value.strip().lower() for value in values)

    def all_countries(self) -> frozenset[str]:
        """Every country the rule names, directly or through a region."""
        named = set(self.countries)
        for region in self.regions:
            named |= REGIONS.get(region, frozenset())
        return frozenset(named)

    def names_place(self) -> bool:
        return bool(self.countries or self.regions)

    def specificity(self) -> int:
        """How many dimensions the rule constrains; the most specific rule wins among peers."""
        return sum(
            1 for named in (self.names_place(), self.marketplaces, self.payment_providers) if named
        )

    def in_effect(self, day: date | None) -> bool:
        if day is None:
            return True
        if self.effective_from is not None and day < self.effective_from:
            return False
        return self.effective_until is None or day < self.effective_until

    def matches(self, facts: CaseFacts) -> bool:
        """True when every dimension the rule names matches the case."""
        if self.names_place() and facts.country not in self.all_countries():
            return False
        if self.marketplaces and not facts.marketplaces & set(self.marketplaces):
            return False
        if self.payment_providers and not facts.payment_providers & set(self.payment_providers):
            return False
        return self.in_effect(facts.contract_date)

    def overlaps_in_time(self, other: Selector) -> bool:
        """True when the two rules' effective periods share a day."""
        starts_before_other_ends = (
            other.effective_until is None
            or self.effective_from is None
            or self.effective_from < other.effective_until
        )
        other_starts_before_end = (
            self.effective_until is None
            or other.effective_from is None
            or other.effective_from < self.effective_until
        )
        return starts_before_other_ends and other_starts_before_end


R = TypeVar("R", bound=Selector)


def most_specific(rules: list[R]) -> R | None:
    """The most specific of matching rules; the first in file order among equals."""
    best: R | None = None
    for rule in rules:
        if best is None or rule.specificity() > best.specificity():
            best = rule
    return best
