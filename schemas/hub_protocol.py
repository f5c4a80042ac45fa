"""The hub-native marketplace protocol, version 1: what a marketplace without its own API sends.

A marketplace that integrates with the hub directly produces one JSON object per fact to the
`raw.hub` topic (no HTTP, no signature: `kafka-direct`). The object is one of the event models
below, told apart by `event_type`; every model is strict (unknown fields are rejected), amounts
are decimal strings in major units never finer than the currency's minor unit, and times are
RFC 3339 with an explicit offset. `docs/hub-protocol.md` documents every field with one full
example per event type; `export_json_schema()` is what `hub schemas export` writes.

Compatibility: a new optional field or a new event type is a minor change within version 1; a
renamed or removed field, a new required field or a changed meaning needs `protocol_version: 2`.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, Self

from babel import Locale
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    model_validator,
)

from schemas.events import ReasonCode
from schemas.money import Money, normalize_currency

PROTOCOL_VERSION = 1
SCHEMA_ID = "https://aftersales-hub.example/schemas/hub-protocol/v1.json"

_STRICT = ConfigDict(frozen=True, extra="forbid")
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"
)
_DECIMAL = re.compile(r"^(0|[1-9]\d*)(\.\d+)?$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_ISO_3166_ALPHA_2: frozenset[str] = frozenset(
    code
    for code in Locale("en").territories
    if isinstance(code, str) and len(code) == 2 and code.isalpha()
) - {"EU", "EZ", "UN", "QO", "ZZ"}


def _rfc3339(text: str) -> str:
    if not _RFC3339.match(text):
        raise ValueError("must be RFC 3339 with an explicit offset, e.g. 2026-02-27T14:05:09+09:00")
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"not a valid date and time: {exc}") from exc
    return text


def _currency(code: str) -> str:
    if code != code.upper() or len(code) != 3:
        raise ValueError("must be an upper-case ISO 4217 code")
    return normalize_currency(code)


def _country(code: str) -> str:
    if code not in _ISO_3166_ALPHA_2:
        raise ValueError("must be an upper-case ISO 3166-1 alpha-2 country code")
    return code


def _decimal_string(text: str) -> str:
    if not _DECIMAL.match(text):
        raise ValueError("must be a non-negative decimal string such as \"12.345\" (no exponent)")
    return text


def _language(tag: str) -> str:
    if not _LANGUAGE.match(tag):
        raise ValueError("must be a BCP 47 language tag such as \"pt-BR\" or \"ja\"")
    return tag


def _exactly_one(value: object) -> object:
    if type(value) is not int:
        raise ValueError("protocol_version must be the JSON integer 1")
    return value


ProtocolVersion = Annotated[
    Literal[1], BeforeValidator(_exactly_one), Field(description="always 1 in this version")
]
Timestamp = Annotated[
    str,
    Field(
        pattern=_RFC3339.pattern,
        description="RFC 3339 date-time with an explicit offset (Z, +09:00, -03:00)",
        json_schema_extra={"format": "date-time"},
    ),
    AfterValidator(_rfc3339),
]
CurrencyCode = Annotated[
    str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code"), AfterValidator(_currency)
]
CountryCode = Annotated[
    str,
    Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code"),
    AfterValidator(_country),
]
DecimalString = Annotated[
    str,
    Field(
        pattern=_DECIMAL.pattern,
        description="amount in major units as a decimal string (\"1200\" JPY, \"12.345\" KWD)",
    ),
    AfterValidator(_decimal_string),
]
LanguageTag = Annotated[
    str,
    Field(pattern=_LANGUAGE.pattern, description="BCP 47 language tag of `reason`"),
    AfterValidator(_language),
]
Identifier = Annotated[str, Field(min_length=1, max_length=200)]
MarketplaceName = Annotated[
    str,
    Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$",
          description="the marketplace's registered name in the hub, e.g. \"rakuma-jp\""),
]


class Amount(BaseModel):
    """An amount of money: a decimal string in major units and its ISO 4217 currency."""

    model_config = _STRICT

    amount: DecimalString
    currency: CurrencyCode

    @model_validator(mode="after")
    def _not_finer_than_minor_unit(self) -> Self:
        try:
            self.to_money().to_minor_units()
        except (ValueError, InvalidOperation) as exc:
            raise ValueError(
                f"{self.amount} {self.currency} has more decimals than the currency's minor unit"
            ) from exc
        return self

    def to_money(self) -> Money:
        """The amount as the hub's exact `Money`."""
        return Money(amount=Decimal(self.amount), currency=self.currency)


