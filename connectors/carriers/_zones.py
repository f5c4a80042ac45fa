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

Places written as text. Some carriers name the place only in words: DHL Express gives no
`countryCode`, only an `addressLocality` such as "LEIPZIG - GERMANY", "HONG KONG - HONG KONG SAR,
CHINA", "CINCINNATI HUB, OH - USA" or "EXAMPLE - ONTARIO - CANADA", in the language the response
was asked in ("LEIPZIG - DEUTSCHLAND"). `place_in_text` reads such a text: the part after the
last " - " must be a country name exactly (CLDR names in English, German, French, Spanish,
Portuguese, Italian, Dutch, Polish, Chinese and Japanese, plus the carriers' own spellings in
`COUNTRY_ALIASES`); a state or province is read from a middle part ("- OHIO -", "- ON -") or a
", OH" ending of the first part. A text that only contains a country name somewhere ("FRANCE",
"GEORGIA", a city named like a country) places nothing.

The order in which a connector looks for the place of a scan (`connectors.carriers.dhl`):

1. an offset in the timestamp itself: no zone is needed (`time_source="provider"`);
2. the scan location's country code (with its state and city);
3. the country (and state) the scan location names in words (`place_in_text`);
4. the country the scan's description names ("Arrived at DHL Sort Facility LEIPZIG - GERMANY");
5. the shipment's service areas: a scan at the origin's or destination's locality (or city) is
   in that end's country;
6. a domestic shipment (origin and destination in the same country) is scanned at home;
7. nothing places the scan: the receive time, `time_source="received"`.

Each step still goes through `resolve_zone`, so a place found in words is held to the same
certainty as a country code: "HOUSTON - USA" without a state does not resolve.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from babel import Locale

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


# --- places written as text -----------------------------------------------------------------
NAME_LANGUAGES: tuple[str, ...] = (
    "en", "de", "fr", "es", "pt", "it", "nl", "pl", "zh", "zh_Hant", "ja",
)
"""Languages whose country names are recognised (DHL answers in the language asked for)."""

COUNTRY_ALIASES: dict[str, str] = {
    # The carriers' own spellings (DHL Express service areas), older or short names.
    "USA": "US", "U S A": "US", "UNITED STATES OF AMERICA": "US", "UK": "GB",
    "GREAT BRITAIN": "GB", "CHINA MAINLAND": "CN", "CHINA PEOPLES REPUBLIC": "CN",
    "PEOPLE S REPUBLIC OF CHINA": "CN", "PEOPLES REPUBLIC OF CHINA": "CN",
    "HONG KONG SAR CHINA": "HK", "HONG KONG SAR": "HK", "HONG KONG": "HK",
    "HONGKONG SAR CHINA": "HK", "HONGKONG": "HK",
    "MACAU SAR CHINA": "MO", "MACAO SAR CHINA": "MO", "MACAU": "MO",
    "KOREA REPUBLIC OF SOUTH K": "KR", "KOREA REPUBLIC OF": "KR", "KOREA SOUTH": "KR",
    "CZECH REPUBLIC": "CZ", "IRELAND REPUBLIC OF": "IE", "TURKEY": "TR",
    "RUSSIAN FEDERATION": "RU", "VIETNAM": "VN", "TAIWAN CHINA": "TW", "HOLLAND": "NL",
    "中国大陆": "CN", "香港": "HK", "澳门": "MO", "澳門": "MO", "台湾": "TW", "台灣": "TW",
    "ESTADOS UNIDOS DE AMERICA": "US", "EEUU": "US", "EUA": "US",
}
"""Normalized (upper case, no accents, punctuation as spaces) extra names of countries."""

