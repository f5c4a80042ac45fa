"""The glossary: reason phrases in eight languages, normalization, and term protection."""

from __future__ import annotations

from typing import Any

import pytest

from streams.cases import ReasonClassifier
from translations.errors import LocalizationConfigError
from translations.glossary import (
    GLOSSARY,
    ProtectedText,
    classify_reason,
    fold,
    parse_glossary,
    primary_language,
    protect_terms,
    restore_terms,
)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # damaged, in every glossary language
        ("The box arrived damaged", "en", "damaged"),
        ("Das Paket kam beschädigt an", "de", "damaged"),
        ("Le colis est arrivé endommagé", "fr", "damaged"),
        ("El producto llegó dañado", "es", "damaged"),
        ("O produto chegou danificado", "pt", "damaged"),
        ("商品が破損していました", "ja", "damaged"),
        ("商品破损了", "zh", "damaged"),
        ("وصل المنتج تالف", "ar", "damaged"),
        # size and fit
        ("Die Hose ist zu klein", "de", "size_fit"),
        ("尺码不对", "zh", "size_fit"),
        ("サイズが合わない", "ja", "size_fit"),
        ("wrong size, please exchange", "en", "size_fit"),
        ("A camisa ficou pequena, tamanho errado", "pt", "size_fit"),
        # never arrived
        ("Paket ist nicht angekommen", "de", "lost_in_transit"),
        ("我还没有收到，未收到", "zh", "lost_in_transit"),
        ("まだ届かない", "ja", "lost_in_transit"),
        ("Je n'ai pas reçu mon colis", "fr", "lost_in_transit"),
        ("لم أستلم الطلب", "ar", "lost_in_transit"),
        ("The parcel never arrived", "en", "lost_in_transit"),
        # the other reasons
        ("They sent the wrong item", "en", "wrong_item"),
        ("发错货了", "zh", "wrong_item"),
        ("Funktioniert nicht mehr nach einem Tag", "de", "defective"),
        ("No funciona", "es", "defective"),
        ("与描述不符", "zh", "not_as_described"),
        ("Ce n'est pas conforme à la description", "fr", "not_as_described"),
        ("I changed my mind", "en", "changed_mind"),
        ("不想要了", "zh", "changed_mind"),
        ("La entrega llegó tarde, demasiado tarde", "es", "late_delivery"),
        ("配達が遅すぎる", "ja", "late_delivery"),
        ("Es fehlen Teile, unvollständig geliefert", "de", "missing_parts"),
        ("部品が足りない", "ja", "missing_parts"),
        ("Unauthorized purchase, I did not order this", "en", "fraud"),
        ("احتيال", "ar", "fraud"),
    ],
)
def test_classify_reason(text: str, language: str, expected: str) -> None:
    assert classify_reason(text, language) == expected


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        pytest.param("ＤＡＭＡＧＥＤ ＢＯＸ", None, "damaged", id="full-width-latin"),
        pytest.param("ｻｲｽﾞが合わない", "ja", "size_fit", id="half-width-katakana"),
        pytest.param("ARRIVED BROKEN", None, "damaged", id="case-folding"),
        pytest.param("GRÖSSE passt nicht", None, "size_fit", id="eszett-and-umlaut"),
        pytest.param("llego danado", "es", "damaged", id="accents-omitted"),
        pytest.param("I don’t want it anymore", "en", "changed_mind", id="typographic-apostrophe"),
        pytest.param("المنتجُ تالِفٌ", "ar", "damaged", id="arabic-harakat"),
        pytest.param("beschädigte Verpackung", "de", "damaged", id="inflected-german"),
        pytest.param("zu klein", "en", "size_fit", id="wrong-language-hint"),
        pytest.param("zu klein", "zh-Hans", "size_fit", id="bcp47-hint"),
        pytest.param("摔坏了", None, "damaged", id="longest-then-earliest-wins"),
        pytest.param("the wrong size was sent", None, "size_fit", id="size-not-wrong-item"),
    ],
)
def test_normalization(text: str, language: str | None, expected: str) -> None:
    assert classify_reason(text, language) == expected


@pytest.mark.parametrize("text", ["", "   ", "Hello, any update?", "请尽快处理", "badge"])
def test_no_reason(text: str) -> None:
    assert classify_reason(text, None) is None


