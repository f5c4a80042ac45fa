"""The FeedHub's own rules: versions never go back, translated views teach the translation
memory, a tombstone removes a case, and a slow live subscriber is dropped alone."""

from __future__ import annotations

import json

from streams.feeds import FeedHub
from translations.machine import AUTO, MemoryKey


def view_bytes(version: int, *, state: str = "translated", status: str = "requested") -> bytes:
    return json.dumps({
        "case_id": "c1", "version": version, "status": status, "locale": "de_DE",
        "updated": {"utc": f"2026-03-14T1{version}:00:00Z"},
        "reason": {"original": "The box", "language": "en", "translated": "Die Schachtel",
                   "state": state},
    }).encode()


async def test_feed_hub_keeps_the_newest_version_and_learns_translations() -> None:
    hub = FeedHub({"DE": "feed.de"})
    hub.apply("feed.de", b"c1", view_bytes(3, state="pending"))
    hub.apply("feed.de", b"c1", view_bytes(2))
    assert hub.latest("DE", "c1") is not None and hub.latest("DE", "c1").version == 3  # type: ignore[union-attr]
    assert [region for region, _, _ in hub.pending()] == ["DE"]
    hub.apply("feed.de", b"c1", view_bytes(3))
    assert list(hub.pending()) == []
    assert hub.memory.get(MemoryKey.of("The box", "en", "de")) == "Die Schachtel"
    assert MemoryKey.of("The box", AUTO, "de") != MemoryKey.of("The box", "en", "de")
    assert hub.views("DE", status="closed") == [] and len(hub.views("DE")) == 1
    hub.apply("feed.de", b"c1", None)
    assert hub.views("DE") == []


async def test_a_slow_subscriber_is_dropped_and_the_others_keep_receiving() -> None:
    hub = FeedHub({"DE": "feed.de"}, queue_size=2)
    with hub.subscribe("DE") as slow, hub.subscribe("DE") as fast:
        for version in (1, 2):
            hub.apply("feed.de", b"c1", view_bytes(version))
            assert await fast.get(1.0) == view_bytes(version)
        hub.apply("feed.de", b"c1", view_bytes(3))
        assert slow.dropped and await slow.get(1.0) is None
        assert await fast.get(1.0) == view_bytes(3)
        assert hub.subscriber_count("DE") == 1
    assert hub.subscriber_count("DE") == 0
