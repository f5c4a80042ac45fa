"""Pages of a regional feed (`FeedHub.page`): what a stream's snapshot and the feed list send."""

from __future__ import annotations

import json

from streams.feeds import FeedHub


def view(case_id: str, minute: int, status: str = "requested") -> bytes:
    return json.dumps({"case_id": case_id, "version": 1, "status": status,
                       "updated": {"utc": f"2026-03-14T10:{minute:02d}:00Z"}}).encode()


def test_feed_pages_list_every_view_once_most_recent_first() -> None:
    hub = FeedHub({"DE": "feed.de"})
    for number in range(7):
        # Two views share each minute: the case id breaks the tie.
        hub.apply("feed.de", f"c{number}".encode(), view(f"c{number}", number // 2))
    everything = hub.views("DE")
    seen: list[bytes] = []
    after = None
    for _ in range(4):
        page = hub.page("DE", limit=3, after=after)
        seen += page.views
        after = page.next
        if after is None:
            break
    assert seen == everything and len(seen) == 7
    assert [json.loads(v)["case_id"] for v in everything] == [
        "c6", "c5", "c4", "c3", "c2", "c1", "c0"]
    assert hub.page("DE", limit=7).next is None
    assert hub.page("DE", limit=2, status="closed").views == []