def test_classify_reason_fits_the_case_builder() -> None:
    classifier: ReasonClassifier = classify_reason
    assert classifier("zu klein", "de") == "size_fit"


def test_fold() -> None:
    assert fold("  Ｇｒöße\u3000ＸＬ ") == "grosse xl"
    assert primary_language("zh_Hans_CN") == "zh"
    assert primary_language("pt-BR") == "pt"
    assert primary_language(None) is None


def test_glossary_covers_the_served_languages() -> None:
    assert set(GLOSSARY.languages) == {"en", "zh", "ja", "de", "fr", "es", "pt", "ar"}
    for term_id in ("rma", "customs_clearance", "duty", "chargeback", "return_label"):
        assert set(GLOSSARY.terms[term_id]) == set(GLOSSARY.languages)


def test_protect_and_restore_terms() -> None:
    text = "Please send the return label and RMA; customs clearance is slow."
    protected = protect_terms(text, "en", "de")
    assert protected.text == "Please send the [[G0]] and [[G1]]; [[G2]] is slow."
    assert protected.replacements == {
        "[[G0]]": "Rücksendeetikett", "[[G1]]": "RMA", "[[G2]]": "Zollabfertigung",
    }
    machine = "Bitte senden Sie das [[G0]] und [[ g1 ]]; [[G2]] ist langsam."
    assert restore_terms(machine, protected) == (
        "Bitte senden Sie das Rücksendeetikett und RMA; Zollabfertigung ist langsam."
    )


@pytest.mark.parametrize(
    ("text", "source", "target", "expected"),
    [
        ("Der Einfuhrzoll und die Rückbuchung", "de-DE", "zh_Hans_CN", {"关税", "拒付"}),
        ("清关很慢，运单号是多少", "zh", "ja", {"通関", "追跡番号"}),
        ("Chargeback opened", "en", "ar", {"رد المبالغ المدفوعة"}),
        ("Étiquette de retour perdue", "fr", "es", {"etiqueta de devolución"}),
        # Italian is not in the glossary: the term stays as the buyer wrote it.
        ("RMA and customs clearance", "en", "it", {"RMA", "customs clearance"}),
    ],
)
def test_target_language_terms(text: str, source: str, target: str, expected: set[str]) -> None:
    protected = protect_terms(text, source, target)
    assert set(protected.replacements.values()) == expected
    assert "[[G" in protected.text


def test_no_terms_no_placeholders() -> None:
    assert protect_terms("nothing special", "en", "de") == ProtectedText("nothing special", {})
    assert restore_terms("rien [[G7]]", ProtectedText("x", {})) == "rien [[G7]]"


def _glossary(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "languages": ["en", "de"],
        "reasons": {code: {"en": [code], "de": [code]} for code in (
            "damaged", "defective", "wrong_item", "not_as_described", "size_fit", "changed_mind",
            "late_delivery", "lost_in_transit", "missing_parts", "fraud")},
        "terms": {"rma": {"en": ["RMA"], "de": ["RMA"]}},
    }
    raw.update(overrides)
    return raw


def test_a_valid_glossary_parses() -> None:
    assert parse_glossary(_glossary()).classify_reason("fraud!", "en") == "fraud"


def test_glossary_validation_lists_every_problem() -> None:
    raw = _glossary()
    del raw["reasons"]["fraud"]
    raw["reasons"]["damaged"] = {"en": ["damaged"], "xx": ["?"]}
    raw["terms"]["rma"] = {"en": [" "], "de": ["RMA"]}
    with pytest.raises(LocalizationConfigError) as caught:
        parse_glossary(raw)
    message = str(caught.value)
    for expected in ("reasons.damaged: no phrases for de", "reasons.damaged: unknown languages xx",
                     "terms.rma: empty phrases for en", "reasons: no phrases for fraud"):
        assert expected in message


def test_unknown_reason_code_is_rejected() -> None:
    raw = _glossary()
    raw["reasons"]["broken_heart"] = {"en": ["sad"], "de": ["traurig"]}
    with pytest.raises(LocalizationConfigError, match="reasons.broken_heart"):
        parse_glossary(raw)
