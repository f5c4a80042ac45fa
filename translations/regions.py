"""Regions: which support team reads which cases, in which locale and time zone.

`regions.toml` beside this module is read and validated once, at import: a bad file stops the
process with a `LocalizationConfigError` that lists every problem (unknown locale or zone, a
locale without a shipped catalog, an invalid country, a country, marketplace or team claimed by
two regions, a default region that does not exist). `routes_for(case)` gives the regions a case
belongs to: by buyer country, marketplace, seller country or seller team, and the default region
when nothing matches, so a case is never routed nowhere.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from schemas.case import Case
from schemas.timestamps import zone
from translations.catalogs import shipped_locales
from translations.errors import LocalizationConfigError, UnknownRegionError

REGIONS_FILE = Path(__file__).with_name("regions.toml")

_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,15}$")
_TEAM = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_COUNTRIES: frozenset[str] = frozenset(
    code for code in map(str, Locale("en").territories) if len(code) == 2 and code.isalpha()
)


def _check_countries(values: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [value for value in values if value not in _COUNTRIES]
    if unknown:
        raise ValueError(f"not ISO 3166-1 alpha-2 country codes: {', '.join(unknown)}")
    return values


class Region(BaseModel):
    """One regional support team's feed: its locale, time zone and what it serves."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=_CODE.pattern, description="the feed's name: `feed.<code>`")
    name: str = Field(min_length=1)
    locale: str = Field(description="CLDR locale id with a shipped catalog, e.g. zh_Hans_CN")
    time_zone: str = Field(description="IANA zone the team reads times in")
    numbering: Literal["cldr", "latn"] = Field(
        "cldr", description="digits: the locale's CLDR default numbering system, or ASCII"
    )
    buyer_countries: tuple[str, ...] = ()
    marketplaces: tuple[str, ...] = ()
    seller_countries: tuple[str, ...] = ()
    seller_teams: tuple[str, ...] = ()

    @field_validator("locale")
    @classmethod
    def _locale_is_shipped(cls, value: str) -> str:
        try:
            Locale.parse(value)
        except (UnknownLocaleError, ValueError) as exc:
            raise ValueError(f"unknown CLDR locale {value!r}") from exc
        if value not in shipped_locales():
            raise ValueError(f"no catalog translations/{value}/LC_MESSAGES/messages.po")
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("buyer_countries", "seller_countries")
    @classmethod
    def _countries(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return _check_countries(values)

    @field_validator("marketplaces")
    @classmethod
    def _marketplaces(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if any(not value.strip() for value in values):
            raise ValueError("a marketplace id is empty")
        return values

    @field_validator("seller_teams")
    @classmethod
    def _teams(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        bad = [value for value in values if not _TEAM.match(value)]
        if bad:
            raise ValueError(f"team names are lower-case slugs: {', '.join(bad)}")
        return values

    @cached_property
    def babel_locale(self) -> Locale:
        """The babel `Locale` of the region."""
        return Locale.parse(self.locale)

    @property
    def language(self) -> str:
        """The BCP 47 primary language subtag the team reads (`zh` for zh_Hans_CN)."""
        return self.babel_locale.language

    @property
    def direction(self) -> Literal["ltr", "rtl"]:
        """Text direction of the locale's script, from CLDR (`rtl` for Arabic)."""
        return "rtl" if self.babel_locale.text_direction == "rtl" else "ltr"

    @property
    def zone(self) -> ZoneInfo:
        """The region's time zone."""
        return zone(self.time_zone)

    def serves(self, case: Case, *, seller_team: str | None = None) -> bool:
        """True when one of the region's routing rules matches the case."""
        marketplaces = {value.casefold() for value in self.marketplaces}
        return (
            (case.buyer_country is not None and case.buyer_country.upper() in self.buyer_countries)
            or (case.marketplace is not None and case.marketplace.casefold() in marketplaces)
            or (
                case.seller_country is not None
                and case.seller_country.upper() in self.seller_countries
            )
            or (seller_team is not None and seller_team in self.seller_teams)
        )


class RegionsConfig(BaseModel):
    """Every region, in file order, and the region that takes unmatched cases."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_region: str
    regions: tuple[Region, ...]

    @property
    def codes(self) -> list[str]:
        """Region codes in file order."""
        return [region.code for region in self.regions]

    @property
    def default(self) -> Region:
        """The region that takes a case no rule matches."""
        return self.region(self.default_region)

    def region(self, code: str) -> Region:
        """The region with this code (case-insensitive).

        Raises:
            UnknownRegionError: no region has the code.
        """
        wanted = code.strip().upper()
        for region in self.regions:
            if region.code == wanted:
                return region
        raise UnknownRegionError(code, known=self.codes)

    def routes_for(self, case: Case, *, seller_team: str | None = None) -> list[Region]:
        """Regions whose feeds show the case, in file order; the default region if none match."""
        matched = [
            region for region in self.regions if region.serves(case, seller_team=seller_team)
        ]
        return matched or [self.default]


def parse_regions(raw: Mapping[str, Any], *, default_region: str | None = None) -> RegionsConfig:
    """Validate a parsed regions document; `default_region` overrides the file's.

    Raises:
        LocalizationConfigError: listing every problem found.
    """
    data = dict(raw)
    if default_region is not None:
        data["default_region"] = default_region
    body = data.get("regions")
    regions = (
        [{"code": code, **spec} if isinstance(spec, Mapping) else spec
         for code, spec in body.items()]
        if isinstance(body, Mapping) else body
    )
    problems = _cross_problems(data.get("default_region"), regions)
    config: RegionsConfig | None = None
    try:
        config = RegionsConfig.model_validate({**data, "regions": regions})
    except ValidationError as exc:
        problems[:0] = [_describe(error, regions) for error in exc.errors()]
    if problems or config is None:
        raise LocalizationConfigError("regions", problems=problems)
    return config


def load_regions(path: Path = REGIONS_FILE, *, default_region: str | None = None) -> RegionsConfig:
    """Read and validate a regions TOML file.

    Raises:
        LocalizationConfigError: the file is unreadable, not TOML, or lists invalid regions.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LocalizationConfigError("regions", problems=[f"{path}: {exc}"]) from exc
    return parse_regions(raw, default_region=default_region)


def _describe(error: Mapping[str, Any], regions: Any) -> str:
    loc = list(error["loc"])
    if (len(loc) >= 2 and loc[0] == "regions" and isinstance(loc[1], int)
            and isinstance(regions, list)):
        entry = regions[loc[1]]
        code = entry.get("code", loc[1]) if isinstance(entry, Mapping) else loc[1]
        loc = ["regions", code, *loc[2:]]
    return f"{'.'.join(str(part) for part in loc)}: {error['msg']}"


def _cross_problems(default_region: Any, regions: Any) -> list[str]:
    """Problems across regions: a claim made twice, a default region that does not exist."""
    if not isinstance(regions, list) or not regions:
        return ["regions: at least one region is required"]
    specs = [spec for spec in regions if isinstance(spec, Mapping)]
    codes = [str(spec.get("code", "")).upper() for spec in specs]
    problems: list[str] = []
    if isinstance(default_region, str) and default_region.upper() not in codes:
        problems.append(f"default_region: {default_region!r} is not a region")
    for rule, fold in (("buyer_countries", str.upper), ("marketplaces", str.casefold),
                       ("seller_countries", str.upper), ("seller_teams", str)):
        owners: dict[str, list[str]] = {}
        for code, spec in zip(codes, specs, strict=True):
            for value in _strings(spec.get(rule)):
                owners.setdefault(fold(value), []).append(code)
        problems.extend(
            f"regions: {rule} {value!r} is claimed by {' and '.join(claimants)}"
            for value, claimants in owners.items() if len(claimants) > 1
        )
    return problems


def _strings(values: Any) -> Iterable[str]:
    if isinstance(values, list | tuple):
        return [value for value in values if isinstance(value, str)]
    return []


REGIONS: RegionsConfig = load_regions()
"""The shipped regions, validated at import."""


def routes_for(case: Case, *, seller_team: str | None = None) -> list[Region]:
    """Regions whose feeds show the case (the default region when no rule matches).

    `seller_team` routes on the seller's support team when the caller knows it (the Case does
    not carry one).
    """
    return REGIONS.routes_for(case, seller_team=seller_team)


def region(code: str) -> Region:
    """The shipped region with this code (case-insensitive).

    Raises:
        UnknownRegionError: no region has the code.
    """
    return REGIONS.region(code)
