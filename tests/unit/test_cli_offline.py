"""The offline commands an integration engineer uses without Kafka."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from schemas.events import SOURCE_KINDS

HUB = str(Path(sys.executable).with_name("hub"))
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def hub(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([HUB, *args], input=stdin, capture_output=True, timeout=120, check=False)


def test_list_shows_every_contract_source() -> None:
    result = hub("normalize", "--list")
    assert result.returncode == 0
    listed = {line.split()[0] for line in result.stdout.decode().splitlines()}
    assert listed == set(SOURCE_KINDS)


def test_normalize_prints_canonical_events_as_json_lines() -> None:
    payload = FIXTURES / "stripe" / "charge_refunded_jpy_two_refunds.json"
    result = hub("normalize", "--source", "stripe", str(payload))
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(events) == 2
    assert {event["money"]["currency"] for event in events} == {"JPY"}
    assert all(event["occurred_at"].endswith("Z") for event in events)


def test_normalize_reads_stdin_and_takes_headers() -> None:
    body = (FIXTURES / "shopify" / "orders-create-presentment-eur.json").read_bytes()
    result = hub(
        "normalize",
        "--source",
        "shopify",
        "-",
        "--header",
        "X-Shopify-Topic: orders/create",
        stdin=body,
    )
    assert result.returncode == 0, result.stderr
    [event] = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert event["type"] == "order.placed"


@pytest.mark.parametrize(
    ("source", "body", "reason"),
    [
        ("stripe", b'{"id": "evt_1", "type": "refund.created", "data": ', "JSON"),
        ("adyen", b"[1, 2, 3]", "object"),
        ("nosuch", b"{}", "unknown source"),
    ],
)
def test_rejected_payload_exits_2_with_a_one_line_reason(
    source: str, body: bytes, reason: str
) -> None:
    result = hub("normalize", "--source", source, "-", stdin=body)
    assert result.returncode == 2
    message = result.stderr.decode().strip()
    assert len(message.splitlines()) == 1 and reason in message
    assert result.stdout == b""


def test_schemas_export_writes_versioned_json_schemas(tmp_path: Path) -> None:
    result = hub("schemas", "export", str(tmp_path))
    assert result.returncode == 0, result.stderr
    names = {str(path.relative_to(tmp_path)) for path in tmp_path.glob("*/*.json")}
    assert {
        "canonical-event/v1.json",
        "case/v1.json",
        "case-change/v1.json",
        "hub-protocol/v1.json",
    } <= names
    event_schema = json.loads((tmp_path / "canonical-event" / "v1.json").read_text())
    assert event_schema["$id"] == "https://aftersales-hub.example/schemas/canonical-event/v1.json"
    assert set(event_schema["required"]) >= {
        "event_id",
        "source",
        "type",
        "occurred_at",
        "case_key",
    }


def test_schemas_export_check_fails_on_a_stale_file(tmp_path: Path) -> None:
    assert hub("schemas", "export", str(tmp_path)).returncode == 0
    assert hub("schemas", "export", "--check", str(tmp_path)).returncode == 0
    stale = tmp_path / "case" / "v1.json"
    stale.write_text(stale.read_text().replace('"Case"', '"Case (edited)"', 1))
    result = hub("schemas", "export", "--check", str(tmp_path))
    assert result.returncode == 1
    assert b"case/v1.json: differs from the model" in result.stderr


def test_the_committed_schemas_pass_the_check() -> None:
    result = hub("schemas", "export", "--check")
    assert result.returncode == 0, result.stderr


def test_normalize_says_on_stderr_why_nothing_came_out() -> None:
    payload = FIXTURES / "stripe" / "charge_succeeded_uncaptured_ignored.json"
    result = hub("normalize", "--source", "stripe", str(payload))
    assert result.returncode == 0
    assert result.stdout == b""
    message = result.stderr.decode().strip()
    assert message.startswith("no events: ignored 'charge.succeeded uncaptured'")
    assert "uncaptured charge" in message


def test_another_providers_body_is_rejected_as_unrecognized() -> None:
    body = (FIXTURES / "paypal" / "capture_completed_usd.json").read_bytes()
    result = hub("normalize", "--source", "stripe", "-", stdin=body)
    assert result.returncode == 2
    assert "unrecognized payload" in result.stderr.decode()
