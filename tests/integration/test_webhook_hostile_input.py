"""The webhook intake against hostile input, end to end through its aiohttp application.

No broker: the producer is an in-memory list, so "written" means "handed to the producer and
acknowledged". Outside services (Mercado Libre's API, PayPal's certificate host) are local
aiohttp servers speaking the providers' shapes; the clock is pinned and moved by the tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from yarl import URL

from connectors.base import SignatureScheme
from hub.webhooks.app import PayPalCertificates, create_intake_app
from hub.webhooks.certificates import CryptographyCertificateVerifier
from hub.webhooks.resources import HttpResourceFetcher
from schemas.settings import Settings, load_settings
from tests.support.connector_fixtures import FIXTURES
from tests.support.problems import problem_answer

pytestmark = pytest.mark.integration

NOW = datetime(2026, 2, 20, 18, 5, tzinfo=UTC)
SHOPIFY_SECRET = "shpss_hostile_input"
SOURCES: dict[str, SignatureScheme] = {"shopify": "shopify-hmac-sha256"}


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Producer:
    """Records what the intake wrote: (topic, value, key, headers)."""

    written: list[tuple[str, bytes, bytes | None, dict[str, bytes]]] = field(default_factory=list)

    async def __call__(
        self, topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        self.written.append((topic, value, key, dict(headers)))


def hostile_settings(**overrides: Any) -> Settings:
    secrets = {"shopify": [SHOPIFY_SECRET]} | overrides.pop("webhook_secrets", {})
    return load_settings(webhook_secrets=secrets, **overrides)


@dataclass
class Intake:
    client: TestClient[web.Request, web.Application]
    producer: Producer
    clock: Clock

    async def post(
        self, source: str, body: bytes, headers: dict[str, str], query: str = ""
    ) -> tuple[int, Any]:
        response = await self.client.post(f"/webhooks/{source}{query}", data=body, headers=headers)
        return response.status, await response.json(content_type=None)


IntakeFactory = Callable[..., Any]


@pytest.fixture
async def intake_for() -> AsyncIterator[IntakeFactory]:
    """Starts an intake on `settings` and `sources`; every one started is closed at the end."""
    clients: list[TestClient[web.Request, web.Application]] = []

    async def start(
        settings: Settings | None = None,
        sources: dict[str, SignatureScheme] = SOURCES,
        **services: Any,
    ) -> Intake:
        producer, clock = Producer(), Clock()
        app = create_intake_app(
            settings or hostile_settings(), producer, sources=sources, clock=clock, **services
        )
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return Intake(client, producer, clock)

    yield start
    for client in clients:
        await client.close()


# --- Shopify: the unsigned topic and time headers ----------------------------------------------


def shopify_delivery(name: str) -> tuple[bytes, dict[str, str]]:
    """A recorded Shopify delivery, signed as Shopify signs it, triggered at NOW."""
    body = (FIXTURES / "shopify" / f"{name}.json").read_bytes()
    digest = hmac.new(SHOPIFY_SECRET.encode(), body, hashlib.sha256).digest()
    return body, {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Topic": "returns/request",
        "X-Shopify-Webhook-Id": "d81c3e5a-0f27-4b9d-8a61-7e4c2b9f0d13",
        "X-Shopify-Triggered-At": NOW.isoformat().replace("+00:00", "Z"),
    }


async def test_a_captured_shopify_return_request_is_written_once_however_it_is_replayed(
    intake_for: IntakeFactory,
) -> None:
    intake = await intake_for()
    body, headers = shopify_delivery("returns-request-spanish-note")
    assert await intake.post("shopify", body, headers) == (200, {"accepted": True})

    for topic in ("returns/approve", "returns/decline", "returns/close"):
        relabelled = headers | {"X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": topic}
        assert await intake.post("shopify", body, relabelled) == (
            401,
            problem_answer(401, "topic_mismatch"),
        )

    intake.clock.now = NOW + timedelta(days=30)
    later = intake.clock.now.isoformat()
    for replayed in (
        headers | {"X-Shopify-Triggered-At": later, "X-Shopify-Webhook-Id": "new"},
        {name: value for name, value in headers.items() if name != "X-Shopify-Triggered-At"},
    ):
        status, answer = await intake.post("shopify", body, replayed)
        assert (status, answer) == (200, {"accepted": True, "duplicate": True})
    assert len(intake.producer.written) == 1


# --- delivery ids and the path's source segment --------------------------------------------------

AFTERSHIP_SECRET = "aftership_hostile_input"


def aftership_delivery(event_id: str) -> tuple[bytes, dict[str, str]]:
    """An AfterShip-signed body whose `event_id` (the delivery id) is `event_id`, JSON-escaped."""
    body = json.dumps({"event": "tracking_update", "event_id": event_id, "msg": {}}).encode()
    digest = hmac.new(AFTERSHIP_SECRET.encode(), body, hashlib.sha256).digest()
    return body, {"aftership-hmac-sha256": base64.b64encode(digest).decode()}


@pytest.mark.parametrize(
    "event_id",
    [
        pytest.param("evt_\udcff", id="lone-surrogate"),
        pytest.param("evt_1\r\nwebhook accepted source=stripe", id="line-break"),
        pytest.param("e" * 256, id="too-long"),
    ],
)
async def test_a_signed_delivery_with_an_unusable_id_is_refused_before_it_is_claimed(
    intake_for: IntakeFactory, event_id: str
) -> None:
    intake = await intake_for(
        hostile_settings(webhook_secrets={"aftership": [AFTERSHIP_SECRET]}),
        sources={"aftership": "aftership-hmac-sha256"},
    )
    body, headers = aftership_delivery(event_id)
    for _ in range(2):  # the retry gets the same answer, not "duplicate"
        assert await intake.post("aftership", body, headers) == (
            400,
            problem_answer(400, "bad_delivery_id"),
        )
    assert intake.producer.written == []
    usable_body, usable_headers = aftership_delivery("evt_1")
    assert (await intake.post("aftership", usable_body, usable_headers))[0] == 200


async def test_an_unknown_source_is_404_and_logged_escaped_and_cut(
    intake_for: IntakeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    intake = await intake_for()
    forged_line = "%0D%0A2026-02-20%2018:05:00%20INFO%20webhook%20accepted%1B[2J"
    path = URL("/webhooks/ebay" + forged_line + "x" * 200, encoded=True)
    with caplog.at_level(logging.WARNING, logger="hub.webhooks.app"):
        response = await intake.client.post(path, data=b"{}")
        answer = await response.read()
    assert (response.status, json.loads(answer)) == (
        404,
        problem_answer(404, "unknown_source"),
    )
    [record] = [r for r in caplog.records if "unknown_source" in r.getMessage()]
    message = record.getMessage()
    assert not any(char in message for char in "\r\n\x1b")
    assert "source=ebay\\r\\n2026-02-20" in message
    assert "x" * 65 not in message


# --- PayPal: no certificate fetch for a request that fails a cheap check -----------------------

PAYPAL_WEBHOOK_ID = "4JH86294D6297924G"
PAYPAL_CERT_URL = "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270"


@dataclass
class PayPalKey:
    """A throw-away RSA key with a self-signed certificate, standing in for PayPal's."""

    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    def certificate(self) -> bytes:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "messageverificationcerts")])
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(1)
            .not_valid_before(NOW - timedelta(days=1))
            .not_valid_after(NOW + timedelta(days=365))
            .sign(self.key, hashes.SHA256())
        )
        return certificate.public_bytes(serialization.Encoding.PEM)

    def delivery(self, cert_url: str = PAYPAL_CERT_URL) -> tuple[bytes, dict[str, str]]:
        body = b'{"id":"WH-0EW14418AH6556127-4U372936GS461402T","event_type":"PAYMENT.SALE"}'
        tid, when = "dfb3be50-fd74-11e4-8bf3-77339302725b", NOW.isoformat()
        signed = f"{tid}|{when}|{PAYPAL_WEBHOOK_ID}|{zlib.crc32(body) & 0xFFFFFFFF}".encode()
        signature = self.key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
        return body, {
            "paypal-transmission-id": tid,
            "paypal-transmission-time": when,
            "paypal-transmission-sig": base64.b64encode(signature).decode(),
            "paypal-cert-url": cert_url,
            "paypal-auth-algo": "SHA256withRSA",
        }


