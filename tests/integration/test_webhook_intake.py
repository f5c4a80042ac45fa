"""The webhook intake on a real port with a real broker: what it accepts is on Kafka byte for byte,
what it rejects never reaches Kafka.

Each test gets its own topic prefix; the three raw topics are created up front with one
partition, so "nothing was written" is read as "the partition's end offset is still 0".
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import ConsumerRecord

from connectors.base import SignatureScheme
from hub.webhooks.app import create_intake_app, serve_intake
from hub.webhooks.signatures import adyen_signing_string
from schemas.raw_records import decode_record
from schemas.settings import Settings, load_settings
from tests.support.problems import problem_answer

pytestmark = pytest.mark.integration

TIMEOUT = 30.0
MAX_BODY = 4096
SHOPIFY_SECRET = "shpss_intake_test"
STRIPE_OLD, STRIPE_NEW = "whsec_old_intake", "whsec_new_intake"
ADYEN_KEY = "74F490DD33F7327BAECC88B2947C011FC02D014A473AAA33A8EC93E4DC069174"
SOURCES: dict[str, SignatureScheme] = {
    "shopify": "shopify-hmac-sha256",
    "stripe": "stripe-signature",
    "adyen": "adyen-hmac-item",
    "aftership": "aftership-hmac-sha256",  # deliberately without a secret
    "hub": "kafka-direct",  # no HTTP intake
}
WRITTEN_SOURCES = ("shopify", "stripe", "adyen")


# --- signing, as the providers do it -----------------------------------------------------------


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _now() -> datetime:
    return datetime.now(UTC)


def shopify_refund(**overrides: str) -> tuple[bytes, dict[str, str]]:
    # Pretty-printed, non-ASCII and a trailing newline: the bytes must arrive untouched.
    body = (
        json.dumps(
            {"refund": {"id": 929361465, "order_id": 450789469, "note": "返品・破損 (damaged)"}},
            ensure_ascii=False,
            indent=2,
        ).encode()
        + b"\n"
    )
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": base64.b64encode(_hmac(SHOPIFY_SECRET.encode(), body)).decode(),
        "X-Shopify-Topic": "refunds/create",
        "X-Shopify-Shop-Domain": "hub-test.myshopify.com",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
        "X-Shopify-API-Version": "2025-07",
        "X-Shopify-Triggered-At": _now().isoformat().replace("+00:00", "Z"),
        "User-Agent": "Shopify-Captain-Hook",
    }
    return body, headers | overrides


def stripe_event(
    *, secret: str = STRIPE_OLD, at: datetime | None = None
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {"id": "evt_1PqRfnIntake", "object": "event", "type": "refund.created", "data": {}}
    ).encode()
    t = str(int((at or _now()).timestamp()))
    v1 = _hmac(secret.encode(), f"{t}.".encode() + body).hex()
    wrong = _hmac(b"someone-else", f"{t}.".encode() + body).hex()
    return body, {
        "Content-Type": "application/json",
        "Stripe-Signature": f"t={t},v1={wrong},v1={v1}",
    }


def adyen_batch(*, amount: int = 1500) -> tuple[bytes, dict[str, str]]:
    items = []
    for psp, code in (("MMW3QZ2PMSZ8H2V5", "REFUND"), ("QFQTPCQ8HXSKGK82", "CHARGEBACK")):
        item: dict[str, Any] = {
            "amount": {"currency": "EUR", "value": 1500},
            "eventCode": code,
            "eventDate": "2026-03-02T10:30:00+01:00",
            "merchantAccountCode": "HubTestAccount",
            "merchantReference": "order-1001",
            "pspReference": psp,
            "success": "true",
        }
        signature = _hmac(bytes.fromhex(ADYEN_KEY), adyen_signing_string(item).encode())
        item["additionalData"] = {"hmacSignature": base64.b64encode(signature).decode()}
        item["amount"]["value"] = amount  # a forger changes the amount after signing
        items.append({"NotificationRequestItem": item})
    body = json.dumps({"live": "false", "notificationItems": items}).encode()
    return body, {"Content-Type": "application/json"}


# --- the running intake ------------------------------------------------------------------------


def intake_settings(bootstrap: str, topic_prefix: str) -> Settings:
    return load_settings(
        broker_url=bootstrap,
        topic_prefix=topic_prefix,
        webhook_secrets={
            "shopify": [SHOPIFY_SECRET],
            "stripe": [STRIPE_NEW, STRIPE_OLD],
            "adyen": [ADYEN_KEY],
        },
        webhook_tolerance_seconds=300,
        webhook_max_body_bytes=MAX_BODY,
    )


@dataclass(frozen=True)
class Intake:
    url: str
    client: aiohttp.ClientSession
    bootstrap: str
    topic_prefix: str

    async def post(self, source: str, body: Any, headers: dict[str, str]) -> tuple[int, bytes]:
        async with self.client.post(
            f"{self.url}/webhooks/{source}", data=body, headers=headers
        ) as response:
            return response.status, await response.read()

    def topic(self, source: str) -> str:
        return f"{self.topic_prefix}raw.{source}"

    async def written(self, source: str) -> list[ConsumerRecord[bytes, bytes]]:
        return await asyncio.wait_for(read_partition(self.bootstrap, self.topic(source)), TIMEOUT)

    async def nothing_written(self) -> bool:
        return all([await self.written(source) == [] for source in WRITTEN_SOURCES])


async def read_partition(bootstrap: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of partition 0 up to its current end offset."""
    partition = TopicPartition(topic, 0)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumer.assign([partition])
        end = (await consumer.end_offsets([partition]))[partition]
        # An explicit offset: seek_to_beginning() can lose the race with the default reset.
        consumer.seek(partition, 0)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while len(records) < end:
            batch = await consumer.getmany(partition, timeout_ms=500)
            records.extend(batch.get(partition, []))
        return records
    finally:
        await consumer.stop()


