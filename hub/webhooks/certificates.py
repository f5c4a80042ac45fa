"""PayPal's signing certificates: fetched from pinned PayPal hosts, checked by a small Protocol.

PayPal names the certificate of each delivery in `paypal-cert-url`. The fetcher only requests
the canonical form of PayPal certificate URLs (`signatures.paypal_cert_url`: pinned live hosts,
sandbox hosts only when enabled, one path shape, no query), with TLS verification, no
redirects, a size limit and a bounded cache by canonical URL, so no spelling of a URL forces a
fresh fetch: the TLS connection to a pinned PayPal host is the trust anchor, no separate chain
validation is done. The RSA check sits behind
`signatures.CertificateVerifier`; `CryptographyCertificateVerifier` implements it with the
`cryptography` package when that is installed (it is an optional dependency of the hub), and
tests inject their own.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections import OrderedDict
from datetime import datetime
from typing import Protocol

import aiohttp

from hub.webhooks._io import read_limited
from hub.webhooks.signatures import CertificateVerifier, paypal_cert_url
from schemas.errors import HubError


class CertificateFetchError(HubError):
    """A PayPal certificate could not be fetched; the delivery should be retried later."""


class CertificateFetcher(Protocol):
    """Returns the PEM bytes at a PayPal certificate URL."""

    async def __call__(self, url: str) -> bytes:
        """The certificate at `url`.

        Raises:
            CertificateFetchError: the URL is not allowed or the certificate is unavailable.
        """
        ...


class HttpCertificateFetcher:
    """Fetches PayPal certificates over verified HTTPS from pinned hosts and caches them.

    `sandbox` admits PayPal's sandbox hosts too; `max_cached` bounds the cache (least recently
    used certificates go first).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        timeout_seconds: float = 5.0,
        max_bytes: int = 64 * 1024,
        max_cached: int = 32,
        sandbox: bool = False,
    ) -> None:
        self._session = session
        self._sandbox = sandbox
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._max_bytes = max_bytes
        self._max_cached = max_cached
        self._cache: OrderedDict[str, bytes] = OrderedDict()

    async def __call__(self, url: str) -> bytes:
        """The certificate at `url`, from the cache when fetched before.

        Raises:
            CertificateFetchError: the URL is not allowed or the certificate is unavailable.
        """
        canonical = paypal_cert_url(url, sandbox=self._sandbox)
        if canonical is None:
            raise CertificateFetchError(f"not a PayPal certificate URL: {url!r}")
        url = canonical
        if url in self._cache:
            self._cache.move_to_end(url)
            return self._cache[url]
        try:
            async with self._session.get(
                url, allow_redirects=False, timeout=self._timeout
            ) as response:
                if response.status != 200:
                    raise CertificateFetchError(f"{url} answered HTTP {response.status}")
                pem = await read_limited(response.content, self._max_bytes)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise CertificateFetchError(f"{url}: {exc!r}") from exc
        if pem is None or b"-----BEGIN CERTIFICATE-----" not in pem:
            raise CertificateFetchError(f"{url} did not return one PEM certificate")
        self._cache[url] = pem
        while len(self._cache) > self._max_cached:
            self._cache.popitem(last=False)
        return pem


class CryptographyCertificateVerifier:
    """CertificateVerifier on the `cryptography` package (imported when first used)."""

    def verify(
        self, certificate: bytes, signature: bytes, message: bytes, *, now: datetime
    ) -> bool:
        """True when the certificate is valid at `now` and its key signed `message`."""
        # Imported by name: `cryptography` is optional and has no stubs in every environment.
        x509 = importlib.import_module("cryptography.x509")
        hashes = importlib.import_module("cryptography.hazmat.primitives.hashes")
        padding = importlib.import_module("cryptography.hazmat.primitives.asymmetric.padding")
        exceptions = importlib.import_module("cryptography.exceptions")
        try:
            cert = x509.load_pem_x509_certificate(certificate)
            if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
                return False
            cert.public_key().verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except (exceptions.InvalidSignature, ValueError, TypeError, AttributeError):
            return False
        return True


def default_certificate_verifier() -> CertificateVerifier | None:
    """The cryptography-based verifier, or None when the package is not installed."""
    if importlib.util.find_spec("cryptography") is None:
        return None
    return CryptographyCertificateVerifier()
