"""`hub dlq list|show|replay` against the real broker: letters shown in full and in the operator's
zone, grouped, replayed per source without ever passing over another source's letters, and a
dry run that changes nothing.

The dead letters are written as the stages write them (`streams.dead_letters.DeadLetter`) to a
`dlq.normalize` of one partition, the sources interleaved: a shared replay position would pass
over one source's letters while replaying the other's.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streams.dead_letters import DeadLetter
from tests.support.kafka import produce, read_all

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

HUB = str(Path(sys.executable).with_name("hub"))
FAILED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
BINARY = bytes(range(250, 256)) + b"\x00\x01"


Letter = tuple[bytes, bytes, list[tuple[str, bytes]]]


def letter(prefix: str, source: str, value: bytes, offset: int,
           reason: str = "not JSON: Expecting value") -> Letter:
    dead = DeadLetter(stage="normalize", source=source, reason=reason,
                      error="SkippableRecordError",
                      topic=f"{prefix}raw.{source}", partition=0, offset=offset,
                      failed_at=FAILED_AT, key=f"{source}-{offset}".encode(), value=value,
                      original_headers=(("hub.source", source.encode()),))
    return dead.key or b"", dead.value, dead.headers()


async def write_letters(bootstrap: str, prefix: str, letters: list[Letter]) -> None:
    for key, value, headers in letters:  # one at a time: each with its own headers
        await produce(bootstrap, f"{prefix}dlq.normalize", [(key, value)], headers=headers)


async def create_topics(bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(f"{prefix}{name}", 1, 1) for name in (
            "dlq.normalize", "raw.shopify", "raw.stripe")])
    finally:
        await admin.close()


def hub(bootstrap: str, prefix: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUB_BROKER_URL": f"kafka://{bootstrap}", "HUB_TOPIC_PREFIX": prefix,
           "HUB_APP_ID": f"hub-{prefix}", "TZ": "UTC"}
    env.pop("HUB_OPERATOR_TZ", None)
    done = subprocess.run([HUB, "dlq", *args], capture_output=True, text=True, env=env,  # noqa: S603
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done


def json_lines(done: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in done.stdout.splitlines()]


async def values_on(bootstrap: str, topic: str) -> list[bytes]:
    return [record.value for record in await read_all(bootstrap, topic)]


async def test_replaying_one_source_never_skips_another_sources_letters(
    bootstrap: str, topic_prefix: str
) -> None:
    p = topic_prefix
    await create_topics(bootstrap, p)
    await write_letters(bootstrap, p, [
        letter(p, "shopify", b'{"id": "s1"', 10), letter(p, "stripe", b'{"id": "t1"', 20),
        letter(p, "shopify", b'{"id": "s2"', 11), letter(p, "stripe", b'{"id": "t2"', 21),
    ])

    dry = await asyncio.to_thread(hub, bootstrap, p, "replay", "--dry-run", "--json")
    *listed, summary = json_lines(dry)
    assert [entry["id"] for entry in listed] == ["0:0", "0:1", "0:2", "0:3"]
    assert summary["replayed"] == 4 and summary["dry_run"] is True
    assert await values_on(bootstrap, f"{p}raw.shopify") == []  # a dry run writes nothing

    shopify = await asyncio.to_thread(hub, bootstrap, p, "replay", "--source", "shopify",
                                      "--json")
    assert json_lines(shopify)[-1]["by_source"] == {"shopify": 2}
    assert await values_on(bootstrap, f"{p}raw.shopify") == [b'{"id": "s1"', b'{"id": "s2"']
    assert await values_on(bootstrap, f"{p}raw.stripe") == []

    # Stripe's letters sit between Shopify's: replaying Shopify did not pass over them.
    stripe = await asyncio.to_thread(hub, bootstrap, p, "replay", "--source", "stripe", "--json")
    assert json_lines(stripe)[-1]["by_source"] == {"stripe": 2}
    replayed = await read_all(bootstrap, f"{p}raw.stripe")
    assert [r.value for r in replayed] == [b'{"id": "t1"', b'{"id": "t2"']
    assert [(r.key, dict(r.headers)) for r in replayed][0] == (
        b"stripe-20", {"hub.source": b"stripe"})  # the original headers, dlq.* stripped

    # Everything is replayed now; a new letter is the only one the next full replay takes.
    assert json_lines(await asyncio.to_thread(hub, bootstrap, p, "replay", "--json"))[-1][
        "replayed"] == 0
    await write_letters(bootstrap, p, [letter(p, "shopify", b'{"id": "s3"', 12)])
    again = await asyncio.to_thread(hub, bootstrap, p, "replay", "--json")
    assert json_lines(again)[-1]["by_source"] == {"shopify": 1}
    assert (await values_on(bootstrap, f"{p}raw.shopify"))[-1] == b'{"id": "s3"'


async def test_letters_are_listed_grouped_and_shown_in_the_operators_zone(
    bootstrap: str, topic_prefix: str
) -> None:
    p = topic_prefix
    await create_topics(bootstrap, p)
    await write_letters(bootstrap, p, [
        letter(p, "shopify", b'{"id": "s1"', 10),
        letter(p, "stripe", BINARY, 20, reason="not UTF-8"),
        letter(p, "shopify", b'{"id": "s2"', 11),
    ])

    listed = json_lines(await asyncio.to_thread(hub, bootstrap, p, "list", "--json"))
    assert [(entry["id"], entry["source"]) for entry in listed] == [
        ("0:0", "shopify"), ("0:1", "stripe"), ("0:2", "shopify")]
    assert listed[0]["failed_at_utc"] == "2026-03-02T09:30:00Z"
    assert listed[0]["failed_at"] == "2026-03-02T09:30:00+00:00"  # TZ=UTC: the local zone
    assert listed[1]["original"] == {"topic": f"{p}raw.stripe", "partition": 0, "offset": 20}

    by_reason = json_lines(await asyncio.to_thread(
        hub, bootstrap, p, "list", "--group-by", "reason", "--json"))
    assert [(group["reason"], group["count"], group["sources"]) for group in by_reason] == [
        ("not JSON: Expecting value", 2, ["shopify"]), ("not UTF-8", 1, ["stripe"])]
    by_source = await asyncio.to_thread(hub, bootstrap, p, "list", "--group-by", "source")
    assert by_source.stdout.splitlines()[0].split()[:2] == ["2", "shopify"]

    tokyo = await asyncio.to_thread(hub, bootstrap, p, "show", "0:1", "--tz", "Asia/Tokyo")
    text = tokyo.stdout
    assert "failed at  2026-03-02 18:30:00 JST" in text
    assert f"original   {p}raw.stripe[0]@20" in text and "source     stripe" in text
    assert "8 bytes, hex:" in text and BINARY.hex(" ") in text
    assert "header     hub.source: stripe" in text and "header     dlq." not in text

    shown = json_lines(await asyncio.to_thread(hub, bootstrap, p, "show", "0:0", "--json",
                                               "--tz", "America/New_York"))[0]
    assert shown["failed_at"] == "2026-03-02T04:30:00-05:00"
    assert shown["value_text"] == '{"id": "s1"' and shown["key"] == "shopify-10"
    assert shown["reason"] == "not JSON: Expecting value"

    missing = subprocess.run([HUB, "dlq", "show", "0:99"], capture_output=True, text=True,
                             env={**os.environ, "HUB_BROKER_URL": f"kafka://{bootstrap}",
                                  "HUB_TOPIC_PREFIX": p}, timeout=120, check=False)
    assert missing.returncode == 1 and "no dead letter 0:99" in missing.stderr
