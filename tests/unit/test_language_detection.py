"""Offline language detection: the served languages, and no guess on short or unclear text."""

from __future__ import annotations

import re

import pytest

from translations.language import DETECTION_CACHE_SIZE, SERVED_LANGUAGES, detect_language
from translations.regions import REGIONS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The item arrived damaged and the box was crushed", "en"),
        ("Das Paket ist beschädigt angekommen, bitte um Erstattung", "de"),
        ("Le colis est arrivé endommagé, je voudrais un remboursement", "fr"),
        ("El producto llegó dañado y quiero un reembolso", "es"),
        ("O produto chegou danificado e quero meu dinheiro de volta", "pt"),
        ("商品が破損していました。返金をお願いします。", "ja"),
        ("商品破损了，我要退款", "zh"),
        ("وصل المنتج تالفًا وأريد استرداد المبلغ", "ar"),
        ("サイズ", "ja"),
        ("尺码不对", "zh"),
        ("ＴＨＥ ＢＯＸ ＷＡＳ ＣＲＵＳＨＥＤ ＡＮＤ ＴＨＥ ＩＴＥＭ ＩＳ ＢＲＯＫＥＮ", "en"),
    ],
)
def test_detects_served_languages(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["", "ok", "??", "12345 678", "👍👍", "  \n ", "A1"])
def test_short_or_uncertain_text_gives_none(text: str) -> None:
    assert detect_language(text) is None


def test_served_languages_cover_every_region() -> None:
    assert {region.language for region in REGIONS.regions} <= set(SERVED_LANGUAGES)
    assert all(re.fullmatch(r"[a-z]{2}", tag) for tag in SERVED_LANGUAGES)


def test_detection_is_remembered_and_answers_as_lingua_does() -> None:
    texts = ["Le colis est arrivé endommagé, je voudrais un remboursement", "ok",
             "ＤＡＳ ＰＡＫＥＴ ＩＳＴ ＢＥＳＣＨÄＤＩＧＴ ＡＮＧＥＫＯＭＭＥＮ"]
    uncached = [detect_language.__wrapped__(text) for text in texts]
    assert uncached == ["fr", None, "de"]
    assert [detect_language(text) for text in texts] == uncached
    before = detect_language.cache_info()
    assert [detect_language(text) for text in texts] == uncached
    assert detect_language.cache_info().hits == before.hits + len(texts)


def test_the_detection_cache_is_bounded() -> None:
    assert detect_language.cache_info().maxsize == DETECTION_CACHE_SIZE
