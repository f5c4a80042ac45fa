"""The customs-milestone recognizer shared by every carrier connector (`_customs`)."""

from __future__ import annotations

import json

import pytest

from connectors.carriers._customs import SCAN_TEXT_MATCHED, recognize_customs
from connectors.carriers._status import refine_from_text
from connectors.registry import connector_for
from tests.support.connector_fixtures import RECEIVED_AT


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


# --- The same customs fact in each language, through each carrier -------------------------------
# Per language: a hold, a clearance in progress and a release, in the wording the carriers of
# that language use (see the rules' comment in `_customs`).
PHRASES_BY_LANGUAGE: dict[str, list[tuple[str, str]]] = {
    "en": [
        ("Shipment on hold at customs", "held"),
        ("Customs inspection in progress", "held"),
        ("Customs clearance status updated", "in_clearance"),
        ("Processed for clearance at MANILA - PHILIPPINES, THE", "in_clearance"),
        ("Released from customs", "released"),
        ("Shipment released from customs - Import", "released"),
        ("Cleared by customs", "released"),
        ("Package has cleared the customs", "released"),
        ("Your package has been released by the government agency.", "released"),
        ("Received from customs", "released"),
    ],
    "de": [
        ("Die Sendung wird vom Zoll festgehalten.", "held"),
        ("Die Sendung befindet sich in der Verzollung.", "in_clearance"),
        ("Freigabe durch den Zoll", "released"),
        ("Zollfreigabe erteilt", "released"),
        ("Verzollung abgeschlossen", "released"),
        ("Die Sendung hat den Zoll passiert.", "released"),
    ],
    "zh": [
        ("【法兰克福】海关查验", "held"),
        ("包裹被海關扣留", "held"),
        ("清关中", "in_clearance"),
        ("進口清關中", "in_clearance"),
        ("清关已完成", "released"),
        ("清關完成", "released"),
        ("海關放行", "released"),
    ],
    "ja": [
        ("税関検査中", "held"),
        ("税関で保留中", "held"),
        ("通関手続中", "in_clearance"),
        ("通関手続完了", "released"),
        ("輸入許可", "released"),
        ("税関から受領", "released"),
    ],
    "es": [
        ("Retenido en aduana", "held"),
        ("En proceso de despacho aduanero", "in_clearance"),
        ("Liberado de aduana", "released"),
        ("Despachado de aduana", "released"),
        ("Trámite aduanero finalizado", "released"),
    ],
    "pt": [
        ("Retido pela Alfândega", "held"),
        ("Encaminhado para fiscalização aduaneira", "in_clearance"),
        ("Liberado sem tributação", "released"),
        ("Desembaraço aduaneiro concluído", "released"),
        ("Objeto liberado pela fiscalização", "released"),
    ],
    "fr": [
        ("Colis retenu en douane", "held"),
        ("Colis bloqué en douane", "held"),
        ("En cours de dédouanement", "in_clearance"),
        ("Dédouanement terminé", "released"),
        ("Colis dédouané", "released"),
        ("Libéré par la douane", "released"),
    ],
}
_PHRASES = [
    pytest.param(text, status, id=f"{language}-{status}-{index}")
    for language, table in PHRASES_BY_LANGUAGE.items()
    for index, (text, status) in enumerate(table)
]


def test_every_language_has_a_hold_a_clearance_and_a_release() -> None:
    for language, table in PHRASES_BY_LANGUAGE.items():
        assert {status for _, status in table} == {"held", "in_clearance", "released"}, language


@pytest.mark.parametrize(("text", "status"), _PHRASES)
def test_customs_phrases_per_language(text: str, status: str) -> None:
    assert recognize_customs(text) == status


def _dhl(text: str) -> bytes:
    return json.dumps({"shipments": [{"id": "1234567890", "service": "express", "events": [{
        "timestamp": "2025-03-01T10:00:00+01:00", "statusCode": "transit",
        "location": {"address": {"countryCode": "DE", "addressLocality": "LEIPZIG - GERMANY"}},
        "description": text}]}]}).encode()


def _ups(text: str) -> bytes:
    return json.dumps({
        "trackingNumber": "1Z999AA10123456784", "localActivityDate": "20250301",
        "localActivityTime": "100000", "gmtActivityDate": "20250301", "gmtActivityTime": "090000",
        "activityLocation": {"city": "LEIPZIG", "country": "DE"},
        "activityStatus": {"type": "I", "code": "XX", "description": text},
    }).encode()


def _aftership(text: str) -> bytes:
    return json.dumps({"event": "tracking_update", "msg": {
        "tracking_number": "1234567890", "slug": "dhl", "checkpoints": [{
            "checkpoint_time": "2025-03-01T10:00:00+01:00", "message": text,
            "tag": "InTransit", "subtag": "InTransit_001", "country_iso3": "DEU"}]}}).encode()


def _track17(text: str) -> bytes:
    return json.dumps({"event": "TRACKING_UPDATED", "data": {
        "number": "RR123456785CN", "carrier": 3011, "track_info": {"tracking": {"providers": [{
            "provider": {"key": 3011}, "events": [{
                "time_iso": "2025-03-01T10:00:00+01:00", "description": text,
                "stage": "Arrival", "address": {"country": "DE"}}]}]}}}}).encode()


_CARRIERS = {"dhl": _dhl, "ups": _ups, "aftership": _aftership, "17track": _track17}


@pytest.mark.parametrize(("text", "status"), _PHRASES)
def test_one_customs_phrase_reads_the_same_through_every_carrier(text: str, status: str) -> None:
    found = {}
    for source, payload in _CARRIERS.items():
        events = connector_for(source).parse(payload(text), received_at=RECEIVED_AT)
        found[source] = [event.customs.status for event in events if event.customs is not None]
    assert found == dict.fromkeys(_CARRIERS, [status])