SUBDIVISION_NAMES: dict[str, dict[str, str]] = {
    "US": {
        "ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "CALIFORNIA": "CA",
        "COLORADO": "CO", "CONNECTICUT": "CT", "DELAWARE": "DE", "DISTRICT OF COLUMBIA": "DC",
        "FLORIDA": "FL", "GEORGIA": "GA", "HAWAII": "HI", "IDAHO": "ID", "ILLINOIS": "IL",
        "INDIANA": "IN", "IOWA": "IA", "KANSAS": "KS", "KENTUCKY": "KY", "LOUISIANA": "LA",
        "MAINE": "ME", "MARYLAND": "MD", "MASSACHUSETTS": "MA", "MICHIGAN": "MI",
        "MINNESOTA": "MN", "MISSISSIPPI": "MS", "MISSOURI": "MO", "MONTANA": "MT",
        "NEBRASKA": "NE", "NEVADA": "NV", "NEW HAMPSHIRE": "NH", "NEW JERSEY": "NJ",
        "NEW MEXICO": "NM", "NEW YORK": "NY", "NORTH CAROLINA": "NC", "NORTH DAKOTA": "ND",
        "OHIO": "OH", "OKLAHOMA": "OK", "OREGON": "OR", "PENNSYLVANIA": "PA",
        "RHODE ISLAND": "RI", "SOUTH CAROLINA": "SC", "SOUTH DAKOTA": "SD", "TENNESSEE": "TN",
        "TEXAS": "TX", "UTAH": "UT", "VERMONT": "VT", "VIRGINIA": "VA", "WASHINGTON": "WA",
        "WEST VIRGINIA": "WV", "WISCONSIN": "WI", "WYOMING": "WY", "PUERTO RICO": "PR",
    },
    "CA": {
        "ALBERTA": "AB", "BRITISH COLUMBIA": "BC", "MANITOBA": "MB", "NEW BRUNSWICK": "NB",
        "NEWFOUNDLAND AND LABRADOR": "NL", "NOVA SCOTIA": "NS", "NORTHWEST TERRITORIES": "NT",
        "NUNAVUT": "NU", "ONTARIO": "ON", "PRINCE EDWARD ISLAND": "PE", "QUEBEC": "QC",
        "SASKATCHEWAN": "SK", "YUKON": "YT",
    },
}
"""Full names of the states and provinces of multi-zone countries whose carriers write them."""

_SEPARATOR = " - "
_FACILITY_WORDS = re.compile(r"\s+(HUB|GATEWAY|SERVICE AREA|FACILITY)$")


def normalized_name(text: str) -> str:
    """A place name as the tables hold it: upper case, no accents, punctuation as spaces."""
    bare = "".join(_unaccented(char) for char in unicodedata.normalize("NFKC", text))
    words = re.sub(r"[\W_]+", " ", bare.upper()).split()
    if words and words[0] == "THE":
        words = words[1:]
    if words and words[-1] == "THE":
        words = words[:-1]
    return " ".join(words)


def _unaccented(char: str) -> str:
    """A Latin letter without its accents ("É" -> "E"); other scripts as they are (the kana
    "プ" must not lose its mark)."""
    if ord(char) >= 0x250:
        return char
    return "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """Normalized country name -> ISO code; a name two countries share is left out."""
    found: dict[str, str | None] = {}
    for language in NAME_LANGUAGES:
        for code, name in Locale.parse(language).territories.items():
            if len(code) != 2 or not code.isalpha() or code in {"EU", "EZ", "UN", "QO", "ZZ"}:
                continue
            key = normalized_name(name)
            found[key] = code if found.get(key, code) == code else None
    found.update(COUNTRY_ALIASES)
    return {name: code for name, code in found.items() if code is not None}


def country_named(text: str | None) -> str | None:
    """The ISO code of a text that is exactly a country name ("GERMANY", "Deutschland")."""
    return country_names().get(normalized_name(text)) if text else None


def place_in_text(text: str | None) -> Place | None:
    """The place a carrier's "<CITY> - <COUNTRY>" text names, or None (see the docstring)."""
    if not text or _SEPARATOR not in text:
        return None
    parts = [part.strip() for part in text.split(_SEPARATOR)]
    country = country_named(parts[-1])
    if country is None:
        return None
    first, _, tail = parts[0].rpartition(",")
    code = tail.strip()
    state: str | None = code if first and len(code) in (2, 3) and code.isalpha() else None
    city = first if state else parts[0]
    names = SUBDIVISION_NAMES.get(country, {})
    for middle in parts[1:-1]:
        for piece in (normalized_name(piece) for piece in middle.split(",")):
            if piece in names:
                state = names[piece]
            elif len(piece) in (2, 3) and piece.isalpha():
                state = piece
    return Place(
        country=country,
        state=state.upper() if state else None,
        city=_FACILITY_WORDS.sub("", normalized_name(city)) or None,
    )


def city_of(text: str | None) -> str | None:
    """The normalized city part of a location text ("LEIPZIG - GERMANY" -> "LEIPZIG")."""
    if not text:
        return None
    head = text.split(_SEPARATOR, 1)[0].rpartition(",")[0] or text.split(_SEPARATOR, 1)[0]
    return _FACILITY_WORDS.sub("", normalized_name(head)) or None
