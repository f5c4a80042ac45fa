"""Who may read what on a worker's web server: team and operator tokens, and stream tickets.

Every data endpoint (cases, shipments, feeds) takes a token as `Authorization: Bearer <token>`:

* a team token of a region (`HUB_FEED_TOKENS__<REGION>`, several during rotation) reads that
  region's feed and the cases `translations.regions` routes to it;
* an agent token (`HUB_AGENT_TOKENS`) reads its region like a team token and carries the
  agent's id, display name and region: only an agent acts on cases (`hub.web.actions`), and
  only on cases of its own region;
* an operator token (`HUB_OPERATOR_TOKENS`) reads every region (cross-region queries).

A token in the URL (`?token=`) is refused everywhere with 400: URLs end up in proxy, server and
browser logs. EventSource cannot send headers, so the feed stream also takes `?ticket=`: a
ticket from `POST /feeds/{region}/ticket` (with the bearer token) that names one region and the
token's fingerprint (never the token), expires after `stream_ticket_ttl_seconds` and is signed
with HMAC-SHA256 under `stream_ticket_secret`. Whatever the credential, buyers' free text is
served masked (`translations.privacy`).

Open without a credential: /livez, /readyz, /health, /metrics, /metrics.json and /dashboard
(worker facts and aggregate counts, no case data) and the console's static files. faust's
built-in views expose table contents (/table), the cluster's topology (/router) and internals
(/graph, statistics):
`BUILTIN_VIEWS_OFF`, passed to `faust.App`, turns every one of them off.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web as aioweb
from pydantic import SecretStr

from hub.web.problems import problem_response
from schemas.actions import AgentRef
from schemas.settings import Settings
from translations.errors import UnknownRegionError
from translations.regions import REGIONS, RegionsConfig

log = logging.getLogger("hub.web.access")

BUILTIN_VIEWS_OFF: dict[str, Any] = {
    "web_tables_enabled": False,  # /table: any table's keys and values
    "web_router_enabled": False,  # /router: which worker holds which key (unused: no table_route)
    "web_graph_enabled": False,  # /graph: the worker's service tree
    "web_stats_enabled": False,  # / and /assignment: sensors and partition assignment
    "web_metrics_enabled": False,  # /performance: monitor figures (/metrics has ours)
}
"""faust.App settings that turn off faust's built-in web views: `faust.App(...,
**BUILTIN_VIEWS_OFF)`. With statistics off, `/` serves faust's plain `{"status": "OK"}`."""

ACCESS = aioweb.AppKey("hub.access", object)
"""Where `install_access` keeps the worker's `WebAccess` on the aiohttp application."""

_TICKET_VERSION = "t1"
_MAX_TICKET_LENGTH = 256
URL_CREDENTIAL_REFUSED = (
    "a token in the URL is refused (URLs are logged): send Authorization: Bearer <token>; "
    "a browser's EventSource takes ?ticket= from POST /feeds/{region}/ticket"
)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a credential stands for: the regions it reads, and a fingerprint of its token (for
    per-token limits; not the token, and not reversible without the ticket key)."""

    subject: str
    regions: frozenset[str]
    agent: AgentRef | None = None

    def acts_in(self, region: str) -> bool:
        """True when the credential is an agent's of that region (who may act on its cases)."""
        return self.agent is not None and self.agent.region == region

    def reads(self, region: str) -> bool:
        """True when the credential may read the region's feed and cases."""
        return region in self.regions


class WebAccess:
    """The worker's credentials: tokens to principals, stream tickets issued and redeemed.

    Tokens are compared in constant time against every configured token.
    """

    def __init__(
        self,
        settings: Settings,
        regions: RegionsConfig = REGIONS,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._tokens: list[tuple[bytes, frozenset[str]]] = []
        self._agents: list[tuple[bytes, AgentRef]] = []
        for code, tokens in settings.feed_tokens.items():
            try:
                region = regions.region(code)
            except UnknownRegionError:
                log.warning("feed tokens for unknown region %r ignored", code)
                continue
            self._add(tokens, frozenset({region.code}))
        for agent in settings.agent_tokens:
            try:
                region = regions.region(agent.region)
            except UnknownRegionError:
                log.warning("agent token of %r for unknown region %r ignored", agent.agent_id,
                            agent.region)
                continue
            self._add([agent.token], frozenset({region.code}))
            value = agent.token.get_secret_value().encode()
            if value:
                self._agents.append((value, AgentRef(agent_id=agent.agent_id, name=agent.name,
                                                     region=region.code)))
        self._add(settings.operator_tokens, frozenset(regions.codes))
        secret = settings.stream_ticket_secret
        # A random key keeps tickets safe by default; several workers behind one address need
        # the shared setting, or a ticket from one fails on the others.
        self._ticket_key = (secret.get_secret_value().encode() if secret
                            else secrets.token_bytes(32))
        self.ticket_ttl = settings.stream_ticket_ttl_seconds
        self._clock = clock

    def _add(self, tokens: list[SecretStr], regions: frozenset[str]) -> None:
        for token in tokens:
            value = token.get_secret_value()
            if value:
                self._tokens.append((value.encode(), regions))

    def agents(self, region: str) -> list[AgentRef]:
        """The agents of a region (who a case may be assigned to), by id."""
        found = {agent.agent_id: agent for _, agent in self._agents if agent.region == region}
        return [found[agent_id] for agent_id in sorted(found)]

    @property
    def has_tokens(self) -> bool:
        """True when at least one token is configured."""
        return bool(self._tokens)

    def principal(self, token: str | None) -> Principal | None:
        """Who the token stands for; None when it is missing or unknown."""
        if not token:
            return None
        offered = token.encode()
        regions: set[str] = set()
        for secret, granted in self._tokens:
            if hmac.compare_digest(offered, secret):
                regions |= granted
        if not regions:
            return None
        agent = None
        for secret, who in self._agents:
            if hmac.compare_digest(offered, secret):
                agent = who
        return Principal(self._sign(b"subject:" + offered)[:16], frozenset(regions), agent)

    def issue_ticket(self, principal: Principal, region: str) -> str:
        """A stream ticket for one region the principal reads.

        Raises:
            ValueError: the principal does not read the region.
        """
        if not principal.reads(region):
            raise ValueError(f"the credential does not read {region}")
        expires = int(self._clock() + self.ticket_ttl)
        payload = b64url_encode(f"{region}|{principal.subject}|{expires}".encode())
        return f"{_TICKET_VERSION}.{payload}.{self._sign(payload.encode())}"

    def redeem_ticket(self, ticket: str | None, region: str) -> Principal | None:
        """The principal of a valid, unexpired ticket for `region`; None otherwise."""
        if not ticket or len(ticket) > _MAX_TICKET_LENGTH:
            return None
        version, _, rest = ticket.partition(".")
        payload, _, signature = rest.partition(".")
        if version != _TICKET_VERSION or not hmac.compare_digest(
            signature.encode(), self._sign(payload.encode()).encode()
        ):
            return None
        try:
            named, subject, expires = b64url_decode(payload).decode().split("|")
            expired = int(expires) < self._clock()
        except (ValueError, UnicodeDecodeError):
            return None
        if expired or named != region:
            return None
        return Principal(subject, frozenset({region}))

    def _sign(self, data: bytes) -> str:
        return b64url_encode(hmac.new(self._ticket_key, data, hashlib.sha256).digest())


def b64url_encode(data: bytes) -> str:
    """Base64url without padding: safe in a URL's query as it is."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    """The bytes of `b64url_encode`'s text.

    Raises:
        ValueError: the text is not base64url.
    """
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def install_access(app: Any, settings: Settings, regions: RegionsConfig = REGIONS) -> WebAccess:
    """The worker's `WebAccess`, created on first call and kept on its web server, where
    `authenticate` finds it."""
    web_app = app.web.web_app
    access = web_app.get(ACCESS)
    if access is None:
        access = WebAccess(settings, regions)
        web_app[ACCESS] = access
        if not access.has_tokens:
            log.warning("no feed or operator tokens configured: every data endpoint answers 401")
    assert isinstance(access, WebAccess)
    return access


def error_response(
    status: int, error: str, detail: str, *, headers: Mapping[str, str] | None = None
) -> aioweb.Response:
    """The error every worker view answers with: problem details (`hub.web.problems`) whose
    `code` is `error`; a 401 also says how to authenticate."""
    extra = dict(headers or {})
    if status == 401:
        extra["WWW-Authenticate"] = 'Bearer realm="hub"'
    return problem_response(status, error, detail, headers=extra or None)


def bearer_token(request: aioweb.Request) -> str | None:
    """The token of an `Authorization: Bearer` header, if any."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def access_of(request: aioweb.Request) -> WebAccess | None:
    """The `WebAccess` installed on the request's web server."""
    access = request.app.get(ACCESS)
    return access if isinstance(access, WebAccess) else None


def authenticate(request: aioweb.Request) -> Principal | aioweb.Response:
    """The request's principal from its bearer token, or the error response (400 for a token
    in the URL, 401 without a known token)."""
    if "token" in request.query:
        return error_response(400, "bad_request", URL_CREDENTIAL_REFUSED)
    access = access_of(request)
    if access is None:
        # A wiring mistake must not open the data: refuse, and say why in the log.
        log.error("no WebAccess installed: %s refused", request.path)
        return error_response(503, "unavailable", "access control is not configured")
    principal = access.principal(bearer_token(request))
    if principal is None:
        return error_response(401, "unauthorized", "a token is required: Authorization: Bearer")
    return principal
