"""The hub's one settings object: the only place the environment is read.

Every setting has a `HUB_` environment variable (nested ones use `__`, for example
`HUB_WEBHOOK_SECRETS__SHOPIFY='["k1","k2"]'`). Secrets are `SecretStr`, masked when logged.
Invalid settings fail start-up, listing every one that is wrong.
"""

from __future__ import annotations

import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.errors import ConfigurationError
from schemas.money import DEFAULT_MONEY_CEILING, MAX_MONEY_CEILING, configure_money_ceiling

DEFAULT_KAFKA_VERSION = "4.1.1"


def _xdg(variable: str, fallback: str) -> Path:
    return Path(os.environ.get(variable) or Path.home() / fallback) / "aftersales-hub"


class AgentToken(BaseModel):
    """A support agent's token: who acts with it (id, display name) and for which region."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")
    name: str = Field(min_length=1, max_length=200)
    region: str = Field(min_length=2, max_length=16)
    token: SecretStr


class Settings(BaseSettings):
    """Settings of a hub process (worker, intake, CLI)."""

    model_config = SettingsConfigDict(
        env_prefix="HUB_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    app_id: str = Field("aftersales-hub", description="faust app id: renames internal topics")
    broker_url: str = Field("kafka://127.0.0.1:9092", description="faust broker URL(s)")
    topic_prefix: str = Field("", description="prefix of every hub topic (tenancy, tests)")
    partitions: int = Field(4, ge=1, description="partitions of every co-partitioned topic")
    replication_factor: int = Field(1, ge=1)
    state_dir: Path = Field(default_factory=lambda: _xdg("XDG_STATE_HOME", ".local/state"))
    cache_dir: Path = Field(default_factory=lambda: _xdg("XDG_CACHE_HOME", ".cache"))
    web_host: str = "127.0.0.1"
    web_port: int = Field(6066, ge=0, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    operator_tz: str | None = Field(
        None, description="IANA time zone `hub dlq` shows times in (default: TZ, else the "
        "machine's zone)"
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="json: one JSON object per line (time, level, logger, message, "
        "and topic, partition, offset, case_id, event_id when known)"
    )

    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="how every Kafka client of the hub talks to the brokers"
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "PLAIN", description="SASL mechanism (SASL_PLAINTEXT / SASL_SSL only)"
    )
    kafka_sasl_username: str | None = Field(None, description="SASL user of this process")
    kafka_sasl_password: SecretStr | None = Field(None, description="SASL password")
    kafka_ssl_cafile: Path | None = Field(
        None, description="CA bundle the brokers' certificates are checked against "
        "(default: the system's trust store)"
    )
    kafka_ssl_certfile: Path | None = Field(
        None, description="client certificate (PEM) for mutual TLS"
    )
    kafka_ssl_keyfile: Path | None = Field(None, description="its private key (PEM)")
    kafka_ssl_key_password: SecretStr | None = Field(
        None, description="password of an encrypted private key"
    )

    kafka_version: str = DEFAULT_KAFKA_VERSION
    kafka_port: int = Field(9092, ge=1, le=65535, description="local broker's client port")
    kafka_controller_port: int = Field(9093, ge=1, le=65535)
    kafka_heap: str = "512m"

    parked_event_ttl_seconds: float = Field(
        86_400.0, gt=0, description="how long an uncorrelated event waits for its link"
    )

    batch_max_records: int = Field(
        500, ge=1, description="records the ingest stage and the case step take per batch"
    )
    transaction_timeout_seconds: float = Field(
        15.0, gt=1, description="how long a dead worker's open case-step transaction holds "
        "back its partitions before the broker aborts it"
    )

    parked_check_interval_seconds: float = Field(
        10.0, gt=0, description="how often parked events are checked for expiry"
    )

    # Retention, explicit per topic (streams.provisioning): nothing is kept for the broker's
    # default by accident, and no compacted topic keeps personal data forever.
    retention_raw_days: int = Field(
        14, ge=1, description="raw.<source>: provider bytes, kept to re-drive a fixed connector"
    )
    retention_case_inbox_days: int = Field(
        7, ge=1, description="case.inbox: must exceed the longest the case step may be down"
    )
    retention_case_changes_days: int = Field(
        30, ge=1, description="case.changes: audit trail; must exceed the feeds stage's and "
        "the service metrics' longest outage"
    )
    retention_dead_letter_days: int = Field(
        30, ge=1, description="dlq.<stage>: time to find, fix and replay a dead letter"
    )
    retention_case_days: int = Field(
        730, ge=1, description="case.state, cases, case.policy, shipments, feed.<region> "
        "(compact,delete): a case with no change for this long is forgotten; must outlive "
        "the quietest open case (chargebacks come up to 540 days after a payment)"
    )
    retention_tombstone_days: int = Field(
        7, ge=1, description="delete.retention.ms of the compacted topics: how long an "
        "erasure's tombstones stay readable; must exceed the longest a worker's local state "
        "is offline (a worker restoring past a compacted-away tombstone would keep the key)"
    )

    webhook_secrets: dict[str, list[SecretStr]] = Field(
        default_factory=dict,
        description="per source, every currently valid signing secret (rotation: list several)",
    )
    webhook_tolerance_seconds: int = Field(300, gt=0, description="replay window of signatures")
    webhook_max_body_bytes: int = Field(1_048_576, gt=0)
    webhook_shopify_max_age_seconds: int = Field(
        21_600,
        gt=0,
        description="a Shopify body dated (updated_at/created_at/processed_at) longer ago is "
        "stale: Shopify retries for 4 hours, plus queueing delays",
    )
    webhook_shopify_undated_retention_seconds: int = Field(
        5_184_000,
        gt=0,
        description="how long a Shopify body without a timestamp (returns topics) is remembered "
        "as delivered: a replay within it is a duplicate",
    )

    mercadolibre_api_url: str = Field(
        "https://api.mercadolibre.com",
        description="where the intake fetches the resource a Mercado Libre notification names",
    )
    mercadolibre_access_token: SecretStr | None = Field(
        None, description="OAuth access token for that API; without it Mercado Libre gets 503"
    )
    mercadolibre_fetch_timeout_seconds: float = Field(2.0, gt=0, description="per attempt")
    mercadolibre_fetch_attempts: int = Field(
        2, ge=1, description="attempts on timeouts, connection errors, 429 and 5xx"
    )
    paypal_sandbox: bool = Field(
        False,
        description="also trust certificates of PayPal's sandbox hosts (test deployments only)",
    )

    feed_tokens: dict[str, list[SecretStr]] = Field(
        default_factory=dict,
        description="per region code (DE, JP...), the access tokens of the teams that may read it",
    )
    agent_tokens: list[AgentToken] = Field(
        default_factory=list,
        description="support agents' tokens (JSON list of {agent_id, name, region, token}): "
        "each reads its region like a team token and acts on its cases as that agent",
    )
    operator_tokens: list[SecretStr] = Field(
        default_factory=list,
        description="tokens that read every region's feed and cases (cross-region queries)",
    )
    stream_ticket_secret: SecretStr | None = Field(
        None,
        description="HMAC key of feed stream tickets, the same on every worker behind one "
        "address; unset: a random key per process (a ticket then works on its issuer only)",
    )
    stream_ticket_ttl_seconds: float = Field(
        60.0, gt=0, le=600, description="how long a feed stream ticket may be used to connect"
    )
    feed_streams_per_region: int = Field(
        200, ge=1, description="live feed streams one worker serves per region (503 beyond)"
    )
    feed_streams_per_token: int = Field(
        20, ge=1, description="live feed streams one worker serves per token (429 beyond)"
    )
    feed_page_size: int = Field(
        200, ge=1, le=1000,
        description="views a stream sends before its updates, and a feed list's default page",
    )
    translation_retry_interval_seconds: float = Field(
        15.0, gt=0, description="how often pending translations are tried again"
    )
    policy_settle_seconds: float = Field(
        60.0, gt=0, description="a case is judged against its deadlines once quiet this long"
    )
    policy_dir: Path | None = Field(
        None, description="directory of policy rule files (default: the shipped streams/policy)"
    )
    policy_clock_interval_seconds: float = Field(
        30.0, gt=0, description="how often SLA deadlines are checked against the clock"
    )

    money_ceiling: Decimal = Field(
        DEFAULT_MONEY_CEILING,
        gt=0,
        le=MAX_MONEY_CEILING,
        decimal_places=0,
        description="largest amount (major units) an event may carry; larger is dead-lettered",
    )

    translation_provider: Literal["libre", "google", "deepl", "none"] = "none"
    translation_url: str | None = None
    translation_api_key: SecretStr | None = None
    translation_timeout_seconds: float = Field(3.0, gt=0)

    @field_validator("broker_url")
    @classmethod
    def _broker_url_has_scheme(cls, value: str) -> str:
        if "://" not in value:
            return f"kafka://{value}"
        return value

    @model_validator(mode="after")
    def _kafka_security_is_complete(self) -> Self:
        problems = []
        sasl = self.kafka_security_protocol.startswith("SASL_")
        if sasl and not (self.kafka_sasl_username and self.kafka_sasl_password):
            problems.append(f"{self.kafka_security_protocol} needs HUB_KAFKA_SASL_USERNAME and "
                            "HUB_KAFKA_SASL_PASSWORD")
        if not sasl and (self.kafka_sasl_username or self.kafka_sasl_password):
            problems.append("SASL credentials are set but HUB_KAFKA_SECURITY_PROTOCOL is "
                            f"{self.kafka_security_protocol}: they would not be used")
        tls_files = (self.kafka_ssl_cafile, self.kafka_ssl_certfile, self.kafka_ssl_keyfile)
        if not self.kafka_security_protocol.endswith("SSL") and any(tls_files):
            problems.append("TLS files are set but HUB_KAFKA_SECURITY_PROTOCOL is "
                            f"{self.kafka_security_protocol}: they would not be used")
        if self.kafka_ssl_keyfile and not self.kafka_ssl_certfile:
            problems.append("HUB_KAFKA_SSL_KEYFILE needs HUB_KAFKA_SSL_CERTFILE")
        for path in tls_files:
            if path is not None and not path.is_file():
                problems.append(f"{path} is not a file")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def bootstrap_servers(self) -> str:
        """The broker list as Kafka clients take it (`host:port,host:port`)."""
        return ",".join(
            part.split("://", 1)[-1] for part in self.broker_url.replace(";", ",").split(",")
        )

    @property
    def kafka_data_dir(self) -> Path:
        return self.state_dir / "kafka" / f"port-{self.kafka_port}"

    @property
    def worker_data_dir(self) -> Path:
        # One directory per worker process: two workers on one machine differ by web port.
        return self.state_dir / "worker" / f"{self.app_id}-{self.web_port}"


def load_settings(**overrides: object) -> Settings:
    """Read the settings and apply the process-wide ones (the money ceiling).

    Every entry point reads its settings here first, so the ceiling holds before any record is
    parsed; connectors themselves never read settings.

    Raises:
        ConfigurationError: one or more settings are invalid, each of them listed.
    """
    try:
        loaded = Settings(**overrides)  # type: ignore[arg-type]  # pydantic-settings fills the rest
    except ValidationError as exc:
        lines = [
            f"  HUB_{'__'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        ]
        raise ConfigurationError("invalid settings:\n" + "\n".join(lines)) from exc
    configure_money_ceiling(loaded.money_ceiling)
    return loaded


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process's settings, read once."""
    return load_settings()