class Label(BaseModel):
    """A return shipping label: who carries the parcel and its tracking number."""

    model_config = _STRICT

    carrier: Annotated[str, Field(min_length=1, max_length=100)]
    tracking_number: Annotated[str, Field(min_length=1, max_length=100)]


class HubEventBase(BaseModel):
    """Fields every protocol event carries."""

    model_config = _STRICT

    protocol_version: ProtocolVersion
    event_id: Identifier = Field(description="the marketplace's own unique id of this fact")
    marketplace: MarketplaceName
    occurred_at: Timestamp
    order_id: Identifier
    buyer_country: CountryCode | None = None
    seller_country: CountryCode | None = None


class WithReason(BaseModel):
    """Why something happened: a canonical code, the marketplace's own code, free text."""

    reason_code: ReasonCode | None = None
    marketplace_reason_code: Identifier | None = Field(
        default=None, description="the marketplace's own reason code, kept as received"
    )
    reason: Annotated[str, Field(min_length=1, max_length=4000)] | None = Field(
        default=None, description="free text as written by the buyer or the marketplace"
    )
    language: LanguageTag | None = None

    @model_validator(mode="after")
    def _language_describes_reason(self) -> Self:
        if self.language is not None and self.reason is None:
            raise ValueError("language describes `reason`; it needs a reason")
        return self


class OrderPlaced(HubEventBase):
    """A buyer placed an order."""

    event_type: Literal["order.placed"]
    amount: Amount


class OrderCancelled(HubEventBase, WithReason):
    """An order was cancelled (by the buyer, the seller or the marketplace)."""

    event_type: Literal["order.cancelled"]
    amount: Amount | None = None


class ReturnRequested(HubEventBase, WithReason):
    """The buyer asked to return items of an order."""

    event_type: Literal["return.requested"]
    return_id: Identifier
    amount: Amount | None = Field(default=None, description="value of the items to return")


class ReturnApproved(HubEventBase):
    """The seller or the marketplace accepted a return."""

    event_type: Literal["return.approved"]
    return_id: Identifier


class ReturnRejected(HubEventBase, WithReason):
    """A return was declined; `reason` says why."""

    event_type: Literal["return.rejected"]
    return_id: Identifier


class ReturnClosed(HubEventBase):
    """A return reached its end (received and settled, cancelled or expired)."""

    event_type: Literal["return.closed"]
    return_id: Identifier


class ReturnLabelCreated(HubEventBase):
    """A return shipping label was issued to the buyer."""

    event_type: Literal["return.label_created"]
    return_id: Identifier
    label: Label


class RefundBase(HubEventBase):
    """Fields every refund event carries."""

    refund_id: Identifier
    return_id: Identifier | None = None
    payment_reference: Identifier | None = Field(
        default=None, description="the payment provider's id of the refunded payment or refund"
    )
    amount: Amount


class RefundRequested(RefundBase, WithReason):
    """A refund was initiated and is waiting for the money to move."""

    event_type: Literal["refund.requested"]


class RefundSucceeded(RefundBase):
    """Money went back to the buyer."""

    event_type: Literal["refund.succeeded"]


class RefundFailed(RefundBase, WithReason):
    """A refund could not be paid out; `reason` says why."""

    event_type: Literal["refund.failed"]


HubEvent = Annotated[
    OrderPlaced | OrderCancelled
    | ReturnRequested | ReturnApproved | ReturnRejected | ReturnClosed | ReturnLabelCreated
    | RefundRequested | RefundSucceeded | RefundFailed,
    Field(discriminator="event_type"),
]

HUB_PROTOCOL_ADAPTER: TypeAdapter[HubEvent] = TypeAdapter(HubEvent)


def export_json_schema() -> dict[str, Any]:
    """The protocol as a JSON Schema (draft 2020-12), for marketplaces and `hub schemas export`."""
    schema = HUB_PROTOCOL_ADAPTER.json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Aftersales hub marketplace protocol v1",
        "description": (
            "One JSON object per marketplace fact, produced to the raw.hub topic. "
            "See docs/hub-protocol.md."
        ),
        **schema,
    }
