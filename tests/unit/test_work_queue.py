"""The work queue's pure core: search, filters, nearest deadline first, pages that neither
repeat nor skip, closed cases hidden unless asked for, and the region's service figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.web.queue import (
    QueueFilter,
    decode_cursor,
    encode_cursor,
    parse_filter,
    region_stats,
    select_queue,
    sla_state,
)

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def utc(hours: float) -> dict[str, str]:
    return {"utc": (NOW + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")}


def view(case_id: str, *, due: float | None = None, status: str = "requested",
         **fields: Any) -> dict[str, Any]:
    return {"case_id": case_id, "order_id": f"ORD-{case_id}", "status": status,
            "deadline": {"at": utc(due)} if due is not None else None, **fields}


VIEWS = [
    view("a", due=5, marketplace="rakuma-jp", reason_code="damaged"),
    view("b", due=-2, marketplace="A1VC38T7YXB528", reason_code="damaged",
         assignee={"agent_id": "jp-aiko", "name": "佐藤 愛子"}),
    view("c", marketplace="rakuma-jp", reason_code="size_fit"),
    view("d", due=1, alert={"kind": "warning", "due": utc(1)}),
    view("e", due=3, status="closed"),
]
DOCUMENTS: dict[str, dict[str, Any]] = {
    "a": {"return_ids": ["RMA-77"], "dispute_ids": [], "return_tracking_numbers": ["1Z999AA1"]},
    "c": {"dispute_ids": ["A-TO-Z-5"]},
}


def page(wanted: QueueFilter = QueueFilter(), **kwargs: Any) -> Any:  # noqa: B008
    return select_queue(VIEWS, DOCUMENTS.get, wanted, now=NOW, limit=kwargs.pop("limit", 10),
                        **kwargs)


def ids(found: Any) -> list[str]:
    return [v["case_id"] for v in found.cases]


def test_nearest_deadline_first_without_deadline_last_and_closed_hidden() -> None:
    assert ids(page()) == ["b", "d", "a", "c"]
    assert ids(page(QueueFilter(closed=True))) == ["b", "d", "e", "a", "c"]


@pytest.mark.parametrize(("search", "expected"), [
    ("ord-a", ["a"]), ("RMA-77", ["a"]), ("1z999", ["a"]), ("a-to-z-5", ["c"]), ("nothing", []),
])
def test_search_by_order_tracking_return_or_claim(search: str, expected: list[str]) -> None:
    assert ids(page(QueueFilter(search=search))) == expected


def test_filters_by_sla_state_status_marketplace_reason_and_assignee() -> None:
    assert ids(page(QueueFilter(sla="breached"))) == ["b"]
    assert ids(page(QueueFilter(sla="at_risk"))) == ["d"]
    assert ids(page(QueueFilter(sla="on_track"))) == ["a"]
    assert ids(page(QueueFilter(status="closed"))) == ["e"]
    assert ids(page(QueueFilter(marketplace="rakuma-jp"))) == ["a", "c"]
    assert ids(page(QueueFilter(reason="damaged"))) == ["b", "a"]
    assert ids(page(QueueFilter(assignee="jp-aiko"))) == ["b"]
    assert ids(page(QueueFilter(assignee="none"))) == ["d", "a", "c"]


def test_the_sla_state_is_taken_now_not_when_the_view_was_rendered() -> None:
    stale = view("x", due=-0.5, sla_state="on_track")
    assert sla_state(stale, NOW) == "breached"
    assert sla_state(stale, NOW - timedelta(hours=1)) == "on_track"


def test_pages_follow_one_another_through_a_cursor() -> None:
    first = page(limit=3)
    assert ids(first) == ["b", "d", "a"] and first.total == 4
    assert first.next is not None
    cursor = decode_cursor(encode_cursor(first.next))
    second = page(limit=3, after=cursor)
    assert ids(second) == ["c"] and second.next is None


def test_a_bad_cursor_or_filter_is_refused() -> None:
    with pytest.raises(ValueError, match="not a queue cursor"):
        decode_cursor("bm90LWpzb24")
    assert parse_filter({"sla": "late"}, None) == (
        "sla must be one of at_risk, breached, on_track")
    assert parse_filter({"colour": "red"}, None) == "unknown parameters: colour"
    assert parse_filter({"assignee": "me"}, None) == "assignee=me needs an agent's token"
    assert parse_filter({"assignee": "me", "q": " RMA "}, "jp-aiko") == QueueFilter(
        search="RMA", assignee="jp-aiko")


def test_region_figures_first_response_and_first_contact_resolution() -> None:
    views = [
        view("r1", status="closed", opened=utc(-5), first_reply=utc(-4)),
        view("r2", status="closed", opened=utc(-5), first_reply=utc(-2)),
        view("r3", status="refunded", opened=utc(-9)),
        view("o1", opened=utc(-1)),
    ]
    documents = {"r2": {"escalated": True}, "r3": {"reopened": 1}}
    stats = region_stats(views, documents.get)
    assert stats["open_cases"] == 2  # refunded is not closed: still in the queue
    assert stats["first_responses"] == 2
    assert stats["first_response_median_seconds"] == 2 * 3600
    assert stats["resolved"] == 3
    assert stats["first_contact_resolution"] == pytest.approx(1 / 3)
