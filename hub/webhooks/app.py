"""The webhook intake: verify provider webhooks, write the raw bytes to `raw.<source>`, answer.

Routes: `POST /webhooks/{source}` for every source whose connector arrives over HTTP (its
descriptor has an `HttpIntake`), `GET /healthz` and `GET /openapi.json`. A request is answered
only after the broker acknowledged the record (the producer uses acks=all), so a 200 means the
bytes are durable; there is no other work on the request path but fetching a notified Mercado
Libre resource.

    200  written (`{"accepted": true}`, or the body the descriptor names: Adyen's `[accepted]`);
         also a duplicate of a delivery accepted within its window, for providers that resend a
         signed request unchanged (Shopify, Adyen, AfterShip, EasyPost, 17TRACK, PayPal,
         Mercado Libre, the header-credential schemes): nothing is written again, and answering
         an error would only make the provider retry, then disable the endpoint
    400  the verified delivery's id is not printable text (it would be the record key); a
         Mercado Libre notification naming no claim resource of its signed id
    401  signature or credential missing, malformed, wrong, or its signed timestamp is stale;
         a Shopify topic header the signed body contradicts (`topic_mismatch`)
    404  unknown source, or a source without HTTP intake
    409  a signature seen before from a provider that signs every attempt afresh (Stripe: the
         descriptor's `replay="rejected"`), so this is a replay
    413  the body is longer than `webhook_max_body_bytes` (at most that many bytes are read)
    503  no secret configured for the source, PayPal's certificate or the notified Mercado
         Libre resource is unavailable (`resource_unavailable`, after retries), the broker
         did not acknowledge, or the same delivery is still being written by this process:
         the provider retries later

Every error answer is problem details (RFC 9457, `application/problem+json`, `hub.web.problems`)
whose `code` is the reason above; its `detail` is fixed per code, never request data.

A Mercado Libre notification signs only `id;request-id;ts`, so its record is not the body but
the resource fetched by the signed id (`hub.webhooks.resources`), with the fetched path in
`x-mercadolibre-resource`.

Every rejection is logged with source, reason, status and remote address; the source (a raw
path segment) and the detail are escaped and cut (`loggable`), and no answer echoes them. The
record carries the body exactly as received and the hub headers of `schemas.raw_records`, with
the provider headers connectors need (`COMMON_KEPT_HEADERS` and the descriptor's
`kept_headers`); its key is the provider's delivery or event id when known.

Shopify retries a delivery for 4 hours with its original `X-Shopify-Triggered-At`, so its
freshness window is at least its descriptor's `retry_window` (the header is not signed, the
window is about freshness, not security); what bounds a Shopify replay is the signed body: its
timestamps (`webhook_shopify_max_age_seconds`) or, for undated bodies, how long its digest is
remembered (`webhook_shopify_undated_retention_seconds`). A verdict's `keep_until` says how long its
replay keys are remembered; otherwise the tolerance past the signed time. The replay cache is
per process: see `hub.webhooks.replay`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import aiohttp
from aiohttp import web
from aiokafka import AIOKafkaProducer

from connectors.base import Connector, HttpIntake, SignatureScheme
from connectors.registry import CONNECTORS, connector_for
from hub.web.openapi import OPENAPI_PATH, serve_openapi
from hub.web.problems import problem_response
from hub.webhooks._io import read_limited
from hub.webhooks.certificates import (
    CertificateFetcher,
    CertificateFetchError,
    HttpCertificateFetcher,
    default_certificate_verifier,
)
from hub.webhooks.metrics import instrument_intake
from hub.webhooks.replay import InMemoryReplayCache, ReplayStore
from hub.webhooks.resources import (
    HttpResourceFetcher,
    ResourceFetcher,
    ResourceFetchError,
    mercadolibre_resource_path,
)
from hub.webhooks.secrets import intake_secrets
from hub.webhooks.signatures import (
    HTTP_SCHEMES,
    VERIFIERS,
    CertificateVerifier,
    Verdict,
    adyen_keys,
    check_paypal_request,
    paypal_cert_url,
    verify_mercadolibre,
    verify_paypal,
    verify_shopify,
)
from schemas.raw_records import RawRecord, encode_headers
from schemas.settings import Settings
from streams.kafka_clients import kafka_client_options
from streams.topics import raw_topic

logger = logging.getLogger(__name__)

COMMON_KEPT_HEADERS = ("content-type", "content-language")  # DHL names its language here
"""Headers copied to every raw record (as `http.<name>`), beyond the descriptor's own."""

MERCADOLIBRE_RESOURCE_HEADER = "x-mercadolibre-resource"
"""Names the path of a fetched Mercado Libre resource on its record (see the connector)."""


