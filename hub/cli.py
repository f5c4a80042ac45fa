"""The `hub` command line: run workers, manage the local broker, check payloads offline."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from hub.cli_dlq import dlq_cli
from hub.cli_feed import feed_cli
from hub.cli_kafka import kafka_cli
from hub.cli_policy import policy_cli
from hub.cli_topics import topics_cli
from hub.logs import configure_logging, logging_config
from schemas.errors import ConfigurationError, HubError, RecordError
from schemas.settings import load_settings

cli = typer.Typer(
    help="aftersales-hub: after-sales integration hub on Apache Kafka.",
    no_args_is_help=True,
    add_completion=False,
)
schemas_cli = typer.Typer(help="Data contracts: versioned JSON Schemas.", no_args_is_help=True)
cli.add_typer(kafka_cli, name="kafka")
cli.add_typer(schemas_cli, name="schemas")
cli.add_typer(dlq_cli, name="dlq")
cli.add_typer(feed_cli, name="feed")
cli.add_typer(policy_cli, name="policy")
cli.add_typer(topics_cli, name="topics")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


@cli.command()
def worker(
    web_port: Annotated[int | None, typer.Option(help="HTTP port of this worker")] = None,
) -> None:
    """Run a stream worker of the hub (add workers to scale out)."""
    from faust.worker import Worker

    from hub.app import create_app
    from streams.provisioning import ensure_topics

    overrides = {"web_port": web_port} if web_port is not None else {}
    settings = load_settings(**overrides)
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    # Before any stage starts: the case step restores from `case.state` and writes to every
    # output topic inside transactions, which do not create topics.
    asyncio.run(ensure_topics(settings))
    # faust sets up logging itself: the same configuration, and no banner in a JSON stream.
    Worker(app, loglevel=settings.log_level, redirect_stdouts=False,
           logging_config=logging_config(settings.log_level, settings.log_format),
           quiet=settings.log_format == "json").execute_from_commandline()


@cli.command()
def run(
    stories: Annotated[int, typer.Option(help="sample cases per round")] = 200,
    batch: Annotated[int, typer.Option(help="cases produced per batch")] = 20,
    interval: Annotated[float, typer.Option(help="seconds between batches")] = 5.0,
    duration: Annotated[float | None, typer.Option(help="stop after this many seconds")] = None,
    keep_broker: Annotated[bool, typer.Option(help="leave the broker running on exit")] = False,
) -> None:
    """Run the hub on the embedded broker with one worker and sample traffic."""
    from hub.demo import run_demo

    settings = load_settings()
    configure_logging("warning")
    try:
        produced = run_demo(
            settings,
            stories=stories,
            batch=batch,
            interval=interval,
            duration=duration,
            keep_broker=keep_broker,
            echo=typer.echo,
        )
    except (HubError, RuntimeError) as exc:
        raise _fail(f"hub run: {exc}") from exc
    typer.echo(f"done: {produced} sample cases produced")


@cli.command()
def tail(
    topic: Annotated[str, typer.Argument(help="topic name without the deployment prefix")],
    limit: Annotated[int, typer.Option(help="records to show")] = 10,
) -> None:
    """Print the newest records of a hub topic (key and value)."""
    from hub.dead_letter_tool import newest_records

    settings = load_settings()
    for record in asyncio.run(newest_records(settings, topic, limit=limit)):
        typer.echo(f"{record.partition}:{record.offset} {record.key!r} {record.value[:400]!r}")


@cli.command()
def ingest(
    port: Annotated[int, typer.Option(help="HTTP port of the webhook intake")] = 8080,
    host: Annotated[str | None, typer.Option(help="address to bind (default HUB_WEB_HOST)")] = None,
) -> None:
    """Serve provider webhooks: verify signatures, write raw bytes to raw.<source>."""
    from hub.webhooks.app import run_intake

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        asyncio.run(run_intake(settings, port=port, host=host))
    except KeyboardInterrupt:
        pass


@cli.command()
def erase(
    order: Annotated[list[str] | None, typer.Option(help="order id (repeatable)")] = None,
    case: Annotated[list[str] | None, typer.Option(help="case id (repeatable)")] = None,
    wait: Annotated[float, typer.Option(help="seconds to wait for a worker to apply it")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per case")] = False,
) -> None:
    """Erase an order's case from every compacted topic and the case step's state.

    The hub holds no buyer identifier, so cases are named by order id or case id. Exit 0 when
    every known case was erased within --wait; 1 when one is still queued (a worker applies it
    when it runs).
    """
    import json

    from hub.erasure import ErasureRequest
    from hub.erasure import erase as erase_cases

    requests = [ErasureRequest.for_order(o) for o in order or []] + [
        ErasureRequest(c) for c in case or []]
    if not requests:
        raise _fail("hub erase: give --order ORDER_ID or --case CASE_ID", 2)
    settings = load_settings()
    try:
        reports = asyncio.run(erase_cases(settings, requests, wait=wait, now=datetime.now(UTC)))
    except HubError as exc:
        raise _fail(f"hub erase: {exc}") from exc
    for report in reports:
        if as_json:
            typer.echo(json.dumps(report.as_json()))
        else:
            typer.echo("\n".join(report.describe()))
    if any(report.known and not report.confirmed for report in reports):
        raise typer.Exit(1)


@cli.command()
def normalize(
    payload: Annotated[str | None, typer.Argument(help="payload file, or - for stdin")] = None,
    source: Annotated[str | None, typer.Option(help="source name (see --list)")] = None,
    header: Annotated[
        list[str] | None, typer.Option(help="provider HTTP header NAME:VALUE (repeatable)")
    ] = None,
    list_sources: Annotated[bool, typer.Option("--list", help="list the sources")] = False,
) -> None:
    """Run one connector on one payload, offline; print canonical events as JSON lines.

    Exit 0 on success (when no event comes out, stderr says why: the kind of payload the
    connector ignores and its reason); 2 with a one-line reason on stderr when the payload is
    rejected (unreadable, or not this source's payload at all).
    """
    from connectors.boundary import Ignored
    from connectors.registry import CONNECTORS, connector_for
    from schemas.events import CANONICAL_EVENT

    if list_sources:
        for connector in CONNECTORS:
            typer.echo(
                f"{connector.source:<13} {connector.kind:<12} {connector.raw_topic:<17} "
                f"{connector.description}"
            )
        return
    if source is None or payload is None:
        raise _fail("hub normalize: give --source NAME and a payload file (or -), or --list", 2)
    try:
        connector = connector_for(source)
    except ConfigurationError as exc:
        raise _fail(f"hub normalize: {exc}", 2) from exc
    body = sys.stdin.buffer.read() if payload == "-" else Path(payload).read_bytes()
    headers = dict(_split_header(item) for item in header or [])
    try:
        events = connector.parse(body, received_at=datetime.now(UTC), headers=headers)
    except RecordError as exc:
        raise _fail(f"rejected: {exc}", 2) from exc
    if isinstance(events, Ignored):
        typer.echo(f"no events: ignored {events.kind!r}: {events.reason}", err=True)
    elif not events:
        typer.echo("no events: the payload reports no fact", err=True)
    for event in events:
        typer.echo(CANONICAL_EVENT.dump_json(event).decode())


def _split_header(item: str) -> tuple[str, str]:
    name, sep, value = item.partition(":")
    if not sep:
        raise _fail(f"hub normalize: header {item!r} is not NAME:VALUE", 2)
    return name.strip().lower(), value.strip()


@schemas_cli.command("export")
def schemas_export(
    directory: Annotated[
        Path | None, typer.Argument(help="where the JSON Schemas are (default: schemas/json)")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="write nothing; exit 1 when a file is out of date")
    ] = False,
) -> None:
    """Write the versioned JSON Schema of every data contract to DIRECTORY."""
    from schemas.export import (
        DEFAULT_DIRECTORY,
        IncompatibleSchemaError,
        check_exported,
        export_json_schemas,
    )

    target = directory or DEFAULT_DIRECTORY
    if check:
        problems = check_exported(target)
        for problem in problems:
            typer.echo(problem, err=True)
        if problems:
            raise typer.Exit(1)
        typer.echo(f"{target}: every contract matches its model")
        return
    try:
        written = export_json_schemas(target)
    except IncompatibleSchemaError as exc:
        raise _fail(f"hub schemas export: incompatible within a published version:\n{exc}") from exc
    for path in written:
        typer.echo(str(path))


def main() -> None:
    try:
        cli()
    except ConfigurationError as exc:
        typer.echo(f"hub: {exc}", err=True)
        raise SystemExit(2) from exc


__all__ = ["main", "cli"]
