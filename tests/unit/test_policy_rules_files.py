"""The shipped policy files load and say what the law says; broken files fail loudly, listing
every problem with its file and rule id."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import streams.policy
from schemas.case import Case, CaseMilestones
from schemas.errors import ConfigurationError
from streams.policy import PolicyConfigurationError, evaluate_window, load_policy
from streams.policy.loading import (
    RESPONSIBILITY_FILE,
    SLA_FILE,
    WINDOWS_FILE,
    check_zone_table,
    cites_eu_law,
)
from streams.policy.localtime import REGIONS

SHIPPED = Path(streams.policy.__file__).parent
POLICY = load_policy()


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    for name in (WINDOWS_FILE, SLA_FILE, RESPONSIBILITY_FILE):
        shutil.copy(SHIPPED / name, tmp_path / name)
    return tmp_path


def edit(directory: Path, name: str, old: str, new: str) -> None:
    path = directory / name
    text = path.read_text()
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1))


def append(directory: Path, name: str, text: str) -> None:
    with (directory / name).open("a") as handle:
        handle.write(text)


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(PolicyConfigurationError) as caught:
        load_policy(directory)
    assert isinstance(caught.value, ConfigurationError)
    return caught.value.problems


def test_shipped_files_load_with_versions_and_sources() -> None:
    assert POLICY.versions() == {WINDOWS_FILE: "2026.1", SLA_FILE: "2026.1",
                                 RESPONSIBILITY_FILE: "2026.1"}
    assert POLICY.windows.effective_from == date(2026, 1, 1)
    sources = [(rule.id, rule.source) for rule in POLICY.windows.rules]
    sources += [(rule.id, rule.source) for rule in POLICY.sla.rules]
    sources += [(rule.id, rule.source) for rule in POLICY.responsibility.rules]
    for rule_id, source in sources:
        assert source.strip(), rule_id


def test_loading_from_a_directory_gives_the_same_policy(policy_dir: Path) -> None:
    assert load_policy(policy_dir) == POLICY


def test_every_zone_in_the_country_table_exists() -> None:
    assert check_zone_table() == []


@pytest.mark.parametrize("country", sorted(REGIONS["EEA"]))
def test_every_eea_country_has_the_14_day_withdrawal_right(country: str) -> None:
    case = Case(case_id="c", buyer_country=country, opened_at=datetime(2026, 3, 1, tzinfo=UTC),
                milestones=CaseMilestones(delivered_at=datetime(2026, 3, 2, 12, tzinfo=UTC)))

    status = evaluate_window(case, POLICY.windows, at=datetime(2026, 3, 3, tzinfo=UTC))

    assert status.rule_id == "eu-withdrawal-14d"
    assert status.period == "14 days from delivery"


@pytest.mark.parametrize(
    ("country", "rule_id", "days", "source"),
    [
        ("GB", "uk-cancellation-14d", 14, "Consumer Contracts"),
        ("CN", "cn-seven-day-no-reason", 7, "art. 25"),
        ("BR", "br-cdc-arrependimento-7d", 7, "art. 49"),
        ("MX", "mx-lfpc-revocation-5bd", 5, "art. 56"),
        ("SA", "sa-ecommerce-7d", 7, "art. 13"),
        ("JP", "jp-mail-order-8d", 8, "art. 15-3"),
    ],
)
def test_statutory_windows_by_country(country: str, rule_id: str, days: int, source: str) -> None:
    rule = next(rule for rule in POLICY.windows.rules if rule.id == rule_id)

    assert country in rule.all_countries()
    assert rule.days == days
    assert source in rule.source


def test_problems_in_all_three_files_are_listed_together(policy_dir: Path) -> None:
    edit(policy_dir, WINDOWS_FILE, 'id = "cn-seven-day-no-reason"\nkind = "statutory"\n'
         'countries = ["CN"]\ndays = 7', 'id = "cn-seven-day-no-reason"\nkind = "statutory"\n'
         'countries = ["CN"]\ndays = 0')
    edit(policy_dir, WINDOWS_FILE, 'countries = ["BR"]', 'countries = ["XX"]')
    edit(policy_dir, SLA_FILE, "hours = 48\nmet_by", "hours = 48\ndays = 2\nmet_by")
    append(policy_dir, RESPONSIBILITY_FILE, '\n[[rule]]\nid = "after-the-catch-all"\n'
           'when = { reasons = ["other"] }\nparty = "merchant"\nresolution = "repair"\n'
           'return_shipping = "merchant"\nduties = "merchant"\nexplanation = "x"\nsource = "y"\n')

    problems = problems_of(policy_dir)

    assert any(p.startswith(f"{WINDOWS_FILE}: rule 'cn-seven-day-no-reason' days:")
               for p in problems), problems
    assert f"{WINDOWS_FILE}: rule 'br-cdc-arrependimento-7d': 'XX' is not an ISO 3166-1 " \
           "alpha-2 country code" in problems
    assert any(p.startswith(f"{SLA_FILE}: deadline 'first-response-default'") and
               "exactly one of hours and days" in p for p in problems), problems
    # Cross-checks still run on the valid rules of a file with invalid ones.
    assert any(p.startswith(f"{RESPONSIBILITY_FILE}: rule 'manual-review' matches everything")
               and "after-the-catch-all" in p for p in problems), problems


def test_cross_checks_name_the_rule(policy_dir: Path) -> None:
    edit(policy_dir, SLA_FILE, 'id = "refund-default"', 'id = "first-response-default"')
    edit(policy_dir, WINDOWS_FILE, 'regions = ["EEA"]', 'regions = ["EEA", "ASEAN"]')
    edit(policy_dir, WINDOWS_FILE, 'id = "default-30d"\nkind = "default"',
         'id = "default-30d"\nkind = "default"\nmarketplaces = ["amazon"]')

    problems = problems_of(policy_dir)

    assert f"{SLA_FILE}: deadline id 'first-response-default' is used twice" in problems
    assert any(p.startswith(f"{WINDOWS_FILE}: rule 'eu-withdrawal-14d': unknown region 'ASEAN'")
               for p in problems), problems
    assert f"{WINDOWS_FILE}: rule 'default-30d': the default rule names no countries or " \
           "marketplaces" in problems


def test_two_statutory_rules_for_one_country_at_the_same_time_are_ambiguous(
    policy_dir: Path,
) -> None:
    append(policy_dir, WINDOWS_FILE, '\n[[rule]]\nid = "de-extra"\nkind = "statutory"\n'
           'countries = ["DE"]\ndays = 30\nsource = "made up"\n')

    problems = problems_of(policy_dir)

    assert any("'eu-withdrawal-14d' and 'de-extra' both apply to ['DE']" in p for p in problems)


def test_a_new_rule_in_force_from_a_date_applies_to_orders_from_that_date(
    policy_dir: Path,
) -> None:
    edit(policy_dir, WINDOWS_FILE, 'id = "cn-seven-day-no-reason"',
         'id = "cn-seven-day-no-reason"\neffective_until = 2027-01-01')
    append(policy_dir, WINDOWS_FILE, '\n[[rule]]\nid = "cn-fifteen-day-2027"\nkind = "statutory"\n'
           'countries = ["CN"]\ndays = 15\neffective_from = 2027-01-01\nsource = "hypothetical"\n')
    policy = load_policy(policy_dir)

    def rule_for(ordered: datetime) -> str | None:
        case = Case(case_id="c", buyer_country="CN", opened_at=ordered,
                    milestones=CaseMilestones(ordered_at=ordered, delivered_at=ordered))
        return evaluate_window(case, policy.windows, at=ordered).rule_id

    assert rule_for(datetime(2026, 12, 31, 12, tzinfo=UTC)) == "cn-seven-day-no-reason"
    assert rule_for(datetime(2027, 1, 2, tzinfo=UTC)) == "cn-fifteen-day-2027"


def test_every_sla_deadline_needs_a_default(policy_dir: Path) -> None:
    edit(policy_dir, SLA_FILE, 'id = "customs-hold-default"\nname = "customs_hold"\n',
         'id = "customs-hold-default"\nname = "customs_hold"\ncountries = ["DE"]\n')

    assert f"{SLA_FILE}: deadline 'customs_hold' has no default (a policy rule naming no " \
           "country, marketplace or payment provider)" in problems_of(policy_dir)


def test_missing_and_malformed_files_are_reported(policy_dir: Path) -> None:
    (policy_dir / SLA_FILE).unlink()
    (policy_dir / RESPONSIBILITY_FILE).write_text("version = ")

    problems = problems_of(policy_dir)

    assert f"{SLA_FILE}: file not found" in problems
    assert any(p.startswith(f"{RESPONSIBILITY_FILE}: not valid TOML") for p in problems)


NON_EEA_BUYERS = ["GB", "CH", "US", "SA", "KW", "JP", "CN", "BR", "MX", "AE", "TR", None]


@pytest.mark.parametrize("country", NON_EEA_BUYERS)
def test_no_shipped_rule_cites_eu_law_to_a_buyer_outside_the_eea(country: str | None) -> None:
    for rule in POLICY.responsibility.rules:
        assert not cites_eu_law(rule.source_for(country)), (rule.id, country)
    for selector, source in [(r, r.source) for r in POLICY.windows.rules] + [
        (r, r.source) for r in POLICY.sla.rules
    ]:
        if cites_eu_law(source):
            assert country not in selector.all_countries() and selector.names_place(), source


def test_eea_buyers_get_the_eu_law_and_uk_buyers_their_own() -> None:
    rule = next(r for r in POLICY.responsibility.rules if r.id == "merchant-defective")

    assert "Directive (EU) 2019/771" in rule.source_for("DE")
    assert "Consumer Rights Act 2015" in rule.source_for("GB")
    assert "Código de Defesa do Consumidor" in rule.source_for("BR")
    assert rule.source_for("SA") == rule.source  # the marketplace policy


@pytest.mark.parametrize(
    ("file", "old", "new", "problem"),
    [
        pytest.param(
            RESPONSIBILITY_FILE, 'source = "House policy"\n',
            'source = "Directive 2011/83/EU art. 20"\n',
            f"{RESPONSIBILITY_FILE}: rule 'manual-review': cites EU law but applies to buyers "
            "everywhere", id="responsibility-source-for-everyone",
        ),
        pytest.param(
            RESPONSIBILITY_FILE,
            'countries = ["GB"]\nsource = "Consumer Rights Act 2015 s. 28 (the',
            'countries = ["GB", "NO"]\nsource = "Directive 2011/83/EU art. 18 (the',
            f"{RESPONSIBILITY_FILE}: rule 'merchant-late-delivered' citation: cites EU law but "
            "applies to buyers outside the EU/EEA: ['GB']", id="responsibility-citation-for-gb",
        ),
        pytest.param(
            WINDOWS_FILE, 'regions = ["EEA"]', 'regions = ["EEA"]\ncountries = ["CH"]',
            f"{WINDOWS_FILE}: rule 'eu-withdrawal-14d': cites EU law but applies to buyers "
            "outside the EU/EEA: ['CH']", id="window-for-switzerland",
        ),
    ],
)
def test_a_rule_citing_eu_law_applies_only_to_eea_buyers(
    policy_dir: Path, file: str, old: str, new: str, problem: str
) -> None:
    edit(policy_dir, file, old, new)

    assert any(p.startswith(problem) for p in problems_of(policy_dir)), problem