class ProducerSend(Protocol):
    """Writes one record and returns once the broker acknowledged it (raises otherwise)."""

    async def __call__(
        self, topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class PayPalCertificates:
    """How the intake obtains and checks PayPal's signing certificates."""

    fetch: CertificateFetcher
    verifier: CertificateVerifier


def http_sources(connectors: Iterable[Connector]) -> dict[str, Connector]:
    """Source name -> descriptor of every connector that arrives over HTTP."""
    return {c.source: c for c in connectors if c.http is not None}


def create_intake_app(
    settings: Settings,
    producer_send: ProducerSend,
    *,
    sources: Iterable[str] | None = None,
    replay_store: ReplayStore | None = None,
    paypal: PayPalCertificates | None = None,
    mercadolibre: ResourceFetcher | None = None,
    clock: Callable[[], datetime] | None = None,
) -> web.Application:
    """The intake's aiohttp application.

    Args:
        settings: secrets, tolerance, body limit and topic prefix.
        producer_send: writes a record and waits for the broker's acknowledgement.
        sources: the sources to take (registered names); by default every HTTP connector of
            `connectors.registry`. Sources without HTTP intake are left out.
        replay_store: where accepted deliveries are remembered (default: in memory).
        paypal: certificate fetcher and verifier; without them PayPal is answered 503.
        mercadolibre: fetches the resource a Mercado Libre notification names; without it
            Mercado Libre is answered 503.
        clock: the current time (tests pin it).

    Raises:
        ConfigurationError: a configured secret cannot be used (an Adyen key that is not hex, an
            empty secret) or names no source with HTTP intake.
    """
    intake = _Intake(
        settings=settings,
        send=producer_send,
        sources=http_sources(
            CONNECTORS if sources is None else [connector_for(name) for name in sources]),
        replay=replay_store or InMemoryReplayCache(),
        paypal=paypal,
        mercadolibre=mercadolibre,
        clock=clock or (lambda: datetime.now(UTC)),
    )
    app = web.Application()
    app.router.add_get("/healthz", intake.healthz)
    app.router.add_post("/webhooks/{source}", intake.receive)
    instrument_intake(app, intake.sources)
    app.router.add_get(OPENAPI_PATH, serve_openapi)
    return app


class _Intake:
    def __init__(
        self,
        *,
        settings: Settings,
        send: ProducerSend,
        sources: Mapping[str, Connector],
        replay: ReplayStore,
        paypal: PayPalCertificates | None,
        mercadolibre: ResourceFetcher | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._settings = settings
        self._send = send
        self._sources = {
            source: connector for source, connector in sources.items()
            if connector.http is not None and connector.signature_scheme in HTTP_SCHEMES
        }
        self._replay = replay
        self._paypal = paypal
        self._mercadolibre = mercadolibre
        self._clock = clock
        self._in_flight: set[str] = set()
        # Checked against every HTTP connector, not only the ones served here (tests serve a few).
        self._secrets = intake_secrets(
            settings.webhook_secrets, {*http_sources(CONNECTORS), *self._sources}
        )
        unconfigured = sorted(set(self._sources) - set(self._secrets))
        if unconfigured:
            logger.warning(
                "webhook intake: no secret for %s, answered 503 not_configured "
                "(set HUB_WEBHOOK_SECRETS__<SOURCE>)",
                ", ".join(unconfigured),
            )
        for source, connector in self._sources.items():
            scheme = connector.signature_scheme
            if scheme == "adyen-hmac-item":
                adyen_keys(self._secrets.get(source, []))
            if scheme == "paypal-verify" and paypal is None:
                logger.warning(
                    "webhook intake: no PayPal certificate verifier, %s answers 503", source
                )
            if scheme == "mercadolibre-x-signature" and mercadolibre is None:
                logger.warning("webhook intake: no Mercado Libre fetcher, %s answers 503", source)

    @property
    def sources(self) -> list[str]:
        return sorted(self._sources)

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "sources": sorted(self._sources)})

    async def receive(self, request: web.Request) -> web.StreamResponse:
        source = request.match_info["source"]
        connector = self._sources.get(source)
        if connector is None or connector.http is None:
            return self._reject(request, source, 404, "unknown_source", "no HTTP intake")
        scheme, http = connector.signature_scheme, connector.http
        secrets = self._secrets.get(source)
        if not secrets:
            return self._reject(request, source, 503, "not_configured", "no webhook secret")
        limit = self._settings.webhook_max_body_bytes
        declared = request.content_length
        body = (
            await read_limited(request.content, limit)
            if declared is None or declared <= limit
            else None
        )
        if body is None:
            return self._reject(request, source, 413, "too_large", f"body over {limit} bytes")

        now = self._clock()
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            if _is_utf8(value):  # aiohttp keeps undecodable bytes as lone surrogates
                headers.setdefault(name.lower(), value)
        tolerance = max(
            timedelta(seconds=self._settings.webhook_tolerance_seconds), http.retry_window
        )
        verdict = await self._verify(scheme, body, headers, secrets, request, now, tolerance)
        if isinstance(verdict, web.StreamResponse):
            return verdict
        if not verdict.ok:
            return self._reject(request, source, 401, verdict.reason, verdict.detail)

        problem = delivery_id_problem(verdict.delivery_id)
        if problem is not None:
            return self._reject(request, source, 400, "bad_delivery_id", problem)
        record_key = verdict.delivery_id.encode() if verdict.delivery_id else None
        kept = {
            name: headers[name]
            for name in (*COMMON_KEPT_HEADERS, *http.kept_headers)
            if name in headers
        }
        resource_path = None
        if scheme == "mercadolibre-x-signature":
            # The body is not signed: what is written is the resource fetched by the signed id.
            if self._mercadolibre is None:
                return self._reject(request, source, 503, "not_configured", "no resource fetcher")
            resource_path = mercadolibre_resource_path(body, verdict.delivery_id)
            if resource_path is None:
                return self._reject(
                    request,
                    source,
                    400,
                    "unexpected_resource",
                    "no claim resource of the signed id",
                )
            kept = {"content-type": "application/json", MERCADOLIBRE_RESOURCE_HEADER: resource_path}
        topic = f"{self._settings.topic_prefix}{raw_topic(source)}"

        keys = [f"{source}:{key}" for key in verdict.replay_keys]
        until = verdict.keep_until or max(now, verdict.signed_at or now) + tolerance
        if keys and not await self._replay.claim(keys, now=now, until=until):
            if self._in_flight.intersection(keys):
                # Not durable yet: a 200 now would be a promise the first write may not keep.
                return self._reject(request, source, 503, "in_flight", "same delivery in flight")
            if http.replay == "rejected":
                return self._reject(request, source, 409, "replay", "signature seen before")
            logger.info(
                "webhook duplicate source=%s delivery=%s remote=%s: not written again",
                source,
                verdict.delivery_id,
                request.remote,
            )
            return _accepted(http, duplicate=True)

        # From the claim on, every way out but an acknowledged write releases it: a claim kept
        # for a delivery that was not written would answer the provider's retries "duplicate".
        self._in_flight.update(keys)
        try:
            written = body
            if resource_path is not None and self._mercadolibre is not None:
                written = await self._mercadolibre(resource_path)
            record = RawRecord(
                source=source,
                body=written,
                received_at=now,
                signature="verified",
                http_headers=kept,
            )
            await self._send(topic, written, record_key, encode_headers(record))
        except ResourceFetchError as exc:
            await self._replay.release(keys)
            return self._reject(request, source, 503, "resource_unavailable", str(exc))
        except BaseException as exc:
            await self._replay.release(keys)
            if not isinstance(exc, Exception):
                raise
            logger.exception("webhook not written source=%s topic=%s", source, topic)
            return _rejection(503, "not_written")
        finally:
            self._in_flight.difference_update(keys)
        return _accepted(http)

    async def _verify(
        self,
        scheme: SignatureScheme,
        body: bytes,
        headers: Mapping[str, str],
        secrets: Sequence[str],
        request: web.Request,
        now: datetime,
        tolerance: timedelta,
    ) -> Verdict | web.StreamResponse:
        source = request.match_info["source"]
        if scheme == "mercadolibre-x-signature":
            return verify_mercadolibre(
                body, headers, secrets, now=now, tolerance=tolerance, query=request.query
            )
        if scheme == "shopify-hmac-sha256":
            return verify_shopify(
                body,
                headers,
                secrets,
                now=now,
                tolerance=tolerance,
                max_age=timedelta(seconds=self._settings.webhook_shopify_max_age_seconds),
                undated_retention=timedelta(
                    seconds=self._settings.webhook_shopify_undated_retention_seconds
                ),
            )
        if scheme == "paypal-verify":
            if self._paypal is None:
                return self._reject(request, source, 503, "not_configured", "no PayPal verifier")
            sandbox = self._settings.paypal_sandbox
            # A fetch is a request to PayPal on behalf of an unauthenticated caller: only after
            # every check that needs no certificate.
            rejected = check_paypal_request(
                body, headers, now=now, tolerance=tolerance, sandbox=sandbox
            )
            if rejected is not None:
                return rejected
            url = paypal_cert_url(headers["paypal-cert-url"], sandbox=sandbox)
            assert url is not None  # check_paypal_request rejected every other URL
            try:
                certificate = await self._paypal.fetch(url)
            except CertificateFetchError as exc:
                return self._reject(request, source, 503, "certificate_unavailable", str(exc))
            return verify_paypal(
                body,
                headers,
                secrets,
                now=now,
                tolerance=tolerance,
                certificate=certificate,
                certificate_verifier=self._paypal.verifier,
                sandbox=sandbox,
            )
        return VERIFIERS[scheme](body, headers, secrets, now=now, tolerance=tolerance)

    @staticmethod
    def _reject(
        request: web.Request, source: str, status: int, reason: str, detail: str
    ) -> web.Response:
        # `source` is the raw path segment and `detail` may quote request data: both are escaped.
        logger.warning(
            "webhook rejected source=%s reason=%s status=%d remote=%s detail=%s",
            loggable(source, limit=MAX_LOGGED_SOURCE),
            reason,
            status,
            request.remote,
            loggable(detail),
        )
        return _rejection(status, reason)


