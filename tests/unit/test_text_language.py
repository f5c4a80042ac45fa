"""Free text reaches the canonical event with its language: declared, else detected."""

from __future__ import annotations

import json

import pytest

from connectors.marketplaces._common import DETECTED_CHARS, text_language
from connectors.registry import connector_for
from tests.support.connector_fixtures import RECEIVED_AT, load_fixtures
from translations.language import detect_language


@pytest.mark.parametrize(
    ("text", "declared", "language"),
    [
        ("El color no coincide con las fotos", "es-ES", "es"),
        ("The colour does not match the photos", "pt-BR", "pt"),  # declared wins
        ("Der Reißverschluss ist nach zwei Tagen gerissen", None, "de"),
        ("Cet article ne peut pas être retourné", None, "fr"),
        ("サイズが合わないので返品したいです。", None, "ja"),
        ("尺码不对，我要退货", None, "zh"),
        ("ok", None, None),  # too short to tell
        ("   ", None, None),
        (None, None, None),
    ],
)
def test_declared_language_else_detected(
    text: str | None, declared: str | None, language: str | None
) -> None:
    assert text_language(text, declared) == language


def _hub(**fields: object) -> bytes:
    [fixture] = [f for f in load_fixtures("hub") if f.name == "return-requested-eur-spanish"]
    body = json.loads(fixture.body)
    body.update(fields)
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


def test_hub_reason_without_language_gets_the_detected_one() -> None:
    [declared] = connector_for("hub").parse(_hub(), received_at=RECEIVED_AT)
    [undeclared] = connector_for("hub").parse(_hub(language=None), received_at=RECEIVED_AT)
    [no_reason] = connector_for("hub").parse(_hub(language=None, reason=None),
                                             received_at=RECEIVED_AT)
    assert (declared.language, undeclared.language, no_reason.language) == ("es", "es", None)
    assert declared.event_id == undeclared.event_id


def test_the_detector_sees_masked_text_only() -> None:
    text = "Bitte erstatten Sie den Betrag, meine E-Mail ist lena.becker@example.de, danke"
    assert text_language(text) == "de"
    # The memo is keyed by the masked text (a hit), the address is not in it.
    hits = detect_language.cache_info().hits
    masked = "Bitte erstatten Sie den Betrag, meine E-Mail ist [email], danke"
    assert detect_language(masked) == "de"
    assert detect_language.cache_info().hits == hits + 1


def test_only_the_head_of_a_long_text_is_read() -> None:
    long = "Die Jacke ist zu klein. " * 400
    assert len(long) > DETECTED_CHARS
    assert text_language(long) == "de"
