"""Where a carrier scan happened -> its IANA time zone, for carriers that send local wall times.

UPS (`date`/`time`, `localActivityDate`/`localActivityTime`), some DHL products and a few
aggregated carriers state a scan's wall time without an offset. The hub places such a time in
the zone of the scan's location, looked up in the small tables below, and never guesses:

* a country whose whole territory keeps one civil time resolves from its ISO code alone
  (`schemas.territories.single_zone`, from the IANA tz database);
* a country with several zones resolves only through its state/province (`STATE_ZONES`);
* a state split between zones (Texas, Indiana, Florida, Ontario...) has no default: it resolves
  only when the scan's city is listed for it in `CITY_ZONES`;
* anything else (unknown country, missing state, unlisted city of a split state) is unresolved:
  `resolve_zone` returns None and the connector falls back to the hub's receive time with
  `time_source="received"` (see `connectors.carriers._common`).

Sources: the IANA tz database (`zone.tab`, through `schemas.territories`) for countries and their
zones, and each country's official time-zone boundaries (US DOT 49 CFR part 71, Canada's
provincial time acts, Brazil Decree 11.662/2023, Australian state legislation) for the state and
city tables. A second zone that keeps the same time (Busingen in DE) does not stop a country from
resolving; one that does not (Lord Howe, Fernando de Noronha, Chatham, Azores, Canary Islands)
is why PT, ES, NZ and AU/NSW do not resolve from the country alone. China legally observes
Beijing time everywhere (Asia/Urumqi is an unofficial local convention), so CN resolves to
Asia/Shanghai.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.territories import single_zone

STATE_ZONES: dict[str, dict[str, str]] = {
    "US": {
        **dict.fromkeys(
            "CT DC DE GA MA MD ME NC NH NJ NY OH PA RI SC VA VT WV".split(), "America/New_York"
        ),
        **dict.fromkeys("AL AR IA IL LA MN MO MS OK WI".split(), "America/Chicago"),
        **dict.fromkeys("CO MT NM UT WY".split(), "America/Denver"),
        **dict.fromkeys("CA WA".split(), "America/Los_Angeles"),
        "HI": "Pacific/Honolulu",
        "PR": "America/Puerto_Rico",
    },
    "CA": {
        "AB": "America/Edmonton", "MB": "America/Winnipeg", "NB": "America/Moncton",
        "NS": "America/Halifax", "PE": "America/Halifax", "YT": "America/Whitehorse",
    },
    "BR": {
        **dict.fromkeys("SP RJ MG ES PR SC RS GO DF".split(), "America/Sao_Paulo"),
        "BA": "America/Bahia", "AL": "America/Maceio", "SE": "America/Maceio",
        **dict.fromkeys("CE PI MA RN PB".split(), "America/Fortaleza"),
        "AP": "America/Belem", "TO": "America/Araguaina", "MT": "America/Cuiaba",
        "MS": "America/Campo_Grande", "RO": "America/Porto_Velho", "AC": "America/Rio_Branco",
        "RR": "America/Boa_Vista",
    },
    "AU": {
        "ACT": "Australia/Sydney", "VIC": "Australia/Melbourne", "QLD": "Australia/Brisbane",
        "SA": "Australia/Adelaide", "TAS": "Australia/Hobart", "NT": "Australia/Darwin",
    },
}
"""Multi-zone countries: states wholly inside one zone. Split states are deliberately absent:
US AK AZ (Navajo Nation keeps DST) FL ID IN KS KY MI ND NE NV OR SD TN TX; CA BC NL NT NU ON QC SK;
BR AM PA PE; AU NSW WA."""

CITY_ZONES: dict[tuple[str, str], dict[str, str]] = {
    ("US", "TX"): {
        **dict.fromkeys(
            ("HOUSTON", "DALLAS", "AUSTIN", "SAN ANTONIO", "FORT WORTH", "LAREDO"),
            "America/Chicago",
        ),
        "EL PASO": "America/Denver",
    },
    ("US", "FL"): {
        **dict.fromkeys(
            ("MIAMI", "ORLANDO", "TAMPA", "JACKSONVILLE", "TALLAHASSEE", "FORT LAUDERDALE"),
            "America/New_York",
        ),
        "PENSACOLA": "America/Chicago",
    },
    ("US", "IN"): {
        **dict.fromkeys(
            ("INDIANAPOLIS", "FORT WAYNE", "SOUTH BEND"), "America/Indiana/Indianapolis"
        ),
        **dict.fromkeys(("GARY", "EVANSVILLE"), "America/Chicago"),
    },
    ("US", "KY"): {
        **dict.fromkeys(("LOUISVILLE", "LEXINGTON", "HEBRON"), "America/Kentucky/Louisville"),
        "BOWLING GREEN": "America/Chicago",
    },
    ("US", "TN"): {
        **dict.fromkeys(("NASHVILLE", "MEMPHIS"), "America/Chicago"),
        **dict.fromkeys(("KNOXVILLE", "CHATTANOOGA"), "America/New_York"),
    },
    ("US", "MI"): dict.fromkeys(("DETROIT", "GRAND RAPIDS", "LANSING"), "America/Detroit"),
    ("US", "OR"): dict.fromkeys(("PORTLAND", "SALEM", "EUGENE"), "America/Los_Angeles"),
    ("US", "NV"): dict.fromkeys(("LAS VEGAS", "RENO", "HENDERSON"), "America/Los_Angeles"),
    ("US", "ID"): {"BOISE": "America/Boise", "COEUR D'ALENE": "America/Los_Angeles"},
    ("US", "AZ"): dict.fromkeys(("PHOENIX", "TUCSON", "MESA", "TEMPE"), "America/Phoenix"),
    ("US", "AK"): {"ANCHORAGE": "America/Anchorage", "JUNEAU": "America/Juneau"},
    ("US", "KS"): dict.fromkeys(("WICHITA", "KANSAS CITY", "TOPEKA", "LENEXA"), "America/Chicago"),
    ("US", "NE"): dict.fromkeys(("OMAHA", "LINCOLN"), "America/Chicago"),
    ("US", "ND"): dict.fromkeys(("FARGO", "BISMARCK"), "America/Chicago"),
    ("US", "SD"): {"SIOUX FALLS": "America/Chicago", "RAPID CITY": "America/Denver"},
    ("CA", "ON"): dict.fromkeys(
        ("TORONTO", "OTTAWA", "MISSISSAUGA", "BRAMPTON", "HAMILTON", "LONDON"), "America/Toronto"
    ),
    ("CA", "QC"): dict.fromkeys(("MONTREAL", "QUEBEC", "LAVAL", "GATINEAU"), "America/Toronto"),
    ("CA", "BC"): dict.fromkeys(
        ("VANCOUVER", "RICHMOND", "BURNABY", "SURREY", "VICTORIA", "DELTA"), "America/Vancouver"
    ),
    ("CA", "SK"): dict.fromkeys(("REGINA", "SASKATOON"), "America/Regina"),
    ("AU", "NSW"): dict.fromkeys(("SYDNEY", "NEWCASTLE", "WOLLONGONG"), "Australia/Sydney"),
    ("AU", "WA"): dict.fromkeys(("PERTH", "FREMANTLE"), "Australia/Perth"),
    ("BR", "PE"): {"RECIFE": "America/Recife"},
    ("BR", "AM"): {"MANAUS": "America/Manaus"},
    ("BR", "PA"): {"BELEM": "America/Belem", "SANTAREM": "America/Santarem"},
}
"""Listed cities of split states (upper case, ASCII as carriers write them)."""


@dataclass(frozen=True, slots=True)
class Place:
    """Where a scan happened, as much as the carrier said."""

    country: str | None
    state: str | None = None
    city: str | None = None


def resolve_zone(place: Place) -> str | None:
    """The IANA zone of a scan location, or None when the tables cannot say it for certain."""
    country = (place.country or "").strip().upper()
    if not country:
        return None
    whole_country = single_zone(country)
    if whole_country is not None:
        return whole_country
    state = (place.state or "").strip().upper()
    if not state:
        return None
    by_state = STATE_ZONES.get(country, {})
    if state in by_state:
        return by_state[state]
    city = " ".join((place.city or "").replace(".", " ").upper().split())
    return CITY_ZONES.get((country, state), {}).get(city) if city else None
