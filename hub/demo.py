"""`hub run`: the hub on the embedded broker, one worker, and a trickle of sample traffic.

Starts (or reuses) the local single-node Kafka, creates the hub's topics, starts one `hub worker`
process with a demo team token for every region and demo agent tokens for two agents of every
region (unless tokens are configured), produces
every region's cases in every state timed from now (`hub.demo_traffic`) and realistic provider
payloads (`hub.sample_traffic`) in batches, and says where to look: a console link per region
that opens it with its token, and one per agent that opens the console as that agent (who may
act on the region's cases). Ctrl-C stops the worker and the broker it started.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from aiokafka import AIOKafkaProducer

from hub.demo_traffic import DEMO_AGENTS, demo_actions, demo_stories
from hub.local_kafka import LocalKafka
from hub.sample_traffic import CaseStory, generate
from schemas.actions import ActionRecord
from schemas.raw_records import RawRecord, encode_headers
from schemas.settings import Settings
from streams.kafka_clients import kafka_client_options
from streams.provisioning import ensure_topics
from streams.topics import TopicNames
from translations.regions import load_regions


def run_demo(
    settings: Settings,
    *,
    stories: int,
    batch: int,
    interval: float,
    duration: float | None,
    keep_broker: bool,
    echo: object = print,
) -> int:
    """Run until Ctrl-C (or `duration` seconds); returns the number of cases produced."""
    say = echo if callable(echo) else print
    broker = LocalKafka.from_settings(settings)
    was_running = broker.status().running
    started = time.monotonic()
    status = broker.start()
    say(f"broker   {status.describe()} (in {time.monotonic() - started:.1f} s)")
    # Every data endpoint needs a credential: a demo operator token unless one is configured.
    token = (settings.operator_tokens[0].get_secret_value() if settings.operator_tokens
             else secrets.token_urlsafe(18))
    team_tokens = demo_team_tokens(settings)
    agents = demo_agent_tokens(settings)
    env = {**os.environ, "HUB_BROKER_URL": f"kafka://{broker.bootstrap}",
           "HUB_OPERATOR_TOKENS": json.dumps([token]),
           "HUB_AGENT_TOKENS": json.dumps(agents, ensure_ascii=False),
           **{f"HUB_FEED_TOKENS__{code}": json.dumps([team]) for code, team in team_tokens.items()}}
    settings = settings.model_copy(update={"broker_url": f"kafka://{broker.bootstrap}"})
    asyncio.run(ensure_topics(settings))
    log_path = settings.state_dir / "logs" / f"worker-{settings.web_port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    hub = Path(sys.executable).with_name("hub")
    with log_path.open("ab") as log:
        worker = subprocess.Popen(  # noqa: S603 - our own console script
            [str(hub), "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    produced = 0
    try:
        _wait_healthy(settings.web_port, worker, log_path)
        base = f"http://127.0.0.1:{settings.web_port}"
        say(f"worker   pid {worker.pid}, log {log_path}")
        say(f"query    curl -H 'Authorization: Bearer {token}' "
            f"'{base}/cases?order_id=5900000000000'   |  curl {base}/health")
        for line in console_links(base, team_tokens):
            say(line)
        for line in agent_links(base, agents):
            say(line)
        say("topics   hub tail case.changes   |   hub tail cases   |   hub dlq list")
        say("Ctrl-C stops the worker" + ("" if keep_broker or was_running else " and the broker"))
        # First every region's cases in every state, timed from now; then the fixed-date sample
        # stories (`stories` of them per round) as background volume, reseeded every round.
        started_at = datetime.now(UTC)
        all_stories = demo_stories(started_at) + generate(stories)
        actions = demo_actions(started_at)
        deadline = None if duration is None else time.monotonic() + duration
        offset, rounds = 0, 0
        while deadline is None or time.monotonic() < deadline:
            chunk = all_stories[offset : offset + batch]
            if not chunk:
                offset, rounds = 0, rounds + 1
                started_at = datetime.now(UTC)
                all_stories = (demo_stories(started_at, run=rounds)
                               + generate(stories, seed=int(time.time())))
                actions = demo_actions(started_at, run=rounds)
                continue
            asyncio.run(_produce(settings, chunk))
            asyncio.run(_produce_actions(settings, [
                record for record in actions if record.order_id in {s.order_id for s in chunk}]))
            produced += len(chunk)
            offset += len(chunk)
            say(
                f"traffic  {produced} cases produced "
                f"({sum(len(s.payloads) for s in chunk)} payloads "
                f"in the last batch); cases served: {_count_cases(base, chunk, token)}"
            )
            time.sleep(
                interval
                if deadline is None
                else min(interval, max(0.0, deadline - time.monotonic()))
            )
    except KeyboardInterrupt:
        say("stopping")
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        if not keep_broker and not was_running:
            broker.stop()
    return produced


def demo_team_tokens(settings: Settings) -> dict[str, str]:
    """A team token per region: the first configured one, else a fresh random demo token."""
    return {
        code: (settings.feed_tokens[code][0].get_secret_value() if settings.feed_tokens.get(code)
               else secrets.token_urlsafe(18))
        for code in load_regions().codes
    }


def demo_agent_tokens(settings: Settings) -> list[dict[str, str]]:
    """The agents' tokens (`HUB_AGENT_TOKENS`): the configured ones, else fresh random demo
    tokens for the `DEMO_AGENTS` of every region."""
    if settings.agent_tokens:
        return [{**agent.model_dump(exclude={"token"}), "token": agent.token.get_secret_value()}
                for agent in settings.agent_tokens]
    return [{"agent_id": agent_id, "name": name, "region": code,
             "token": secrets.token_urlsafe(18)}
            for code in load_regions().codes for agent_id, name in DEMO_AGENTS.get(code, ())]


def agent_links(base: str, agents: list[dict[str, str]]) -> list[str]:
    """One console line per agent: a link that opens the agent's region as that agent."""
    return [f"agent    {agent['region']}  {agent['name']} ({agent['agent_id']})  "
            f"{base}/console?region={agent['region']}#token={quote(agent['token'], safe='')}"
            for agent in agents]


