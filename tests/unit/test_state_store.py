"""The case step's local store: states and the changelog offset move together."""

from __future__ import annotations

from pathlib import Path

from streams.state_store import PartitionStore


def test_states_and_the_changelog_position_are_written_together(tmp_path: Path) -> None:
    store = PartitionStore(tmp_path / "p0")
    assert store.checkpoint == 0 and store.get(b"case-a") is None
    store.write({b"case-a": b"A1", b"tracking:T": b"R1"}, next_offset=7)
    store.write({b"case-a": b"A2", b"tracking:T": None}, next_offset=9)
    assert (store.get(b"case-a"), store.get(b"tracking:T"), store.checkpoint) == (b"A2", None, 9)
    assert list(store.items()) == [(b"case-a", b"A2")]  # the checkpoint is not a state
    store.close()
    reopened = PartitionStore(tmp_path / "p0")
    assert (reopened.get(b"case-a"), reopened.checkpoint) == (b"A2", 9)
    reopened.close()
