"""gettext catalogs: complete, not fuzzy, in step with the code, compiled in memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from schemas.actions import ActionKind, EvidenceKind, ReplyTranslation, ResolutionKind
from schemas.case import CaseStatus, CaseType, ReturnShippingStatus
from schemas.events import CustomsStatus, ReasonCode, ShipmentStatus
from translations import labels
from translations.catalogs import (
    CATALOG_DIR,
    EXTRACT_ARGS,
    TEMPLATE,
    gettext,
    po_path,
    read_catalog,
    shipped_locales,
    translations_for,
)
from translations.regions import REGIONS

LOCALES = ["ar_SA", "de_DE", "en_GB", "en_US", "es_ES", "es_MX", "fr_FR", "ja_JP", "pt_BR",
           "zh_Hans_CN"]


def message_keys(catalog: Any) -> set[tuple[str | None, str]]:
    return {(message.context, message.id) for message in catalog if message.id}


def test_shipped_locales_are_the_regions_locales() -> None:
    assert list(shipped_locales()) == LOCALES
    assert sorted(found.locale for found in REGIONS.regions) == LOCALES


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_is_complete_and_not_fuzzy(locale: str) -> None:
    catalog = read_catalog(locale)
    untranslated = [message.id for message in catalog if message.id and not message.string]
    fuzzy = [message.id for message in catalog if message.id and message.fuzzy]
    assert untranslated == []
    assert fuzzy == []
    assert not catalog.fuzzy, "the header is marked fuzzy"
    assert list(catalog.check()) == [], "placeholders differ from the msgid"


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_has_exactly_the_template_messages(locale: str) -> None:
    with TEMPLATE.open("rb") as handle:
        template = read_po(handle)
    assert message_keys(read_catalog(locale)) == message_keys(template)
    assert not read_catalog(locale).obsolete


def test_template_is_not_stale(tmp_path: Path) -> None:
    extracted = tmp_path / "messages.pot"
    status = CommandLineInterface().run(  # type: ignore[no-untyped-call]  # babel is untyped here
        ["pybabel", "-q", "extract", *EXTRACT_ARGS, "-o", str(extracted), str(CATALOG_DIR)]
    )
    assert status in (0, None)
    with extracted.open("rb") as fresh, TEMPLATE.open("rb") as committed:
        fresh_catalog, committed_catalog = read_po(fresh), read_po(committed)
    assert message_keys(fresh_catalog) == message_keys(committed_catalog), (
        "translations/messages.pot is stale: re-extract (see translations/catalogs.py)"
    )
    for message in fresh_catalog:
        if message.id:
            entry = committed_catalog.get(message.id, context=message.context)
            assert entry is not None and entry.flags == message.flags


@pytest.mark.parametrize(
    ("table", "literal"),
    [
        (labels.CASE_STATUS, CaseStatus),
        (labels.CASE_TYPE, CaseType),
        (labels.REASON, ReasonCode),
        (labels.SHIPMENT_STATUS, ShipmentStatus),
        (labels.CUSTOMS_STATUS, CustomsStatus),
        (labels.RETURN_SHIPPING_STATUS, ReturnShippingStatus),
        (labels.ACTION_KIND, ActionKind),
        (labels.EVIDENCE, EvidenceKind),
        (labels.RESOLUTION, ResolutionKind),
        (labels.REPLY_TRANSLATION, ReplyTranslation),
    ],
)
def test_every_enumerated_value_has_a_label(table: dict[str, Any], literal: Any) -> None:
    assert set(table) == set(get_args(literal))


@pytest.mark.parametrize(
    ("locale", "context", "msgid", "expected"),
    [
        ("de_DE", "case status", "Refunded", "Erstattet"),
        ("fr_FR", "customs status", "Held by customs", "Retenu en douane"),
        ("es_ES", "field", "Tracking number", "Número de seguimiento"),
        ("es_MX", "field", "Tracking number", "Número de rastreo"),
        ("pt_BR", "reason", "Not as described", "Diferente do anunciado"),
        ("ja_JP", "case status", "Refunded", "返金済み"),
        ("zh_Hans_CN", "reason", "Lost in transit", "运输途中丢失"),
        ("ar_SA", "reason", "Damaged", "تالف"),
        ("ar_SA", "translation", "Translation pending", "الترجمة قيد الانتظار"),
        ("en_GB", "return shipping status", "Delivered to returns center",
         "Delivered to returns centre"),
        ("en_US", "sla", "Deadline", "Deadline"),
        # Same English word, different roles, different German words.
        ("de_DE", "field", "Requested", "Angeforderter Betrag"),
        ("de_DE", "case status", "Requested", "Beantragt"),
    ],
)
def test_known_translations(locale: str, context: str, msgid: str, expected: str) -> None:
    assert gettext(locale, context, msgid) == expected


@pytest.mark.parametrize(
    ("locale", "plural_forms"),
    [("ar_SA", 6), ("ja_JP", 1), ("zh_Hans_CN", 1), ("de_DE", 2), ("fr_FR", 2)],
)
def test_plural_forms_header_follows_cldr(locale: str, plural_forms: int) -> None:
    assert read_catalog(locale).num_plurals == plural_forms


def test_placeholders_are_filled_in_every_locale() -> None:
    for locale in LOCALES:
        text = gettext(locale, labels.OPENED_AGO.context, labels.OPENED_AGO.msgid) % {"age": "X"}
        assert "X" in text and "%" not in text


def test_catalogs_compile_in_memory_only() -> None:
    for locale in LOCALES:
        translations_for(locale)
    assert list(CATALOG_DIR.rglob("*.mo")) == []
    assert po_path("de_DE").is_file()
