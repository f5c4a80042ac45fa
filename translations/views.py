"""A case as one regional team reads it: labels, amounts, times and text in the region's locale.

`render_case(case, region, now=..., translation=...)` is pure: the same case, region, instant
and translation always give the same view. Strings come from the gettext catalogs; amounts from
babel's `format_currency` (the currency's own decimals: none for JPY); times from
`format_datetime` in the region's time zone, and ages from `format_timedelta` relative to the
injected `now`. Every free text is masked by `privacy.mask_personal_data`.

Digits follow the locale's CLDR default numbering system. For ar_SA that is `arab`: babel 2.18
applies that system's symbols (`٬` grouping, `٫` decimal) when asked with `numbering_system`, but
keeps ASCII digits and formats dates with ASCII digits always, so the view transliterates 0-9 to
Arabic-Indic digits (U+0660..U+0669) itself, as ICU does with CLDR data: SAR 1234.56 renders
as RLM `١٬٢٣٤٫٥٦` NBSP `ر.س.` RLM. A region may set
`numbering = "latn"` to keep ASCII digits. Dates use the Gregorian calendar (the only one babel
formats), also for ar_SA.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from types import MappingProxyType
from typing import Literal

from babel import Locale
from babel.dates import format_datetime, format_timedelta
from babel.lists import format_list
from babel.numbers import format_currency
from pydantic import BaseModel, ConfigDict, Field

from schemas.actions import (
    ActionEntry,
    ActionKind,
    AgentRef,
    Proposal,
    ReplyTranslation,
    ResolutionKind,
)
from schemas.case import Case, CaseStatus, CaseType, ReturnShipment
from schemas.events import ReasonCode
from schemas.money import Money
from schemas.timestamps import UtcDatetime, zone
from translations import labels
from translations.catalogs import gettext
from translations.glossary import primary_language
from translations.labels import Message
from translations.language import detect_language
from translations.machine import TranslationResult, TranslationState
from translations.marketplaces import marketplace_name
from translations.privacy import masked
from translations.regions import Region

JUST_NOW = timedelta(minutes=1)
"""Ages under this read "just now" rather than "in 0 seconds"."""

FORMAT_CACHE_SIZE = 4096
"""Formatted amounts, instants and labels remembered per locale: a case's amounts and times come
back in every version of the case, and babel's formatting was most of the cost of a render."""

# Digits of the CLDR numbering systems a region may use; others fall back to ASCII.
_DIGITS: dict[str, str] = {"arab": "٠١٢٣٤٥٦٧٨٩", "arabext": "۰۱۲۳۴۵۶۷۸۹"}
_DIGIT_TABLES: dict[str, dict[int, int]] = {
    system: str.maketrans("0123456789", digits) for system, digits in _DIGITS.items()
}

_FROZEN = ConfigDict(frozen=True, extra="forbid")
# The instant of renderers that format labels only, never a relative time.
_NO_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)


class LocalizedMoney(BaseModel):
    """An amount, exact and as the region reads it."""

    model_config = _FROZEN

    amount: str
    currency: str
    formatted: str


class LocalizedTime(BaseModel):
    """An instant: in UTC, in the region's zone, formatted, and relative to `now`."""

    model_config = _FROZEN

    utc: UtcDatetime
    local: str = Field(description="ISO 8601 in the region's time zone, with its offset")
    formatted: str
    relative: str


class LocalizedShipment(BaseModel):
    """The return parcel's latest state."""

    model_config = _FROZEN

    tracking_number: str
    carrier: str | None
    status: str
    status_label: str
    updated: LocalizedTime | None


class LocalizedCustoms(BaseModel):
    """The customs state of the case's shipments."""

    model_config = _FROZEN

    status: str
    status_label: str
    country: str | None
    country_name: str | None
    duties: LocalizedMoney | None


class LocalizedText(BaseModel):
    """A buyer's free text (masked), and its translation when there is one."""

    model_config = _FROZEN

    original: str
    language: str | None
    translated: str | None
    state: TranslationState
    state_label: str


