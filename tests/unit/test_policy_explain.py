"""`hub policy explain`: offline, human-readable and JSON explanation of one case."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli_policy import policy_cli
from schemas.case import CASE, Case, CaseMilestones
from schemas.events import make_event_id
from streams.policy import PolicyAssessment

RUNNER = CliRunner()


def german_amazon_case() -> Case:
    """Wrong item sent to a German Amazon buyer; return requested, goods back, not refunded."""
    return Case(
        case_id="case-explain",
        order_id="302-1234567-1234567",
        marketplace="A1PA6795UKMFR9",
        buyer_country="DE",
        reason_code="wrong_item",
        timeline=[make_event_id("amazon", "explain", 1), make_event_id("stripe", "explain", 2)],
        opened_at=datetime(2026, 3, 10, 9, tzinfo=UTC),
        milestones=CaseMilestones(
            ordered_at=datetime(2026, 2, 27, 10, tzinfo=UTC),
            delivered_at=datetime(2026, 3, 2, 23, 30, tzinfo=UTC),
            return_requested_at=datetime(2026, 3, 10, 9, tzinfo=UTC),
            return_received_at=datetime(2026, 3, 16, 8, tzinfo=UTC),
        ),
    )


@pytest.fixture
def case_file(tmp_path: Path) -> Path:
    path = tmp_path / "case.json"
    path.write_bytes(CASE.dump_json(german_amazon_case()))
    return path


def test_explains_window_deadlines_and_responsibility_with_their_rules(case_file: Path) -> None:
    args = ["explain", str(case_file), "--at", "2026-03-18T12:00+01:00"]

    result = RUNNER.invoke(policy_cli, args)

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "assessed at 2026-03-18 11:00:00 UTC = 2026-03-18 12:00:00 CET (Europe/Berlin)" in out
    assert "RETURN WINDOW: WITHIN WINDOW" in out
    # Delivered 3 March (Berlin); Amazon's 30 days end on 2 April, already summer time.
    assert "deadline    2026-04-02 21:59:59 UTC | 2026-04-02 23:59:59 CEST (Europe/Berlin)" in out
    assert "rule        amazon-30d (marketplace_policy): Amazon return policy" in out
    assert "considered  eu-withdrawal-14d, amazon-30d" in out
    # 48 h from 10 March 09:00 UTC: breached by 18 March.
    assert "first_response: BREACHED" in out
    assert "due       2026-03-12 09:00:00 UTC | 2026-03-12 10:00:00 CET (Europe/Berlin)" in out
    # Received Monday 16 March: Amazon's two business days end Wednesday 18 March.
    assert "refund: WARNING" in out
    assert "due       2026-03-18 22:59:59 UTC | 2026-03-18 23:59:59 CET (Europe/Berlin)" in out
    assert "rule      refund-amazon (policy, 2 business days from return_received_at)" in out
    assert "RESPONSIBLE: merchant" in out
    assert "resolution        exchange" in out
    assert "rule              merchant-wrong-item:" in out
    assert "source            Directive (EU) 2019/771" in out


def test_json_output_is_the_assessment(case_file: Path) -> None:
    result = RUNNER.invoke(
        policy_cli, ["explain", str(case_file), "--at", "2026-03-18T11:00:00Z", "--json"]
    )

    assert result.exit_code == 0, result.output
    assessment = PolicyAssessment.model_validate_json(result.stdout)
    assert assessment.assessed_at == datetime(2026, 3, 18, 11, tzinfo=UTC)
    assert assessment.window.rule_id == "amazon-30d"
    assert [d.name for d in assessment.deadlines] == ["first_response", "refund"]
    assert json.loads(result.stdout)["responsibility"]["party"] == "merchant"


def test_reads_the_case_from_stdin() -> None:
    body = CASE.dump_json(german_amazon_case()).decode()

    # Amazon's 48 h from 10 March 09:00 UTC warn 24 h before: from 11 March 09:00 UTC.
    result = RUNNER.invoke(policy_cli, ["explain", "-", "--at", "2026-03-11T12:00:00Z"],
                           input=body)

    assert result.exit_code == 0, result.output
    assert "first_response: WARNING" in result.stdout


def test_a_chinese_buyer_sees_deadlines_in_beijing_time(tmp_path: Path) -> None:
    case = Case(case_id="case-cn", buyer_country="CN", reason_code="changed_mind",
                opened_at=datetime(2026, 3, 8, tzinfo=UTC),
                milestones=CaseMilestones(delivered_at=datetime(2026, 3, 5, 20, tzinfo=UTC)))
    path = tmp_path / "cn.json"
    path.write_bytes(CASE.dump_json(case))

    result = RUNNER.invoke(policy_cli, ["explain", str(path), "--at", "2026-03-09T00:00:00Z"])

    assert result.exit_code == 0, result.output
    assert "2026-03-13 15:59:59 UTC | 2026-03-13 23:59:59 CST (Asia/Shanghai)" in result.stdout
    assert "DEADLINES: none started" in result.stdout


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        pytest.param("{not json", [], "is not a valid Case", id="not-json"),
        pytest.param('{"case_id": 7}', [], "case_id", id="wrong-type"),
        pytest.param('{"case_id": "c", "opened_at": "2026-03-01T10:00:00"}', [],
                     "timestamp must carry a timezone", id="naive-timestamp"),
        pytest.param('{"case_id": "c"}', ["--at", "2026-03-01T10:00:00"],
                     "--at '2026-03-01T10:00:00' is not an ISO 8601 instant", id="naive-at"),
        pytest.param('{"case_id": "c"}', ["--at", "next tuesday"], "is not an ISO 8601",
                     id="garbage-at"),
    ],
)
def test_invalid_input_exits_2_with_one_line(
    tmp_path: Path, content: str, args: list[str], message: str
) -> None:
    path = tmp_path / "case.json"
    path.write_text(content)

    result = RUNNER.invoke(policy_cli, ["explain", str(path), *args])

    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("hub policy explain: ")
    assert message in result.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = RUNNER.invoke(policy_cli, ["explain", str(tmp_path / "nope.json")])

    assert result.exit_code == 2
    assert "cannot read" in result.stderr


def test_invalid_policy_directory_exits_2(tmp_path: Path, case_file: Path) -> None:
    result = RUNNER.invoke(policy_cli, ["explain", str(case_file), "--rules", str(tmp_path)])

    assert result.exit_code == 2
    assert "return_windows.toml: file not found" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
