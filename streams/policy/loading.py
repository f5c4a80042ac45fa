"""The after-sales `Policy`: the three rule files, loaded and validated together at startup.

`load_policy()` reads `return_windows.toml`, `sla.toml` and `responsibility.toml` from this
package (or from another directory, to try a changed policy) and checks them as a whole:
structure and value sets through the pydantic models, then what a model cannot see alone (unique
ids, ISO country codes with a known time zone, region names, one default window, a default for
every SLA deadline, ambiguous overlapping rules, a final catch-all responsibility rule, effective
periods). Every problem is collected, each with its file and rule id, and reported at once in a
`PolicyConfigurationError`, so a bad deploy fails at startup, not on the first case.

The TOML files are package data: a wheel build must include `*.toml` (setuptools package-data).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from importlib import resources
from itertools import combinations
from pathlib import Path
from typing import Any, TypeVar

from babel import Locale
from pydantic import BaseModel, ConfigDict, ValidationError

from schemas.errors import ConfigurationError
from schemas.territories import country_zones, listed_zones
from schemas.timestamps import zone
from streams.policy.localtime import REGIONS
from streams.policy.matching import Selector
from streams.policy.responsibility import Disruption, ResponsibilityRule, ResponsibilityRules
from streams.policy.sla import SlaRule, SlaRules
from streams.policy.windows import WindowRule, WindowRules

WINDOWS_FILE = "return_windows.toml"
SLA_FILE = "sla.toml"
RESPONSIBILITY_FILE = "responsibility.toml"

M = TypeVar("M", bound=BaseModel)

_ISO_COUNTRIES: frozenset[str] = frozenset(
    code
    for code in Locale("en").territories
    if isinstance(code, str) and len(code) == 2 and code.isalpha()
)


class PolicyConfigurationError(ConfigurationError):
    """The policy files are invalid; `problems` lists every problem with its file and rule id."""

    def __init__(self, *, problems: Sequence[str]) -> None:
        listing = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid after-sales policy ({len(problems)} problems):\n{listing}")
        self.problems = list(problems)


class Policy(BaseModel):
    """The three validated rule tables, as one value handed to every policy function."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    windows: WindowRules
    sla: SlaRules
    responsibility: ResponsibilityRules

    def versions(self) -> dict[str, str]:
        """The version of each rule file, for logs and assessments."""
        return {
            WINDOWS_FILE: self.windows.version,
            SLA_FILE: self.sla.version,
            RESPONSIBILITY_FILE: self.responsibility.version,
        }


def load_policy(directory: Path | None = None) -> Policy:
    """Load and validate the policy files (the shipped ones unless `directory` is given).

    Raises:
        PolicyConfigurationError: a file is missing, is not TOML, or breaks a rule; the error
            lists every problem found in all three files.
    """
    problems = check_zone_table()
    raw = {name: _read(name, directory, problems) for name in (WINDOWS_FILE, SLA_FILE,
                                                                 RESPONSIBILITY_FILE)}
    windows = _parse(WindowRules, WINDOWS_FILE, raw[WINDOWS_FILE], {"rule": WindowRule}, problems)
    sla = _parse(SlaRules, SLA_FILE, raw[SLA_FILE], {"deadline": SlaRule}, problems)
    responsibility = _parse(
        ResponsibilityRules, RESPONSIBILITY_FILE, raw[RESPONSIBILITY_FILE],
        {"rule": ResponsibilityRule, "disruption": Disruption}, problems,
    )
    if windows is not None:
        problems += _check_windows(windows)
    if sla is not None:
        problems += _check_sla(sla)
    if responsibility is not None:
        problems += _check_responsibility(responsibility)
    if problems or windows is None or sla is None or responsibility is None:
        order = [WINDOWS_FILE, SLA_FILE, RESPONSIBILITY_FILE]
        problems.sort(key=lambda p: next((i for i, n in enumerate(order) if p.startswith(n)), -1))
        raise PolicyConfigurationError(problems=problems)
    return Policy(windows=windows, sla=sla, responsibility=responsibility)


def _read(name: str, directory: Path | None, problems: list[str]) -> dict[str, Any] | None:
    try:
        if directory is None:
            text = resources.files("streams.policy").joinpath(name).read_text(encoding="utf-8")
        else:
            text = (directory / name).read_text(encoding="utf-8")
        return tomllib.loads(text)
    except FileNotFoundError:
        problems.append(f"{name}: file not found")
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{name}: not valid TOML: {exc}")
    return None


