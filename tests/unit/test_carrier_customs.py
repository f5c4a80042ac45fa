"""The customs-milestone recognizer shared by every carrier connector (`_customs`)."""

from __future__ import annotations

import pytest

from connectors.carriers._customs import SCAN_TEXT_MATCHED, recognize_customs
from connectors.carriers._status import refine_from_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # English (DHL Express, UPS, FedEx via AfterShip)
        ("The shipment is pending completion of customs inspection.", "held"),
        ("Your package is being held for a customs inspection.", "held"),
        ("Clearance delay - Import", "held"),
        ("Clearance processing complete at LEIPZIG - GERMANY", "released"),
        ("Your package was released by the customs agency.", "released"),
        ("International shipment release - Import", "released"),
        ("International shipment release - Export", "released"),
        ("In transit - Package available for clearance", "in_clearance"),
        ("Customs status updated", "in_clearance"),
        ("Import duties and taxes are due before delivery", "duties_due"),
        ("Duties and taxes paid", "duties_paid"),
        ("Customs declaration submitted electronically", "declared"),
        ("Shipment seized by customs", "seized"),
        ("Entry refused by customs authority", "refused"),
        # German (DHL Paket, Deutsche Post)
        ("Die Sendung wird beim Zoll zurückgehalten.", "held"),
        ("Die Sendung wurde vom Zoll freigegeben.", "released"),
        ("Die Zollabfertigung ist abgeschlossen.", "released"),
        ("Einfuhrabgaben sind vom Empfänger zu zahlen.", "duties_due"),
        ("Die Sendung befindet sich in der Zollabfertigung.", "in_clearance"),
        # Chinese (China Post, Cainiao, 4PX via 17TRACK)
        ("【德国】进口海关查验（扣留）", "held"),
        ("包裹被海关扣留", "held"),
        ("【德国】海关放行", "released"),
        ("进口清关完成", "released"),
        ("清关中", "in_clearance"),
        ("已交海关", "in_clearance"),
        ("出口报关", "declared"),
        ("关税待缴，请收件人缴纳税费", "duties_due"),
        ("海关没收", "seized"),
        # Portuguese / Spanish (Correios, postal services of Latin America)
        ("Fiscalização aduaneira finalizada", "released"),
        ("Objeto retido pela alfândega", "held"),
        ("En proceso de aduana", "in_clearance"),
    ],
)
def test_milestones_in_scan_text(text: str, expected: str) -> None:
    assert recognize_customs(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Customer not home",
        "Customised item dispatched",
        "Import Scan",
        "Out For Delivery Today",
        "Die Sendung wurde erfolgreich zugestellt.",
        "【柏林】已妥投",
        "【广州市】已收寄，揽投员：张伟",
        "",
        None,
    ],
)
def test_routine_scans_are_not_customs(text: str | None) -> None:
    assert recognize_customs(text) is None


def test_several_texts_of_one_scan_are_read_together() -> None:
    assert (
        recognize_customs(
            "JESSICA", "DELIVERED", "The shipment is pending completion of customs inspection."
        )
        == "held"
    )


def test_machine_codes_with_underscores_read_as_words() -> None:
    assert recognize_customs("CUSTOMS_CLEARANCE_COMPLETED") == "released"


def test_a_specific_code_wins_over_the_text() -> None:
    assert recognize_customs("Departure Scan", code_status="released") == "released"
    assert recognize_customs("海关查验", code_status="released") == "released"


def test_a_generic_code_yields_to_more_specific_text() -> None:
    assert recognize_customs("【德国】进口海关查验（扣留）", code_status="in_clearance") == "held"
    assert recognize_customs("Arrived at facility", code_status="in_clearance") == "in_clearance"


def test_the_rules_read_a_scan_text_only_as_far_as_scan_texts_run() -> None:
    """The matching cost is bounded by the input, not by the length of a hostile text."""
    padding = "x" * (SCAN_TEXT_MATCHED - len("held by customs") - 1)
    assert recognize_customs(f"{padding} held by customs") == "held"
    assert recognize_customs(f"{padding}xx held by customs") is None
    assert refine_from_text("in_transit", f"{padding}xx out for delivery") == "in_transit"


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("held held held held, then customs", "held"),
        ("customs: parcel held", "held"),
        ("seized seized seized", None),
        ("customs customs customs", "in_clearance"),
        ("Zoll: Sendung zurückgehalten", "held"),
        ("duties duties and then payment due", "duties_due"),
    ],
)
def test_word_then_later_word_rules_find_any_pair_in_order(
    text: str, status: str | None
) -> None:
    assert recognize_customs(text) == status
