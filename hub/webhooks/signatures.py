"""Webhook authenticity checks: one pure verifier per provider scheme, no I/O and no clock.

Every verifier is `verify_<scheme>(body, headers, secrets, *, now, tolerance) -> Verdict`: `body`
is the raw request bytes, `headers` the request headers with lower-case names, `secrets` every
currently valid secret of the source (all are tried, for key rotation). Digests are compared with
`hmac.compare_digest`. The signature is checked before any timestamp, so `stale` always means
"authentic but too old" and an unauthenticated request always gets a signature reason.
A verdict also names the replay keys of the request (what the intake's replay cache remembers)
and the provider's delivery or event id, when the request carries one.

Schemes (what each provider documents; the shared provider samples' SIGNATURES.md lists them):

shopify-hmac-sha256
    `x-shopify-hmac-sha256`: base64 HMAC-SHA256 of the raw body, keyed with the app's client
    secret. Only the body is signed, so nothing unsigned may change what a body means or how
    often it counts: the `x-shopify-topic` header must agree with the body (a body with a
    GraphQL id names a resource of the topic's kind, a returns topic needs the return `status`
    it produces: `returns/approve` an `open` return), and the replay key is the body's digest
    alone (a replay under another topic, webhook id or `Triggered-At` is the same delivery).
    Freshness comes from the newest of the body's `updated_at`/`created_at`/`processed_at`,
    which must lie within `max_age`, and the digest is remembered that long after it, so a dated
    body is either a duplicate or stale. Returns payloads carry no timestamp: their digest is
    remembered for `undated_retention`; a later replay can only repeat an event the hub already
    has (a return event's identity is the return id and its status). `x-shopify-triggered-at`,
    when sent, is still held to the tolerance (Shopify retries with the original value for 4
    hours): it stops accidental stale resends, not an attacker.
stripe-signature
    `stripe-signature: t=<unix>,v1=<hex>[,v1=...]`: hex HMAC-SHA256 of `<t>.<body>`, keyed with
    the endpoint secret as UTF-8 text. Any matching `v1` is accepted (several during a roll);
    `v0` is ignored; `t` must be within the tolerance. Stripe signs every delivery attempt afresh.
adyen-hmac-item
    Standard webhooks: every `notificationItems[].NotificationRequestItem` carries
    `additionalData.hmacSignature`, base64 HMAC-SHA256 of
    `pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:eventCode:success`
    (missing fields empty, values raw), keyed with the hex-decoded HMAC key. Every item must
    verify. Newer webhooks (Management, Platform) carry header `hmacsignature`: base64 HMAC of the
    raw body with the same hex key. Basic auth may be required in addition (`basic_auth=`).
    Only the signed fields are authenticated; nothing time-bound is signed.
paypal-verify
    Self-verification: RSA-SHA256 (`paypal-auth-algo: SHA256withRSA`) over
    `<transmission_id>|<transmission_time>|<webhook_id>|<crc32(body), unsigned decimal>` with the
    certificate found at `paypal-cert-url`, which must be PayPal's certificate endpoint on a live
    PayPal API host (`paypal_cert_url`; sandbox hosts only when enabled). The secrets are the
    source's webhook ids. The certificate is fetched by the caller and checked by an injected
    `CertificateVerifier`. Fetching costs a request to PayPal, so every check that needs no
    certificate comes first (`check_paypal_request`): all headers, the algorithm, the URL, the
    transmission time within the tolerance and a JSON body. Here, unlike the other schemes,
    `stale` is decided before the signature and does not imply an authentic request. CRC32 is
    not a cryptographic hash, so a captured signature could carry a forged body of equal CRC32:
    the replay key (transmission id) and the tolerance on the signed transmission time are what
    stop it.
aftership-hmac-sha256
    `aftership-hmac-sha256` (Tracking) or `as-signature-hmac-sha256` (Returns, Warranty) or the
    older `am-webhook-signature: hmac-sha256=<sig>`: base64 HMAC-SHA256 of the raw body. The
    signed body's `ts` is checked against the tolerance and `event_id` is the replay key.
easypost-hmac-sha256
    `x-hmac-signature: hmac-sha256-hex=<hex>`: HMAC-SHA256 of the raw body, the secret
    NFKD-normalized then UTF-8 (what EasyPost's `validate_webhook` does). EasyPost's public
    client libraries know no other scheme. When a request also carries
    `x-hmac-signature-v2` + `x-timestamp` + `x-path` (mentioned by EasyPost support articles, not
    by the client libraries: unverified) and v2 verifies over `<timestamp>POST<path><body>`, the
    timestamp is held to the tolerance; otherwise v1 decides.
17track-sha256
    Header `sign`: hex SHA-256 (a plain hash, not an HMAC) of `<body>/<security key>`. Taken from
    the brief and third-party integrations; 17TRACK's own page was not reachable: unverified.
mercadolibre-x-signature
    Mercado Pago / Mercado Libre payments webhooks: `x-signature: ts=<ts>,v1=<hex>` and
    `x-request-id`; hex HMAC-SHA256 of the manifest
    `id:<data.id>;request-id:<x-request-id>;ts:<ts>;` (a part is left out when its value is
    absent). `data.id` comes from the query string (the body's `data.id` when the URL has none);
    it is tried as received and lower-cased. `ts` may be seconds or milliseconds. The body
    itself is not signed: treat it as a hint and fetch the resource by the signed id. Mercado
    Libre marketplace notifications (`claims`, `orders_v2`) carry no signature at all and fail
    this check.
ups-credential
    UPS Track Alert sends header `credential`, the opaque string given in the subscription
    (v1 spec); a v2 subscription authenticates with `authorization: Bearer <token>` from a token
    endpoint the operator hosts, accepted here when the token equals a configured secret.
dhl-api-key
    DHL's tracking API is pull-only; push products are configured per contract. The intake
    expects header `dhl-api-key` to equal a configured secret (unverified against DHL material).
amazon-sqs
    Amazon SP-API notifications arrive in an SQS queue the operator owns; a relay the operator
    runs forwards them, authenticated by header `x-hub-relay-token` equal to a configured secret.
kafka-direct
    No HTTP intake: trusted clients produce straight to `raw.<source>`.

The header-credential schemes (UPS, DHL, Amazon) sign nothing, so a captured request can be
replayed; their replay key is the body's SHA-256 within the tolerance window.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import unicodedata
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal, Protocol
from urllib.parse import unquote, urlsplit

from connectors.base import SignatureScheme
from schemas.errors import ConfigurationError

RejectReason = Literal[
    "missing_signature",
    "malformed_signature",
    "bad_signature",
    "stale",
    "unsupported_algorithm",
    "untrusted_certificate",
    "malformed_body",
    "topic_mismatch",
]

PAYPAL_CERT_HOSTS = frozenset({"api.paypal.com", "api-m.paypal.com"})
PAYPAL_SANDBOX_CERT_HOSTS = frozenset({"api.sandbox.paypal.com", "api-m.sandbox.paypal.com"})
PAYPAL_CERT_PATH_PREFIX = "/v1/notifications/certs/"
_PAYPAL_CERT_NAME = re.compile(r"[A-Za-z0-9_-]{1,200}")  # e.g. CERT-360caa42-fca2a594-1d93a270
_PAYPAL_HEADERS = (
    "paypal-transmission-id",
    "paypal-transmission-time",
    "paypal-transmission-sig",
    "paypal-cert-url",
    "paypal-auth-algo",
)

SHOPIFY_MAX_AGE = timedelta(hours=6)
"""Default age limit of a dated Shopify body: 4 hours of retries plus queueing delays."""
SHOPIFY_UNDATED_RETENTION = timedelta(days=60)
"""Default time an undated Shopify body (returns topics) is remembered as delivered."""
SHOPIFY_BODY_TIMES = ("updated_at", "created_at", "processed_at")
SHOPIFY_RETURN_STATUS = {
    "returns/request": "requested",
    "returns/approve": "open",
    "returns/reopen": "open",
    "returns/decline": "declined",
    "returns/close": "closed",
    "returns/cancel": "canceled",
}
"""The return `status` the body of each returns topic carries (Shopify's Return.status)."""
SHOPIFY_TOPIC_RESOURCES = {
    "orders": "Order",
    "refunds": "Refund",
    "returns": "Return",
    "reverse_deliveries": "ReverseDelivery",
    "fulfillment_events": "FulfillmentEvent",
}
"""Topic family (before the `/`) -> the resource its body's `admin_graphql_api_id` names."""

UPS_CREDENTIAL_HEADER = "credential"
DHL_API_KEY_HEADER = "dhl-api-key"
AMAZON_RELAY_HEADER = "x-hub-relay-token"

_ADYEN_SIGNED_FIELDS = (
    "pspReference",
    "originalReference",
    "merchantAccountCode",
    "merchantReference",
    "amount.value",
    "amount.currency",
    "eventCode",
    "success",
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of a signature check.

    Attributes:
        ok: the request is authentic (and, where a timestamp is signed, fresh).
        reason: "verified", or why it was rejected.
        detail: a human-readable explanation for the log line; never holds a secret.
        replay_keys: what identifies this delivery for the replay cache (without the source).
        signed_at: the provider's timestamp of the delivery, when it sends one.
        delivery_id: the provider's delivery or event id, when known (the Kafka key).
        keep_until: when set, how long the replay keys must be remembered (instead of the
            tolerance past `signed_at`): the end of the window in which the request would
            still be accepted.
    """

    ok: bool
    reason: RejectReason | Literal["verified"]
    detail: str = ""
    replay_keys: tuple[str, ...] = ()
    signed_at: datetime | None = None
    delivery_id: str | None = None
    keep_until: datetime | None = None


class Verifier(Protocol):
    """The shape every scheme's verifier has."""

    def __call__(
        self,
        body: bytes,
        headers: Mapping[str, str],
        secrets: Sequence[str],
        *,
        now: datetime,
        tolerance: timedelta,
    ) -> Verdict: ...


class CertificateVerifier(Protocol):
    """Checks an RSA-SHA256 (PKCS#1 v1.5) signature with the public key of a PEM certificate."""

    def verify(
        self, certificate: bytes, signature: bytes, message: bytes, *, now: datetime
    ) -> bool:
        """True when the certificate is valid at `now` and its key signed `message`."""
        ...


def _reject(reason: RejectReason, detail: str) -> Verdict:
    return Verdict(ok=False, reason=reason, detail=detail)


def _accept(
    *keys: str,
    signed_at: datetime | None = None,
    delivery_id: str | None = None,
    keep_until: datetime | None = None,
) -> Verdict:
    return Verdict(
        ok=True,
        reason="verified",
        replay_keys=tuple(keys),
        signed_at=signed_at,
        delivery_id=delivery_id,
        keep_until=keep_until,
    )


def _utf8(text: str) -> bytes:
    # Header values and JSON strings may hold lone surrogates; they must fail to match, not raise.
    return text.encode("utf-8", "surrogatepass")


def _hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _b64(value: str) -> bytes | None:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def _hex(value: str) -> bytes | None:
    try:
        return bytes.fromhex(value.strip())
    except ValueError:
        return None


def _any_equal(expected: Sequence[bytes], provided: bytes) -> bool:
    return any(hmac.compare_digest(candidate, provided) for candidate in expected)


def _fresh(signed_at: datetime, now: datetime, tolerance: timedelta) -> bool:
    return abs(now - signed_at) <= tolerance


def _stale(signed_at: datetime, now: datetime) -> Verdict:
    age = (now - signed_at).total_seconds()
    return _reject("stale", f"signed {age:.0f} s from now, outside the tolerance")


def _from_epoch(value: str) -> datetime | None:
    try:
        number = int(value.strip())
        if number > 10**11:  # milliseconds (Mercado Pago sends 13 digits)
            return datetime.fromtimestamp(number / 1000, tz=UTC)
        return datetime.fromtimestamp(number, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _from_text(value: str) -> datetime | None:
    """An ISO 8601 or RFC 2822 timestamp with an offset, in UTC; None when unreadable."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC)


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _field(document: object, *path: str) -> str | None:
    """A string or integer at `path` in a decoded JSON document, as text; None otherwise."""
    for name in path:
        if not isinstance(document, dict):
            return None
        document = document.get(name)
    if isinstance(document, bool):
        return None
    if isinstance(document, str | int):
        return str(document) or None
    return None


def _pairs(header: str) -> list[tuple[str, str]]:
    """`a=1,b=2,b=3` as [(a, 1), (b, 2), (b, 3)]; items without `=` are skipped."""
    pairs = []
    for item in header.split(","):
        name, sep, value = item.partition("=")
        if sep:
            pairs.append((name.strip(), value.strip()))
    return pairs


def _body_key(body: bytes) -> str:
    return "body:" + hashlib.sha256(body).hexdigest()


# --- Shopify ---------------------------------------------------------------------------------


def verify_shopify(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    *,
    now: datetime,
    tolerance: timedelta,
    max_age: timedelta = SHOPIFY_MAX_AGE,
    undated_retention: timedelta = SHOPIFY_UNDATED_RETENTION,
) -> Verdict:
    """Shopify: base64 HMAC-SHA256 of the body; topic consistent with it; body time fresh.

    `max_age` bounds the newest timestamp of the signed body; `undated_retention` is how long
    a body without one is remembered. `x-shopify-triggered-at` is held to `tolerance`.
    """
    provided = headers.get("x-shopify-hmac-sha256")
    if not provided:
        return _reject("missing_signature", "no x-shopify-hmac-sha256 header")
    digest = _b64(provided)
    if digest is None:
        return _reject("malformed_signature", "x-shopify-hmac-sha256 is not base64")
    if not _any_equal([_hmac_sha256(s.encode(), body) for s in secrets], digest):
        return _reject("bad_signature", "x-shopify-hmac-sha256 matches no configured secret")
    document = _json(body)
    topic = headers.get("x-shopify-topic", "").strip().lower()
    mismatch = shopify_topic_mismatch(topic, document)
    if mismatch is not None:
        return _reject("topic_mismatch", mismatch)
    triggered_at = None
    if header := headers.get("x-shopify-triggered-at"):
        triggered_at = _from_text(header)
        if triggered_at is None:
            return _reject("malformed_signature", "x-shopify-triggered-at is not a timestamp")
        if not _fresh(triggered_at, now, tolerance):
            return _stale(triggered_at, now)
    body_time = shopify_body_time(document)
    if body_time is not None and not _fresh(body_time, now, max_age):
        return _stale(body_time, now)
    webhook_id = headers.get("x-shopify-webhook-id") or None
    return _accept(
        _body_key(body),
        signed_at=body_time or triggered_at,
        delivery_id=webhook_id,
        keep_until=body_time + max_age if body_time else now + undated_retention,
    )


def shopify_topic_mismatch(topic: str, document: object) -> str | None:
    """Why a signed body cannot be a delivery of `topic` (lower-cased); None when it can.

    A body whose `admin_graphql_api_id` is a gid must name a resource of the topic's family;
    a returns topic must carry the return status it produces. Without a topic the connector
    tells the topic from the body, so there is nothing to contradict.
    """
    if not topic:
        return None
    family = topic.partition("/")[0]
    resource = SHOPIFY_TOPIC_RESOURCES.get(family)
    gid = _field(document, "admin_graphql_api_id")
    if resource and gid and not gid.startswith(f"gid://shopify/{resource}/"):
        return f"topic {topic!r} but the body is {gid!r}"
    expected = SHOPIFY_RETURN_STATUS.get(topic)
    status = (_field(document, "status") or "").lower()
    if expected is not None and status != expected:
        return f"topic {topic!r} needs a return with status {expected!r}, the body has {status!r}"
    return None


def shopify_body_time(document: object) -> datetime | None:
    """The newest of the body's top-level `SHOPIFY_BODY_TIMES` (signed); None when it has none."""
    times = [
        parsed
        for name in SHOPIFY_BODY_TIMES
        if (text := _field(document, name)) and (parsed := _from_text(text))
    ]
    return max(times, default=None)


# --- Stripe ----------------------------------------------------------------------------------


def verify_stripe(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    *,
    now: datetime,
    tolerance: timedelta,
) -> Verdict:
    """Stripe: any `v1` = hex HMAC-SHA256 of `<t>.<body>`; `t` within the tolerance."""
    header = headers.get("stripe-signature")
    if not header:
        return _reject("missing_signature", "no stripe-signature header")
    pairs = _pairs(header)
    timestamps = [value for name, value in pairs if name == "t"]
    signatures = [value for name, value in pairs if name == "v1"]
    if len(timestamps) != 1 or not signatures:
        return _reject("malformed_signature", "stripe-signature needs one t= and a v1=")
    t = timestamps[0]
    signed_at = _from_epoch(t)
    if signed_at is None:
        return _reject("malformed_signature", "stripe-signature t= is not a unix time")
    expected = [_hmac_sha256(s.encode(), _utf8(t) + b"." + body) for s in secrets]
    matched = next(
        (
            value
            for value in signatures
            if (digest := _hex(value)) is not None and _any_equal(expected, digest)
        ),
        None,
    )
    if matched is None:
        return _reject("bad_signature", "no v1 signature matches a configured secret")
    if not _fresh(signed_at, now, tolerance):
        return _stale(signed_at, now)
    return _accept(
        f"v1:{t}:{matched.lower()}",
        signed_at=signed_at,
        delivery_id=_field(_json(body), "id"),
    )


# --- Adyen -----------------------------------------------------------------------------------


def adyen_keys(secrets: Sequence[str]) -> list[bytes]:
    """Adyen HMAC keys as bytes (they are configured as hex).

    Raises:
        ConfigurationError: a configured key is not hex.
    """
    try:
        return [binascii.unhexlify(secret.strip()) for secret in secrets]
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError("an Adyen HMAC key is not a hex string") from exc


def adyen_signing_string(item: Mapping[str, object]) -> str:
    """The signing string of one standard-webhook NotificationRequestItem."""
    values = []
    for path in _ADYEN_SIGNED_FIELDS:
        value: object = item
        for name in path.split("."):
            value = value.get(name) if isinstance(value, Mapping) else None
        if value is None:
            values.append("")
        elif isinstance(value, bool):
            values.append("true" if value else "false")
        else:
            values.append(str(value))
    return ":".join(values)


def adyen_item_signature(item: Mapping[str, object], hex_key: str) -> str:
    """The base64 HMAC an item should carry (also what tests and tools sign with)."""
    [key] = adyen_keys([hex_key])
    digest = _hmac_sha256(key, _utf8(adyen_signing_string(item)))
    return base64.b64encode(digest).decode()


def _basic_auth_ok(header: str | None, credentials: Sequence[tuple[str, str]]) -> bool:
    if not header or not header.lower().startswith("basic "):
        return False
    provided = _b64(header[6:])
    if provided is None:
        return False
    return _any_equal([f"{user}:{password}".encode() for user, password in credentials], provided)


def verify_adyen(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    *,
    now: datetime,
    tolerance: timedelta,
    basic_auth: Sequence[tuple[str, str]] = (),
) -> Verdict:
    """Adyen: every item's HMAC (standard webhooks) or the `hmacsignature` header (others).

    Raises:
        ConfigurationError: a configured key is not hex.
    """
    keys = adyen_keys(secrets)
    if basic_auth and not _basic_auth_ok(headers.get("authorization"), basic_auth):
        return _reject("bad_signature", "basic auth credentials missing or wrong")
    document = _json(body)
    items = document.get("notificationItems") if isinstance(document, dict) else None
    header = headers.get("hmacsignature")
    if items is None and header:
        digest = _b64(header)
        if digest is None:
            return _reject("malformed_signature", "hmacsignature is not base64")
        if not _any_equal([_hmac_sha256(key, body) for key in keys], digest):
            return _reject("bad_signature", "hmacsignature matches no configured key")
        return _accept(f"sig:{header.strip()}", delivery_id=_field(document, "eventId"))
    if not isinstance(items, list) or not items:
        return _reject("malformed_body", "no notificationItems to verify")
    signatures = []
    first_psp: str | None = None
    for index, wrapper in enumerate(items):
        item = wrapper.get("NotificationRequestItem") if isinstance(wrapper, dict) else None
        if not isinstance(item, dict):
            return _reject("malformed_body", f"item {index} is not a NotificationRequestItem")
        provided = _field(item, "additionalData", "hmacSignature")
        if provided is None:
            return _reject("missing_signature", f"item {index} has no hmacSignature")
        digest = _b64(provided)
        if digest is None:
            return _reject("malformed_signature", f"item {index} hmacSignature is not base64")
        signing_string = _utf8(adyen_signing_string(item))
        if not _any_equal([_hmac_sha256(key, signing_string) for key in keys], digest):
            return _reject("bad_signature", f"item {index} matches no configured key")
        signatures.append(provided)
        if index == 0:
            first_psp = _field(item, "pspReference")
    batch = hashlib.sha256(_utf8("|".join(signatures))).hexdigest()
    return _accept(f"items:{batch}", delivery_id=first_psp)


# --- PayPal ----------------------------------------------------------------------------------


def paypal_cert_url(url: str, *, sandbox: bool = False) -> str | None:
    """The canonical form of a PayPal certificate URL; None when `url` is not one.

    Accepted: `https://<host>/v1/notifications/certs/<name>` on a live PayPal API host (sandbox
    hosts only with `sandbox`), on the default port, without userinfo, query or fragment, whose
    percent-decoded path is the prefix and one name of letters, digits, `-` and `_` (so no dot
    segment, slash or further escape). The result is rebuilt from the checked parts: every
    spelling of one certificate gives the same URL (one cache entry, one fetch).
    """
    try:
        parts = urlsplit(url)
        port = parts.port
        path = unquote(parts.path, errors="strict")
    except (ValueError, UnicodeDecodeError):
        return None
    hosts = PAYPAL_CERT_HOSTS | (PAYPAL_SANDBOX_CERT_HOSTS if sandbox else frozenset())
    name = path.removeprefix(PAYPAL_CERT_PATH_PREFIX)
    if (
        parts.scheme != "https"
        or parts.hostname not in hosts
        or "@" in parts.netloc
        or port not in (None, 443)
        or "?" in url
        or "#" in url
        or not path.startswith(PAYPAL_CERT_PATH_PREFIX)
        or not _PAYPAL_CERT_NAME.fullmatch(name)
    ):
        return None
    return f"https://{parts.hostname}{PAYPAL_CERT_PATH_PREFIX}{name}"


def paypal_signed_message(
    *, transmission_id: str, transmission_time: str, webhook_id: str, body: bytes
) -> bytes:
    """What PayPal signs: `<transmission id>|<time>|<webhook id>|<crc32 of the body>`."""
    crc = zlib.crc32(body) & 0xFFFFFFFF
    return _utf8(f"{transmission_id}|{transmission_time}|{webhook_id}|{crc}")


def check_paypal_request(
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: datetime,
    tolerance: timedelta,
    sandbox: bool = False,
) -> Verdict | None:
    """The rejection of a PayPal request by every check that needs no certificate; None if it
    passes them: all five headers, SHA256withRSA, a certificate URL (`paypal_cert_url`), a
    base64 signature, a transmission time within the tolerance and a JSON object body."""
    missing = [name for name in _PAYPAL_HEADERS if not headers.get(name)]
    if missing:
        return _reject("missing_signature", "missing " + ", ".join(missing))
    if headers["paypal-auth-algo"].strip().upper() != "SHA256WITHRSA":
        return _reject("unsupported_algorithm", f"paypal-auth-algo {headers['paypal-auth-algo']!r}")
    if paypal_cert_url(headers["paypal-cert-url"], sandbox=sandbox) is None:
        return _reject("untrusted_certificate", "paypal-cert-url is not a PayPal certificate URL")
    if _b64(headers["paypal-transmission-sig"]) is None:
        return _reject("malformed_signature", "paypal-transmission-sig is not base64")
    signed_at = _from_text(headers["paypal-transmission-time"])
    if signed_at is None:
        return _reject("malformed_signature", "paypal-transmission-time is not a timestamp")
    if not _fresh(signed_at, now, tolerance):
        return _stale(signed_at, now)
    if not isinstance(_json(body), dict):
        return _reject("malformed_body", "the body is not a JSON object")
    return None


def verify_paypal(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    *,
    now: datetime,
    tolerance: timedelta,
    certificate: bytes | None = None,
    certificate_verifier: CertificateVerifier | None = None,
    sandbox: bool = False,
) -> Verdict:
    """PayPal self-verification: SHA256withRSA over the transmission string, any webhook id."""
    rejected = check_paypal_request(body, headers, now=now, tolerance=tolerance, sandbox=sandbox)
    if rejected is not None:
        return rejected
    if certificate is None or certificate_verifier is None:
        return _reject("untrusted_certificate", "no certificate or verifier to check it with")
    transmission_id = headers["paypal-transmission-id"]
    transmission_time = headers["paypal-transmission-time"]
    signature = _b64(headers["paypal-transmission-sig"]) or b""
    verified = any(
        certificate_verifier.verify(
            certificate,
            signature,
            paypal_signed_message(
                transmission_id=transmission_id,
                transmission_time=transmission_time,
                webhook_id=webhook_id,
                body=body,
            ),
            now=now,
        )
        for webhook_id in secrets
    )
    if not verified:
        return _reject("bad_signature", "signature does not verify for any configured webhook id")
    return _accept(
        f"tid:{transmission_id}",
        signed_at=_from_text(transmission_time),
        delivery_id=_field(_json(body), "id"),
    )


# --- AfterShip -------------------------------------------------------------------------------


def verify_aftership(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    *,
    now: datetime,
    tolerance: timedelta,
) -> Verdict:
    """AfterShip: base64 HMAC-SHA256 of the body; the body's `ts` within the tolerance."""
    provided = headers.get("aftership-hmac-sha256") or headers.get("as-signature-hmac-sha256")
    if not provided:
        legacy = headers.get("am-webhook-signature", "")
        provided = legacy.removeprefix("hmac-sha256=") if legacy.startswith("hmac-sha256=") else ""
    if not provided:
        return _reject("missing_signature", "no aftership-hmac-sha256 header")
    digest = _b64(provided)
    if digest is None:
        return _reject("malformed_signature", "aftership signature is not base64")
    if not _any_equal([_hmac_sha256(s.encode(), body) for s in secrets], digest):
        return _reject("bad_signature", "signature matches no configured secret")
    document = _json(body)
    signed_at = None
    ts = _field(document, "ts")
    if ts is not None:
        signed_at = _from_epoch(ts)
        if signed_at is None:
            return _reject("malformed_body", "ts is not a unix time")
        if not _fresh(signed_at, now, tolerance):
            return _stale(signed_at, now)
    event_id = _field(document, "event_id")
    key = f"event:{event_id}" if event_id else f"sig:{base64.b64encode(digest).decode()}"
    return _accept(key, signed_at=signed_at, delivery_id=event_id)


# --- EasyPost --------------------------------------------------------------------------------

_EASYPOST_PREFIX = "hmac-sha256-hex="


def _easypost_digest(value: str | None) -> bytes | None:
    if not value or not value.strip().lower().startswith(_EASYPOST_PREFIX):
        return None
    return _hex(value.strip()[len(_EASYPOST_PREFIX) :])


def verify_easypost(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    *,
    now: datetime,
    tolerance: timedelta,
) -> Verdict:
    """EasyPost: `hmac-sha256-hex=` HMAC of the body, secret NFKD-normalized."""
    keys = [unicodedata.normalize("NFKD", secret).encode() for secret in secrets]
    event_id = _field(_json(body), "id")
    v2 = _easypost_digest(headers.get("x-hmac-signature-v2"))
    timestamp = headers.get("x-timestamp")
    path = headers.get("x-path")
    if v2 is not None and timestamp and path:
        message = _utf8(timestamp) + b"POST" + _utf8(path) + body
        if _any_equal([_hmac_sha256(key, message) for key in keys], v2):
            signed_at = _from_text(timestamp)
            if signed_at is None:
                return _reject("malformed_signature", "x-timestamp is not a timestamp")
            if not _fresh(signed_at, now, tolerance):
                return _stale(signed_at, now)
            return _accept(
                f"event:{event_id}" if event_id else f"v2:{v2.hex()}",
                signed_at=signed_at,
                delivery_id=event_id,
            )
    header = headers.get("x-hmac-signature")
    if not header:
        return _reject("missing_signature", "no x-hmac-signature header")
    digest = _easypost_digest(header)
    if digest is None:
        return _reject("malformed_signature", "x-hmac-signature is not hmac-sha256-hex=<hex>")
    if not _any_equal([_hmac_sha256(key, body) for key in keys], digest):
        return _reject("bad_signature", "x-hmac-signature matches no configured secret")
    return _accept(f"event:{event_id}" if event_id else f"sig:{digest.hex()}", delivery_id=event_id)


# --- 17TRACK ---------------------------------------------------------------------------------


def verify_17track(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    *,
    now: datetime,
    tolerance: timedelta,
) -> Verdict:
    """17TRACK: header `sign` = hex SHA-256 of `<body>/<key>`."""
    provided = headers.get("sign")
    if not provided:
        return _reject("missing_signature", "no sign header")
    digest = _hex(provided)
    if digest is None:
        return _reject("malformed_signature", "sign is not hex")
    expected = [hashlib.sha256(body + b"/" + secret.encode()).digest() for secret in secrets]
    if not _any_equal(expected, digest):
        return _reject("bad_signature", "sign matches no configured key")
    return _accept(f"sig:{digest.hex()}")


# --- Mercado Libre / Mercado Pago ------------------------------------------------------------


def mercadolibre_manifest(*, data_id: str | None, request_id: str | None, ts: str) -> str:
    """The signed manifest `id:<data.id>;request-id:<x-request-id>;ts:<ts>;`, absent parts out."""
    manifest = f"id:{data_id};" if data_id else ""
    manifest += f"request-id:{request_id};" if request_id else ""
    return manifest + f"ts:{ts};"


def verify_mercadolibre(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    *,
    now: datetime,
    tolerance: timedelta,
    query: Mapping[str, str] | None = None,
) -> Verdict:
    """Mercado Pago/Libre: `x-signature` v1 = hex HMAC-SHA256 of the manifest; ts fresh."""
    header = headers.get("x-signature")
    if not header:
        return _reject("missing_signature", "no x-signature header")
    pairs = dict(_pairs(header))
    ts, v1 = pairs.get("ts"), pairs.get("v1")
    if not ts or not v1:
        return _reject("malformed_signature", "x-signature needs ts= and v1=")
    digest = _hex(v1)
    signed_at = _from_epoch(ts)
    if digest is None or signed_at is None:
        return _reject("malformed_signature", "x-signature ts= or v1= is unreadable")
    data_id = (query or {}).get("data.id") or _field(_json(body), "data", "id")
    request_id = headers.get("x-request-id")
    ids = [data_id] if not data_id or data_id == data_id.lower() else [data_id, data_id.lower()]
    expected = [
        _hmac_sha256(
            secret.encode(),
            _utf8(mercadolibre_manifest(data_id=candidate, request_id=request_id, ts=ts)),
        )
        for secret in secrets
        for candidate in ids
    ]
    if not _any_equal(expected, digest):
        return _reject("bad_signature", "x-signature matches no configured secret")
    if not _fresh(signed_at, now, tolerance):
        return _stale(signed_at, now)
    return _accept(f"v1:{digest.hex()}", signed_at=signed_at, delivery_id=data_id)


# --- header credentials: UPS, DHL, Amazon relay ----------------------------------------------


def _credential_ok(provided: str | None, secrets: Sequence[str]) -> bool:
    if not provided:
        return False
    return _any_equal([secret.encode() for secret in secrets], _utf8(provided.strip()))


def verify_ups(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    *,
    now: datetime,
    tolerance: timedelta,
) -> Verdict:
    """UPS Track Alert: the subscription's `credential` header, or a bearer token."""
    credential = headers.get(UPS_CREDENTIAL_HEADER)
    authorization = headers.get("authorization", "")
    bearer = authorization[7:] if authorization.lower().startswith("bearer ") else None
    if not credential and not bearer:
        return _reject("missing_signature", "no credential header or bearer token")
    if not (_credential_ok(credential, secrets) or _credential_ok(bearer, secrets)):
        return _reject("bad_signature", "credential matches no configured secret")
    return _accept(_body_key(body))


def verify_dhl(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    *,
    now: datetime,
    tolerance: timedelta,
) -> Verdict:
    """DHL push: header `dhl-api-key` equal to a configured key."""
    rejected = _header_credential_rejected(headers, DHL_API_KEY_HEADER, secrets)
    return rejected or _accept(_body_key(body))


def _header_credential_rejected(
    headers: Mapping[str, str], header: str, secrets: Sequence[str]
) -> Verdict | None:
    """The rejection when `header` is missing or matches no secret; None when it matches."""
    provided = headers.get(header)
    if not provided:
        return _reject("missing_signature", f"no {header} header")
    if not _credential_ok(provided, secrets):
        return _reject("bad_signature", f"{header} matches no configured secret")
    return None


def verify_amazon(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    *,
    now: datetime,
    tolerance: timedelta,
) -> Verdict:
    """Amazon via the operator's SQS relay: header `x-hub-relay-token` equal to a secret."""
    rejected = _header_credential_rejected(headers, AMAZON_RELAY_HEADER, secrets)
    if rejected is not None:
        return rejected
    document = _json(body)
    notification_id = _field(document, "NotificationMetadata", "NotificationId") or _field(
        document, "notificationMetadata", "notificationId"
    )
    key = f"notification:{notification_id}" if notification_id else _body_key(body)
    return _accept(key, delivery_id=notification_id)


VERIFIERS: Mapping[SignatureScheme, Verifier] = {
    "shopify-hmac-sha256": verify_shopify,
    "stripe-signature": verify_stripe,
    "adyen-hmac-item": verify_adyen,
    "paypal-verify": verify_paypal,
    "aftership-hmac-sha256": verify_aftership,
    "easypost-hmac-sha256": verify_easypost,
    "17track-sha256": verify_17track,
    "mercadolibre-x-signature": verify_mercadolibre,
    "ups-credential": verify_ups,
    "dhl-api-key": verify_dhl,
    "amazon-sqs": verify_amazon,
}
"""The verifier of every scheme that arrives over HTTP (all but `kafka-direct`)."""

HTTP_SCHEMES: frozenset[SignatureScheme] = frozenset(VERIFIERS)