def _parse(
    model: type[M],
    name: str,
    data: dict[str, Any] | None,
    tables: Mapping[str, type[BaseModel]],
    problems: list[str],
) -> M | None:
    """Validate one file. When some entries are invalid, their problems are recorded and the
    file is validated again without them, so the cross-checks still run on the valid rest."""
    if data is None:
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        table = next(iter(tables))
        for error in exc.errors():
            problems.append(f"{name}: {_where(data, table, error['loc'])}{error['msg']}")
    valid_only = dict(data)
    for table, entry_model in tables.items():
        entries = data.get(table)
        if isinstance(entries, list):
            valid_only[table] = [entry for entry in entries if _valid(entry_model, entry)]
    try:
        return model.model_validate(valid_only)
    except ValidationError:
        return None


def _valid(model: type[BaseModel], entry: object) -> bool:
    try:
        model.model_validate(entry)
    except ValidationError:
        return False
    return True


def _where(data: Mapping[str, Any], table: str, loc: tuple[int | str, ...]) -> str:
    """`rule 'eu-withdrawal-14d' days: ` from a pydantic error location."""
    if len(loc) >= 2 and isinstance(loc[1], int) and loc[0] in (table, "disruption"):
        entries = data.get(str(loc[0]))
        entry = entries[loc[1]] if isinstance(entries, list) and loc[1] < len(entries) else None
        ident = entry.get("id") if isinstance(entry, dict) else None
        label = f"'{ident}'" if ident else f"#{loc[1] + 1}"
        rest = ".".join(str(part) for part in loc[2:])
        return f"{loc[0]} {label}{' ' + rest if rest else ''}: "
    return ".".join(str(part) for part in loc) + ": " if loc else ""


def _check_windows(rules: WindowRules) -> list[str]:
    problems = _check_file_period(WINDOWS_FILE, rules.effective_from, rules.effective_until)
    problems += _check_ids(WINDOWS_FILE, "rule", (rule.id for rule in rules.rules))
    for rule in rules.rules:
        where = f"{WINDOWS_FILE}: rule '{rule.id}'"
        problems += _check_selector(where, rule)
        problems += _check_eu_citation(where, rule, rule.source)
        if rule.kind in ("statutory", "statutory_default"):
            if not rule.names_place():
                problems.append(f"{where}: a statutory rule names its countries or regions")
            if rule.marketplaces:
                problems.append(f"{where}: a statutory rule cannot be limited to marketplaces")
        if rule.kind == "marketplace_policy" and not rule.marketplaces:
            problems.append(f"{where}: a marketplace_policy names its marketplaces")
        if rule.kind == "default" and rule.specificity():
            problems.append(f"{where}: the default rule names no countries or marketplaces")
        if rule.count_start_day and rule.counting != "calendar_days":
            problems.append(f"{where}: count_start_day needs calendar_days")
    defaults = [rule.id for rule in rules.rules if rule.kind == "default"]
    if len(defaults) != 1:
        problems.append(f"{WINDOWS_FILE}: exactly one default rule is needed, found {defaults}")
    for first, second in combinations(rules.rules, 2):
        if _ambiguous_window_pair(first, second):
            problems.append(
                f"{WINDOWS_FILE}: rules '{first.id}' and '{second.id}' both apply to "
                f"{sorted(first.all_countries() & second.all_countries()) or 'every country'} "
                "in the same period; give them disjoint countries or effective dates"
            )
    return problems


def _ambiguous_window_pair(first: WindowRule, second: WindowRule) -> bool:
    statutory = ("statutory", "statutory_default")
    same_kind = (first.kind in statutory and second.kind in statutory) or (
        first.kind == second.kind == "marketplace_policy"
        and set(first.marketplaces) & set(second.marketplaces)
    )
    if not same_kind or not first.overlaps_in_time(second):
        return False
    if first.names_place() and second.names_place():
        return bool(first.all_countries() & second.all_countries())
    return first.names_place() == second.names_place()


def _check_sla(rules: SlaRules) -> list[str]:
    problems = _check_file_period(SLA_FILE, rules.effective_from, rules.effective_until)
    problems += _check_ids(SLA_FILE, "deadline", (rule.id for rule in rules.rules))
    names: dict[str, list[SlaRule]] = {}
    for rule in rules.rules:
        where = f"{SLA_FILE}: deadline '{rule.id}'"
        problems += _check_selector(where, rule)
        problems += _check_eu_citation(where, rule, rule.source)
        if rule.binding == "law" and not rule.names_place():
            problems.append(f"{where}: a law deadline names its countries or regions")
        if rule.waits_for is None and rule.after_wait_days:
            problems.append(f"{where}: after_wait_days needs waits_for")
        if rule.starts_at in rule.met_by:
            problems.append(f"{where}: {rule.starts_at} cannot both start and meet the deadline")
        names.setdefault(rule.name, []).append(rule)
    for name, named in names.items():
        policy = [rule for rule in named if rule.binding == "policy"]
        if not any(rule.specificity() == 0 for rule in policy):
            problems.append(f"{SLA_FILE}: deadline '{name}' has no default (a policy rule naming "
                            "no country, marketplace or payment provider)")
        for first, second in combinations(policy, 2):
            if _same_selector(first, second) and first.overlaps_in_time(second):
                problems.append(f"{SLA_FILE}: deadlines '{first.id}' and '{second.id}' select "
                                f"the same cases for '{name}'; one of them can never apply")
    return problems


