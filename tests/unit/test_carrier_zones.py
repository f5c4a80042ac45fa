"""Scan location -> IANA zone for carriers' local times without offset (`_zones`)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from connectors.carriers._zones import CITY_ZONES, STATE_ZONES, Place, resolve_zone


@pytest.mark.parametrize(
    ("place", "zone"),
    [
        (Place("DE"), "Europe/Berlin"),
        (Place("de", city="Neuss"), "Europe/Berlin"),
        (Place("GB"), "Europe/London"),
        (Place("FR"), "Europe/Paris"),
        (Place("CN", state="Xinjiang"), "Asia/Shanghai"),
        (Place("JP"), "Asia/Tokyo"),
        (Place("US", "NC", "Charlotte"), "America/New_York"),
        (Place("US", "ca"), "America/Los_Angeles"),
        (Place("US", "HI"), "Pacific/Honolulu"),
        (Place("CA", "AB", "Calgary"), "America/Edmonton"),
        (Place("BR", "SP", "São Paulo"), "America/Sao_Paulo"),
        (Place("BR", "AM", "Manaus"), "America/Manaus"),
        (Place("AU", "QLD"), "Australia/Brisbane"),
        (Place("US", "TX", "El Paso"), "America/Denver"),
        (Place("US", "TX", "HOUSTON"), "America/Chicago"),
        (Place("US", "IN", "Indianapolis"), "America/Indiana/Indianapolis"),
        (Place("US", "KY", "LOUISVILLE"), "America/Kentucky/Louisville"),
        (Place("CA", "ON", "Toronto"), "America/Toronto"),
        # Single-zone countries come from the IANA tz database, not from a hand-kept list.
        (Place("KW"), "Asia/Kuwait"),
        (Place("QA", city="Doha"), "Asia/Qatar"),
        (Place("VE"), "America/Caracas"),
        (Place("MC"), "Europe/Monaco"),
    ],
)
def test_certain_places_resolve(place: Place, zone: str) -> None:
    assert resolve_zone(place) == zone


@pytest.mark.parametrize(
    "place",
    [
        Place(None),
        Place("US"),
        Place("US", "TX"),
        Place("US", "TX", "Mesquite"),
        Place("US", "AZ"),
        Place("CA", "ON", "Thunder Bay"),
        Place("BR"),
        Place("ES", city="Madrid"),
        Place("PT"),
        Place("AU", "NSW"),
        Place("RU", city="Moscow"),
        Place("EC"),  # Galapagos keeps UTC-6
        Place("XX"),
    ],
)
def test_uncertain_places_do_not_resolve(place: Place) -> None:
    assert resolve_zone(place) is None


def test_every_zone_in_the_tables_is_a_real_iana_zone() -> None:
    names = {zone for states in STATE_ZONES.values() for zone in states.values()}
    names |= {zone for cities in CITY_ZONES.values() for zone in cities.values()}
    for name in names:
        assert ZoneInfo(name).key == name


def test_split_states_resolve_only_through_cities() -> None:
    for country, state in CITY_ZONES:
        assert state not in STATE_ZONES.get(country, {}), f"{country}/{state} is split"
