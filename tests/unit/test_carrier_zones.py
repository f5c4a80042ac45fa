"""Scan location -> IANA zone for carriers' local times without offset (`_zones`)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from connectors.carriers._zones import (
    CITY_ZONES,
    STATE_ZONES,
    Place,
    country_names,
    place_in_text,
    resolve_zone,
)


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


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("LEIPZIG - GERMANY", Place("DE", city="LEIPZIG")),
        ("HONG KONG - HONG KONG SAR, CHINA", Place("HK", city="HONG KONG")),
        ("MANILA - PHILIPPINES, THE", Place("PH", city="MANILA")),
        ("SHENZHEN - CHINA MAINLAND", Place("CN", city="SHENZHEN")),
        ("EXAMPLE - THE PEOPLE'S REPUBLIC OF CHINA", Place("CN", city="EXAMPLE")),
        ("SEOUL - KOREA, REPUBLIC OF (SOUTH K.)", Place("KR", city="SEOUL")),
        ("PRAGUE - CZECH REPUBLIC, THE", Place("CZ", city="PRAGUE")),
        ("ISTANBUL - TURKEY", Place("TR", city="ISTANBUL")),
        ("CINCINNATI HUB, OH - USA", Place("US", "OH", "CINCINNATI")),
        ("EXAMPLE HUB - Ohio - USA", Place("US", "OH", "EXAMPLE")),
        ("RICHMOND - VIRGINIA,VA - USA", Place("US", "VA", "RICHMOND")),
        ("TORONTO - ONTARIO - CANADA", Place("CA", "ON", "TORONTO")),
        ("BRISBANE - QLD - AUSTRALIA", Place("AU", "QLD", "BRISBANE")),
        # The response's language: German, French, Spanish, Portuguese, Chinese, Japanese.
        ("MÜNCHEN - DEUTSCHLAND", Place("DE", city="MUNCHEN")),
        ("LYON - FRANCE", Place("FR", city="LYON")),
        ("HAMBOURG - ALLEMAGNE", Place("DE", city="HAMBOURG")),
        ("MADRID - ESPAÑA", Place("ES", city="MADRID")),
        ("SÃO PAULO - BRASIL", Place("BR", city="SAO PAULO")),
        ("莱比锡 - 德国", Place("DE", city="莱比锡")),
        ("ライプツィヒ - ドイツ", Place("DE", city="ライプツィヒ")),
    ],
)
def test_places_written_as_text(text: str, place: Place) -> None:
    assert place_in_text(text) == place


@pytest.mark.parametrize(
    "text",
    ["FRANCE", "GEORGIA", "EXAMPLE - EXAMPLELAND", "Customs status updated", "", None],
)
def test_texts_that_name_no_country_after_a_dash_place_nothing(text: str | None) -> None:
    assert place_in_text(text) is None


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("LEIPZIG - GERMANY", "Europe/Berlin"),
        ("HONG KONG - HONG KONG SAR, CHINA", "Asia/Hong_Kong"),
        ("DHAKA - BANGLADESH", "Asia/Dhaka"),
        ("CINCINNATI HUB, OH - USA", "America/New_York"),
        ("HOUSTON, TX - USA", "America/Chicago"),
        ("NEWARK - USA", None),
        ("TORONTO - ON - CANADA", "America/Toronto"),
        ("THUNDER BAY - ON - CANADA", None),
    ],
)
def test_a_place_in_words_is_held_to_the_same_certainty(text: str, zone: str | None) -> None:
    place = place_in_text(text)
    assert place is not None
    assert resolve_zone(place) == zone


def test_country_names_are_unambiguous_and_iso_codes() -> None:
    names = country_names()
    assert names["GERMANY"] == names["DEUTSCHLAND"] == names["ALLEMAGNE"] == "DE"
    assert all(len(code) == 2 and code.isupper() for code in names.values())