def _same_selector(first: Selector, second: Selector) -> bool:
    return (
        first.all_countries() == second.all_countries()
        and set(first.marketplaces) == set(second.marketplaces)
        and set(first.payment_providers) == set(second.payment_providers)
    )


def _check_responsibility(rules: ResponsibilityRules) -> list[str]:
    name = RESPONSIBILITY_FILE
    problems = _check_file_period(name, rules.effective_from, rules.effective_until)
    problems += _check_ids(name, "rule", (rule.id for rule in rules.rules))
    problems += _check_ids(name, "disruption", (item.id for item in rules.disruptions))
    catch_alls = [index for index, rule in enumerate(rules.rules) if rule.when.is_catch_all()]
    if not catch_alls or catch_alls[0] != len(rules.rules) - 1:
        if catch_alls:
            unreachable = [rule.id for rule in rules.rules[catch_alls[0] + 1:]]
            problems.append(f"{name}: rule '{rules.rules[catch_alls[0]].id}' matches everything, "
                            f"so {unreachable} can never apply")
        else:
            problems.append(f"{name}: the last rule must have no conditions (the catch-all)")
    for rule in rules.rules:
        where = f"{name}: rule '{rule.id}'"
        problems += _check_eu_citation(where, Selector(), rule.source)
        for citation in rule.cites:
            problems += _check_selector(f"{where} citation", citation)
            problems += _check_eu_citation(f"{where} citation", citation, citation.source)
    for disruption in rules.disruptions:
        problems += _check_selector(f"{name}: disruption '{disruption.id}'", disruption)
    return problems


_EU_LAW = re.compile(
    r"Directive|\(EU\)|\bRegulation \d+/\d+|\b\d{2,4}/\d+/(?:EU|EC|EEC)\b|\bEU law\b"
)
"""A citation of EU law: a directive, an EU regulation ("Regulation (EU) 2019/1150",
"Regulation 1182/71"), or an act numbered like "2011/83/EU"."""


def cites_eu_law(source: str) -> bool:
    """True when a rule's source cites EU law."""
    return _EU_LAW.search(source) is not None


def _check_eu_citation(where: str, selector: Selector, source: str) -> list[str]:
    """EU law binds only EU/EEA buyers: a source citing it must name only EEA countries."""
    if not cites_eu_law(source):
        return []
    outside = selector.all_countries() - REGIONS["EEA"]
    if not selector.names_place():
        return [f"{where}: cites EU law but applies to buyers everywhere (limit it to "
                "regions = [\"EEA\"]; a responsibility rule cites it in a [[rule.cites]])"]
    if outside:
        return [f"{where}: cites EU law but applies to buyers outside the EU/EEA: "
                f"{sorted(outside)}"]
    return []


def _check_selector(where: str, selector: Selector) -> list[str]:
    problems: list[str] = []
    for country in selector.countries:
        if country not in _ISO_COUNTRIES:
            problems.append(f"{where}: {country!r} is not an ISO 3166-1 alpha-2 country code")
        elif not country_zones(country):
            problems.append(f"{where}: {country!r} has no time zone in the IANA tz database")
    for region in selector.regions:
        if region not in REGIONS:
            problems.append(f"{where}: unknown region {region!r} (known: {sorted(REGIONS)})")
    if (
        selector.effective_from is not None
        and selector.effective_until is not None
        and selector.effective_until <= selector.effective_from
    ):
        problems.append(f"{where}: effective_until is not after effective_from")
    return problems


def _check_ids(name: str, table: str, ids: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    problems: list[str] = []
    for ident in ids:
        if ident in seen:
            problems.append(f"{name}: {table} id '{ident}' is used twice")
        seen.add(ident)
    return problems


def _check_file_period(name: str, start: date, until: date | None) -> list[str]:
    if until is not None and until <= start:
        return [f"{name}: effective_until is not after effective_from"]
    return []


def check_zone_table() -> list[str]:
    """Every zone of the tz database's country table loads: `zoneinfo` may read an older system
    tz database than the `tzdata` package whose `zone.tab` names the zones."""
    problems: list[str] = []
    for zone_name in sorted(listed_zones()):
        try:
            zone(zone_name)
        except ValueError:
            problems.append(f"zone.tab: unknown zone {zone_name}")
    return problems