@dataclass
class RecordingFetcher:
    """A CertificateFetcher serving one certificate and recording every URL it was asked for."""

    certificate: bytes
    urls: list[str] = field(default_factory=list)

    async def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        return self.certificate


def _without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {key: value for key, value in headers.items() if key != name}


async def test_paypal_certificates_are_fetched_only_for_requests_that_pass_the_cheap_checks(
    intake_for: IntakeFactory,
) -> None:
    key = PayPalKey()
    fetcher = RecordingFetcher(key.certificate())
    intake = await intake_for(
        hostile_settings(webhook_secrets={"paypal": [PAYPAL_WEBHOOK_ID]}),
        sources={"paypal": "paypal-verify"},
        paypal=PayPalCertificates(fetcher, CryptographyCertificateVerifier()),
    )
    body, headers = key.delivery()
    certs = "https://api.paypal.com/v1/notifications/certs/"
    cheap_failures = [
        (body, _without(headers, "paypal-transmission-sig"), "missing_signature"),
        (body, headers | {"paypal-transmission-time": "2026-01-01T00:00:00Z"}, "stale"),
        (b"not json", headers, "malformed_body"),
        *(
            (body, headers | {"paypal-cert-url": url}, "untrusted_certificate")
            for url in (
                PAYPAL_CERT_URL + "?nocache=1",
                f"{certs}%2e%2e/%2e%2e/oauth2/token",
                "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-1",
                "https://api.paypal.com:8443/v1/notifications/certs/CERT-1",
            )
        ),
    ]
    for request_body, request_headers, reason in cheap_failures:
        assert await intake.post("paypal", request_body, request_headers) == (
            401,
            problem_answer(401, reason),
        )
    assert fetcher.urls == []

    spelled_otherwise = PAYPAL_CERT_URL.replace("api.paypal.com", "API.PayPal.com:443")
    body, headers = key.delivery(spelled_otherwise)
    assert await intake.post("paypal", body, headers) == (200, {"accepted": True})
    assert fetcher.urls == [PAYPAL_CERT_URL], "fetched once, by its canonical URL"


