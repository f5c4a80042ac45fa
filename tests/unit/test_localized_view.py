"""The localized case view: CLDR formatting per region, labels, translation state, masking.

Expected strings follow CLDR (as babel 2.18 ships it): the currency patterns and symbols of each
locale, its medium date-time pattern, and the region's UTC offset on 2026-03-14 (New York is on
EDT since 8 March; London and Berlin not yet on summer time; São Paulo and Mexico City keep no
DST). ar_SA's default numbering system is `arab`, so digits are Arabic-Indic.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime, format_timedelta
from babel.numbers import format_currency
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from hub.cli_feed import feed_cli
from schemas.case import Case, CaseCustoms, CaseShipment, CaseStatus, ReturnShipment
from schemas.money import Money
from translations.catalogs import gettext
from translations.labels import CASE_STATUS
from translations.machine import TranslationResult
from translations.regions import REGIONS, Region, region
from translations.views import (
    AlertKind,
    LocalizedCaseView,
    SlaAlert,
    describe_region,
    render_case,
    with_translation,
)

OPENED = datetime(2026, 3, 14, 12, 30, tzinfo=UTC)
NOW = OPENED + timedelta(hours=3)


def case_factory(**overrides: Any) -> Case:
    fields: dict[str, Any] = {
        "case_id": "case:order:1001", "order_id": "1001", "buyer_country": "DE",
        "status": "requested", "opened_at": OPENED, "updated_at": OPENED,
    }
    fields.update(overrides)
    return Case(**fields)


def render(code: str, case: Case | None = None, **kwargs: Any) -> LocalizedCaseView:
    kwargs.setdefault("translation", None)
    return render_case(case or case_factory(), region(code), now=NOW, **kwargs)


@pytest.mark.parametrize(
    ("code", "amount", "currency", "expected"),
    [
        ("US", "12345.67", "USD", "$12,345.67"),
        ("UK", "12345.67", "GBP", "£12,345.67"),
        ("DE", "1234.56", "EUR", "1.234,56\xa0€"),
        ("DE", "12345.67", "EUR", "12.345,67\xa0€"),
        ("FR", "12345.67", "EUR", "12\u202f345,67\xa0€"),
        ("ES", "12345.67", "EUR", "12.345,67\xa0€"),
        ("BR", "1234.56", "BRL", "R$\xa01.234,56"),
        ("MX", "12345.67", "MXN", "$12,345.67"),
        ("JP", "1234", "JPY", "￥1,234"),
        ("JP", "12345", "JPY", "￥12,345"),
        ("DE", "1234", "JPY", "1.234\xa0¥"),
        ("CN", "12345.67", "CNY", "¥12,345.67"),
        ("SA", "1234.56", "SAR", "\u200f١٬٢٣٤٫٥٦\xa0ر.س.\u200f"),
        ("SA", "12345.67", "SAR", "\u200f١٢٬٣٤٥٫٦٧\xa0ر.س.\u200f"),
    ],
)
def test_amounts_follow_the_locale(code: str, amount: str, currency: str, expected: str) -> None:
    money = Money(amount=amount, currency=currency)
    view = render(code, case_factory(requested=money, refunded=[money]))
    assert view.requested is not None
    assert view.requested.formatted == expected
    assert view.requested.amount == format(Decimal(amount), "f")
    assert [refund.formatted for refund in view.refunded] == [expected]


def test_ar_sa_can_keep_ascii_digits() -> None:
    latin = region("SA").model_copy(update={"numbering": "latn"})
    view = render_case(case_factory(requested=Money(amount="1234.56", currency="SAR")), latin,
                       now=NOW, translation=None)
    assert view.requested is not None
    assert view.requested.formatted == "\u200f1,234.56\xa0ر.س.\u200f"


@pytest.mark.parametrize(
    ("code", "formatted", "local", "relative", "age"),
    [
        ("US", "Mar 14, 2026, 8:30:00\u202fAM", "2026-03-14T08:30:00-04:00", "3 hours ago",
         "Opened 3 hours ago"),
        ("UK", "14 Mar 2026, 12:30:00", "2026-03-14T12:30:00+00:00", "3 hours ago",
         "Opened 3 hours ago"),
        ("DE", "14.03.2026, 13:30:00", "2026-03-14T13:30:00+01:00", "vor 3 Stunden",
         "Eröffnet vor 3 Stunden"),
        ("FR", "14 mars 2026, 13:30:00", "2026-03-14T13:30:00+01:00", "il y a 3 heures",
         "Ouvert il y a 3 heures"),
        ("ES", "14 mar 2026, 13:30:00", "2026-03-14T13:30:00+01:00", "hace 3 horas",
         "Abierto hace 3 horas"),
        ("BR", "14 de mar. de 2026 09:30:00", "2026-03-14T09:30:00-03:00", "há 3 horas",
         "Aberto há 3 horas"),
        ("MX", "14 mar 2026, 6:30:00\u202fa.m.", "2026-03-14T06:30:00-06:00", "hace 3 horas",
         "Abierto hace 3 horas"),
        ("JP", "2026/03/14 21:30:00", "2026-03-14T21:30:00+09:00", "3 時間前", "3 時間前に作成"),
        ("CN", "2026年3月14日 20:30:00", "2026-03-14T20:30:00+08:00", "3小时前", "3小时前创建"),
        ("SA", "١٤\u200f/٠٣\u200f/٢٠٢٦، ٣:٣٠:٠٠ م", "2026-03-14T15:30:00+03:00", "قبل ٣ ساعات",
         "فُتحت قبل ٣ ساعات"),
    ],
)
def test_times_in_the_region_zone(
    code: str, formatted: str, local: str, relative: str, age: str
) -> None:
    view = render(code)
    assert view.opened is not None
    assert (view.opened.formatted, view.opened.local, view.opened.relative) == (
        formatted, local, relative)
    assert view.opened.utc == OPENED
    assert view.age == age


@pytest.mark.parametrize(
    ("opened", "expected"),
    [
        pytest.param(NOW - timedelta(seconds=30), "Opened just now", id="seconds-ago"),
        pytest.param(NOW + timedelta(minutes=5), "Opened just now", id="clock-skew-future"),
        pytest.param(NOW - timedelta(days=2), "Opened 2 days ago", id="days"),
    ],
)
def test_age_edges(opened: datetime, expected: str) -> None:
    assert render("US", case_factory(opened_at=opened)).age == expected


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def babel_digits(found: Region, text: str) -> str:
    """babel's ASCII digits as the region shows them (ar_SA's CLDR default is Arabic-Indic)."""
    arabic = found.numbering == "cldr" and found.babel_locale.default_numbering_system == "arab"
    return text.translate(ARABIC_INDIC) if arabic else text


# Formatted instants and amounts are remembered per locale: whether or not a render finds them
# remembered, it must show what babel gives for that instant or amount in the region.
@given(
    instant=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1),
        timezones=st.sampled_from([UTC, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata"),
                                   ZoneInfo("Australia/Lord_Howe"),
                                   timezone(-timedelta(hours=3, minutes=30))]),
        allow_imaginary=False,  # a wall time a DST gap skips is no instant: nothing has it
    ),
    code=st.sampled_from(REGIONS.codes),
)
def test_any_instant_renders_as_babel_formats_it_in_the_region(
    instant: datetime, code: str
) -> None:
    found = region(code)
    view = render(code, deadline=instant)
    assert view.deadline is not None
    at = view.deadline.at
    assert at.utc == instant.astimezone(UTC)  # == is False across zones in a DST fold
    assert at.local == instant.astimezone(found.zone).isoformat()
    assert at.formatted == babel_digits(
        found, format_datetime(instant, "medium", tzinfo=found.zone, locale=found.locale))
    if abs(instant - NOW) >= timedelta(minutes=1):
        assert at.relative == babel_digits(
            found, format_timedelta(instant - NOW, add_direction=True, locale=found.locale))
    assert render(code, deadline=instant) == view


def test_an_instant_repeated_by_a_dst_fold_keeps_its_own_offset() -> None:
    first = datetime(2025, 11, 2, 1, 30, tzinfo=ZoneInfo("America/New_York"))
    second = first.replace(fold=1)
    assert first == second  # in one zone, comparison ignores fold: a cache key must not
    early, late = (render("US", deadline=instant).deadline for instant in (first, second))
    assert early is not None and late is not None
    assert (early.at.utc, early.at.local) == (
        datetime(2025, 11, 2, 5, 30, tzinfo=UTC), "2025-11-02T01:30:00-04:00")
    assert (late.at.utc, late.at.local) == (
        datetime(2025, 11, 2, 6, 30, tzinfo=UTC), "2025-11-02T01:30:00-05:00")


@pytest.mark.parametrize("code", ["DE", "JP", "SA"])
def test_amounts_equal_as_numbers_keep_their_own_formatting(code: str) -> None:
    found = region(code)
    # Decimal("-0") == Decimal("0") and "1.0" == "1.000": each keeps babel's own text.
    for amount in ["-0", "0", "-0", "1.0", "1.00", "1.000", "0"]:
        view = render(code, case_factory(requested=Money(amount=amount, currency="EUR")))
        assert view.requested is not None
        expected = format_currency(Decimal(amount), "EUR", locale=found.locale,
                                   numbering_system="arab" if code == "SA" else "latn")
        assert view.requested.formatted == babel_digits(found, expected)
        assert view.requested.amount == amount


def test_no_opened_at_no_age() -> None:
    view = render("US", case_factory(opened_at=None, updated_at=None))
    assert (view.opened, view.updated, view.age) == (None, None, None)


@pytest.mark.parametrize("found", REGIONS.regions, ids=lambda found: found.code)
@pytest.mark.parametrize("status", list(CASE_STATUS))
def test_status_labels_come_from_the_region_catalog(found: Region, status: CaseStatus) -> None:
    view = render_case(case_factory(status=status), found, now=NOW, translation=None)
    assert view.status == status
    assert view.status_label == gettext(found.locale, "case status", CASE_STATUS[status].msgid)
    assert (view.region, view.locale, view.direction) == (
        found.code, found.locale, found.direction)


@pytest.mark.parametrize(
    ("code", "status", "case_type", "reason", "labels"),
    [
        ("DE", "Erstattet", "Rücksendung", "Beschädigt", ("Bestellung", "Grund")),
        ("JP", "返金済み", "返品", "破損", ("注文", "理由")),
        ("CN", "已退款", "退货", "破损", ("订单", "原因")),
        ("SA", "تم الاسترداد", "إرجاع", "تالف", ("الطلب", "السبب")),
        ("BR", "Reembolsado", "Devolução", "Danificado", ("Pedido", "Motivo")),
    ],
)
def test_labels(
    code: str, status: str, case_type: str, reason: str, labels: tuple[str, str]
) -> None:
    view = render(code, case_factory(status="refunded", reason_code="damaged"))
    assert (view.status_label, view.case_type_label, view.reason_label) == (
        status, case_type, reason)
    assert (view.labels["order"], view.labels["reason"]) == labels


def test_direction_is_rtl_only_for_arabic() -> None:
    assert {found.code: render(found.code).direction for found in REGIONS.regions} == {
        found.code: "rtl" if found.code == "SA" else "ltr" for found in REGIONS.regions}


def test_shipment_customs_and_country_names() -> None:
    case = case_factory(
        shipment=CaseShipment(tracking_number="1Z999", status="customs", carrier="UPS"),
        customs=CaseCustoms(status="held", country="DE",
                            duties=Money(amount="19.5", currency="EUR")),
    )
    view = render("DE", case)
    assert view.buyer_country_name == "Deutschland"
    assert view.return_shipment is not None and view.customs is not None
    assert (view.return_shipment.status_label, view.return_shipment.carrier) == ("Beim Zoll", "UPS")
    assert view.customs.status_label == "Vom Zoll zurückgehalten"
    assert view.customs.country_name == "Deutschland"
    assert view.customs.duties is not None
    assert view.customs.duties.formatted == "19,50\xa0€"
    assert render("JP", case).buyer_country_name == "ドイツ"


def test_return_shipping_table_value_wins() -> None:
    parcel = ReturnShipment(tracking_number="1Z999", case_id="c",
                            status="delivered_to_returns_center", updated_at=OPENED)
    view = render("UK", case_factory(), return_shipment=parcel)
    assert view.return_shipment is not None
    assert view.return_shipment.status_label == "Delivered to returns centre"


def test_deadline() -> None:
    due = render("DE", deadline=NOW + timedelta(hours=5)).deadline
    late = render("DE", deadline=NOW - timedelta(hours=2)).deadline
    assert due is not None and late is not None
    assert (due.breached, due.state_label, due.remaining) == (
        False, "Im Plan", "Restzeit: 5 Stunden")
    assert (late.breached, late.state_label, late.remaining) == (
        True, "Überschritten", "Überfällig: 2 Stunden")
    assert due.at.relative == "in 5 Stunden"
    ar = render("SA", deadline=NOW - timedelta(hours=2)).deadline
    assert ar is not None and ar.remaining == "متأخر بمقدار ساعتان"


REASON = "Die Hose ist zu klein. Ruf mich an: +49 30 1234567, anna@example.de"
MASKED = "Die Hose ist zu klein. Ruf mich an: [phone], [email]"


@pytest.mark.parametrize(
    ("code", "state", "label"),
    [
        ("DE", "not_needed", "Keine Übersetzung nötig"),
        ("US", "pending", "Translation pending"),
        ("JP", "pending", "翻訳待ち"),
        ("SA", "pending", "الترجمة قيد الانتظار"),
    ],
)
def test_untranslated_reason_is_masked_and_marked(code: str, state: str, label: str) -> None:
    view = render(code, case_factory(reason_text=REASON, reason_language="de"))
    assert view.reason is not None
    assert (view.reason.original, view.reason.translated) == (MASKED, None)
    assert (view.reason.state, view.reason.state_label, view.reason.language) == (
        state, label, "de")


def test_reason_language_is_detected_when_unknown() -> None:
    view = render("DE", case_factory(reason_text="Das Paket ist beschädigt angekommen"))
    assert view.reason is not None
    assert (view.reason.language, view.reason.state) == ("de", "not_needed")


def test_translated_reason() -> None:
    translation = TranslationResult(
        state="translated", original=MASKED, text="The trousers are too small. Call me: [phone]",
        source_language="de", target_language="en")
    view = render("US", case_factory(reason_text=REASON), translation=translation)
    assert view.reason is not None
    assert view.reason.translated == "The trousers are too small. Call me: [phone]"
    assert (view.reason.state, view.reason.state_label) == ("translated", "Machine translation")


def test_translation_text_is_masked_too() -> None:
    translation = TranslationResult(state="translated", original="x", text="mail bob@example.com",
                                    source_language="de", target_language="en")
    view = render("US", case_factory(reason_text="x"), translation=translation)
    assert view.reason is not None and view.reason.translated == "mail [email]"


def test_a_translation_for_another_language_is_ignored() -> None:
    translation = TranslationResult(state="translated", original=MASKED, text="…",
                                    source_language="de", target_language="ja")
    view = render("US", case_factory(reason_text=REASON, reason_language="de"),
                  translation=translation)
    assert view.reason is not None
    assert (view.reason.state, view.reason.translated) == ("pending", None)


def test_render_is_pure_and_the_view_round_trips() -> None:
    case = case_factory(reason_text=REASON, requested=Money(amount="10", currency="EUR"))
    first, second = render("SA", case), render("SA", case)
    assert first == second
    assert LocalizedCaseView.model_validate_json(first.model_dump_json()) == first


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        render_case(case_factory(), region("DE"), now=datetime(2026, 1, 1), translation=None)


@pytest.mark.parametrize(
    ("code", "kind", "label", "due"),
    [
        ("DE", "breach", "SLA überschritten", "14.03.2026, 14:30:00"),
        ("JP", "warning", "期限が近づいています", "2026/03/14 22:30:00"),
        ("SA", "breach", "تم تجاوز اتفاقية مستوى الخدمة", "١٤\u200f/٠٣\u200f/٢٠٢٦، ٤:٣٠:٠٠ م"),
    ],
)
def test_sla_alert_is_localized(code: str, kind: AlertKind, label: str, due: str) -> None:
    alert = SlaAlert(kind, "first_response", OPENED + timedelta(hours=1))
    view = render(code, alert=alert)
    assert view.alert is not None
    assert (view.alert.kind, view.alert.deadline, view.alert.label) == (
        kind, "first_response", label)
    assert view.alert.due.formatted == due
    assert render(code).alert is None


def test_naive_alert_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        render("DE", alert=SlaAlert("breach", "x", datetime(2026, 1, 1)))


def test_with_translation_replaces_only_the_reason() -> None:
    case = case_factory(reason_text=REASON, reason_language="de",
                        requested=Money(amount="10", currency="EUR"))
    pending = render("US", case)
    assert pending.reason is not None and pending.reason.state == "pending"
    translation = TranslationResult(
        state="translated", original=MASKED, text="Too small, call [phone]",
        source_language="de", target_language="en")
    updated = with_translation(pending, translation, region("US"))
    assert updated.reason is not None
    assert (updated.reason.state, updated.reason.translated, updated.reason.state_label) == (
        "translated", "Too small, call [phone]", "Machine translation")
    assert updated.model_dump(exclude={"reason"}) == pending.model_dump(exclude={"reason"})
    with pytest.raises(ValueError, match="another region"):
        with_translation(pending, translation, region("DE"))


@pytest.mark.parametrize(
    ("code", "intl", "direction", "title", "requested"),
    [
        ("DE", "de-DE-u-nu-latn", "ltr", "Support-Konsole", "Beantragt"),
        ("SA", "ar-SA-u-nu-arab", "rtl", "وحدة تحكم الدعم", "تم تقديم الطلب"),
        ("CN", "zh-Hans-CN-u-nu-latn", "ltr", "客服控制台", "已申请"),
    ],
)
def test_describe_region_for_the_console(
    code: str, intl: str, direction: str, title: str, requested: str
) -> None:
    described = describe_region(region(code))
    assert (described.intl_locale, described.direction) == (intl, direction)
    assert described.labels["title"] == title
    assert described.status_labels["requested"] == requested
    assert set(described.status_labels) == set(CASE_STATUS)
    assert "%(count)s" in described.labels["cases_shown"]


# --- hub feed render -------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def case_file(tmp_path: Path) -> Path:
    path = tmp_path / "case.json"
    case = case_factory(requested=Money(amount="1234", currency="JPY"),
                        reason_text="サイズが合わない")
    path.write_text(case.model_dump_json(), encoding="utf-8")
    return path


def test_cli_renders_pretty_json(case_file: Path) -> None:
    result = runner.invoke(feed_cli, ["render", "--region", "jp", str(case_file),
                                      "--at", "2026-03-14T15:30:00Z"])
    assert result.exit_code == 0, result.output
    view = json.loads(result.stdout)
    assert (view["region"], view["requested"]["formatted"], view["age"]) == (
        "JP", "￥1,234", "3 時間前に作成")
    assert view["reason"]["state"] == "not_needed"
    assert result.stdout.startswith("{\n  ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--region", "XX"], "unknown region 'XX'", id="unknown-region"),
        pytest.param(["--region", "DE", "--at", "yesterday"], "--at: not an ISO 8601 time",
                     id="bad-at"),
        pytest.param(["--region", "DE", "--at", "2026-03-14T15:30"], "has no UTC offset",
                     id="naive-at"),
    ],
)
def test_cli_usage_errors(case_file: Path, args: list[str], message: str) -> None:
    result = runner.invoke(feed_cli, ["render", *args, str(case_file)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("{not json", "invalid case JSON", id="not-json"),
        pytest.param('{"case_id": "c", "status": "lost"}', "status: Input should be",
                     id="bad-status"),
        pytest.param('{"status": "closed"}', "case_id: Field required", id="missing-id"),
    ],
)
def test_cli_invalid_case_json(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "case.json"
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(feed_cli, ["render", "--region", "DE", str(path)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_cli_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(feed_cli, ["render", "--region", "DE", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr


@pytest.mark.parametrize(
    ("overrides", "kind", "value"),
    [
        ({"order_id": "114-3941689-8772232"}, "order", "114-3941689-8772232"),
        ({"order_id": None, "return_tracking_numbers": ["1Z999AA10123456784"]},
         "tracking_number", "1Z999AA10123456784"),
        ({"order_id": None}, "case", "case-view-test"),
    ],
)
def test_a_card_is_headed_by_the_number_an_agent_searches_for(
    overrides: dict[str, Any], kind: str, value: str
) -> None:
    view = render("DE", case_factory(case_id="case-view-test", **overrides))

    assert view.headline is not None
    assert (view.headline.kind, view.headline.value) == (kind, value)
    assert view.headline.label == view.labels[kind]
    assert render("JP", case_factory(order_id="503-1")).headline.label == "注文"  # type: ignore[union-attr]
