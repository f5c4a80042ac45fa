"""The bounded least-recently-used map behind the case builder's hot cases and the
translation memory."""

from __future__ import annotations

import pytest

from schemas.recent import RecentMap


def test_recent_map_forgets_the_least_recently_used() -> None:
    recent: RecentMap[str, int] = RecentMap(2)
    recent.put("a", 1)
    recent.put("b", 2)
    assert recent.get("a") == 1  # "b" is now the oldest
    recent.put("c", 3)
    assert recent.get("b") is None
    assert (recent.get("a"), recent.get("c"), len(recent)) == (1, 3, 2)
    with pytest.raises(ValueError):
        RecentMap(0)

