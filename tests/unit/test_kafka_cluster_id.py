"""The embedded broker's cluster id is a valid argument for `kafka-storage format -t`."""

from __future__ import annotations

import uuid

import pytest

from hub import local_kafka


def test_a_cluster_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # 0xF8 encodes to "-" as the first urlsafe base64 character: the first draw must be refused.
    draws = iter([uuid.UUID(bytes=b"\xf8" + b"\x00" * 15), uuid.UUID(bytes=b"\x10" * 16)])
    monkeypatch.setattr(local_kafka.uuid, "uuid4", lambda: next(draws))
    cluster_id = local_kafka._kafka_uuid()
    assert cluster_id == "EBAQEBAQEBAQEBAQEBAQEA"
    assert len(cluster_id) == 22 and not cluster_id.startswith("-")
