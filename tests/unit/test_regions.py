"""Regions: the shipped configuration, routing rules, and validation listing every problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from schemas.case import Case
from translations.catalogs import shipped_locales
from translations.errors import LocalizationConfigError, UnknownRegionError
from translations.regions import REGIONS, load_regions, parse_regions, region, routes_for

EXPECTED = [
    ("US", "en_US", "America/New_York", "en"),
    ("UK", "en_GB", "Europe/London", "en"),
    ("DE", "de_DE", "Europe/Berlin", "de"),
    ("FR", "fr_FR", "Europe/Paris", "fr"),
    ("ES", "es_ES", "Europe/Madrid", "es"),
    ("BR", "pt_BR", "America/Sao_Paulo", "pt"),
    ("MX", "es_MX", "America/Mexico_City", "es"),
    ("JP", "ja_JP", "Asia/Tokyo", "ja"),
    ("CN", "zh_Hans_CN", "Asia/Shanghai", "zh"),
    ("SA", "ar_SA", "Asia/Riyadh", "ar"),
]


def case(**fields: Any) -> Case:
    return Case(case_id="case-1", **fields)


def codes(regions: list[Any]) -> list[str]:
    return [found.code for found in regions]


@pytest.mark.parametrize(("code", "locale", "zone", "language"), EXPECTED)
def test_shipped_region(code: str, locale: str, zone: str, language: str) -> None:
    found = region(code)
    assert (found.locale, found.time_zone, found.language) == (locale, zone, language)
    assert found.locale in shipped_locales()
    assert found.zone.key == zone
    assert found.direction == ("rtl" if code == "SA" else "ltr")


def test_every_shipped_region_is_expected_and_default_is_us() -> None:
    assert REGIONS.codes == [row[0] for row in EXPECTED]
    assert REGIONS.default.code == "US"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"buyer_country": "DE"}, ["DE"], id="buyer-country"),
        pytest.param({"buyer_country": "AT"}, ["DE"], id="buyer-country-dach"),
        pytest.param({"buyer_country": "GB"}, ["UK"], id="gb-is-uk"),
        pytest.param({"marketplace": "A1PA6795UKMFR9"}, ["DE"], id="amazon-de"),
        pytest.param({"marketplace": "A1VC38T7YXB528"}, ["JP"], id="amazon-jp"),
        pytest.param({"marketplace": "MLB"}, ["BR"], id="mercadolibre-brazil"),
        pytest.param({"marketplace": "mlm"}, ["MX"], id="site-case-insensitive"),
        pytest.param({"marketplace": "A17E79C6D8DWNP", "buyer_country": "SA"}, ["SA"], id="sa"),
        pytest.param({"marketplace": "shopify", "buyer_country": "FR"}, ["US", "FR"],
                     id="shopify-store-team-and-buyer-region"),
        pytest.param({"buyer_country": "US", "seller_country": "CN"}, ["US", "CN"],
                     id="chinese-seller"),
        pytest.param({"buyer_country": "ZA", "seller_country": "AE"}, ["SA"],
                     id="gulf-seller"),
        pytest.param({"marketplace": "rakuma-jp"}, ["JP"], id="rakuma-hub-protocol"),
        pytest.param({"buyer_country": "DE", "marketplace": "rakuma-jp", "seller_country": "SA"},
                     ["DE", "JP", "SA"], id="three-regions-at-once"),
        pytest.param({"buyer_country": "ZA"}, ["US"], id="no-match-default"),
        pytest.param({}, ["US"], id="nothing-known-default"),
    ],
)
def test_routes_for(fields: dict[str, Any], expected: list[str]) -> None:
    assert codes(routes_for(case(**fields))) == expected


def test_routes_by_seller_team() -> None:
    assert codes(routes_for(case(buyer_country="ZA"), seller_team="jp-support")) == ["JP"]
    assert codes(routes_for(case(buyer_country="DE"), seller_team="jp-support")) == ["DE", "JP"]


def test_default_region_is_configurable() -> None:
    config = load_regions(default_region="UK")
    assert codes(config.routes_for(case(buyer_country="ZA"))) == ["UK"]


def test_unknown_region_code() -> None:
    assert region("jp").code == "JP"
    with pytest.raises(UnknownRegionError, match="unknown region 'XX'.*known: US, UK"):
        region("XX")


def _valid() -> dict[str, Any]:
    return {
        "default_region": "AA",
        "regions": {
            "AA": {"name": "A", "locale": "en_US", "time_zone": "UTC",
                   "buyer_countries": ["US"], "marketplaces": ["m1"], "seller_teams": ["a"]},
            "BB": {"name": "B", "locale": "de_DE", "time_zone": "Europe/Berlin",
                   "buyer_countries": ["DE"], "marketplaces": ["m2"], "seller_teams": ["b"]},
        },
    }


def test_a_valid_document_parses() -> None:
    config = parse_regions(_valid())
    assert config.codes == ["AA", "BB"]


def test_validation_lists_every_problem() -> None:
    raw = _valid()
    raw["default_region"] = "ZZ"
    raw["regions"]["AA"].update(locale="xx_YY", time_zone="Mars/Olympus", buyer_countries=["UK"])
    raw["regions"]["BB"].update(locale="it_IT", marketplaces=["M1"], seller_teams=["Team B"])
    raw["regions"]["BB"]["colour"] = "blue"
    with pytest.raises(LocalizationConfigError) as caught:
        parse_regions(raw)
    problems = "\n".join(caught.value.problems)
    for expected in (
        "regions.AA.locale: Value error, unknown CLDR locale 'xx_YY'",
        "regions.AA.time_zone: Value error, unknown IANA time zone 'Mars/Olympus'",
        "regions.AA.buyer_countries: Value error, not ISO 3166-1 alpha-2 country codes: UK",
        "regions.BB.locale: Value error, no catalog translations/it_IT/LC_MESSAGES/messages.po",
        "regions.BB.seller_teams: Value error, team names are lower-case slugs: Team B",
        "regions.BB.colour: Extra inputs are not permitted",
        "default_region: 'ZZ' is not a region",
        "regions: marketplaces 'm1' is claimed by AA and BB",
    ):
        assert expected in problems
    assert len(caught.value.problems) == 8
    assert str(caught.value).startswith("invalid regions:\n  ")


def test_a_country_claimed_twice_is_a_problem() -> None:
    raw = _valid()
    raw["regions"]["BB"]["buyer_countries"] = ["DE", "US"]
    claimed = "buyer_countries 'US' is claimed by AA and BB"
    with pytest.raises(LocalizationConfigError, match=claimed):
        parse_regions(raw)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        pytest.param("default_region = [", "regions.toml", id="not-toml"),
        pytest.param('default_region = "AA"\n[regions]\n', "at least one region", id="empty"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "regions.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LocalizationConfigError, match=match):
        load_regions(path)
