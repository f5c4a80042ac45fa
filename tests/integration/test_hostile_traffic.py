"""1,000 hostile payloads mixed into normal traffic through a running worker: the worker stays
up, every normal case comes out right, and every raw record has outputs, a dead letter, or was
deliberately ignored by its connector, never none of these."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from hub.sample_traffic import generate
from schemas.raw_records import RawRecord, encode_headers
from streams.dead_letters import dlq_fields
from streams.ingest import ingest_record
from streams.normalize import RawKafkaRecord
from tests.support.connector_fixtures import RECEIVED_AT
from tests.support.fuzz import all_mutants
from tests.support.kafka import read_all, read_until, wait_caught_up
from tests.support.stories import (
    all_done,
    expected_cases,
    indexed,
    latest_cases,
    produce_payloads,
)
from tests.support.workers import HubWorker

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

HOSTILE = 1_000


async def test_hostile_records_never_stop_the_worker_and_each_one_is_accounted_for(
    bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    stories = generate(60, seed=7)
    expected = expected_cases(stories)
    # Bodies the broker takes (over its 1 MB limit a record never reaches the hub).
    candidates = [m for m in all_mutants(seed=11, per_fixture=40) if len(m.body) < 900_000]
    mutants = random.Random(11).sample(candidates, HOSTILE)
    payloads = indexed(stories)
    half = len(payloads) // 2
    with HubWorker(bootstrap=bootstrap, topic_prefix=topic_prefix, state_dir=tmp_path,
                   app_id=f"hub-{topic_prefix}") as worker:
        await produce_payloads(bootstrap, topic_prefix, payloads[:half])
        placed = await _produce_hostile(bootstrap, topic_prefix, mutants)
        await produce_payloads(bootstrap, topic_prefix, payloads[half:])
        cases = await read_until(bootstrap, f"{topic_prefix}cases", all_done(expected),
                                 timeout=300)
        raw_topics = {f"{topic_prefix}raw.{p.source}" for _, p in payloads}
        raw_topics |= {topic for topic, _, _ in placed.values()}
        await wait_caught_up(bootstrap, f"hub-{topic_prefix}-ingest", sorted(raw_topics),
                             timeout=300)
        inbox = await read_all(bootstrap, f"{topic_prefix}case.inbox")
        letters = await read_all(bootstrap, f"{topic_prefix}dlq.normalize")
        assert worker.process is not None and worker.process.poll() is None
    with_outputs = set()
    for record in inbox:
        document = json.loads(record.value)
        raw = document.get("raw")
        if raw:
            with_outputs.add((raw["topic"], raw["partition"], raw["offset"]))
    dead = {(f["topic"], int(f["partition"]), int(f["offset"]))
            for f in (dlq_fields(letter.headers) for letter in letters)}
    ignored = 0
    for mutant in mutants:
        where = topic, partition, offset = placed[id(mutant)]
        # What the pure ingest makes of the same record says where it must have gone.
        offline = ingest_record(RawKafkaRecord(
            source=mutant.fixture.source, topic=topic, partition=partition, offset=offset,
            timestamp_ms=None, key=b"hostile", value=mutant.body,
            headers=tuple(_headers(mutant))), now=datetime.now(UTC))
        if offline.dead_letter is not None:
            assert where in dead and where not in with_outputs, (mutant.kind, where)
        elif offline.records:
            assert where in with_outputs and where not in dead, (mutant.kind, where)
        else:
            ignored += 1
            assert where not in dead and where not in with_outputs, (mutant.kind, where)
    outputs = len([m for m in mutants if placed[id(m)] in with_outputs])
    letters_of_mutants = len([m for m in mutants if placed[id(m)] in dead])
    print(f"{HOSTILE} hostile records: {outputs} with outputs, {letters_of_mutants} dead "
          f"letters, {ignored} ignored by their connector")
    assert outputs + letters_of_mutants + ignored == HOSTILE
    assert len(dead) > HOSTILE // 10  # most mutants are rejected, each with its reason
    assert all(dlq_fields(letter.headers)["reason"] for letter in letters)
    latest = latest_cases([r for r in cases if r.key and r.key.decode() in expected])
    assert latest == expected


def _headers(mutant) -> list[tuple[str, bytes]]:  # type: ignore[no-untyped-def]
    return encode_headers(RawRecord(mutant.fixture.source, mutant.body, RECEIVED_AT, "verified",
                                    mutant.fixture.headers))


async def _produce_hostile(bootstrap: str, prefix: str, mutants) -> dict[int, tuple[str, int, int]]:  # type: ignore[no-untyped-def]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                                linger_ms=5, max_request_size=4 << 20)
    await producer.start()
    try:
        sends = {id(m): await producer.send(f"{prefix}raw.{m.fixture.source}", value=m.body,
                                            key=b"hostile", headers=_headers(m))
                 for m in mutants}
        return {key: (meta.topic, meta.partition, meta.offset)
                for key, meta in zip(sends, [await s for s in sends.values()], strict=True)}
    finally:
        await producer.stop()
