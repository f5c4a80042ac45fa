"""Every producer of the hub waits for all in-sync replicas (acks=all).

With acks=1 a write the leader acknowledged is lost when the leader dies before a follower
copied it; with acks=all and `min.insync.replicas=2` an acknowledged write is on two brokers.
The scan finds every producer the shipped packages construct, so a new one without acks=all
fails here; the built producers show that the option reaches the client.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from schemas.settings import load_settings
from streams.delivery import acked_producer
from streams.kafka_clients import kafka_client_options

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("hub", "streams", "connectors", "schemas", "translations")


def calls_to(name: str) -> list[tuple[str, ast.Call]]:
    found = []
    for package in SHIPPED:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Call):
                    func = node.func
                    called = func.attr if isinstance(func, ast.Attribute) else getattr(
                        func, "id", None)
                    if called == name:
                        found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return found


def keyword(call: ast.Call, name: str) -> object:
    for kw in call.keywords:
        if kw.arg == name and isinstance(kw.value, ast.Constant):
            return kw.value.value
        if kw.arg == name and isinstance(kw.value, ast.UnaryOp):
            return ast.literal_eval(kw.value)
    return None


def test_every_aiokafka_producer_is_constructed_with_acks_all() -> None:
    producers = calls_to("AIOKafkaProducer")
    where = {site.split(":")[0] for site, _ in producers}
    # The stages' producer, the case step's transactional one, the webhook intake, dead-letter
    # replay, erasure and the demo's sample traffic.
    assert {"streams/delivery.py", "streams/case_worker.py", "hub/webhooks/app.py",
            "hub/dead_letter_tool.py", "hub/erasure.py", "hub/demo.py"} <= where
    without = [site for site, call in producers if keyword(call, "acks") != "all"]
    assert without == []


def test_the_faust_app_produces_with_acks_all() -> None:
    apps = calls_to("App")
    assert [site.split(":")[0] for site, _ in apps] == ["hub/app.py"]
    assert [keyword(call, "producer_acks") for _, call in apps] == [-1]


def test_client_options_never_override_acks() -> None:
    assert "acks" not in kafka_client_options(load_settings())


async def test_the_stages_producer_is_idempotent_with_acks_all() -> None:
    producer = acked_producer("127.0.0.1:9", **kafka_client_options(load_settings()))
    try:
        assert producer._sender._acks == -1  # noqa: SLF001 - what the client sends
        assert producer._txn_manager is not None  # idempotent: retries write once
    finally:
        await producer.stop()


async def test_the_apps_producer_uses_acks_all(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from hub.app import create_app

    monkeypatch.setenv("HUB_STATE_DIR", str(tmp_path))
    app = create_app(load_settings())
    assert app.conf.producer_acks == -1
    assert app.producer.acks == -1