class LocalizedDeadline(BaseModel):
    """An SLA deadline: when, and whether it is breached at `now`."""

    model_config = _FROZEN

    at: LocalizedTime
    breached: bool
    state_label: str
    remaining: str = Field(description='"Due in 3 hours" or "Overdue by 2 hours", localized')


AlertKind = Literal["warning", "breach"]


@dataclass(frozen=True, slots=True)
class SlaAlert:
    """An SLA warning or breach to highlight on a case: which deadline, due when."""

    kind: AlertKind
    deadline: str
    due_at: datetime


class LocalizedAlert(BaseModel):
    """An SLA notification (warning or breach) as the region reads it."""

    model_config = _FROZEN

    kind: AlertKind
    deadline: str = Field(description="the deadline's name in the SLA rules (not translated)")
    label: str = Field(description='"SLA breached" or "Deadline approaching", localized')
    due: LocalizedTime


HeadlineKind = Literal["order", "tracking_number", "case"]


class LocalizedHeadline(BaseModel):
    """What heads a case card: the number an agent searches for, with its localized label."""

    model_config = _FROZEN

    kind: HeadlineKind = Field(
        description="order (the marketplace's order number), tracking_number (the return "
        "parcel's, when the case has no order number) or case (the hub's id, the last resort); "
        "also the key of its label in `labels`"
    )
    label: str = Field(description='"Order", "Tracking number" or "Case", localized')
    value: str


class LocalizedAgent(BaseModel):
    """An agent as a case shows them."""

    model_config = _FROZEN

    agent_id: str
    name: str


class LocalizedProposal(BaseModel):
    """A proposed resolution, with its money in the region's format."""

    model_config = _FROZEN

    resolution: ResolutionKind
    label: str
    amount: LocalizedMoney | None
    reason: str | None


class LocalizedReply(BaseModel):
    """A reply to the buyer: as the agent wrote it, and as the buyer receives it."""

    model_config = _FROZEN

    template: str | None
    text: str
    language: str
    buyer_text: str
    buyer_language: str
    buyer_language_name: str | None
    translation: ReplyTranslation
    translation_label: str


class LocalizedAction(BaseModel):
    """One line of the case's history: who did what, when, in the region's words and clock."""

    model_config = _FROZEN

    action_id: str
    kind: ActionKind
    label: str
    at: LocalizedTime
    agent: LocalizedAgent
    assignee: LocalizedAgent | None = None
    note: str | None = None
    evidence: list[str] = Field(default_factory=list, description="localized evidence asked for")
    request_text: str | None = None
    proposal: LocalizedProposal | None = None
    reply: LocalizedReply | None = None


SlaState = Literal["breached", "at_risk", "on_track"]


class LocalizedCaseView(BaseModel):
    """One case rendered for one region; what `feed.<region>` carries."""

    model_config = _FROZEN

    schema_version: Literal[1] = 1
    region: str
    locale: str
    direction: Literal["ltr", "rtl"]
    time_zone: str
    case_id: str
    order_id: str | None
    marketplace: str | None
    buyer_country: str | None
    buyer_country_name: str | None
    status: CaseStatus
    status_label: str
    case_type: CaseType
    case_type_label: str
    reason_code: ReasonCode | None
    reason_label: str | None
    reason: LocalizedText | None
    requested: LocalizedMoney | None
    refunded: list[LocalizedMoney]
    order_total: LocalizedMoney | None
    opened: LocalizedTime | None
    updated: LocalizedTime | None
    age: str | None = Field(description='"Opened 3 hours ago", localized')
    return_shipment: LocalizedShipment | None
    customs: LocalizedCustoms | None
    deadline: LocalizedDeadline | None
    labels: dict[str, str] = Field(description="field labels of the UI, localized")
    version: int
    alert: LocalizedAlert | None = Field(
        None, description="an SLA warning or breach to highlight (policy notifications)"
    )
    headline: LocalizedHeadline | None = Field(
        None, description="what heads the case's card; None only in views rendered before it "
        "was added"
    )
    marketplace_name: str | None = Field(None, description="the marketplace's display name")
    sla_state: SlaState | None = Field(
        None, description="breached, at risk (a warning) or on track; None without a deadline"
    )
    assignee: LocalizedAgent | None = None
    escalated: bool = False
    proposal: LocalizedProposal | None = None
    first_reply: LocalizedTime | None = None
    history: list[LocalizedAction] = Field(default_factory=list, description="oldest first")


