"""The work queue: one region's cases searched, filtered and sorted on the server, in pages.

    GET /queue/{region}   ?q=        order id, tracking number, return, claim or refund id
                                     (case-insensitive; a part of one matches)
                          ?sla=      breached | at_risk | on_track
                          ?status=   a case status        ?marketplace=  a marketplace id
                          ?reason=   a reason code        ?assignee=     me | none | <agent id>
                          ?closed=1  closed cases too (hidden by default)
                          ?limit=    1-200 (default 50)   ?cursor=       the next page
        -> {"cases": [LocalizedCaseView...], "next": cursor | null, "total": matching cases,
            "stats": {"open_cases", "first_response_median_seconds", "first_responses",
                      "first_contact_resolution", "resolved"}}

Sorted by nearest deadline (the most overdue first, then the soonest due; cases without a
deadline last), then case id; the SLA state is taken at the time of the query, not of the
view's rendering; the cursor is the last case's place in that order, so a page does not
repeat or skip a case that did not move. `stats` are the region's service figures over all its
cases (not the filter): first response is the time from a case's opening to an agent's first
reply; first-contact resolution the share of resolved cases resolved without escalation or
reopening. Access as the feeds (`hub.web.feeds`): a token of the region, else 401/403/404.

`select_queue` is the pure core: views and case documents in, one page out.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, get_args

from aiohttp import web as aioweb

from hub.web.access import authenticate, b64url_decode, b64url_encode, error_response
from schemas.case import CaseStatus
from schemas.events import ReasonCode
from streams.feeds import FeedHub
from streams.read_model import ReadModel
from translations.errors import UnknownRegionError
from translations.regions import REGIONS, RegionsConfig

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MIN_SEARCH = 2
RESOLVED = frozenset({"refunded", "exchanged", "reshipped", "closed", "rejected"})
_PARAMS = frozenset({"q", "sla", "status", "marketplace", "reason", "assignee", "closed",
                     "limit", "cursor"})
_SLA = frozenset({"breached", "at_risk", "on_track"})
_STATUSES = frozenset(get_args(CaseStatus))
_REASONS = frozenset(get_args(ReasonCode))

QueueKey = tuple[int, str, str]


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What an agent asked the queue for."""

    search: str | None = None
    sla: str | None = None
    status: str | None = None
    marketplace: str | None = None
    reason: str | None = None
    assignee: str | None = None  # an agent id, or "none"
    closed: bool = False


@dataclass(frozen=True, slots=True)
class QueuePage:
    cases: list[Mapping[str, Any]]
    next: QueueKey | None
    total: int
    stats: dict[str, Any]


def _due(view: Mapping[str, Any]) -> datetime | None:
    deadline = view.get("deadline") or {}
    alert = view.get("alert") or {}
    due = (deadline.get("at") or {}).get("utc") or (alert.get("due") or {}).get("utc")
    return _instant(due) if due else None


