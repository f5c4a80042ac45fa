"""End to end on the real broker: raw bytes in, canonical events or dead letters out."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from schemas.events import CANONICAL_EVENT
from schemas.raw_records import RawRecord, encode_headers
from schemas.records import MESSAGE_HEADER
from streams.cases import case_id_for_order
from streams.dead_letters import dlq_fields
from tests.support.connector_fixtures import RECEIVED_AT
from tests.support.kafka import Record, produce, read_until
from tests.support.workers import HubWorker

pytestmark = pytest.mark.integration

STRIPE_REFUND_JPY = json.dumps(
    {
        "id": "evt_3PqRfnJpK2sLmN0a1bC2dE3f",
        "object": "event",
        "api_version": "2024-06-20",
        "created": 1767225600,
        "type": "refund.created",
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": "req_8fGhJkLmNpQr", "idempotency_key": None},
        "data": {
            "object": {
                "id": "re_3PqRfnJpK2sLmN0a0XyZ1234",
                "object": "refund",
                "amount": 1200,
                "currency": "jpy",
                "charge": "ch_3PqRfnJpK2sLmN0a0AbCdEfG",
                "payment_intent": "pi_3PqRfnJpK2sLmN0a0HiJkLmN",
                "created": 1767225590,
                "metadata": {"order_id": "JP-1001"},
                "reason": "requested_by_customer",
                "status": "succeeded",
                "balance_transaction": "txn_3PqRfnJpK2sLmN0a0OpQrStU",
                "receipt_number": None,
                "source_transfer_reversal": None,
                "transfer_reversal": None,
            }
        },
    }
).encode()


def events(records: list[Record]) -> list[Record]:
    """The canonical events among `case.inbox` records (links travel there too)."""
    return [r for r in records if (MESSAGE_HEADER, b"event") in r.headers]


async def test_raw_record_flows_through_a_worker_to_canonical_events(
    bootstrap: str, topic_prefix: str, state_dir: Path
) -> None:
    raw_topic = f"{topic_prefix}raw.stripe"
    with HubWorker(
        bootstrap=bootstrap,
        topic_prefix=topic_prefix,
        state_dir=state_dir,
        app_id=f"hub-{topic_prefix}",
    ):
        headers = encode_headers(RawRecord("stripe", STRIPE_REFUND_JPY, RECEIVED_AT, "verified"))
        [(partition, offset)] = await produce(
            bootstrap,
            raw_topic,
            [(b"evt_3PqRfnJpK2sLmN0a1bC2dE3f", STRIPE_REFUND_JPY)],
            headers=headers,
        )
        records = events(await read_until(
            bootstrap, f"{topic_prefix}case.inbox", lambda found: len(events(found)) >= 1
        ))

    event = CANONICAL_EVENT.validate_json(records[0].value)
    assert event.type == "refund.succeeded"
    assert event.source == "stripe"
    assert event.money is not None
    assert (event.money.amount, event.money.currency) == (Decimal(1200), "JPY")
    assert event.refund_id == "re_3PqRfnJpK2sLmN0a0XyZ1234"
    assert event.case_key == "order:JP-1001"
    # The order is named: straight to its case, no reference lookup.
    assert records[0].key == case_id_for_order("JP-1001").encode()
    assert event.received_at == RECEIVED_AT
    assert event.raw is not None
    assert (event.raw.topic, event.raw.partition, event.raw.offset) == (
        raw_topic,
        partition,
        offset,
    )


async def test_unreadable_payload_is_dead_lettered_and_the_partition_moves_on(
    bootstrap: str, topic_prefix: str, state_dir: Path
) -> None:
    raw_topic = f"{topic_prefix}raw.stripe"
    garbage = b'{"id": "evt_broken", "type": "refund.created", "data": {"object": '
    with HubWorker(
        bootstrap=bootstrap,
        topic_prefix=topic_prefix,
        state_dir=state_dir,
        app_id=f"hub-{topic_prefix}",
    ):
        # Same key, so the same partition: the good record queues behind the bad one.
        await produce(
            bootstrap, raw_topic, [(b"same-key", garbage), (b"same-key", STRIPE_REFUND_JPY)]
        )
        dead = await read_until(
            bootstrap, f"{topic_prefix}dlq.normalize", lambda found: len(found) >= 1
        )
        canonical = events(await read_until(
            bootstrap, f"{topic_prefix}case.inbox", lambda found: len(events(found)) >= 1
        ))

    assert dead[0].value == garbage
    assert dead[0].key == b"same-key"
    fields = dlq_fields(dead[0].headers)
    assert fields["stage"] == "normalize"
    assert fields["source"] == "stripe"
    assert fields["topic"] == raw_topic
    assert fields["offset"] == "0"
    assert "JSON" in fields["reason"]
    assert (
        CANONICAL_EVENT.validate_json(canonical[0].value).refund_id == "re_3PqRfnJpK2sLmN0a0XyZ1234"
    )