MAX_LOGGED_SOURCE = 64
MAX_DELIVERY_ID = 255


def loggable(text: str, *, limit: int = 300) -> str:
    """`text` safe for one log line: non-printable characters (CR, LF, ESC, lone surrogates...)
    backslash-escaped, cut to `limit` characters with a trailing `...` when longer."""
    escaped = "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text[: limit + 1]
    )
    return escaped if len(escaped) <= limit else escaped[:limit] + "..."


def delivery_id_problem(delivery_id: str | None) -> str | None:
    """Why a delivery id cannot be logged and used as the record key; None when it can.

    An id must be printable text (no control characters, no lone surrogates) of at most
    `MAX_DELIVERY_ID` characters; no provider sends anything else.
    """
    if delivery_id is None or (len(delivery_id) <= MAX_DELIVERY_ID and delivery_id.isprintable()):
        return None
    return f"delivery id {loggable(delivery_id, limit=40)} is not printable text"


def _is_utf8(value: str) -> bool:
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _rejection(status: int, reason: str) -> web.Response:
    # The detail is the reason's fixed title: an answer never echoes request data.
    return problem_response(status, reason)


def _accepted(http: HttpIntake, *, duplicate: bool = False) -> web.Response:
    if http.accepted_body is not None:
        return web.Response(text=http.accepted_body)
    return web.json_response(
        {"accepted": True, "duplicate": True} if duplicate else {"accepted": True}
    )