class LocalizedRegion(BaseModel):
    """What a console needs to show one region's feed: locale, script direction, UI strings."""

    model_config = _FROZEN

    code: str
    name: str
    locale: str
    language: str
    direction: Literal["ltr", "rtl"]
    time_zone: str
    intl_locale: str = Field(
        description="BCP 47 tag for a browser's Intl API, with the region's digits (-u-nu-)"
    )
    labels: dict[str, str] = Field(description="field and console strings, localized")
    status_labels: dict[str, str] = Field(description="every case status, localized")
    display_name: str = Field("", description="the region's countries, in its language")
    reply_templates: dict[str, str] = Field(default_factory=dict,
                                            description="reply templates, in its language")
    resolution_labels: dict[str, str] = Field(default_factory=dict)
    evidence_labels: dict[str, str] = Field(default_factory=dict)
    reason_labels: dict[str, str] = Field(default_factory=dict)
    marketplaces: dict[str, str] = Field(default_factory=dict,
                                         description="the region's marketplaces: id -> name")


def _with_digits(text: str, numbering: str) -> str:
    table = _DIGIT_TABLES.get(numbering)
    return text.translate(table) if table else text


@cache  # one entry per locale of a region
def _babel_locale(locale: str) -> Locale:
    # babel parses a locale given by name again in every function it calls.
    return Locale.parse(locale)


@lru_cache(maxsize=FORMAT_CACHE_SIZE)
def _text(locale: str, message: Message) -> str:
    return gettext(locale, message.context, message.msgid)


@lru_cache(maxsize=FORMAT_CACHE_SIZE)
def _formatted_money(amount: str, currency: str, locale: str, numbering: str) -> str:
    # Keyed by the amount's exact text: equal Decimals (0 and -0) do not always format alike.
    formatted = format_currency(Decimal(amount), currency, locale=_babel_locale(locale),
                                numbering_system=numbering)
    return _with_digits(formatted, numbering)


@lru_cache(maxsize=FORMAT_CACHE_SIZE)
def _formatted_instant(
    utc: datetime, time_zone: str, locale: str, numbering: str
) -> tuple[str, str]:
    """The instant in the zone as ISO 8601, and in the locale's medium format."""
    # Keyed by the UTC instant: both strings depend on the instant only, and datetimes in one
    # zone that differ only by `fold` compare equal although they are different instants.
    tz = zone(time_zone)
    formatted = format_datetime(utc, "medium", tzinfo=tz, locale=_babel_locale(locale))
    return utc.astimezone(tz).isoformat(), _with_digits(formatted, numbering)


@cache  # one entry per locale of a region
def _field_labels(locale: str) -> Mapping[str, str]:
    # Read-only: the one mapping is shared by every view of the locale (pydantic copies it).
    return MappingProxyType({key: _text(locale, message) for key, message in labels.FIELD.items()})


