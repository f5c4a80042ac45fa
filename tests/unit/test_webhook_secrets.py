"""Webhook secrets reach the intake under the source names it serves, or stop its start."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from connectors.registry import CONNECTORS
from hub.webhooks.app import create_intake_app, http_sources
from hub.webhooks.secrets import intake_secrets
from schemas.errors import ConfigurationError
from schemas.settings import load_settings

HTTP_SOURCES = set(http_sources(CONNECTORS))


def secrets(**by_source: list[str]) -> dict[str, list[SecretStr]]:
    return {source: [SecretStr(value) for value in values] for source, values in by_source.items()}


async def never_sends(
    topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]
) -> None:
    raise AssertionError("nothing is sent while the intake is configured")


def test_every_source_set_in_the_environment_reaches_the_intake_by_its_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What docker-compose passes: one variable per source, upper case as shells write them.
    for source in HTTP_SOURCES:
        monkeypatch.setenv(f"HUB_WEBHOOK_SECRETS__{source.upper()}", f'["{source}-key"]')
    configured = intake_secrets(load_settings().webhook_secrets, HTTP_SOURCES)
    assert configured == {source: [f"{source}-key"] for source in HTTP_SOURCES}


def test_a_json_map_may_spell_a_source_in_any_case() -> None:
    configured = intake_secrets(secrets(Stripe=["whsec_new", "whsec_old"]), HTTP_SOURCES)
    assert configured == {"stripe": ["whsec_new", "whsec_old"]}


@pytest.mark.parametrize(
    ("configured", "complaint"),
    [
        pytest.param(secrets(shopfy=["k"]), "'shopfy', which is no source", id="misspelt"),
        pytest.param(secrets(hub=["k"]), "'hub', which is no source", id="kafka-direct"),
        pytest.param(secrets(dhl=[""]), "HUB_WEBHOOK_SECRETS__DHL holds an empty", id="empty"),
        pytest.param(secrets(ups=["ok", "  "]), "__UPS holds an empty", id="blank-among-many"),
        pytest.param(
            secrets(stripe=["a"], STRIPE=["b"]), "names source 'stripe' twice", id="twice"
        ),
    ],
)
def test_a_secret_the_intake_could_not_use_as_meant_stops_it(
    configured: dict[str, list[SecretStr]], complaint: str
) -> None:
    with pytest.raises(ConfigurationError, match=complaint):
        intake_secrets(configured, HTTP_SOURCES)


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(ConfigurationError) as raised:
        intake_secrets(secrets(shopfy=["k"], dhl=[""], stripe=["fine"]), HTTP_SOURCES)
    message = str(raised.value)
    assert "'shopfy'" in message and "HUB_WEBHOOK_SECRETS__DHL" in message
    assert "stripe" not in message.split("known:")[0]


def test_the_intake_refuses_to_start_on_a_misspelt_source() -> None:
    settings = load_settings(webhook_secrets={"shopfy": ["k"]})
    with pytest.raises(ConfigurationError, match="shopfy"):
        create_intake_app(settings, never_sends)


def test_the_intake_starts_with_a_secret_for_a_source_it_does_not_serve_here() -> None:
    # A known source outside `sources` is not a misspelling: the intake just does not serve it.
    settings = load_settings(webhook_secrets={"shopify": ["k"], "stripe": ["s"]})
    create_intake_app(settings, never_sends, sources={"stripe": "stripe-signature"})