async def create_topics(bootstrap: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1) for name in names])
    finally:
        await admin.close()


@pytest.fixture
async def intake(bootstrap: str, topic_prefix: str) -> AsyncIterator[Intake]:
    names = [f"{topic_prefix}raw.{source}" for source in WRITTEN_SOURCES]
    await asyncio.wait_for(create_topics(bootstrap, names), TIMEOUT)
    settings = intake_settings(bootstrap, topic_prefix)
    async with (
        serve_intake(settings, host="127.0.0.1", port=0, sources=SOURCES) as url,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as client,
    ):
        yield Intake(url, client, bootstrap, topic_prefix)


# --- accepted ----------------------------------------------------------------------------------


async def test_a_signed_shopify_webhook_is_on_kafka_byte_for_byte(intake: Intake) -> None:
    body, headers = shopify_refund()
    assert await intake.post("shopify", body, headers) == (200, b'{"accepted": true}')

    [record] = await intake.written("shopify")
    assert record.value == body
    assert record.key == b"b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    raw = decode_record(
        source="shopify",
        body=record.value,
        headers=record.headers,
        broker_timestamp_ms=record.timestamp,
    )
    assert (raw.source, raw.signature) == ("shopify", "verified")
    assert abs(raw.received_at - _now()) < timedelta(minutes=1)
    assert raw.http_headers == {
        "content-type": "application/json",
        "x-shopify-topic": "refunds/create",
        "x-shopify-shop-domain": "hub-test.myshopify.com",
        "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "x-shopify-event-id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
        "x-shopify-api-version": "2025-07",
        "x-shopify-triggered-at": headers["X-Shopify-Triggered-At"],
    }


async def test_a_stripe_webhook_signed_with_the_previous_secret_is_accepted(intake: Intake) -> None:
    body, headers = stripe_event(secret=STRIPE_OLD)
    assert (await intake.post("stripe", body, headers))[0] == 200

    [record] = await intake.written("stripe")
    assert (record.value, record.key) == (body, b"evt_1PqRfnIntake")
    names = {name for name, _ in record.headers}
    assert {"hub.source", "hub.received_at", "hub.signature"} <= names
    assert "http.stripe-signature" not in names


async def test_an_adyen_batch_is_answered_accepted(intake: Intake) -> None:
    body, headers = adyen_batch()
    assert await intake.post("adyen", body, headers) == (200, b"[accepted]")

    [record] = await intake.written("adyen")
    assert (record.value, record.key) == (body, b"MMW3QZ2PMSZ8H2V5")
    assert dict(record.headers)["hub.signature"] == b"verified"


async def test_healthz(intake: Intake) -> None:
    async with intake.client.get(f"{intake.url}/healthz") as response:
        assert response.status == 200
        assert (await response.json())["sources"] == ["adyen", "aftership", "shopify", "stripe"]


# --- rejected, and nothing on Kafka --------------------------------------------------------------