class _Renderer:
    """Formatting helpers bound to one region and one instant."""

    def __init__(self, region: Region, now: datetime) -> None:
        self.region = region
        self.locale = region.locale
        self.babel_locale = region.babel_locale
        self.now = now
        system = (self.babel_locale.default_numbering_system
                  if region.numbering == "cldr" else "latn")
        self.numbering = system if system in _DIGITS else "latn"
        # A view shows the same instant more than once (opened and its age, a deadline and its
        # alert), and babel's format_timedelta is the costliest call left in a render.
        self._relative: dict[timedelta, str] = {}

    def digits(self, text: str) -> str:
        return _with_digits(text, self.numbering)

    def text(self, message: Message) -> str:
        return _text(self.locale, message)

    def money(self, money: Money | None) -> LocalizedMoney | None:
        if money is None:
            return None
        formatted = _formatted_money(str(money.amount), money.currency, self.locale,
                                     self.numbering)
        return LocalizedMoney(amount=format(money.amount, "f"), currency=money.currency,
                              formatted=formatted)

    def relative(self, at: datetime) -> str:
        delta = at - self.now
        if abs(delta) < JUST_NOW:
            return self.text(labels.JUST_NOW)
        found = self._relative.get(delta)
        if found is None:
            found = self.digits(
                format_timedelta(delta, add_direction=True, locale=self.babel_locale)
            )
            self._relative[delta] = found
        return found

    def time(self, at: datetime | None) -> LocalizedTime | None:
        if at is None:
            return None
        local, formatted = _formatted_instant(at.astimezone(UTC), self.region.time_zone,
                                              self.locale, self.numbering)
        return LocalizedTime(utc=at, local=local, formatted=formatted,
                             relative=self.relative(at))

    def country(self, code: str | None) -> str | None:
        if code is None:
            return None
        name = self.babel_locale.territories.get(code.upper())
        return str(name) if name else None


def render_case(
    case: Case,
    region: Region,
    *,
    now: datetime,
    translation: TranslationResult | None,
    return_shipment: ReturnShipment | None = None,
    deadline: datetime | None = None,
    alert: SlaAlert | None = None,
) -> LocalizedCaseView:
    """Render a case for a region at `now` (timezone-aware); pure and deterministic.

    `translation` is the `ResilientTranslator` result for the case's reason text in the region's
    language (None: not translated yet, shown as pending unless the text is already in the
    region's language). `return_shipment` (the return-shipping table's value) gives the richer
    return status when known; `deadline` renders an SLA deadline, `alert` an SLA warning or
    breach to highlight.

    Raises:
        ValueError: `now`, `deadline` or the alert's due time is naive.
    """
    if now.tzinfo is None or any(
        instant is not None and instant.tzinfo is None
        for instant in (deadline, alert.due_at if alert else None)
    ):
        raise ValueError("now, deadline and the alert's due time must be timezone-aware")
    r = _Renderer(region, now)
    opened = r.time(case.opened_at)
    return LocalizedCaseView(
        region=region.code,
        locale=region.locale,
        direction=region.direction,
        time_zone=region.time_zone,
        case_id=case.case_id,
        order_id=case.order_id,
        marketplace=case.marketplace,
        buyer_country=case.buyer_country,
        buyer_country_name=r.country(case.buyer_country),
        status=case.status,
        status_label=r.text(labels.CASE_STATUS[case.status]),
        case_type=case.case_type,
        case_type_label=r.text(labels.CASE_TYPE[case.case_type]),
        reason_code=case.reason_code,
        reason_label=r.text(labels.REASON[case.reason_code]) if case.reason_code else None,
        reason=_reason(case, r, translation),
        requested=r.money(case.requested),
        refunded=[money for money in map(r.money, case.refunded) if money is not None],
        order_total=r.money(case.order_total),
        opened=opened,
        updated=r.time(case.updated_at),
        age=_age(case, r),
        return_shipment=_return_shipment(case, return_shipment, r),
        customs=_customs(case, r),
        deadline=_deadline(deadline, r),
        labels=_field_labels(r.locale),
        version=case.version,
        alert=_alert(alert, r),
        headline=_headline(case, r),
        marketplace_name=marketplace_name(case.marketplace),
        sla_state=_sla_state(deadline, alert, r.now),
        assignee=_agent(case.assignee),
        escalated=case.escalated,
        proposal=_proposal(case.proposal, r),
        first_reply=r.time(case.milestones.first_reply_at),
        history=[_action(entry, r) for entry in case.history],
    )