def console_links(base: str, team_tokens: dict[str, str]) -> list[str]:
    """One console line per region: a link that opens the region with its team token.

    The token rides in the URL fragment (`#token=`), which browsers never send to the server,
    so it stays out of access logs; the console reads it and removes it from the address bar.
    """
    return [f"console  {code}  {base}/console?region={code}#token={quote(token, safe='')}"
            for code, token in team_tokens.items()]


def _wait_healthy(port: int, worker: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited with {worker.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as answer:  # noqa: S310
                if json.loads(answer.read()).get("ready"):
                    return
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the worker was not ready within 120 s; see {log_path}")


async def _produce(settings: Settings, stories: list[CaseStory]) -> None:
    names = TopicNames(settings.topic_prefix)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        **kafka_client_options(settings),
    )
    await producer.start()
    try:
        sends = []
        for story in stories:
            for payload in story.payloads:
                record = RawRecord(
                    payload.source, payload.body, datetime.now(UTC), "verified", payload.headers
                )
                sends.append(
                    await producer.send(
                        names.name(f"raw.{payload.source}"),
                        value=payload.body,
                        key=payload.key,
                        headers=encode_headers(record),
                    )
                )
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def _produce_actions(settings: Settings, records: list[ActionRecord]) -> None:
    """The demo agents' actions, on `case.actions` as the console's endpoint writes them."""
    if not records:
        return
    names = TopicNames(settings.topic_prefix)
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all",
                                enable_idempotence=True, **kafka_client_options(settings))
    await producer.start()
    try:
        await asyncio.gather(*[
            await producer.send(names.case_actions, key=record.case_id.encode(),
                                value=record.model_dump_json().encode())
            for record in records])
    finally:
        await producer.stop()


def _count_cases(base: str, stories: list[CaseStory], token: str) -> str:
    found = 0
    for story in stories:
        request = urllib.request.Request(  # noqa: S310 - loopback URL we built
            f"{base}/cases?order_id={story.order_id}",
            headers={"Authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=2) as answer:  # noqa: S310
                found += bool(json.loads(answer.read()))
        except (urllib.error.URLError, OSError, ValueError):
            pass
    return f"{found}/{len(stories)} of the last batch so far"
