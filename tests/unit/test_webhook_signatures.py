"""Every webhook verifier against correct, wrong, tampered, stale, rotated and replayed requests.

The signers here are written from each provider's documentation, independently of
`hub.webhooks.signatures`; the Adyen and Mercado Pago checks also run on the vectors of the
providers' SDK test suites (SIGNATURES.md). PayPal is checked with a throw-away RSA key and
certificate made by the `openssl` command line, which also verifies the signatures.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import subprocess
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import SignatureScheme
from hub.webhooks.replay import InMemoryReplayCache
from hub.webhooks.signatures import (
    HTTP_SCHEMES,
    SHOPIFY_MAX_AGE,
    SHOPIFY_UNDATED_RETENTION,
    VERIFIERS,
    Verdict,
    adyen_signing_string,
    check_paypal_request,
    paypal_cert_url,
    shopify_body_time,
    verify_17track,
    verify_adyen,
    verify_aftership,
    verify_amazon,
    verify_dhl,
    verify_easypost,
    verify_mercadolibre,
    verify_paypal,
    verify_shopify,
    verify_stripe,
    verify_ups,
)
from schemas.errors import ConfigurationError
from tests.support.connector_fixtures import FIXTURES

NOW = datetime(2026, 3, 2, 10, 30, 0, tzinfo=UTC)
TOLERANCE = timedelta(minutes=5)
OLD = "old-secret-ä"
NEW = "new-secret"
ADYEN_OLD = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
ADYEN_NEW = "74F490DD33F7327BAECC88B2947C011FC02D014A473AAA33A8EC93E4DC069174"
PAYPAL_CERT_URL = "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270"

Headers = dict[str, str]
Request = tuple[bytes, Headers, dict[str, Any]]


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- PayPal test double: a real RSA key and certificate, verified by openssl ------------------


@dataclass(frozen=True)
class OpenSsl:
    """Signs with a throw-away key and verifies with the public key of its certificate."""

    workdir: Path
    key: Path
    certificate: Path

    def sign(self, message: bytes) -> bytes:
        data = self.workdir / "message.bin"
        data.write_bytes(message)
        return subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key), str(data)],
            check=True,
            capture_output=True,
        ).stdout

    def verify(
        self, certificate: bytes, signature: bytes, message: bytes, *, now: datetime
    ) -> bool:
        cert = self.workdir / "received-cert.pem"
        cert.write_bytes(certificate)
        public = self.workdir / "received-public.pem"
        public.write_bytes(
            subprocess.run(
                ["openssl", "x509", "-pubkey", "-noout", "-in", str(cert)],
                check=True,
                capture_output=True,
            ).stdout
        )
        (self.workdir / "signature.bin").write_bytes(signature)
        (self.workdir / "signed.bin").write_bytes(message)
        result = subprocess.run(
            [
                "openssl",
                "dgst",
                "-sha256",
                "-verify",
                str(public),
                "-signature",
                str(self.workdir / "signature.bin"),
                str(self.workdir / "signed.bin"),
            ],
            capture_output=True,
        )
        return result.returncode == 0


@pytest.fixture(scope="module")
def openssl(tmp_path_factory: pytest.TempPathFactory) -> OpenSsl:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    workdir = tmp_path_factory.mktemp("paypal-cert")
    key, cert = workdir / "key.pem", workdir / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=messageverificationcerts.paypal.com",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return OpenSsl(workdir, key, cert)


# --- one signer per scheme ---------------------------------------------------------------------


def shopify(secret: str, at: datetime, body: bytes = b'{"id":820982911946154508}') -> Request:
    return (
        body,
        {
            "x-shopify-hmac-sha256": _b64(_hmac(secret.encode(), body)),
            "x-shopify-topic": "refunds/create",
            "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
            "x-shopify-triggered-at": at.isoformat().replace("+00:00", "Z"),
        },
        {},
    )


def stripe(secret: str, at: datetime, body: bytes = b'{"id":"evt_1","object":"event"}') -> Request:
    t = str(int(at.timestamp()))
    v1 = _hmac(secret.encode(), f"{t}.".encode() + body).hex()
    return body, {"stripe-signature": f"t={t},v1={v1},v0={'0' * 64}"}, {}


def adyen_item(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "additionalData": {},
        "amount": {"currency": "EUR", "value": 1500},
        "eventCode": "REFUND",
        "merchantAccountCode": "HubTestAccount",
        "merchantReference": "order-1001",
        "originalReference": "QFQTPCQ8HXSKGK82",
        "pspReference": "MMW3QZ2PMSZ8H2V5",
        "success": "true",
    }
    return {**item, **overrides}


def adyen(hex_key: str, at: datetime, items: list[dict[str, Any]] | None = None) -> Request:
    signed = []
    for item in items or [adyen_item()]:
        signing = adyen_signing_string(item).encode()
        mac = _b64(_hmac(bytes.fromhex(hex_key), signing))
        signed.append(
            {"NotificationRequestItem": {**item, "additionalData": {"hmacSignature": mac}}}
        )
    body = json.dumps({"live": "false", "notificationItems": signed}).encode()
    return body, {"content-type": "application/json"}, {}


def aftership(secret: str, at: datetime) -> Request:
    body = json.dumps(
        {"event": "tracking_update", "event_id": "9a7b2c1e", "msg": {}, "ts": int(at.timestamp())}
    ).encode()
    return body, {"aftership-hmac-sha256": _b64(_hmac(secret.encode(), body))}, {}


def easypost(secret: str, at: datetime) -> Request:
    body = b'{"id":"evt_8f1c","object":"Event","description":"tracker.updated"}'
    key = unicodedata.normalize("NFKD", secret).encode()
    return body, {"x-hmac-signature": "hmac-sha256-hex=" + _hmac(key, body).hex()}, {}


def easypost_v2(secret: str, at: datetime) -> Request:
    body, headers, kwargs = easypost(secret, at)
    timestamp, path = at.isoformat().replace("+00:00", "Z"), "/webhooks/easypost"
    key = unicodedata.normalize("NFKD", secret).encode()
    v2 = _hmac(key, f"{timestamp}POST{path}".encode() + body).hex()
    headers |= {
        "x-hmac-signature-v2": f"hmac-sha256-hex={v2}",
        "x-timestamp": timestamp,
        "x-path": path,
    }
    return body, headers, kwargs


def seventeen_track(secret: str, at: datetime) -> Request:
    body = b'{"event":"TRACKING_UPDATED","data":{"number":"RR123456789CN"}}'
    return body, {"sign": hashlib.sha256(body + b"/" + secret.encode()).hexdigest()}, {}


def mercadolibre(secret: str, at: datetime) -> Request:
    body = b'{"action":"payment.updated","data":{"id":"123456"},"type":"payment"}'
    ts, request_id = str(int(at.timestamp())), "bb56a2f1-6aae-46ac-982e-9dcd3581d08e"
    manifest = f"id:123456;request-id:{request_id};ts:{ts};"
    v1 = _hmac(secret.encode(), manifest.encode()).hex()
    headers = {"x-signature": f"ts={ts},v1={v1}", "x-request-id": request_id}
    return body, headers, {"query": {"data.id": "123456", "type": "payment"}}


def paypal(openssl: OpenSsl) -> Callable[[str, datetime], Request]:
    def sign(webhook_id: str, at: datetime) -> Request:
        body = b'{"id":"WH-0EW14418AH6556127-4U372936GS461402T","event_type":"PAYMENT.SALE"}'
        tid, when = "dfb3be50-fd74-11e4-8bf3-77339302725b", at.isoformat().replace("+00:00", "Z")
        crc = zlib.crc32(body) & 0xFFFFFFFF
        signature = openssl.sign(f"{tid}|{when}|{webhook_id}|{crc}".encode())
        headers = {
            "paypal-transmission-id": tid,
            "paypal-transmission-time": when,
            "paypal-transmission-sig": _b64(signature),
            "paypal-cert-url": PAYPAL_CERT_URL,
            "paypal-auth-algo": "SHA256withRSA",
        }
        kwargs = {"certificate": openssl.certificate.read_bytes(), "certificate_verifier": openssl}
        return body, headers, kwargs

    return sign


def ups(secret: str, at: datetime) -> Request:
    return b'{"trackingNumber":"1Z204W4R0308071865"}', {"credential": secret}, {}


def ups_bearer(secret: str, at: datetime) -> Request:
    return b'{"trackingNumber":"1Z204W4R0308071865"}', {"authorization": f"Bearer {secret}"}, {}


def dhl(secret: str, at: datetime) -> Request:
    return b'{"shipments":[{"id":"7777777770"}]}', {"dhl-api-key": secret}, {}


def amazon(secret: str, at: datetime) -> Request:
    body = b'{"NotificationMetadata":{"NotificationId":"d0e9e693-c3ad-4373-979f-ed4ec98dd746"}}'
    return body, {"x-hub-relay-token": secret}, {}


@dataclass(frozen=True)
class Scheme:
    name: str
    verify: Callable[..., Verdict]
    sign: Callable[[str, datetime], Request]
    timestamped: bool
    old: str = OLD
    new: str = NEW
    signature_header: str | None = None
    tamper: Callable[[Request], Request] | None = field(default=None)


def _flip_body(request: Request) -> Request:
    body, headers, kwargs = request
    return body.replace(b"}", b" }", 1), headers, kwargs


def _flip_adyen_amount(request: Request) -> Request:
    body, headers, kwargs = request
    return body.replace(b'"value": 1500', b'"value": 1', 1), headers, kwargs


def _flip_request_id(request: Request) -> Request:
    body, headers, kwargs = request
    return body, {**headers, "x-request-id": "another-request"}, kwargs


SCHEMES = [
    Scheme(
        "shopify",
        verify_shopify,
        shopify,
        True,
        signature_header="x-shopify-hmac-sha256",
        tamper=_flip_body,
    ),
    Scheme(
        "stripe",
        verify_stripe,
        stripe,
        True,
        signature_header="stripe-signature",
        tamper=_flip_body,
    ),
    Scheme(
        "adyen", verify_adyen, adyen, False, old=ADYEN_OLD, new=ADYEN_NEW, tamper=_flip_adyen_amount
    ),
    Scheme(
        "aftership",
        verify_aftership,
        aftership,
        True,
        signature_header="aftership-hmac-sha256",
        tamper=_flip_body,
    ),
    Scheme(
        "easypost",
        verify_easypost,
        easypost,
        False,
        signature_header="x-hmac-signature",
        tamper=_flip_body,
    ),
    Scheme("easypost-v2", verify_easypost, easypost_v2, True, tamper=_flip_body),
    Scheme(
        "17track",
        verify_17track,
        seventeen_track,
        False,
        signature_header="sign",
        tamper=_flip_body,
    ),
    Scheme(
        "mercadolibre",
        verify_mercadolibre,
        mercadolibre,
        True,
        signature_header="x-signature",
        tamper=_flip_request_id,
    ),
    Scheme(
        "paypal",
        verify_paypal,
        lambda s, at: pytest.fail("replaced"),
        True,
        old="WH-ID-OLD",
        new="4JH86294D6297924G",
        signature_header="paypal-transmission-sig",
        tamper=_flip_body,
    ),
    Scheme("ups", verify_ups, ups, False, signature_header="credential"),
    Scheme("ups-bearer", verify_ups, ups_bearer, False, signature_header="authorization"),
    Scheme("dhl", verify_dhl, dhl, False, signature_header="dhl-api-key"),
    Scheme("amazon", verify_amazon, amazon, False, signature_header="x-hub-relay-token"),
]


@pytest.fixture
def scheme(request: pytest.FixtureRequest) -> Scheme:
    chosen: Scheme = request.param
    if chosen.name == "paypal":
        return replace(chosen, sign=paypal(request.getfixturevalue("openssl")))
    return chosen


def schemes(predicate: Callable[[Scheme], bool] = lambda _: True) -> pytest.MarkDecorator:
    """Parametrize the `scheme` fixture over the schemes that fit `predicate`."""
    chosen = [s for s in SCHEMES if predicate(s)]
    return pytest.mark.parametrize("scheme", chosen, ids=[s.name for s in chosen], indirect=True)


def check(scheme: Scheme, request: Request, secrets: list[str], now: datetime = NOW) -> Verdict:
    body, headers, kwargs = request
    return scheme.verify(body, headers, secrets, now=now, tolerance=TOLERANCE, **kwargs)


# --- the matrix --------------------------------------------------------------------------------


def test_every_http_scheme_has_a_verifier() -> None:
    assert set(get_args(SignatureScheme)) - {"kafka-direct"} == set(VERIFIERS) == HTTP_SCHEMES


@schemes()
def test_a_correct_signature_is_verified(scheme: Scheme) -> None:
    verdict = check(scheme, scheme.sign(scheme.new, NOW), [scheme.new])
    assert verdict.ok, verdict.detail
    assert verdict.reason == "verified"
    assert verdict.replay_keys


@schemes()
@pytest.mark.parametrize("configured", ["old-and-new", "new-and-old"])
def test_every_configured_secret_is_tried_while_keys_rotate(
    scheme: Scheme, configured: str
) -> None:
    secrets = [scheme.old, scheme.new] if configured == "old-and-new" else [scheme.new, scheme.old]
    assert check(scheme, scheme.sign(scheme.old, NOW), secrets).ok
    assert check(scheme, scheme.sign(scheme.new, NOW), secrets).ok


@schemes()
def test_a_signature_with_a_retired_secret_is_rejected(scheme: Scheme) -> None:
    verdict = check(scheme, scheme.sign(scheme.old, NOW), [scheme.new])
    assert (verdict.ok, verdict.reason) == (False, "bad_signature")


@schemes(lambda s: s.tamper is not None)  # the header-credential schemes sign nothing
def test_a_tampered_request_is_rejected(scheme: Scheme) -> None:
    assert scheme.tamper is not None
    verdict = check(scheme, scheme.tamper(scheme.sign(scheme.new, NOW)), [scheme.new])
    assert (verdict.ok, verdict.reason) == (False, "bad_signature")


@schemes(lambda s: s.signature_header is not None)  # Adyen's sits in the body: see below
def test_a_missing_signature_is_rejected(scheme: Scheme) -> None:
    assert scheme.signature_header is not None
    body, headers, kwargs = scheme.sign(scheme.new, NOW)
    del headers[scheme.signature_header]
    verdict = check(scheme, (body, headers, kwargs), [scheme.new])
    assert (verdict.ok, verdict.reason) == (False, "missing_signature")


@schemes(lambda s: s.timestamped)  # the others sign no time: only the replay cache helps
@pytest.mark.parametrize(
    "offset", [timedelta(minutes=-6), timedelta(minutes=6)], ids=["old", "future"]
)
def test_a_signed_timestamp_outside_the_tolerance_is_stale(
    scheme: Scheme, offset: timedelta
) -> None:
    verdict = check(scheme, scheme.sign(scheme.new, NOW + offset), [scheme.new])
    assert (verdict.ok, verdict.reason) == (False, "stale")


@schemes(lambda s: s.timestamped)
def test_a_timestamp_at_the_edge_of_the_tolerance_is_fresh(scheme: Scheme) -> None:
    assert check(scheme, scheme.sign(scheme.new, NOW - TOLERANCE), [scheme.new]).ok


@schemes()
async def test_a_replayed_request_is_caught_by_the_replay_cache(scheme: Scheme) -> None:
    cache = InMemoryReplayCache()
    request = scheme.sign(scheme.new, NOW)
    first, again = check(scheme, request, [scheme.new]), check(scheme, request, [scheme.new])
    assert first.replay_keys == again.replay_keys
    until = NOW + TOLERANCE
    assert await cache.claim(first.replay_keys, now=NOW, until=until)
    assert not await cache.claim(again.replay_keys, now=NOW + timedelta(seconds=1), until=until)


@settings(max_examples=60, deadline=None)
@given(
    body=st.binary(max_size=300),
    values=st.lists(st.text(max_size=80), min_size=12, max_size=12),
)
def test_garbage_never_raises_and_never_verifies(body: bytes, values: list[str]) -> None:
    names = [
        "x-shopify-hmac-sha256",
        "x-shopify-triggered-at",
        "stripe-signature",
        "hmacsignature",
        "aftership-hmac-sha256",
        "x-hmac-signature",
        "x-hmac-signature-v2",
        "x-timestamp",
        "sign",
        "x-signature",
        "paypal-transmission-sig",
        "credential",
    ]
    headers = dict(zip(names, values, strict=True)) | {"x-path": "/x", "paypal-auth-algo": "x"}
    for name, verify in VERIFIERS.items():
        secrets = [ADYEN_NEW] if name == "adyen-hmac-item" else [NEW]
        verdict = verify(body, headers, secrets, now=NOW, tolerance=TOLERANCE)
        assert not verdict.ok, name


# --- provider specifics ------------------------------------------------------------------------

# Adyen's published vector (adyen-python-api-library test/UtilTest.py, HMACValidatorTest.java).
ADYEN_VECTOR_KEY = "74F490DD33F7327BAECC88B2947C011FC02D014A473AAA33A8EC93E4DC069174"
ADYEN_VECTOR_ITEM = {
    "additionalData": {"hmacSignature": "CZErGCNQaSsxbaQfZaJlakqo7KPP+mIa8a+wx3yNs9A="},
    "amount": {"currency": "EUR", "value": 1000},
    "eventCode": "AUTHORISATION",
    "merchantAccountCode": "AntoniStroinski",
    "merchantReference": "\\:/\\/slashes are fun",
    "pspReference": "ZVWN7D3WSMK2WN82",
    "success": "true",
}


def _adyen_body(*items: dict[str, Any]) -> bytes:
    wrapped = [{"NotificationRequestItem": item} for item in items]
    return json.dumps({"live": "false", "notificationItems": wrapped}).encode()


def test_adyen_official_vector() -> None:
    assert adyen_signing_string(ADYEN_VECTOR_ITEM) == (
        "ZVWN7D3WSMK2WN82::AntoniStroinski:\\:/\\/slashes are fun:1000:EUR:AUTHORISATION:true"
    )
    verdict = verify_adyen(
        _adyen_body(ADYEN_VECTOR_ITEM), {}, [ADYEN_VECTOR_KEY], now=NOW, tolerance=TOLERANCE
    )
    assert verdict.ok
    assert verdict.delivery_id == "ZVWN7D3WSMK2WN82"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("merchantReference", "\\:/\\/slashes are fun!"),
        ("success", "false"),
        ("eventCode", "REFUND"),
    ],
)
def test_adyen_official_vector_with_a_signed_field_changed(field: str, value: str) -> None:
    item = {**ADYEN_VECTOR_ITEM, field: value}
    verdict = verify_adyen(_adyen_body(item), {}, [ADYEN_VECTOR_KEY], now=NOW, tolerance=TOLERANCE)
    assert (verdict.ok, verdict.reason) == (False, "bad_signature")


def test_adyen_verifies_every_item() -> None:
    body, _, _ = adyen(ADYEN_NEW, NOW, [adyen_item(), adyen_item(pspReference="SECOND")])
    good = json.loads(body)["notificationItems"]
    forged = {"NotificationRequestItem": {**good[1]["NotificationRequestItem"], "eventCode": "X"}}
    tampered = json.dumps({"live": "false", "notificationItems": [good[0], forged]}).encode()
    verdict = verify_adyen(tampered, {}, [ADYEN_NEW], now=NOW, tolerance=TOLERANCE)
    assert (verdict.ok, verdict.reason) == (False, "bad_signature")
    assert "item 1" in verdict.detail


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(b"not json", "malformed_body", id="not-json"),
        pytest.param(b'{"notificationItems": []}', "malformed_body", id="no-items"),
        pytest.param(_adyen_body({**adyen_item()}), "missing_signature", id="unsigned-item"),
        pytest.param(
            _adyen_body(adyen_item(additionalData={"hmacSignature": "***"})),
            "malformed_signature",
            id="not-base64",
        ),
    ],
)
def test_adyen_rejections(body: bytes, reason: str) -> None:
    verdict = verify_adyen(body, {}, [ADYEN_NEW], now=NOW, tolerance=TOLERANCE)
    assert (verdict.ok, verdict.reason) == (False, reason)


def test_adyen_key_must_be_hex() -> None:
    with pytest.raises(ConfigurationError, match="not a hex string"):
        verify_adyen(_adyen_body(ADYEN_VECTOR_ITEM), {}, ["not-hex"], now=NOW, tolerance=TOLERANCE)


def test_adyen_header_signed_webhooks() -> None:
    body = b'{"type":"balancePlatform.transfer.updated","data":{"id":"TR123"}}'
    header = _b64(_hmac(bytes.fromhex(ADYEN_NEW), body))
    ok = verify_adyen(body, {"hmacsignature": header}, [ADYEN_NEW], now=NOW, tolerance=TOLERANCE)
    assert ok.ok
    forged = verify_adyen(
        body + b" ", {"hmacsignature": header}, [ADYEN_NEW], now=NOW, tolerance=TOLERANCE
    )
    assert forged.reason == "bad_signature"


@pytest.mark.parametrize(
    ("authorization", "ok"),
    [
        ("Basic " + _b64(b"adyen:s3cret"), True),
        ("Basic " + _b64(b"adyen:wrong"), False),
        (None, False),
    ],
)
def test_adyen_optional_basic_auth(authorization: str | None, ok: bool) -> None:
    headers = {"authorization": authorization} if authorization else {}
    verdict = verify_adyen(
        _adyen_body(ADYEN_VECTOR_ITEM),
        headers,
        [ADYEN_VECTOR_KEY],
        now=NOW,
        tolerance=TOLERANCE,
        basic_auth=[("adyen", "s3cret")],
    )
    assert verdict.ok is ok


def test_stripe_accepts_any_matching_v1_and_ignores_v0() -> None:
    body, headers, _ = stripe(NEW, NOW)
    t_part, v1_part, v0_part = headers["stripe-signature"].split(",")
    rolled = f"{t_part},v1={'ab' * 32},{v1_part},{v0_part}"
    verdict = verify_stripe(body, {"stripe-signature": rolled}, [NEW], now=NOW, tolerance=TOLERANCE)
    assert verdict.ok
    assert verdict.delivery_id == "evt_1"
    only_v0 = {"stripe-signature": f"{t_part},v0={v1_part.removeprefix('v1=')}"}
    rejected = verify_stripe(body, only_v0, [NEW], now=NOW, tolerance=TOLERANCE)
    assert rejected.reason == "malformed_signature"


@pytest.mark.parametrize(
    "header",
    ["v1=abc", "t=soon,v1=" + "ab" * 32, "t=1,t=2,v1=" + "ab" * 32, "garbage"],
)
def test_stripe_malformed_headers(header: str) -> None:
    verdict = verify_stripe(
        b"{}", {"stripe-signature": header}, [NEW], now=NOW, tolerance=TOLERANCE
    )
    assert (verdict.ok, verdict.reason) == (False, "malformed_signature")


def test_stripe_stale_is_reported_only_for_an_authentic_signature() -> None:
    body, headers, _ = stripe(OLD, NOW - timedelta(hours=1))
    verdict = verify_stripe(body, headers, [NEW], now=NOW, tolerance=TOLERANCE)
    assert verdict.reason == "bad_signature"


def test_shopify_replay_keys_catch_a_replay_under_a_new_webhook_id() -> None:
    body, headers, _ = shopify(NEW, NOW)
    first = verify_shopify(body, headers, [NEW], now=NOW, tolerance=TOLERANCE)
    renamed = {**headers, "x-shopify-webhook-id": "forged-new-id"}
    again = verify_shopify(body, renamed, [NEW], now=NOW, tolerance=TOLERANCE)
    assert set(first.replay_keys) & set(again.replay_keys)
    assert first.delivery_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"


SHOPIFY_FIXTURES = FIXTURES / "shopify"


def shopify_fixture(name: str, *, topic: str | None = None) -> Request:
    """A recorded Shopify body signed with NEW, with its recorded headers (or only a topic)."""
    body = (SHOPIFY_FIXTURES / f"{name}.json").read_bytes()
    recorded = SHOPIFY_FIXTURES / f"{name}.headers.json"
    headers = json.loads(recorded.read_text()) if recorded.exists() and topic is None else {}
    if topic is not None:
        headers["x-shopify-topic"] = topic
    headers.pop("x-shopify-triggered-at", None)  # the tests date the request themselves
    return body, headers | {"x-shopify-hmac-sha256": _b64(_hmac(NEW.encode(), body))}, {}


def verify_shopify_at(request: Request, now: datetime = NOW) -> Verdict:
    body, headers, _ = request
    return verify_shopify(body, headers, [NEW], now=now, tolerance=TOLERANCE)


@pytest.mark.parametrize(
    "name",
    sorted(
        path.name.removesuffix(".headers.json") for path in SHOPIFY_FIXTURES.glob("*.headers.json")
    ),
)
def test_shopify_every_recorded_topic_agrees_with_its_body(name: str) -> None:
    request = shopify_fixture(name)
    verdict = verify_shopify_at(request, now=shopify_body_time(json.loads(request[0])) or NOW)
    assert verdict.ok, verdict.detail


@pytest.mark.parametrize(
    ("name", "topic"),
    [
        ("returns-request-spanish-note", "returns/approve"),
        ("returns-request-spanish-note", "returns/decline"),
        ("returns-request-spanish-note", "returns/close"),
        ("returns-request-spanish-note", "returns/cancel"),
        ("returns-approve", "returns/request"),
        ("returns-close", "returns/reopen"),
        ("returns-decline", " Returns/Approve "),
        ("refunds-create-first-partial", "orders/cancelled"),
        ("orders-create-presentment-eur", "returns/request"),
        ("reverse-deliveries-attach-deliverable", "refunds/create"),
    ],
)
def test_shopify_a_topic_header_the_signed_body_contradicts_is_rejected(
    name: str, topic: str
) -> None:
    verdict = verify_shopify_at(shopify_fixture(name, topic=topic))
    assert (verdict.ok, verdict.reason) == (False, "topic_mismatch")


def test_shopify_replay_keys_ignore_every_unsigned_header() -> None:
    body, headers, _ = shopify_fixture("returns-approve")
    first = verify_shopify_at((body, headers, {}))
    relabelled = headers | {
        "x-shopify-topic": "returns/reopen",  # also an open return: consistent, same delivery
        "x-shopify-webhook-id": "forged",
        "x-shopify-triggered-at": NOW.isoformat(),
        "x-shopify-event-id": "forged",
    }
    again = verify_shopify_at((body, relabelled, {}))
    assert again.ok
    assert first.replay_keys == again.replay_keys


def test_shopify_a_dated_body_is_stale_after_max_age_whatever_the_headers_say() -> None:
    request = shopify_fixture("orders-cancelled-customer")
    updated_at = shopify_body_time(json.loads(request[0]))
    assert updated_at == datetime(2026, 2, 16, 8, 2, 12, tzinfo=UTC)
    fresh = verify_shopify_at(request, now=updated_at + SHOPIFY_MAX_AGE)
    assert fresh.ok
    assert fresh.signed_at == updated_at
    assert fresh.keep_until == updated_at + SHOPIFY_MAX_AGE, "remembered while it is fresh"
    later = updated_at + timedelta(days=30)
    body, headers, _ = request
    for forged in ({}, {"x-shopify-triggered-at": later.isoformat()}):
        verdict = verify_shopify_at((body, headers | forged, {}), now=later)
        assert (verdict.ok, verdict.reason) == (False, "stale")


def test_shopify_an_undated_body_is_remembered_for_the_undated_retention() -> None:
    verdict = verify_shopify_at(shopify_fixture("returns-request-spanish-note"))
    assert verdict.ok
    assert verdict.keep_until == NOW + SHOPIFY_UNDATED_RETENTION


def test_shopify_nanosecond_triggered_at() -> None:
    body, headers, _ = shopify(NEW, NOW)
    headers["x-shopify-triggered-at"] = "2026-03-02T10:29:27.877041743Z"
    assert verify_shopify(body, headers, [NEW], now=NOW, tolerance=TOLERANCE).ok


@pytest.mark.parametrize(
    ("header", "value", "reason"),
    [
        ("x-shopify-hmac-sha256", "%%%not-base64", "malformed_signature"),
        ("x-shopify-triggered-at", "yesterday", "malformed_signature"),
    ],
)
def test_shopify_malformed_headers(header: str, value: str, reason: str) -> None:
    body, headers, _ = shopify(NEW, NOW)
    headers[header] = value
    verdict = verify_shopify(body, headers, [NEW], now=NOW, tolerance=TOLERANCE)
    assert (verdict.ok, verdict.reason) == (False, reason)


# Derived from mercadopago/sdk-java WebhookSignatureValidatorTest.java (SIGNATURES.md).
MP_SECRET = "your_secret_key_here"
MP_HEADERS = {
    "x-signature": "ts=1742505638683,"
    "v1=633f91233312dd391ec75fa0bea539cfc2d6c4918873305b84a96cc1c58db71c",
    "x-request-id": "2066ca19-c6f1-498a-be75-1923005edd06",
}
MP_NOW = datetime.fromtimestamp(1742505638.683, tz=UTC)


@pytest.mark.parametrize(
    "data_id", ["ord01jq4s4ky8hwq6na5pxb65b3d3", "ORD01JQ4S4KY8HWQ6NA5PXB65B3D3"]
)
def test_mercadopago_sdk_vector_with_millisecond_ts(data_id: str) -> None:
    verdict = verify_mercadolibre(
        b"{}", MP_HEADERS, [MP_SECRET], now=MP_NOW, tolerance=TOLERANCE, query={"data.id": data_id}
    )
    assert verdict.ok, verdict.detail
    assert verdict.signed_at == MP_NOW


def test_mercadopago_data_id_from_the_body_when_the_query_has_none() -> None:
    body = b'{"data":{"id":"ord01jq4s4ky8hwq6na5pxb65b3d3"}}'
    verdict = verify_mercadolibre(body, MP_HEADERS, [MP_SECRET], now=MP_NOW, tolerance=TOLERANCE)
    assert verdict.ok


def test_mercadopago_wrong_data_id() -> None:
    verdict = verify_mercadolibre(
        b"{}", MP_HEADERS, [MP_SECRET], now=MP_NOW, tolerance=TOLERANCE, query={"data.id": "other"}
    )
    assert verdict.reason == "bad_signature"


def test_easypost_secret_is_nfkd_normalized() -> None:
    composed = "s\u00e9cret-\ufb01"  # é precomposed and the "fi" ligature
    body, headers, _ = easypost(unicodedata.normalize("NFKD", composed), NOW)
    assert verify_easypost(body, headers, [composed], now=NOW, tolerance=TOLERANCE).ok


def test_easypost_v1_decides_when_v2_does_not_verify() -> None:
    body, headers, _ = easypost(NEW, NOW)
    headers |= {
        "x-hmac-signature-v2": "hmac-sha256-hex=" + "00" * 32,
        "x-timestamp": "x",
        "x-path": "/",
    }
    verdict = verify_easypost(body, headers, [NEW], now=NOW, tolerance=TOLERANCE)
    assert verdict.ok
    assert verdict.delivery_id == "evt_8f1c"


def test_aftership_returns_and_legacy_headers() -> None:
    body, headers, _ = aftership(NEW, NOW)
    signature = headers.pop("aftership-hmac-sha256")
    for alternative in (
        {"as-signature-hmac-sha256": signature},
        {"am-webhook-signature": f"hmac-sha256={signature}"},
    ):
        assert verify_aftership(body, alternative, [NEW], now=NOW, tolerance=TOLERANCE).ok


def test_amazon_relay_names_the_notification() -> None:
    body, headers, _ = amazon(NEW, NOW)
    verdict = verify_amazon(body, headers, [NEW], now=NOW, tolerance=TOLERANCE)
    assert verdict.delivery_id == "d0e9e693-c3ad-4373-979f-ed4ec98dd746"


def test_dhl_and_ups_replay_key_is_the_body() -> None:
    body, headers, _ = dhl(NEW, NOW)
    one = verify_dhl(body, headers, [NEW], now=NOW, tolerance=TOLERANCE)
    other = verify_dhl(body + b" ", headers, [NEW], now=NOW, tolerance=TOLERANCE)
    assert one.replay_keys != other.replay_keys
    ups_body, ups_headers, _ = ups(NEW, NOW)
    assert verify_ups(ups_body, ups_headers, [NEW], now=NOW, tolerance=TOLERANCE).ok


PAYPAL_CERTS = "https://api.paypal.com/v1/notifications/certs/"


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (PAYPAL_CERT_URL, PAYPAL_CERT_URL),
        (
            "https://api-m.paypal.com:443/v1/notifications/certs/CERT-1",
            "https://api-m.paypal.com/v1/notifications/certs/CERT-1",
        ),
        ("HTTPS://API.PayPal.com/v1/notifications/certs/CERT-1", f"{PAYPAL_CERTS}CERT-1"),
        ("https://api.paypal.com:443/v1/notifications/certs/CERT-1", f"{PAYPAL_CERTS}CERT-1"),
        ("https://api.paypal.com/v1/notifications/certs/CERT%2D1", f"{PAYPAL_CERTS}CERT-1"),
        ("http://api.paypal.com/v1/notifications/certs/CERT-1", None),
        ("https://api.paypal.com.attacker.example/v1/notifications/certs/CERT-1", None),
        ("https://api.paypal.com./v1/notifications/certs/CERT-1", None),
        ("https://attacker.example/v1/notifications/certs/CERT-1", None),
        ("https://user@api.paypal.com/v1/notifications/certs/CERT-1", None),
        ("https://@api.paypal.com/v1/notifications/certs/CERT-1", None),
        ("https://api.paypal.com:8443/v1/notifications/certs/CERT-1", None),
        ("https://api.paypal.com:bad/v1/notifications/certs/CERT-1", None),
        ("https://api.paypal.com/v1/oauth2/token", None),
        ("https://api.paypal.com/v1/notifications/certs/../../oauth2", None),
        ("https://api.paypal.com/v1/notifications/certs/%2e%2e/%2e%2e/oauth2/token", None),
        ("https://api.paypal.com/v1/notifications/certs/%252e%252e/oauth2", None),
        ("https://api.paypal.com/v1/notifications/certs/.", None),
        ("https://api.paypal.com/v1/notifications/certs/CERT-1/", None),
        ("https://api.paypal.com/v1/notifications/certs/CERT-1%2F..%2Fx", None),
        ("https://api.paypal.com/v1/notifications/certs/CERT-1?cache=bust", None),
        ("https://api.paypal.com/v1/notifications/certs/CERT-1?", None),
        ("https://api.paypal.com/v1/notifications/certs/CERT-1#x", None),
        ("https://api.paypal.com/v1/notifications/certs/", None),
        ("https://api.sandbox.paypal.com/v1/notifications/certs/CERT-1", None),
        ("https://api-m.sandbox.paypal.com/v1/notifications/certs/CERT-1", None),
    ],
)
def test_paypal_cert_url_is_pinned_and_canonical(url: str, canonical: str | None) -> None:
    assert paypal_cert_url(url) == canonical


@pytest.mark.parametrize("host", ["api.sandbox.paypal.com", "api-m.sandbox.paypal.com"])
def test_paypal_sandbox_hosts_only_when_sandbox_is_enabled(host: str) -> None:
    url = f"https://{host}/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77"
    assert paypal_cert_url(url) is None
    assert paypal_cert_url(url, sandbox=True) == url


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param({"paypal-cert-url": ""}, "missing_signature", id="no-cert-url"),
        pytest.param({"paypal-transmission-time": "soon"}, "malformed_signature", id="no-time"),
        pytest.param(
            {"paypal-transmission-time": (NOW - timedelta(hours=1)).isoformat()},
            "stale",
            id="stale",
        ),
        pytest.param(
            {"paypal-cert-url": PAYPAL_CERT_URL + "?fresh=1"}, "untrusted_certificate", id="query"
        ),
        pytest.param({"body": b"[]"}, "malformed_body", id="not-an-object"),
        pytest.param({"body": b"\xff"}, "malformed_body", id="not-json"),
    ],
)
def test_paypal_cheap_checks_need_no_certificate(
    openssl: OpenSsl, change: dict[str, Any], reason: str
) -> None:
    body, headers, _ = paypal(openssl)("4JH86294D6297924G", NOW)
    assert check_paypal_request(body, headers, now=NOW, tolerance=TOLERANCE) is None
    body = change.pop("body", body)
    verdict = check_paypal_request(body, headers | change, now=NOW, tolerance=TOLERANCE)
    assert verdict is not None
    assert (verdict.ok, verdict.reason) == (False, reason)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param(
            {"paypal-cert-url": "https://attacker.example/v1/notifications/certs/C"},
            "untrusted_certificate",
            id="foreign-cert-url",
        ),
        pytest.param({"paypal-auth-algo": "SHA1withRSA"}, "unsupported_algorithm", id="sha1"),
        pytest.param({"paypal-transmission-sig": "!!"}, "malformed_signature", id="sig-not-b64"),
        pytest.param(
            {"paypal-transmission-id": "another-transmission"},
            "bad_signature",
            id="other-transmission-id",
        ),
    ],
)
def test_paypal_rejections(openssl: OpenSsl, change: dict[str, str], reason: str) -> None:
    body, headers, kwargs = paypal(openssl)("4JH86294D6297924G", NOW)
    verdict = verify_paypal(
        body, headers | change, ["4JH86294D6297924G"], now=NOW, tolerance=TOLERANCE, **kwargs
    )
    assert (verdict.ok, verdict.reason) == (False, reason)


def test_paypal_without_a_certificate_is_not_trusted(openssl: OpenSsl) -> None:
    body, headers, _ = paypal(openssl)("4JH86294D6297924G", NOW)
    verdict = verify_paypal(body, headers, ["4JH86294D6297924G"], now=NOW, tolerance=TOLERANCE)
    assert verdict.reason == "untrusted_certificate"


# --- the replay cache ------------------------------------------------------------------------


async def test_replay_cache_forgets_after_the_window_and_on_release() -> None:
    cache = InMemoryReplayCache()
    until = NOW + TOLERANCE
    assert await cache.claim(["shopify:a"], now=NOW, until=until)
    assert not await cache.claim(["shopify:b", "shopify:a"], now=NOW, until=until)
    assert await cache.claim(["shopify:b"], now=NOW, until=until), "a refused claim records nothing"
    assert await cache.claim(["shopify:a"], now=until, until=until + TOLERANCE)
    await cache.release(["shopify:a"])
    assert await cache.claim(["shopify:a"], now=until, until=until + TOLERANCE)


async def test_replay_cache_is_bounded() -> None:
    cache = InMemoryReplayCache(max_entries=3)
    for key in "abcde":
        assert await cache.claim([key], now=NOW, until=NOW + TOLERANCE)
    assert len(cache) == 3
    assert await cache.claim(["a"], now=NOW, until=NOW + TOLERANCE), "the oldest went first"
    assert not await cache.claim(["e"], now=NOW, until=NOW + TOLERANCE)


async def test_replay_cache_expires_each_entry_at_its_own_time() -> None:
    cache = InMemoryReplayCache()
    assert await cache.claim(["shopify:undated"], now=NOW, until=NOW + timedelta(days=60))
    assert await cache.claim(["stripe:a"], now=NOW, until=NOW + TOLERANCE)
    later = NOW + 2 * TOLERANCE
    assert await cache.claim(["stripe:a"], now=later, until=later + TOLERANCE)
    assert not await cache.claim(["shopify:undated"], now=NOW + timedelta(days=59), until=later)


async def test_a_full_replay_cache_drops_the_entries_closest_to_expiry() -> None:
    cache = InMemoryReplayCache(max_entries=2)
    assert await cache.claim(["long"], now=NOW, until=NOW + timedelta(days=60))
    assert await cache.claim(["short"], now=NOW, until=NOW + TOLERANCE)
    assert await cache.claim(["new"], now=NOW, until=NOW + timedelta(hours=1))
    assert len(cache) == 2
    assert not await cache.claim(["long"], now=NOW, until=NOW + TOLERANCE)
    assert await cache.claim(["short"], now=NOW, until=NOW + TOLERANCE)