async def test_paypal_sandbox_certificates_only_when_the_sandbox_is_enabled(
    intake_for: IntakeFactory,
) -> None:
    key = PayPalKey()
    sandbox_url = "https://api-m.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-a5cafa77"
    body, headers = key.delivery(sandbox_url)
    for enabled, status in ((False, 401), (True, 200)):
        fetcher = RecordingFetcher(key.certificate())
        intake = await intake_for(
            hostile_settings(
                webhook_secrets={"paypal": [PAYPAL_WEBHOOK_ID]}, paypal_sandbox=enabled
            ),
            sources={"paypal": "paypal-verify"},
            paypal=PayPalCertificates(fetcher, CryptographyCertificateVerifier()),
        )
        assert (await intake.post("paypal", body, headers))[0] == status
        assert fetcher.urls == ([sandbox_url] if enabled else [])


# --- Mercado Libre: the resource fetched by its signed id, never the unsigned body -------------

ML_SECRET = "ml_hostile_input"
ML_TOKEN = "APP_USR-hostile-input-token"
ML_CLAIM = (FIXTURES / "mercadolibre" / "claim-return-opened-repentant-mlb.json").read_bytes()
ML_RETURN = (FIXTURES / "mercadolibre" / "return-label-generated-mlb.json").read_bytes()
ML_CLAIM_ID = "5403019427"


