"""HUB_KAFKA_* security settings: validated together, turned into client options in one place."""

from __future__ import annotations

import ssl
from pathlib import Path

import faust
import pytest

from hub.app import faust_credentials
from schemas.errors import ConfigurationError
from schemas.settings import load_settings
from streams.kafka_clients import kafka_client_options


def test_plaintext_by_default() -> None:
    assert kafka_client_options(load_settings()) == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(kafka_client_options(load_settings())) is None


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_login_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, mechanism: str
) -> None:
    monkeypatch.setenv("HUB_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("HUB_KAFKA_SASL_MECHANISM", mechanism)
    monkeypatch.setenv("HUB_KAFKA_SASL_USERNAME", "worker")
    monkeypatch.setenv("HUB_KAFKA_SASL_PASSWORD", "s3cret")
    settings = load_settings()
    assert "s3cret" not in repr(settings)  # masked when logged
    options = kafka_client_options(settings)
    assert options == {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": mechanism,
                       "sasl_plain_username": "worker", "sasl_plain_password": "s3cret"}
    credentials = faust_credentials(options)
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol.value == "SASL_PLAINTEXT"
    assert credentials.mechanism.value == mechanism
    assert (credentials.username, credentials.password) == ("worker", "s3cret")


def test_sasl_over_tls_carries_a_verifying_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("HUB_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("HUB_KAFKA_SASL_USERNAME", "worker")
    monkeypatch.setenv("HUB_KAFKA_SASL_PASSWORD", "s3cret")
    options = kafka_client_options(load_settings())
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    credentials = faust_credentials(options)
    assert credentials.protocol.value == "SASL_SSL" and credentials.ssl_context is context


def test_tls_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_KAFKA_SECURITY_PROTOCOL", "SSL")
    options = kafka_client_options(load_settings())
    assert set(options) == {"security_protocol", "ssl_context"}
    assert isinstance(faust_credentials(options), faust.SSLCredentials)


@pytest.mark.parametrize(
    "env, problem",
    [
        pytest.param({"HUB_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"},
                     "needs HUB_KAFKA_SASL_USERNAME and HUB_KAFKA_SASL_PASSWORD", id="no-login"),
        pytest.param({"HUB_KAFKA_SASL_USERNAME": "u", "HUB_KAFKA_SASL_PASSWORD": "p"},
                     "would not be used", id="login-without-sasl"),
        pytest.param({"HUB_KAFKA_SSL_CAFILE": "/nonexistent/ca.pem"},
                     "would not be used", id="tls-files-without-tls"),
        pytest.param({"HUB_KAFKA_SECURITY_PROTOCOL": "SSL",
                      "HUB_KAFKA_SSL_CAFILE": "/nonexistent/ca.pem"},
                     "is not a file", id="missing-ca"),
        pytest.param({"HUB_KAFKA_SASL_MECHANISM": "GSSAPI"}, "HUB_KAFKA_SASL_MECHANISM",
                     id="unsupported-mechanism"),
    ],
)
def test_incomplete_security_settings_stop_start_up(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], problem: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=problem):
        load_settings()


def test_a_client_certificate_needs_its_key_file_pair(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = tmp_path / "client.key"
    key.write_text("")
    monkeypatch.setenv("HUB_KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("HUB_KAFKA_SSL_KEYFILE", str(key))
    with pytest.raises(ConfigurationError, match="needs HUB_KAFKA_SSL_CERTFILE"):
        load_settings()
