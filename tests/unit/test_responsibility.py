"""Responsibility and suggested resolution: ordered rules as data, first match wins."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from schemas.case import Case, CaseCustoms, CaseMilestones, CaseShipment
from schemas.events import ReasonCode, ShipmentStatus
from streams.policy import assess, assess_case, load_policy
from streams.policy.responsibility import Disruption, ResponsibilityRules
from streams.policy.windows import WindowState

POLICY = load_policy()
RULES: ResponsibilityRules = POLICY.responsibility
DELIVERED = datetime(2026, 3, 2, 12, tzinfo=UTC)


def make_case(reason: ReasonCode | None, *, delivered: bool = True, **fields: Any) -> Case:
    milestones: dict[str, Any] = {"ordered_at": datetime(2026, 2, 26, tzinfo=UTC),
                                  "return_requested_at": datetime(2026, 3, 5, tzinfo=UTC)}
    if delivered:
        milestones["delivered_at"] = DELIVERED
    milestones.update(fields.pop("milestones", {}))
    return Case(
        case_id="case-responsibility-test",
        buyer_country=fields.pop("buyer_country", "DE"),
        reason_code=reason,
        opened_at=datetime(2026, 3, 5, tzinfo=UTC),
        milestones=CaseMilestones(**milestones),
        **fields,
    )


def return_leg(status: ShipmentStatus) -> CaseShipment:
    return CaseShipment(tracking_number="1Z999AA10123456784", status=status, carrier="UPS",
                        updated_at=datetime(2026, 3, 4, tzinfo=UTC))


def test_parcel_damaged_by_the_carrier_is_the_carriers() -> None:
    case = make_case("damaged", shipment=return_leg("exception"))

    result = assess(case, RULES)

    assert result.party == "carrier"
    assert result.resolution == "reship"
    assert result.return_shipping_paid_by == "merchant"
    assert result.rule_id == "carrier-transit-exception"
    assert "CMR art. 17" in result.source


def test_damage_without_a_carrier_exception_is_the_merchants() -> None:
    result = assess(make_case("damaged", shipment=return_leg("in_transit")), RULES)

    assert (result.party, result.rule_id) == ("merchant", "merchant-damaged-no-carrier-evidence")


def test_parcel_that_never_arrived_is_lost_by_the_carrier() -> None:
    result = assess(make_case("lost_in_transit", delivered=False), RULES)

    assert (result.party, result.resolution, result.rule_id) == (
        "carrier", "reship", "carrier-lost-undelivered")


def test_wrong_item_is_the_merchants_and_exchanged_at_its_cost() -> None:
    result = assess(make_case("wrong_item"), RULES)

    assert result.party == "merchant"
    assert result.resolution == "exchange"
    assert result.return_shipping_paid_by == "merchant"
    assert result.duties_paid_by == "merchant"
    assert result.rule_id == "merchant-wrong-item"


def test_changed_mind_inside_the_window_is_returned_at_the_buyers_cost() -> None:
    case = make_case("changed_mind")
    at = datetime(2026, 3, 6, tzinfo=UTC)

    result = assess_case(case, POLICY, at=at).responsibility

    assert result.party == "customer"
    assert result.resolution == "return_and_refund"
    assert result.return_shipping_paid_by == "customer"
    assert result.rule_id == "customer-changed-mind"


def test_changed_mind_after_the_window_is_rejected_with_the_reason() -> None:
    # Delivered 2 March to a German buyer, no marketplace: the 14 days end on 16 March.
    late = make_case("changed_mind", milestones={"return_requested_at": datetime(2026, 3, 25,
                                                                                 tzinfo=UTC)})

    assessment = assess_case(late, POLICY, at=datetime(2026, 3, 25, tzinfo=UTC))

    assert assessment.window.state == "outside_window"
    assert assessment.responsibility.resolution == "reject_with_reason"
    assert assessment.responsibility.rule_id == "customer-outside-window"


def test_a_window_condition_does_not_match_without_a_window_state() -> None:
    assert assess(make_case("changed_mind"), RULES).rule_id == "customer-changed-mind"


def test_customs_seizure_is_force_majeure_whatever_the_stated_reason() -> None:
    case = make_case("lost_in_transit", delivered=False,
                     customs=CaseCustoms(status="seized", country="DE"))

    result = assess(case, RULES)

    assert result.party == "force_majeure"
    assert result.resolution == "full_refund"
    assert result.rule_id == "customs-seized-or-refused"


def test_fraud_goes_through_the_payment_dispute_not_a_refund() -> None:
    result = assess(make_case("fraud", disputed=True, status="disputed"), RULES)

    assert (result.party, result.resolution) == ("payment_dispute", "reject_with_reason")


def test_a_declared_disruption_makes_a_late_delivery_force_majeure() -> None:
    strike = Disruption(id="de-parcel-strike", countries=("DE",), start=date(2026, 2, 27),
                        end=date(2026, 3, 10), description="Parcel carriers on strike",
                        source="Carrier service alert")
    rules = RULES.model_copy(update={"disruptions": (strike,)})
    hit = make_case("late_delivery", delivered=False)
    elsewhere = make_case("late_delivery", delivered=False, buyer_country="FR")

    result = assess(hit, rules)

    assert (result.party, result.rule_id, result.disruption_id) == (
        "force_majeure", "declared-disruption", "de-parcel-strike")
    assert assess(elsewhere, rules).rule_id == "merchant-late-undelivered"


@pytest.mark.parametrize(
    ("case", "rule_id", "party", "resolution"),
    [
        (make_case("late_delivery", delivered=False), "merchant-late-undelivered", "merchant",
         "full_refund"),
        (make_case("late_delivery"), "merchant-late-delivered", "merchant", "partial_refund"),
        (make_case("defective"), "merchant-defective", "merchant", "repair"),
        (make_case("not_as_described"), "merchant-not-as-described", "merchant",
         "return_and_refund"),
        (make_case("missing_parts"), "merchant-missing-parts", "merchant", "reship"),
        (make_case("size_fit"), "customer-size-fit", "customer", "exchange"),
        (make_case("other"), "manual-review", "undetermined", "manual_review"),
        (make_case(None), "manual-review", "undetermined", "manual_review"),
        (make_case("wrong_item", customs=CaseCustoms(status="refused")),
         "customs-seized-or-refused", "force_majeure", "full_refund"),
    ],
)
def test_each_reason_has_its_rule(case: Case, rule_id: str, party: str, resolution: str) -> None:
    result = assess(case, RULES)

    assert (result.rule_id, result.party, result.resolution) == (rule_id, party, resolution)
    assert result.explanation and result.source


def test_every_shipped_rule_can_be_reached() -> None:
    strike = Disruption(id="strike", countries=("DE",), start=date(2026, 3, 1),
                        end=date(2026, 3, 3), description="strike", source="alert")
    with_strike = RULES.model_copy(update={"disruptions": (strike,)})
    scenarios: list[tuple[ReasonCode | None, bool, dict[str, Any], bool, WindowState | None]] = [
        ("fraud", True, {}, False, None),
        ("other", True, {"customs": CaseCustoms(status="seized")}, False, None),
        ("other", True, {}, True, None),
        ("lost_in_transit", False, {}, False, None),
        ("damaged", True, {"shipment": return_leg("returned_to_sender")}, False, None),
        ("damaged", True, {}, False, None),
        ("wrong_item", True, {}, False, None),
        ("defective", True, {}, False, None),
        ("not_as_described", True, {}, False, None),
        ("missing_parts", True, {}, False, None),
        ("late_delivery", False, {}, False, None),
        ("late_delivery", True, {}, False, None),
        ("size_fit", True, {}, False, "outside_window"),
        ("size_fit", True, {}, False, "within_window"),
        ("changed_mind", True, {}, False, "within_window"),
        (None, True, {}, False, None),
    ]
    reached = {
        assess(make_case(reason, delivered=delivered, **extra), with_strike if fm else RULES,
               window=window).rule_id
        for reason, delivered, extra, fm, window in scenarios
    }

    assert reached == {rule.id for rule in RULES.rules}


@pytest.mark.parametrize(
    ("country", "cited"),
    [
        ("DE", "Directive (EU) 2019/771"),
        ("GB", "Consumer Rights Act 2015 s. 11"),
        ("US", "Uniform Commercial Code § 2-313"),
        ("SA", "Marketplace return policies"),
        ("JP", "Marketplace return policies"),
    ],
)
def test_the_source_is_the_buyers_own_law_or_the_marketplace_policy(
    country: str, cited: str
) -> None:
    result = assess(make_case("wrong_item", buyer_country=country), RULES)

    assert result.rule_id == "merchant-wrong-item"
    assert result.source.startswith(cited)