@dataclass
class MercadoLibreApi:
    """A local server answering like Mercado Libre's post-purchase API for one claim."""

    failures: list[int] = field(default_factory=list)  # statuses to answer first, in order
    requests: list[tuple[str, str | None]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/post-purchase/v1/claims/{id}", self.claim)
        app.router.add_get("/post-purchase/v2/claims/{id}/returns", self.claim_return)
        return app

    def _answer(self, request: web.Request, body: bytes) -> web.Response:
        self.requests.append((request.path, request.headers.get("Authorization")))
        if self.failures:
            return web.json_response({"message": "unavailable"}, status=self.failures.pop(0))
        if request.match_info["id"] != ML_CLAIM_ID:
            return web.json_response({"message": "Claim not found"}, status=404)
        return web.Response(body=body, content_type="application/json")

    async def claim(self, request: web.Request) -> web.Response:
        return self._answer(request, ML_CLAIM)

    async def claim_return(self, request: web.Request) -> web.Response:
        return self._answer(request, ML_RETURN)


def ml_notification(
    resource: str | None = f"/post-purchase/v1/claims/{ML_CLAIM_ID}",
    *,
    signed_id: str = ML_CLAIM_ID,
) -> tuple[bytes, dict[str, str], str]:
    """A notification whose x-signature covers `signed_id` (query `data.id`), request id and ts."""
    notification: dict[str, Any] = {"user_id": 382915544, "topic": "claims", "attempts": 1}
    if resource is not None:
        notification["resource"] = resource
    body = json.dumps(notification).encode()
    ts, request_id = str(int(NOW.timestamp())), "bb56a2f1-6aae-46ac-982e-9dcd3581d08e"
    manifest = f"id:{signed_id};request-id:{request_id};ts:{ts};"
    v1 = hmac.new(ML_SECRET.encode(), manifest.encode(), hashlib.sha256).hexdigest()
    headers = {"x-signature": f"ts={ts},v1={v1}", "x-request-id": request_id}
    return body, headers, f"?data.id={signed_id}&type=claims"


@pytest.fixture
async def ml_api() -> AsyncIterator[tuple[MercadoLibreApi, HttpResourceFetcher]]:
    api = MercadoLibreApi()
    async with TestServer(api.app()) as server, aiohttp.ClientSession() as session:
        fetcher = HttpResourceFetcher(
            session,
            base_url=str(server.make_url("/")),
            token=ML_TOKEN,
            timeout_seconds=2.0,
            attempts=3,
            max_bytes=1 << 20,
            backoff_seconds=0.01,
        )
        yield api, fetcher


async def ml_intake(intake_for: IntakeFactory, fetcher: HttpResourceFetcher) -> Intake:
    intake: Intake = await intake_for(
        hostile_settings(webhook_secrets={"mercadolibre": [ML_SECRET]}),
        sources={"mercadolibre": "mercadolibre-x-signature"},
        mercadolibre=fetcher,
    )
    return intake


@pytest.mark.parametrize(
    ("resource", "expected_path", "expected_body"),
    [
        (
            f"/post-purchase/v1/claims/{ML_CLAIM_ID}",
            f"/post-purchase/v1/claims/{ML_CLAIM_ID}",
            ML_CLAIM,
        ),
        (None, f"/post-purchase/v1/claims/{ML_CLAIM_ID}", ML_CLAIM),
        (
            f"/post-purchase/v2/claims/{ML_CLAIM_ID}/returns",
            f"/post-purchase/v2/claims/{ML_CLAIM_ID}/returns",
            ML_RETURN,
        ),
    ],
)
async def test_mercadolibre_writes_the_resource_fetched_by_the_signed_id(
    intake_for: IntakeFactory,
    ml_api: tuple[MercadoLibreApi, HttpResourceFetcher],
    resource: str | None,
    expected_path: str,
    expected_body: bytes,
) -> None:
    api, fetcher = ml_api
    intake = await ml_intake(intake_for, fetcher)
    body, headers, query = ml_notification(resource)
    assert await intake.post("mercadolibre", body, headers, query) == (200, {"accepted": True})
    [(topic, value, key, record_headers)] = intake.producer.written
    assert (topic, value, key) == ("raw.mercadolibre", expected_body, ML_CLAIM_ID.encode())
    assert record_headers["http.x-mercadolibre-resource"] == expected_path.encode()
    assert api.requests == [(expected_path, f"Bearer {ML_TOKEN}")]


@pytest.mark.parametrize(
    "resource",
    [
        "/post-purchase/v1/claims/5402918733",  # another claim than the signed one
        f"/post-purchase/v1/claims/{ML_CLAIM_ID}/../../../users/me",
        f"https://attacker.example/post-purchase/v1/claims/{ML_CLAIM_ID}",
        f"/orders/{ML_CLAIM_ID}",
    ],
)
async def test_mercadolibre_a_notification_naming_another_resource_is_refused_unfetched(
    intake_for: IntakeFactory, ml_api: tuple[MercadoLibreApi, HttpResourceFetcher], resource: str
) -> None:
    api, fetcher = ml_api
    intake = await ml_intake(intake_for, fetcher)
    body, headers, query = ml_notification(resource)
    assert await intake.post("mercadolibre", body, headers, query) == (
        400,
        problem_answer(400, "unexpected_resource"),
    )
    assert (api.requests, intake.producer.written) == ([], [])


async def test_mercadolibre_transient_api_failures_are_retried(
    intake_for: IntakeFactory, ml_api: tuple[MercadoLibreApi, HttpResourceFetcher]
) -> None:
    api, fetcher = ml_api
    api.failures = [503, 429]
    intake = await ml_intake(intake_for, fetcher)
    body, headers, query = ml_notification()
    assert (await intake.post("mercadolibre", body, headers, query))[0] == 200
    assert len(api.requests) == 3
    assert [value for _, value, _, _ in intake.producer.written] == [ML_CLAIM]


@pytest.mark.parametrize("failures", [[500, 502, 504], [404]], ids=["down", "not-found"])
async def test_mercadolibre_an_unreachable_resource_is_503_and_the_retry_is_not_a_duplicate(
    intake_for: IntakeFactory,
    ml_api: tuple[MercadoLibreApi, HttpResourceFetcher],
    caplog: pytest.LogCaptureFixture,
    failures: list[int],
) -> None:
    api, fetcher = ml_api
    api.failures = list(failures)
    intake = await ml_intake(intake_for, fetcher)
    body, headers, query = ml_notification()
    with caplog.at_level(logging.WARNING, logger="hub.webhooks.app"):
        assert await intake.post("mercadolibre", body, headers, query) == (
            503,
            problem_answer(503, "resource_unavailable"),
        )
    assert intake.producer.written == []
    assert f"HTTP {failures[-1]}" in caplog.text
    assert (await intake.post("mercadolibre", body, headers, query))[0] == 200
    assert [value for _, value, _, _ in intake.producer.written] == [ML_CLAIM]


async def test_mercadolibre_without_a_fetcher_is_503_and_never_writes_the_body(
    intake_for: IntakeFactory,
) -> None:
    intake = await intake_for(
        hostile_settings(webhook_secrets={"mercadolibre": [ML_SECRET]}),
        sources={"mercadolibre": "mercadolibre-x-signature"},
    )
    body, headers, query = ml_notification()
    assert (await intake.post("mercadolibre", body, headers, query))[0] == 503
    assert intake.producer.written == []
