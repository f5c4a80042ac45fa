"""Wiring only: builds the faust app of the hub from settings and registers its agents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import faust

from hub.web.access import BUILTIN_VIEWS_OFF
from hub.web.actions import register_action_views
from hub.web.feeds import register_feed_views
from hub.web.health import register_health_view
from hub.web.metrics import register_metrics
from hub.web.openapi import register_openapi_view
from hub.web.queries import register_query_views
from hub.web.queue import register_queue_views
from schemas.settings import Settings
from streams.feeds import register_feeds
from streams.kafka_clients import kafka_client_options
from streams.pipeline import register_pipeline
from streams.read_model import ReadModel, follow
from streams.topics import TopicNames
from translations.glossary import classify_reason


def faust_credentials(options: Mapping[str, Any]) -> Any:
    """faust's `broker_credentials` for the connection options of every other client
    (`streams.kafka_clients.kafka_client_options`): faust's own clients connect the same way.

    None for PLAINTEXT; faust's driver turns the credentials back into the same aiokafka
    options (`faust.transport.drivers.aiokafka.credentials_to_aiokafka_auth`).
    """
    protocol = options["security_protocol"]
    if protocol == "SSL":
        return faust.SSLCredentials(options["ssl_context"])
    if protocol in ("SASL_PLAINTEXT", "SASL_SSL"):
        # An ssl_context is what makes faust's SASL credentials SASL_SSL.
        return faust.SASLCredentials(
            username=options["sasl_plain_username"], password=options["sasl_plain_password"],
            mechanism=options["sasl_mechanism"], ssl_context=options.get("ssl_context"),
        )
    return None


def create_app(settings: Settings) -> Any:
    """The hub's faust app, configured for durability and explicit names."""
    settings.worker_data_dir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.app_id,
        broker=settings.broker_url,
        broker_credentials=faust_credentials(kafka_client_options(settings)),
        store="rocksdb://",
        datadir=str(settings.worker_data_dir),
        autodiscover=False,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        # aiokafka defaults to acks=1: an acknowledged write could still be lost on failover.
        producer_acks=-1,
        # Without linger every record is its own produce request: a quarter of the worker's
        # time went to socket writes. 5 ms batches them at a small latency cost per stage.
        producer_linger=0.005,
        consumer_auto_offset_reset="earliest",
        # A dead worker's partitions move after 10 s, not the default minute.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=3.0,
        web_enabled=True,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_bind=settings.web_host,
        timezone="UTC",
        **BUILTIN_VIEWS_OFF,
    )
    topics = TopicNames(settings.topic_prefix)
    pipeline = register_pipeline(app, settings, topics, classify_reason=classify_reason)

    read_model = ReadModel(
        cases_topic=topics.cases, shipments_topic=topics.shipments, policy_topic=topics.case_policy
    )

    @app.task
    async def follow_read_model() -> None:
        await follow(read_model, settings.bootstrap_servers,
                     client_options=kafka_client_options(settings))

    feeds = register_feeds(app, settings, topics, read_model)
    register_metrics(app, settings, topics, read_model, pipeline, feeds.stage)
    register_feed_views(app, settings, feeds.hub)
    register_query_views(app, read_model)
    register_action_views(app, settings, read_model)
    register_queue_views(app, feeds.hub, read_model)
    register_health_view(app, read_model, pipeline, feeds.stage)
    register_openapi_view(app)
    return app
