"""Mercado Libre notifications are hints: the intake writes the resource they name, fetched by id.

`x-signature` covers `id;request-id;ts` only, never the body, so the body is not a claim the
hub may believe: the intake fetches the resource with the signed id from Mercado Libre's API
and writes the API's answer to `raw.mercadolibre` (with the path fetched in
`x-mercadolibre-resource`, which the connector needs for a messages array).
`mercadolibre_resource_path` picks the path: the notification's `resource` when it is one of
the post-purchase shapes the connector reads and names the signed id, the claim itself when the
notification names no resource. `ResourceFetcher` is the injected I/O; `HttpResourceFetcher`
implements it with aiohttp, a bearer token, a timeout per attempt and retries of transient
failures. The OAuth token is configured, not refreshed here.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Protocol

import aiohttp

from hub.webhooks._io import read_limited
from schemas.errors import HubError

MERCADOLIBRE_RESOURCES = (
    re.compile(r"/post-purchase/v1/claims/(?P<id>\d+)"),
    re.compile(r"/post-purchase/v2/claims/(?P<id>\d+)/returns"),
    re.compile(r"/post-purchase/v1/claims/(?P<id>\d+)/messages"),
)
"""The resource paths the intake fetches: a claim, its return, its messages."""
MERCADOLIBRE_CLAIM_PATH = "/post-purchase/v1/claims/{id}"
RETRIED_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class ResourceFetchError(HubError):
    """A notified resource could not be fetched; the notification should be retried later."""


class ResourceFetcher(Protocol):
    """Returns the body the provider's API answers for a resource path."""

    async def __call__(self, path: str) -> bytes:
        """The resource at `path` (absolute, starting with `/`).

        Raises:
            ResourceFetchError: the API could not be reached or did not answer 200.
        """
        ...


def mercadolibre_resource_path(notification: bytes, signed_id: str | None) -> str | None:
    """The API path of the resource a verified notification names; None when it names none
    the hub fetches, or one other than its signed id (a body changed after signing)."""
    if not signed_id or not signed_id.isdigit():
        return None
    try:
        document = json.loads(notification)
    except (ValueError, UnicodeDecodeError, RecursionError):
        document = None
    resource = document.get("resource") if isinstance(document, dict) else None
    if resource is None:
        return MERCADOLIBRE_CLAIM_PATH.format(id=signed_id)
    for pattern in MERCADOLIBRE_RESOURCES:
        matched = pattern.fullmatch(resource) if isinstance(resource, str) else None
        if matched and matched["id"] == signed_id:
            return str(resource)
    return None


class HttpResourceFetcher:
    """Fetches resources from a provider's API over aiohttp, retrying transient failures.

    Each of `attempts` requests gets `timeout_seconds`; connection errors, timeouts and the
    `RETRIED_STATUSES` are tried again after `backoff_seconds`, doubled each time. Any other
    status, or a body over `max_bytes`, fails at once.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        token: str | None,
        timeout_seconds: float,
        attempts: int,
        max_bytes: int,
        backoff_seconds: float = 0.2,
    ) -> None:
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._attempts = max(1, attempts)
        self._max_bytes = max_bytes
        self._backoff = backoff_seconds

    async def __call__(self, path: str) -> bytes:
        """The body at `path` under the base URL.

        Raises:
            ResourceFetchError: every attempt failed, or the API refused the request.
        """
        url = self._base_url + path
        failure = ""
        for attempt in range(self._attempts):
            if attempt:
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
            try:
                async with self._session.get(
                    url, headers=self._headers, allow_redirects=False, timeout=self._timeout
                ) as response:
                    if response.status == 200:
                        body = await read_limited(response.content, self._max_bytes)
                        if body is None:
                            raise ResourceFetchError(f"{path}: body over {self._max_bytes} bytes")
                        return body
                    failure = f"HTTP {response.status}"
                    if response.status not in RETRIED_STATUSES:
                        raise ResourceFetchError(f"{path} answered {failure}")
            except (aiohttp.ClientError, TimeoutError) as exc:
                failure = repr(exc)
        raise ResourceFetchError(f"{path}: {failure} after {self._attempts} attempts")
