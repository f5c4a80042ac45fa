"""What the brokers hold: the hub's existing topics (partitions, replicas, in-sync replicas,
managed config) and the two changes `hub topics apply` makes beyond creating topics.

aiokafka's admin client lists, creates and grows topics, but its `alter_configs` is the old
AlterConfigs call, which replaces a topic's whole config (every key not named falls back to the
broker default). `incremental_alter_configs` sends IncrementalAlterConfigs (API key 44, v0,
Kafka 2.3+) instead: only the named keys change.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import for_code
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import Array, Boolean, Int8, Int16, Int32, Schema, String

_TOPIC = 2  # ConfigResource type of a topic in the Kafka protocol
_SET = 0  # IncrementalAlterConfigs operation: set the value


@dataclass(frozen=True, slots=True)
class ExistingTopic:
    """A topic as the brokers describe it."""

    name: str
    partitions: int
    replication: int
    config: Mapping[str, str]
    isr: Mapping[int, tuple[int, ...]]
    leaders: Mapping[int, int]


async def describe_existing(
    admin: AIOKafkaAdminClient, names: Collection[str], config_keys: Collection[str]
) -> dict[str, ExistingTopic]:
    """The topics among `names` that exist, with the values of `config_keys`.

    Reads the metadata of every topic rather than of the named ones: a metadata request that
    names a missing topic creates it on a broker with `auto.create.topics.enable`.
    """
    metadata = await admin.describe_topics()
    found = {t["topic"]: t for t in metadata if t["topic"] in set(names) and not t["error_code"]}
    if not found:
        return {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name, configs=dict.fromkeys(config_keys))
                 for name in found]
    configs: dict[str, dict[str, str]] = {}
    for response in await admin.describe_configs(resources):
        for resource in response.to_object()["resources"]:
            if resource["error_code"]:
                raise for_code(resource["error_code"])(
                    f"describing {resource['resource_name']}: {resource['error_message']}")
            configs[resource["resource_name"]] = {
                entry["config_names"]: entry["config_value"]
                for entry in resource["config_entries"]
            }
    existing = {}
    for name, topic in found.items():
        partitions = topic["partitions"]
        existing[name] = ExistingTopic(
            name=name,
            partitions=len(partitions),
            replication=min((len(p["replicas"]) for p in partitions), default=0),
            config=configs.get(name, {}),
            isr={p["partition"]: tuple(p["isr"]) for p in partitions},
            leaders={p["partition"]: p["leader"] for p in partitions},
        )
    return existing


async def broker_ids(admin: AIOKafkaAdminClient) -> list[int]:
    """The node ids of the brokers in the cluster's metadata."""
    return sorted(int(b["node_id"]) for b in (await admin.describe_cluster())["brokers"])


class IncrementalAlterConfigsResponse_v0(Response):  # type: ignore[misc]  # noqa: N801 - untyped base, aiokafka naming
    API_KEY = 44
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("responses", Array(
            ("error_code", Int16),
            ("error_message", String("utf-8")),
            ("resource_type", Int8),
            ("resource_name", String("utf-8")),
        )),
    )


class IncrementalAlterConfigsRequest_v0(RequestStruct):  # type: ignore[misc]  # noqa: N801 - untyped base
    API_KEY = 44
    API_VERSION = 0
    RESPONSE_TYPE = IncrementalAlterConfigsResponse_v0
    SCHEMA = Schema(
        ("resources", Array(
            ("resource_type", Int8),
            ("resource_name", String("utf-8")),
            ("configs", Array(
                ("name", String("utf-8")),
                ("config_operation", Int8),
                ("value", String("utf-8")),
            )),
        )),
        ("validate_only", Boolean),
    )


class IncrementalAlterConfigsRequest(Request[IncrementalAlterConfigsRequest_v0]):  # type: ignore[misc]  # untyped base
    API_KEY = 44

    def __init__(self, resources: list[Any], validate_only: bool = False) -> None:
        self._resources = resources
        self._validate_only = validate_only

    def build(
        self, request_struct_class: type[IncrementalAlterConfigsRequest_v0]
    ) -> IncrementalAlterConfigsRequest_v0:
        return request_struct_class(self._resources, self._validate_only)


async def incremental_alter_configs(
    admin: AIOKafkaAdminClient, changes: Mapping[str, Mapping[str, str]]
) -> None:
    """Set the given config keys of each topic, leaving every other key as it is.

    Raises:
        KafkaError: the brokers refused a change (the first refusal, with its message).
    """
    if not changes:
        return
    request = IncrementalAlterConfigsRequest([
        (_TOPIC, topic, [(key, _SET, value) for key, value in sorted(config.items())])
        for topic, config in sorted(changes.items())
    ])
    response = await admin._send_request(request)  # noqa: SLF001 - no public call sends it
    for result in response.to_object()["responses"]:
        if result["error_code"]:
            raise for_code(result["error_code"])(
                f"altering {result['resource_name']}: {result['error_message']}")