def with_translation(
    view: LocalizedCaseView, translation: TranslationResult, region: Region
) -> LocalizedCaseView:
    """The same view with its reason text replaced by a (new) translation result.

    Used when a pending translation arrives later: the case version, times and everything else
    stay as they were rendered.

    Raises:
        ValueError: the view has no reason text, or belongs to another region.
    """
    if view.reason is None or view.region != region.code:
        raise ValueError("the view has no reason text or is another region's")
    r = _Renderer(region, _NO_INSTANT)  # only a label is formatted: no instant needed
    return view.model_copy(update={"reason": _translated_text(translation, r)})


def describe_region(region: Region) -> LocalizedRegion:
    """The region as a console shows it: locale, direction, Intl tag and localized strings."""
    r = _Renderer(region, _NO_INSTANT)
    strings = {key: r.text(message) for key, message in labels.FIELD.items()}
    strings.update({key: r.text(message) for key, message in labels.CONSOLE.items()})
    strings.update({f"sla_{key}": r.text(message) for key, message in labels.SLA_ALERT.items()})
    tag = region.babel_locale
    intl = "-".join(part for part in (tag.language, tag.script, tag.territory) if part)
    return LocalizedRegion(
        code=region.code, name=region.name, locale=region.locale, language=region.language,
        direction=region.direction, time_zone=region.time_zone,
        intl_locale=f"{intl}-u-nu-{r.numbering}", labels=strings,
        status_labels={status: r.text(message) for status, message in labels.CASE_STATUS.items()},
        display_name=_countries(region, r),
        reply_templates={key: r.text(message) for key, message in labels.REPLY_TEMPLATE.items()},
        resolution_labels={key: r.text(message) for key, message in labels.RESOLUTION.items()},
        evidence_labels={key: r.text(message) for key, message in labels.EVIDENCE.items()},
        reason_labels={key: r.text(message) for key, message in labels.REASON.items()},
        marketplaces={marketplace: marketplace_name(marketplace) or marketplace
                      for marketplace in region.marketplaces},
    )


def _countries(region: Region, r: _Renderer) -> str:
    """The region's buyer countries in its own language ("ドイツ、オーストリア、スイス")."""
    names = [name for name in map(r.country, region.buyer_countries) if name]
    return format_list(names, locale=r.babel_locale) if names else region.name


def _sla_state(deadline: datetime | None, alert: SlaAlert | None, now: datetime
               ) -> SlaState | None:
    if (deadline is not None and deadline <= now) or (alert and alert.kind == "breach"):
        return "breached"
    if alert is not None:
        return "at_risk"
    return "on_track" if deadline is not None else None


def _agent(agent: AgentRef | None) -> LocalizedAgent | None:
    return None if agent is None else LocalizedAgent(agent_id=agent.agent_id, name=agent.name)


def _proposal(proposal: Proposal | None, r: _Renderer) -> LocalizedProposal | None:
    if proposal is None:
        return None
    return LocalizedProposal(resolution=proposal.resolution,
                             label=r.text(labels.RESOLUTION[proposal.resolution]),
                             amount=r.money(proposal.amount),
                             reason=masked(proposal.reason) if proposal.reason else None)


def _action(entry: ActionEntry, r: _Renderer) -> LocalizedAction:
    action = entry.action
    at = r.time(entry.at)
    assert at is not None
    reply = None
    if action.reply is not None:
        sent = action.reply
        language = r.babel_locale.languages.get(primary_language(sent.buyer_language) or "")
        reply = LocalizedReply(
            template=sent.template, text=masked(sent.text), language=sent.language,
            buyer_text=masked(sent.buyer_text), buyer_language=sent.buyer_language,
            buyer_language_name=str(language) if language else None,
            translation=sent.translation,
            translation_label=r.text(labels.REPLY_TRANSLATION[sent.translation]))
    request = action.request
    return LocalizedAction(
        action_id=action.action_id, kind=action.kind, label=r.text(labels.ACTION_KIND[action.kind]),
        at=at, agent=LocalizedAgent(agent_id=action.agent.agent_id, name=action.agent.name),
        assignee=_agent(action.assignee),
        note=masked(action.note) if action.note else None,
        evidence=[r.text(labels.EVIDENCE[kind]) for kind in request.evidence] if request else [],
        request_text=masked(request.text) if request and request.text else None,
        proposal=_proposal(action.proposal, r), reply=reply,
    )