@asynccontextmanager
async def serve_intake(
    settings: Settings,
    *,
    port: int,
    host: str | None = None,
    sources: Iterable[str] | None = None,
    replay_store: ReplayStore | None = None,
    clock: Callable[[], datetime] | None = None,
) -> AsyncIterator[str]:
    """Serve the intake with an idempotent acks=all producer; yields its base URL."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers, acks="all", enable_idempotence=True,
        **kafka_client_options(settings),
    )
    await producer.start()
    try:
        async with aiohttp.ClientSession() as session:
            verifier = default_certificate_verifier()
            paypal = (
                PayPalCertificates(
                    HttpCertificateFetcher(session, sandbox=settings.paypal_sandbox), verifier
                )
                if verifier
                else None
            )

            async def send(
                topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]
            ) -> None:
                await producer.send_and_wait(topic, value=value, key=key, headers=headers)

            token = settings.mercadolibre_access_token
            mercadolibre = (
                HttpResourceFetcher(
                    session,
                    base_url=settings.mercadolibre_api_url,
                    token=token.get_secret_value(),
                    timeout_seconds=settings.mercadolibre_fetch_timeout_seconds,
                    attempts=settings.mercadolibre_fetch_attempts,
                    max_bytes=settings.webhook_max_body_bytes,
                )
                if token
                else None
            )
            app = create_intake_app(
                settings,
                send,
                sources=sources,
                replay_store=replay_store,
                paypal=paypal,
                mercadolibre=mercadolibre,
                clock=clock,
            )
            runner = web.AppRunner(app)
            await runner.setup()
            try:
                bind_host = host or settings.web_host
                await web.TCPSite(runner, bind_host, port).start()
                bound_host, bound_port = runner.addresses[0][:2]
                yield f"http://{bound_host}:{bound_port}"
            finally:
                await runner.cleanup()
    finally:
        await producer.stop()


async def run_intake(settings: Settings, *, port: int, host: str | None = None) -> None:
    """Serve the webhook intake until cancelled."""
    async with serve_intake(settings, port=port, host=host) as url:
        logger.info("webhook intake listening on %s/webhooks/<source>", url)
        await asyncio.Event().wait()
