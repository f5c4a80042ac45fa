"""`hub kafka`: the embedded brokers, one node (the default) or a local cluster.

    hub kafka up [--nodes 3]     fetch (once), format and start; wait until every node answers
    hub kafka status             each local broker or cluster node: pid, address, readiness, RSS
    hub kafka down               stop whatever runs (single node and cluster)
    hub kafka wipe               stop it and delete its data

A cluster's node n listens on HUB_KAFKA_PORT + 2(n-1) (controller: HUB_KAFKA_CONTROLLER_PORT +
2(n-1)) and keeps its data under `<state dir>/kafka/cluster-<port>/node-<n>`; `up` prints the
HUB_BROKER_URL and HUB_REPLICATION_FACTOR that workers need to use it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hub.local_kafka import LocalKafka, LocalKafkaCluster, cluster_data_dir
from hub.logs import configure_logging
from schemas.errors import HubError
from schemas.settings import Settings, load_settings

kafka_cli = typer.Typer(
    help="The embedded Kafka broker (KRaft): one node, or a local cluster with --nodes.",
    no_args_is_help=True,
)


def _local_brokers(settings: Settings) -> list[LocalKafka | LocalKafkaCluster]:
    """The single node, and the local cluster when one was ever started with these settings."""
    brokers: list[LocalKafka | LocalKafkaCluster] = [LocalKafka.from_settings(settings)]
    cluster_dir = cluster_data_dir(settings)
    if cluster_dir.exists():
        nodes = len(list(cluster_dir.glob("node-*")))
        brokers.append(LocalKafkaCluster.from_settings(settings, nodes))
    return brokers


@kafka_cli.command("up")
def kafka_up(
    nodes: Annotated[int, typer.Option(min=1, max=9, help="1: a single node; 3: a cluster "
                                       "of three broker+controller nodes")] = 1,
) -> None:
    """Fetch (once), format and start the local broker(s); wait until they serve metadata."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        if nodes == 1:
            typer.echo(LocalKafka.from_settings(settings).start().describe())
            return
        cluster = LocalKafkaCluster.from_settings(settings, nodes)
        status = cluster.start()
    except HubError as exc:
        typer.echo(f"hub kafka up: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(status.describe())
    typer.echo(f"workers: HUB_BROKER_URL='{cluster.bootstrap.replace(',', ';')}' "
               f"HUB_REPLICATION_FACTOR={min(3, nodes)}")


@kafka_cli.command("down")
def kafka_down() -> None:
    """Stop the local broker(s) cleanly."""
    stopped = [broker.stop() for broker in _local_brokers(load_settings())]
    typer.echo("kafka stopped" if any(stopped) else "kafka was not running")


@kafka_cli.command("status")
def kafka_status() -> None:
    """Report the local broker(s): pid, address, readiness, memory. Exit 1 when none runs."""
    statuses = [broker.status() for broker in _local_brokers(load_settings())]
    for status in statuses:
        if status.running or len(statuses) == 1:
            typer.echo(status.describe())
    if not any(status.running for status in statuses):
        if len(statuses) > 1:
            typer.echo("kafka: not running (neither the single node nor the cluster)")
        raise typer.Exit(1)


@kafka_cli.command("wipe")
def kafka_wipe() -> None:
    """Stop the local broker(s) and delete their data."""
    for broker in _local_brokers(load_settings()):
        broker.wipe()
    typer.echo("kafka stopped and its data deleted")