def _headline(case: Case, r: _Renderer) -> LocalizedHeadline:
    # Agents search by what the buyer quotes: the order number, else the return parcel's
    # tracking number; the case hash means nothing to a buyer and is the last resort.
    kind: HeadlineKind
    if case.order_id:
        kind, value = "order", case.order_id
    elif case.return_tracking_numbers:
        kind, value = "tracking_number", case.return_tracking_numbers[-1]
    else:
        kind, value = "case", case.case_id
    return LocalizedHeadline(kind=kind, label=r.text(labels.FIELD[kind]), value=value)


def _alert(alert: SlaAlert | None, r: _Renderer) -> LocalizedAlert | None:
    if alert is None:
        return None
    due = r.time(alert.due_at)
    assert due is not None
    return LocalizedAlert(kind=alert.kind, deadline=alert.deadline, due=due,
                          label=r.text(labels.SLA_ALERT[alert.kind]))


def _age(case: Case, r: _Renderer) -> str | None:
    if case.opened_at is None:
        return None
    if case.opened_at - r.now > -JUST_NOW:  # a minute old, or "future" by clock skew
        return r.text(labels.OPENED_JUST_NOW)
    return r.text(labels.OPENED_AGO) % {"age": r.relative(case.opened_at)}


def _reason(
    case: Case, r: _Renderer, translation: TranslationResult | None
) -> LocalizedText | None:
    if not case.reason_text:
        return None
    target = r.region.language
    if translation is not None and translation.target_language == target:
        return _translated_text(translation, r)
    original = masked(case.reason_text)
    language = primary_language(case.reason_language) or detect_language(original)
    state: TranslationState = "not_needed" if language == target else "pending"
    return LocalizedText(original=original, language=language, translated=None,
                         state=state, state_label=r.text(labels.TRANSLATION_STATE[state]))


def _translated_text(translation: TranslationResult, r: _Renderer) -> LocalizedText:
    state = translation.state
    translated = masked(translation.text) if translation.text else None
    return LocalizedText(original=masked(translation.original),
                         language=translation.source_language, translated=translated,
                         state=state, state_label=r.text(labels.TRANSLATION_STATE[state]))


def _return_shipment(
    case: Case, shipment: ReturnShipment | None, r: _Renderer
) -> LocalizedShipment | None:
    if shipment is not None:
        return LocalizedShipment(
            tracking_number=shipment.tracking_number, carrier=shipment.carrier,
            status=shipment.status,
            status_label=r.text(labels.RETURN_SHIPPING_STATUS[shipment.status]),
            updated=r.time(shipment.updated_at),
        )
    if case.shipment is None:
        return None
    return LocalizedShipment(
        tracking_number=case.shipment.tracking_number, carrier=case.shipment.carrier,
        status=case.shipment.status,
        status_label=r.text(labels.SHIPMENT_STATUS[case.shipment.status]),
        updated=r.time(case.shipment.updated_at),
    )


def _customs(case: Case, r: _Renderer) -> LocalizedCustoms | None:
    if case.customs is None:
        return None
    return LocalizedCustoms(
        status=case.customs.status,
        status_label=r.text(labels.CUSTOMS_STATUS[case.customs.status]),
        country=case.customs.country,
        country_name=r.country(case.customs.country),
        duties=r.money(case.customs.duties),
    )


def _deadline(deadline: datetime | None, r: _Renderer) -> LocalizedDeadline | None:
    if deadline is None:
        return None
    at = r.time(deadline)
    assert at is not None
    breached = deadline <= r.now
    span = r.digits(format_timedelta(abs(deadline - r.now), locale=r.babel_locale))
    remaining = r.text(labels.OVERDUE_BY if breached else labels.DUE_IN) % {"time": span}
    return LocalizedDeadline(
        at=at, breached=breached, remaining=remaining,
        state_label=r.text(labels.FIELD["breached"] if breached else labels.FIELD["on_track"]),
    )
