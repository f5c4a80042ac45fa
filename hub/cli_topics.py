"""`hub topics`: the hub's topics as `streams.provisioning` wants them, against the brokers.

    hub topics plan [--offline]       every topic: partitions, replicas, cleanup, retention, and
                                      what apply would do (exit 1 when apply would refuse)
    hub topics apply [--repartition]  create missing topics, grow partitions, set config keys

Partitions only grow; replicas are not moved. Growing a co-partitioned topic (keyed by case or
reference) moves its keys away from the case step's state: apply does it only with
--repartition, meant for a deployment without data.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from aiokafka.errors import KafkaError

from schemas.errors import HubError
from schemas.settings import load_settings

topics_cli = typer.Typer(
    help="The hub's topics: plan and apply partitions, replication, cleanup and retention.",
    no_args_is_help=True,
)


@topics_cli.command("plan")
def topics_plan(
    offline: Annotated[bool, typer.Option(help="the wanted layout only, without asking the "
                                          "brokers (every topic shown as to create)")] = False,
    repartition: Annotated[bool, typer.Option(help="plan growing co-partitioned topics")] = False,
) -> None:
    """Print every topic of the hub and what `hub topics apply` would change."""
    from streams.provisioning import current_plan, plan_topics, topic_specs

    settings = load_settings()
    try:
        plan = (plan_topics(topic_specs(settings), {}) if offline
                else asyncio.run(current_plan(settings, repartition=repartition)))
    except (HubError, KafkaError, OSError) as exc:
        typer.echo(f"hub topics plan: {settings.bootstrap_servers}: {exc!r}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(plan.describe())
    if plan.all_problems:
        raise typer.Exit(1)


@topics_cli.command("apply")
def topics_apply(
    repartition: Annotated[bool, typer.Option(help="also grow co-partitioned topics (moves "
                                              "keys: only for a deployment without data)")]
    = False,
) -> None:
    """Create, grow and reconfigure the hub's topics; changes nothing when any step would fail."""
    from streams.provisioning import apply_topics

    settings = load_settings()
    try:
        plan = asyncio.run(apply_topics(settings, repartition=repartition))
    except (HubError, KafkaError, OSError) as exc:
        typer.echo(f"hub topics apply: {exc}", err=True)
        raise typer.Exit(1) from exc
    changed = [c for c in plan.changes if c.action != "keep"]
    for change in changed:
        typer.echo(change.describe())
    typer.echo(f"applied: {len(changed)} of {len(plan.changes)} topics changed")
