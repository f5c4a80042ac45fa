"""How every Kafka client of the hub connects: one function turns the settings into the
security options of aiokafka's producer, consumer and admin client.

    PLAINTEXT         no options beyond the protocol (the embedded broker, tests)
    SSL               TLS: the brokers' certificates checked against HUB_KAFKA_SSL_CAFILE (or
                      the system's trust store), a client certificate for mutual TLS
    SASL_PLAINTEXT    SASL user and password (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), no TLS:
                      PLAIN then sends the password in clear, so only on a trusted network
    SASL_SSL          both

Every client (the stages, the case step's producer, consumer and restore consumer, the
followers, the webhook intake, the CLI tools, provisioning) and faust's own clients take their
options from `kafka_client_options`, so a process never talks to the brokers in two ways.
"""

from __future__ import annotations

import ssl
from typing import Any

from aiokafka.helpers import create_ssl_context

from schemas.settings import Settings


def kafka_client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `AIOKafkaProducer`, `AIOKafkaConsumer` and `AIOKafkaAdminClient`
    (besides `bootstrap_servers`): the security protocol, the TLS context, the SASL login.

    A new dict (and TLS context) per call: callers may add their own options to it.
    """
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = tls_context(settings)
    if protocol in ("SASL_PLAINTEXT", "SASL_SSL"):
        password = settings.kafka_sasl_password
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        # aiokafka takes the SCRAM login in its `sasl_plain_*` arguments too.
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = password.get_secret_value() if password else None
    return options


def tls_context(settings: Settings) -> ssl.SSLContext:
    """A client TLS context: hostname and certificate checked, optionally a client certificate."""
    key_password = settings.kafka_ssl_key_password
    context: ssl.SSLContext = create_ssl_context(
        cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None,
        certfile=str(settings.kafka_ssl_certfile) if settings.kafka_ssl_certfile else None,
        keyfile=str(settings.kafka_ssl_keyfile) if settings.kafka_ssl_keyfile else None,
        password=key_password.get_secret_value() if key_password else None,
    )
    return context


__all__ = ["kafka_client_options", "tls_context"]
