"""Query API on every worker: cases by id or order, return shipments by tracking number.

    GET /cases/{case_id}            one case                       404 unknown
    GET /cases?order_id=...         the order's cases (a list)     400 without order_id
    GET /shipments/{tracking}       return-shipping + customs      404 unknown

Access (`hub.web.access`): `Authorization: Bearer` with a team token, which reads the cases
`translations.regions` routes to its region (and their shipments), or an operator token, which
reads every case. A case the token may not read answers 404 like an unknown one (no hint that
it exists) and is left out of an order's list. Free text is masked (`translations.privacy`):
the buyer's reason and the carriers' step descriptions. Missing or unknown token 401, a token
in the URL 400. Errors are problem details (RFC 9457, `application/problem+json`): `code`
says which.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web as aioweb
from pydantic import ValidationError

from hub.web.access import Principal, authenticate, error_response
from schemas.case import CASE
from streams.read_model import ReadModel
from translations.privacy import masked
from translations.regions import REGIONS, RegionsConfig

log = logging.getLogger("hub.web.queries")

_MAX_ID = 200


def _bad_id(value: str) -> bool:
    return not value or len(value) > _MAX_ID or any(ord(ch) < 32 for ch in value)


def masked_case(document: dict[str, Any]) -> dict[str, Any]:
    """The case document with the buyer's free text and the agents' texts masked (a reply or a
    note can quote an address or a phone number)."""
    shown = dict(document)
    text = document.get("reason_text")
    if isinstance(text, str):
        shown["reason_text"] = masked(text)
    if isinstance(document.get("history"), list):
        shown["history"] = [_masked_entry(entry) for entry in document["history"]]
    return shown


def _masked_entry(entry: Any) -> Any:
    action = entry.get("action") if isinstance(entry, dict) else None
    if not isinstance(action, dict):
        return entry
    action = dict(action)
    if isinstance(action.get("note"), str):
        action["note"] = masked(action["note"])
    for part, fields in (("reply", ("text", "buyer_text")), ("request", ("text",)),
                         ("proposal", ("reason",))):
        value = action.get(part)
        if isinstance(value, dict):
            action[part] = {**value, **{name: masked(value[name]) for name in fields
                                        if isinstance(value.get(name), str)}}
    return {**entry, "action": action}


def masked_shipment(document: dict[str, Any]) -> dict[str, Any]:
    """The shipment document with the carriers' step descriptions masked (they can name the
    person who signed, or give an address)."""
    def legs(leg: Any) -> Any:
        if not isinstance(leg, dict) or not isinstance(leg.get("history"), list):
            return leg
        return {**leg, "history": [
            {**step, "description": masked(step["description"])}
            if isinstance(step, dict) and isinstance(step.get("description"), str) else step
            for step in leg["history"]
        ]}

    shown = dict(document)
    if "return_shipping" in shown:
        shown["return_shipping"] = legs(shown["return_shipping"])
    if isinstance(shown.get("customs"), list):
        shown["customs"] = [legs(leg) for leg in shown["customs"]]
    return shown


def register_query_views(app: Any, model: ReadModel, *, regions: RegionsConfig = REGIONS) -> None:
    """Serve the read model's cases and shipments to the tokens that may read them.

    Credentials are checked by the `WebAccess` on the worker's web server
    (`hub.web.access.install_access`, which `register_feed_views` calls); without one every
    request is refused.
    """

    def reads_case(principal: Principal, document: dict[str, Any] | None) -> bool:
        if document is None:
            return False
        try:
            routed = regions.routes_for(CASE.validate_python(document))
        except ValidationError:
            # Its region cannot be known: refused to everyone rather than shown to anyone.
            log.warning("unreadable case %r in the read model refused", document.get("case_id"))
            return False
        return any(principal.reads(region.code) for region in routed)

    @app.page("/cases/{case_id}")
    async def get_case(web: Any, request: aioweb.Request, case_id: str) -> Any:
        principal = authenticate(request)
        if isinstance(principal, aioweb.Response):
            return principal
        if _bad_id(case_id):
            return error_response(400, "bad_request", "case_id must be 1-200 printable characters")
        case = model.case(case_id)
        if not reads_case(principal, case):
            return error_response(404, "not_found", f"no case {case_id!r}")
        assert case is not None
        return web.json(masked_case(case))

    @app.page("/cases")
    async def list_cases(web: Any, request: aioweb.Request) -> Any:
        principal = authenticate(request)
        if isinstance(principal, aioweb.Response):
            return principal
        order_id = request.query.get("order_id")
        unknown = sorted(set(request.query) - {"order_id"})
        if unknown:
            return error_response(400, "bad_request", f"unknown parameters: {', '.join(unknown)}")
        if order_id is None or _bad_id(order_id):
            return error_response(400, "bad_request", "give ?order_id=... (1-200 characters)")
        return web.json([masked_case(case) for case in model.cases_for_order(order_id)
                         if reads_case(principal, case)])

    @app.page("/shipments/{tracking_number}")
    async def get_shipment(web: Any, request: aioweb.Request, tracking_number: str) -> Any:
        principal = authenticate(request)
        if isinstance(principal, aioweb.Response):
            return principal
        if _bad_id(tracking_number):
            return error_response(400, "bad_request", "tracking number must be 1-200 characters")
        shipment = model.shipment(tracking_number)
        case_id = shipment.get("case_id") if shipment is not None else None
        # A shipment is the case's: readable with it (fail closed while the case is unknown).
        if not (isinstance(case_id, str) and reads_case(principal, model.case(case_id))):
            return error_response(404, "not_found", f"no return shipment {tracking_number!r}")
        assert shipment is not None
        return web.json(masked_shipment(shipment))