async def _chunks(size: int) -> AsyncIterator[bytes]:
    for _ in range(size // 1024):
        yield b"x" * 1024


def _oversized() -> tuple[bytes, dict[str, str]]:
    body = b'{"pad":"' + b"x" * MAX_BODY + b'"}'
    _, headers = shopify_refund()
    signature = base64.b64encode(_hmac(SHOPIFY_SECRET.encode(), body)).decode()
    return body, headers | {"X-Shopify-Hmac-Sha256": signature}


REJECTIONS = [
    pytest.param(
        "shopify",
        lambda: shopify_refund(**{"X-Shopify-Hmac-Sha256": base64.b64encode(b"0" * 32).decode()}),
        401,
        "bad_signature",
        id="shopify-wrong-signature",
    ),
    pytest.param(
        "shopify",
        lambda: shopify_refund(
            **{"X-Shopify-Triggered-At": (_now() - timedelta(hours=6)).isoformat()}
        ),
        401,
        "stale",
        id="shopify-stale-retry-window",
    ),
    pytest.param(
        "stripe",
        lambda: stripe_event(at=_now() - timedelta(minutes=10)),
        401,
        "stale",
        id="stripe-stale",
    ),
    pytest.param(
        "stripe",
        lambda: stripe_event(secret="whsec_retired"),
        401,
        "bad_signature",
        id="stripe-retired-secret",
    ),
    pytest.param(
        "stripe",
        lambda: (stripe_event()[0], {"Content-Type": "application/json"}),
        401,
        "missing_signature",
        id="stripe-unsigned",
    ),
    pytest.param("adyen", lambda: adyen_batch(amount=1), 401, "bad_signature", id="adyen-forged"),
    pytest.param("shopify", _oversized, 413, "too_large", id="oversized-content-length"),
    pytest.param(
        "shopify",
        lambda: (_chunks(2 * MAX_BODY), shopify_refund()[1]),
        413,
        "too_large",
        id="oversized-chunked",
    ),
    pytest.param("ebay", shopify_refund, 404, "unknown_source", id="unknown-source"),
    pytest.param("hub", shopify_refund, 404, "unknown_source", id="kafka-direct-source"),
    pytest.param("aftership", shopify_refund, 503, "not_configured", id="no-secret"),
]


@pytest.mark.parametrize(("source", "make", "status", "reason"), REJECTIONS)
async def test_rejected_webhooks_never_reach_kafka(
    intake: Intake, source: str, make: Any, status: int, reason: str
) -> None:
    body, headers = make()
    answer_status, answer = await intake.post(source, body, headers)
    assert (answer_status, json.loads(answer)) == (status, problem_answer(status, reason))
    assert await intake.nothing_written()


async def test_a_replayed_stripe_signature_is_409_and_written_once(intake: Intake) -> None:
    body, headers = stripe_event()
    assert (await intake.post("stripe", body, headers))[0] == 200
    status, answer = await intake.post("stripe", body, headers)
    assert (status, json.loads(answer)) == (409, problem_answer(409, "replay"))
    assert len(await intake.written("stripe")) == 1


@pytest.mark.parametrize(
    ("source", "make", "duplicate_answer"),
    [
        ("shopify", shopify_refund, b'{"accepted": true, "duplicate": true}'),
        ("adyen", adyen_batch, b"[accepted]"),
    ],
)
async def test_a_resent_delivery_is_acknowledged_but_written_once(
    intake: Intake, source: str, make: Any, duplicate_answer: bytes
) -> None:
    body, headers = make()
    assert (await intake.post(source, body, headers))[0] == 200
    assert await intake.post(source, body, headers) == (200, duplicate_answer)
    assert len(await intake.written(source)) == 1


async def test_a_shopify_replay_under_a_forged_webhook_id_is_written_once(intake: Intake) -> None:
    body, headers = shopify_refund()
    assert (await intake.post("shopify", body, headers))[0] == 200
    forged = headers | {"X-Shopify-Webhook-Id": "00000000-forged"}
    assert (await intake.post("shopify", body, forged))[0] == 200
    assert len(await intake.written("shopify")) == 1


# --- a broker that does not acknowledge ----------------------------------------------------------


async def test_an_unacknowledged_write_is_503_and_the_retry_is_not_a_replay(
    bootstrap: str, topic_prefix: str
) -> None:
    sent: list[tuple[str, bytes, bytes | None]] = []
    failures = [RuntimeError("broker unavailable")]

    async def send(
        topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        if failures:
            raise failures.pop()
        sent.append((topic, value, key))

    app: web.Application = create_intake_app(
        intake_settings(bootstrap, topic_prefix), send, sources=SOURCES
    )
    body, headers = stripe_event()
    async with TestClient(TestServer(app)) as client:
        first = await asyncio.wait_for(
            client.post("/webhooks/stripe", data=body, headers=headers), TIMEOUT
        )
        assert (first.status, await first.json(content_type=None)) == (
            503,
            problem_answer(503, "not_written"),
        )
        retry = await asyncio.wait_for(
            client.post("/webhooks/stripe", data=body, headers=headers), TIMEOUT
        )
        assert retry.status == 200
    assert sent == [(f"{topic_prefix}raw.stripe", body, b"evt_1PqRfnIntake")]


async def test_a_duplicate_of_a_delivery_still_being_written_is_503(
    bootstrap: str, topic_prefix: str
) -> None:
    writing, acknowledge = asyncio.Event(), asyncio.Event()
    sent: list[bytes] = []

    async def slow_send(
        topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        writing.set()
        await acknowledge.wait()
        sent.append(value)

    app = create_intake_app(intake_settings(bootstrap, topic_prefix), slow_send, sources=SOURCES)
    body, headers = shopify_refund()
    async with TestClient(TestServer(app)) as client:
        first = asyncio.ensure_future(client.post("/webhooks/shopify", data=body, headers=headers))
        await asyncio.wait_for(writing.wait(), TIMEOUT)
        second = await asyncio.wait_for(
            client.post("/webhooks/shopify", data=body, headers=headers), TIMEOUT
        )
        assert (second.status, await second.json(content_type=None)) == (
            503,
            problem_answer(503, "in_flight"),
        )
        acknowledge.set()
        assert (await asyncio.wait_for(first, TIMEOUT)).status == 200
    assert sent == [body]
