"""Query API on every worker: cases by id or order, return shipments by tracking number.

    GET /cases/{case_id}            one case                       404 unknown
    GET /cases?order_id=...         the order's cases (a list)     400 without order_id
    GET /shipments/{tracking}       return-shipping + customs      404 unknown

Errors are JSON: {"error": "...", "detail": "..."}.
"""

from __future__ import annotations

from typing import Any

from streams.read_model import ReadModel

_MAX_ID = 200


def _error(web: Any, status: int, error: str, detail: str) -> Any:
    return web.json({"error": error, "detail": detail}, status=status)


def _bad_id(value: str) -> bool:
    return not value or len(value) > _MAX_ID or any(ord(ch) < 32 for ch in value)


def register_query_views(app: Any, model: ReadModel) -> None:
    @app.page("/cases/{case_id}")
    async def get_case(web: Any, request: Any, case_id: str) -> Any:
        if _bad_id(case_id):
            return _error(web, 400, "bad_request", "case_id must be 1-200 printable characters")
        case = model.case(case_id)
        if case is None:
            return _error(web, 404, "not_found", f"no case {case_id!r}")
        return web.json(case)

    @app.page("/cases")
    async def list_cases(web: Any, request: Any) -> Any:
        order_id = request.query.get("order_id")
        unknown = sorted(set(request.query) - {"order_id"})
        if unknown:
            return _error(web, 400, "bad_request", f"unknown parameters: {', '.join(unknown)}")
        if order_id is None or _bad_id(order_id):
            return _error(web, 400, "bad_request", "give ?order_id=... (1-200 characters)")
        return web.json(model.cases_for_order(order_id))

    @app.page("/shipments/{tracking_number}")
    async def get_shipment(web: Any, request: Any, tracking_number: str) -> Any:
        if _bad_id(tracking_number):
            return _error(web, 400, "bad_request", "tracking number must be 1-200 characters")
        shipment = model.shipment(tracking_number)
        if shipment is None:
            return _error(web, 404, "not_found", f"no return shipment {tracking_number!r}")
        return web.json(shipment)