def _instant(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def sla_state(view: Mapping[str, Any], now: datetime) -> str | None:
    """The case's SLA state at `now` (a view's own state was right when it was rendered)."""
    due = _due(view)
    alert = (view.get("alert") or {}).get("kind")
    if alert == "breach" or (due is not None and due <= now):
        return "breached"
    if alert == "warning":
        return "at_risk"
    return "on_track" if due is not None else None


def queue_key(view: Mapping[str, Any]) -> QueueKey:
    """A case's place in the queue: by deadline (the most overdue first), cases without a
    deadline last; then by id."""
    due = _due(view)
    if due is not None:
        return (0, due.astimezone(UTC).isoformat(), view["case_id"])
    return (1, "", view["case_id"])


def search_keys(document: Mapping[str, Any] | None, view: Mapping[str, Any]) -> list[str]:
    """The identifiers a case is found by, lower-cased."""
    found = [view.get("case_id"), view.get("order_id")]
    shipment = view.get("return_shipment") or {}
    found.append(shipment.get("tracking_number"))
    if document is not None:
        for name in ("return_tracking_numbers", "return_ids", "dispute_ids", "refund_ids"):
            found += list(document.get(name) or ())
    return [str(value).lower() for value in found if value]


def matches(view: Mapping[str, Any], document: Mapping[str, Any] | None,
            wanted: QueueFilter, now: datetime) -> bool:
    """Whether a case passes the filter."""
    if not wanted.closed and view.get("status") == "closed" and wanted.status != "closed":
        return False
    if wanted.status and view.get("status") != wanted.status:
        return False
    if wanted.sla and sla_state(view, now) != wanted.sla:
        return False
    if wanted.marketplace and view.get("marketplace") != wanted.marketplace:
        return False
    if wanted.reason and view.get("reason_code") != wanted.reason:
        return False
    if wanted.assignee:
        assignee = (view.get("assignee") or {}).get("agent_id")
        if (assignee or "none") != wanted.assignee:
            return False
    if wanted.search:
        needle = wanted.search.lower()
        return any(needle in key for key in search_keys(document, view))
    return True


def region_stats(views: Iterable[Mapping[str, Any]],
                 case_of: Callable[[str], Mapping[str, Any] | None]) -> dict[str, Any]:
    """The region's service figures: open cases, first response, first-contact resolution."""
    open_cases = 0
    first_responses: list[float] = []
    resolved = resolved_first_contact = 0
    for view in views:
        status = view.get("status")
        if status != "closed":
            open_cases += 1
        opened = (view.get("opened") or {}).get("utc")
        replied = (view.get("first_reply") or {}).get("utc")
        if opened and replied:
            seconds = (datetime.fromisoformat(replied.replace("Z", "+00:00"))
                       - datetime.fromisoformat(opened.replace("Z", "+00:00"))).total_seconds()
            first_responses.append(max(0.0, seconds))
        if status in RESOLVED:
            resolved += 1
            document = case_of(view["case_id"]) or {}
            if not (document.get("escalated") or document.get("reopened")
                    or document.get("disputed")):
                resolved_first_contact += 1
    return {
        "open_cases": open_cases,
        "first_responses": len(first_responses),
        "first_response_median_seconds": (statistics.median(first_responses)
                                          if first_responses else None),
        "resolved": resolved,
        "first_contact_resolution": (resolved_first_contact / resolved if resolved else None),
    }


def select_queue(
    views: Iterable[Mapping[str, Any]],
    case_of: Callable[[str], Mapping[str, Any] | None],
    wanted: QueueFilter,
    *,
    now: datetime,
    limit: int,
    after: QueueKey | None = None,
) -> QueuePage:
    """One page of the queue at `now`, the total that matches, and the region's figures."""
    every = list(views)
    chosen = sorted((view for view in every
                     if matches(view, case_of(view["case_id"]), wanted, now)), key=queue_key)
    start = 0
    if after is not None:
        start = next((i for i, view in enumerate(chosen) if queue_key(view) > after),
                     len(chosen))
    page = chosen[start:start + limit]
    more = start + limit < len(chosen)
    return QueuePage(cases=page, next=queue_key(page[-1]) if more and page else None,
                     total=len(chosen), stats=region_stats(every, case_of))


def encode_cursor(key: QueueKey) -> str:
    return b64url_encode(json.dumps(list(key), ensure_ascii=False).encode())


def decode_cursor(cursor: str) -> QueueKey:
    """The queue key of a cursor.

    Raises:
        ValueError: not a cursor this module made.
    """
    try:
        rank, due, case_id = json.loads(b64url_decode(cursor))
    except (TypeError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("not a queue cursor") from exc
    if not (isinstance(rank, int) and isinstance(due, str) and isinstance(case_id, str)):
        raise ValueError("not a queue cursor")
    return rank, due, case_id


def parse_filter(query: Mapping[str, str], agent_id: str | None) -> QueueFilter | str:
    """The filter of a query, or what is wrong with it."""
    unknown = sorted(set(query) - _PARAMS)
    if unknown:
        return f"unknown parameters: {', '.join(unknown)}"
    checks = (("sla", _SLA), ("status", _STATUSES), ("reason", _REASONS))
    for name, allowed in checks:
        if query.get(name) and query[name] not in allowed:
            return f"{name} must be one of {', '.join(sorted(allowed))}"
    search = (query.get("q") or "").strip()
    if search and not MIN_SEARCH <= len(search) <= 200:
        return f"q must be {MIN_SEARCH}-200 characters"
    assignee = query.get("assignee") or None
    if assignee == "me":
        if agent_id is None:
            return "assignee=me needs an agent's token"
        assignee = agent_id
    return QueueFilter(search=search or None, sla=query.get("sla") or None,
                       status=query.get("status") or None,
                       marketplace=query.get("marketplace") or None,
                       reason=query.get("reason") or None, assignee=assignee,
                       closed=query.get("closed") in ("1", "true"))


def register_queue_views(
    app: Any, feed_hub: FeedHub, model: ReadModel, *, regions: RegionsConfig = REGIONS
) -> None:
    """Serve each region's work queue to the tokens that read the region."""

    async def work_queue(web: Any, request: aioweb.Request, region: str) -> aioweb.Response:
        try:
            found = regions.region(region)
        except UnknownRegionError:
            return error_response(404, "not_found", f"no region {region!r}")
        principal = authenticate(request)
        if isinstance(principal, aioweb.Response):
            return principal
        if not principal.reads(found.code):
            return error_response(403, "forbidden",
                                  f"the token does not give access to {found.code}")
        wanted = parse_filter(request.query,
                              principal.agent.agent_id if principal.agent else None)
        if isinstance(wanted, str):
            return error_response(400, "bad_request", wanted)
        limit = request.query.get("limit", str(DEFAULT_LIMIT))
        if not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= MAX_LIMIT):
            return error_response(400, "bad_request", f"limit must be 1-{MAX_LIMIT}")
        try:
            after = decode_cursor(request.query["cursor"]) if request.query.get("cursor") \
                else None
        except ValueError:
            return error_response(400, "bad_request", "cursor is not one a queue page gave")
        views = [json.loads(value) for value in feed_hub.views(found.code)]
        page = select_queue(views, model.case, wanted, now=datetime.now(UTC), limit=int(limit),
                            after=after)
        body = {"cases": page.cases, "total": page.total, "stats": page.stats,
                "next": encode_cursor(page.next) if page.next is not None else None}
        return aioweb.json_response(body, headers={"Cache-Control": "no-store"},
                                    dumps=lambda obj: json.dumps(obj, ensure_ascii=False))

    app.page("/queue/{region}")(work_queue)
