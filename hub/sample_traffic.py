"""Realistic after-sales traffic in the providers' native formats, for the demo, tests and bench.

Each case is a small story told by several providers in their own formats, languages, time
zones and currencies: a marketplace order and return (Shopify webhooks or the hub-native
protocol), the return label, carrier scans of the return parcel (with customs on cross-border
returns), and the refund from the payment provider (Stripe or Adyen). Deterministic for a seed:
the same call gives the same bytes, so a run can be compared with another run of itself.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class SamplePayload:
    """One provider delivery: its raw topic's source, key, body and HTTP headers."""

    source: str
    key: bytes
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True, slots=True)
class CaseStory:
    """The payloads of one case, in the order the providers would send them."""

    order_id: str
    payloads: list[SamplePayload]
    expected_status: str
    expected_refunded: dict[str, Decimal]


_BASE = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
_START_CYCLE = 10_000
"""Stories start minutes apart and repeat their start times every this many cases (about seven
weeks), so the benchmark's millionth case still happened in the past: canonical events more than
two days after their receipt are rejected (`schemas.events.FUTURE_TOLERANCE`)."""

_EU_BUYERS = [
    ("DE", "Die Kopfhörer kamen mit gebrochenem Bügel an.", "de", "damaged", "EUR"),
    ("FR", "Le colis est arrivé abîmé, l'écran est fissuré.", "fr", "damaged", "EUR"),
    ("ES", "La talla es demasiado pequeña, quiero devolverla.", "es", "size_fit", "EUR"),
]
_JP_TEXT = ("サイズが合わないので返品したいです。", "ja")
_SHOPIFY_REASONS = {"damaged": "defective", "size_fit": "size_too_small"}


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _iso(instant: datetime, offset_hours: int) -> str:
    return instant.astimezone(timezone(timedelta(hours=offset_hours))).isoformat(timespec="seconds")


def _minor(amount: Decimal, exponent: int) -> int:
    return int(amount.scaleb(exponent))


def shopify_story(n: int, rng: random.Random, *, later: int = 0) -> CaseStory:
    """A European buyer returns a Shopify order; Stripe refunds it in two parts.

    `later` > 0: the buyer's `later`-th further return of the same order (another item, three
    weeks after the previous one, its own label, parcel and refunds), without the order's
    creation: a case of its own on the same order.
    """
    country, note, _language, reason, currency = _EU_BUYERS[n % len(_EU_BUYERS)]
    order_id = 5_900_000_000_000 + n
    return_id = 17_800_000_000 + n if not later else 18_000_000_000 + later * 10_000_000 + n
    tracking = f"JD01460{later:02d}{n:08d}"
    start = _BASE + timedelta(minutes=7 * (n % _START_CYCLE), weeks=3 * later)
    total = Decimal(rng.choice(["59.90", "129.00", "249.50", "89.99"]))
    first_refund = (total * Decimal("0.6")).quantize(Decimal("0.01"))
    shop = "nordwind-home.myshopify.com"
    line_item = 20_900_000_000 + n + later * 100_000_000
    delivery = 9_300_000_000 + n + later * 100_000_000
    first_part, second_part = chr(ord("a") + 2 * later), chr(ord("b") + 2 * later)

    def headers(topic: str, suffix: str, hours: float) -> dict[str, str]:
        triggered = (start + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")
        return {
            "x-shopify-triggered-at": triggered,
            "content-type": "application/json",
            "x-shopify-topic": topic,
            "x-shopify-shop-domain": shop,
            "x-shopify-api-version": "2026-01",
            "x-shopify-webhook-id": f"{n:08x}-{later}{suffix[1:]}-4a18-b6e4-91c7f2a83d55",
        }

    order = {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{1000 + n}",
        "created_at": _iso(start, 1),
        "currency": currency,
        "presentment_currency": currency,
        "total_price": str(total),
        "financial_status": "paid",
        "customer_locale": "de",
        "payment_gateway_names": ["shopify_payments"],
        "billing_address": {"country_code": country},
        "shipping_address": {"country_code": country},
        "line_items": [{"id": 14_800_000_000_000 + n, "quantity": 1, "price": str(total)}],
    }
    request = {
        "id": return_id,
        "admin_graphql_api_id": f"gid://shopify/Return/{return_id}",
        "status": "requested",
        "order": {"id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}"},
        "name": f"#{1000 + n}-R{later + 1}",
        "total_return_line_items": 1,
        "return_line_items": [
            {
                "id": line_item,
                "admin_graphql_api_id": f"gid://shopify/ReturnLineItem/{line_item}",
                "quantity": 1,
                "return_reason": _SHOPIFY_REASONS[reason],
                "return_reason_note": "",
                "customer_note": note,
            }
        ],
        "return_shipping_fees": [],
        "exchange_line_items": [],
        "total_exchange_line_items": 0,
    }
    approve = {**request, "status": "open"}
    label = {
        "id": delivery,
        "admin_graphql_api_id": f"gid://shopify/ReverseDelivery/{delivery}",
        "return": {"id": return_id, "admin_graphql_api_id": f"gid://shopify/Return/{return_id}"},
        "shipping_deliverable": {
            "tracking": {
                "carrier_name": "DHL Parcel",
                "tracking_number": tracking,
                "tracking_url": f"https://www.dhl.de/de/privatkunden.html?piececode={tracking}",
            },
            "label": {
                "public_file_url": f"https://cdn.shopify.com/labels/{tracking}.pdf",
                "created_at": _iso(start + timedelta(hours=30), 1),
            },
        },
    }
    created = SamplePayload(
        "shopify", str(order_id).encode(), _json(order), headers("orders/create", "0001", 0)
    )
    payloads = [
        *([] if later else [created]),
        SamplePayload(
            "shopify",
            str(return_id).encode(),
            _json(request),
            headers("returns/request", "0002", 26),
        ),
        SamplePayload(
            "shopify",
            str(return_id).encode(),
            _json(approve),
            headers("returns/approve", "0003", 29),
        ),
        SamplePayload(
            "shopify",
            str(return_id).encode(),
            _json(label),
            headers("reverse_deliveries/attach_deliverable", "0004", 30),
        ),
    ]
    payloads.append(_dhl_return_scans(tracking, country, start + timedelta(days=2)))
    payloads += [
        _stripe_refund(
            n, str(order_id), first_refund, currency, start + timedelta(days=5), first_part
        ),
        _stripe_refund(
            n, str(order_id), total - first_refund, currency, start + timedelta(days=6),
            second_part,
        ),
    ]
    return CaseStory(str(order_id), payloads, "refunded", {currency: total})


def _dhl_return_scans(tracking: str, origin: str, first_scan: datetime) -> SamplePayload:
    """DHL Shipment Tracking (unified) for the return parcel, newest event first, as DHL sends."""
    steps = [
        (
            timedelta(0),
            "pre-transit",
            "PARCEL_DATA_RECEIVED",
            "Die Sendungsdaten wurden übermittelt.",
            origin,
        ),
        (timedelta(hours=20), "transit", "PICKED_UP", "Die Sendung wurde abgeholt.", origin),
        (
            timedelta(days=1, hours=6),
            "transit",
            "ARRIVED_AT_HUB",
            "Die Sendung wurde im Start-Paketzentrum bearbeitet.",
            "DE",
        ),
        (
            timedelta(days=2, hours=2),
            "delivered",
            "DELIVERED",
            "Die Sendung wurde erfolgreich zugestellt.",
            "DE",
        ),
    ]
    events = [
        {
            "timestamp": _iso(first_scan + delta, 1),
            "location": {
                "address": {
                    "countryCode": country,
                    "addressLocality": "Bonn" if country == "DE" else None,
                }
            },
            "statusCode": code,
            "status": status,
            "description": text,
        }
        for delta, code, status, text, country in reversed(steps)
    ]
    body = {
        "shipments": [
            {
                "id": tracking,
                "service": "parcel-de",
                "origin": {"address": {"countryCode": origin}},
                "destination": {"address": {"countryCode": "DE"}},
                "status": events[0],
                "events": events,
            }
        ]
    }
    return SamplePayload("dhl", tracking.encode(), _json(body), {"content-language": "de"})


def _stripe_refund(
    n: int, order_id: str, amount: Decimal, currency: str, when: datetime, part: str
) -> SamplePayload:
    refund_id = f"re_3Q{n:010d}{part}Kx"
    exponent = 0 if currency in ("JPY", "KRW") else 2
    event = {
        "id": f"evt_3Q{n:010d}{part}Rf",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(when.timestamp()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": f"req_{n:08d}{part}", "idempotency_key": None},
        "type": "refund.created",
        "data": {
            "object": {
                "id": refund_id,
                "object": "refund",
                "amount": _minor(amount, exponent),
                "currency": currency.lower(),
                "charge": f"ch_3Q{n:010d}Ch",
                "payment_intent": f"pi_3Q{n:010d}Pi",
                "created": int(when.timestamp()),
                "metadata": {"order_id": order_id},
                "reason": "requested_by_customer",
                "status": "succeeded",
            }
        },
    }
    return SamplePayload(
        "stripe",
        refund_id.encode(),
        _json(event),
        {"content-type": "application/json; charset=utf-8"},
    )


def hub_protocol_story(n: int, rng: random.Random) -> CaseStory:
    """A Japanese marketplace on the hub-native protocol; Adyen refunds in yen."""
    order_id = f"RKM-202602-{n:06d}"
    return_id = f"RKM-RET-{n:06d}"
    start = _BASE + timedelta(minutes=5 * (n % _START_CYCLE) + 3)
    total = Decimal(rng.choice(["12800", "5980", "19940", "3300"]))
    text, language = _JP_TEXT
    tracking = f"RR{n:09d}CN"

    def event(event_type: str, hours: float, **fields: Any) -> SamplePayload:
        body = {
            "protocol_version": 1,
            "event_type": event_type,
            "event_id": f"rkm-{event_type}-{n:06d}",
            "marketplace": "rakuma-jp",
            "occurred_at": _iso(start + timedelta(hours=hours), 9),
            "order_id": order_id,
            **fields,
        }
        return SamplePayload("hub", order_id.encode(), _json(body))

    payloads = [
        event(
            "order.placed",
            0,
            amount={"amount": str(total), "currency": "JPY"},
            buyer_country="JP",
            seller_country="CN",
        ),
        event(
            "return.requested",
            50,
            return_id=return_id,
            reason_code="size_fit",
            reason=text,
            language=language,
            amount={"amount": str(total), "currency": "JPY"},
        ),
        event("return.approved", 53, return_id=return_id),
        event(
            "return.label_created",
            54,
            return_id=return_id,
            label={"carrier": "China Post", "tracking_number": tracking},
        ),
        _track17_return_scans(tracking, start + timedelta(days=2, hours=12)),
        _adyen_refund(n, order_id, total, "JPY", start + timedelta(days=9)),
    ]
    return CaseStory(order_id, payloads, "refunded", {"JPY": total})


def _track17_return_scans(tracking: str, first_scan: datetime) -> SamplePayload:
    """A 17TRACK push for a China Post return parcel Tokyo -> Guangzhou, held then released
    by Chinese customs; descriptions in Chinese as the carrier writes them."""
    steps = [
        (
            timedelta(0),
            9,
            "JP",
            "Tokyo",
            "东京",
            "【东京】已收寄",
            "InTransit",
            "InTransit_PickedUp",
        ),
        (
            timedelta(days=1),
            9,
            "JP",
            "Tokyo",
            "东京",
            "【东京国际邮件互换局】已出口直封",
            "InTransit",
            "InTransit_Departure",
        ),
        (
            timedelta(days=2),
            8,
            "CN",
            "Guangzhou",
            "广州",
            "【广州】海关查验，包裹扣留",
            None,
            "InTransit_CustomsProcessing",
        ),
        (
            timedelta(days=3),
            8,
            "CN",
            "Guangzhou",
            "广州",
            "【广州】海关放行",
            None,
            "InTransit_CustomsReleased",
        ),
        (
            timedelta(days=4),
            8,
            "CN",
            "Guangzhou",
            "广州",
            "【广州】已妥投",
            "Delivered",
            "Delivered_Other",
        ),
    ]
    events = []
    for delta, offset, country, city, location, text, stage, sub_status in reversed(steps):
        instant = first_scan + delta
        events.append(
            {
                "time_iso": _iso(instant, offset),
                "time_utc": instant.isoformat().replace("+00:00", "Z"),
                "description": text,
                "location": location,
                "stage": stage,
                "sub_status": sub_status,
                "address": {
                    "country": country,
                    "state": None,
                    "city": city,
                    "street": None,
                    "postal_code": None,
                    "coordinates": {"longitude": None, "latitude": None},
                },
            }
        )
    body = {
        "event": "TRACKING_UPDATED",
        "data": {
            "number": tracking,
            "carrier": 3011,
            "param": None,
            "tag": None,
            "track_info": {
                "shipping_info": {
                    "shipper_address": {
                        "country": "JP",
                        "state": None,
                        "city": "Tokyo",
                        "street": None,
                        "postal_code": None,
                        "coordinates": {"longitude": None, "latitude": None},
                    },
                    "recipient_address": {
                        "country": "CN",
                        "state": "Guangdong",
                        "city": "Guangzhou",
                        "street": None,
                        "postal_code": None,
                        "coordinates": {"longitude": None, "latitude": None},
                    },
                },
                "latest_status": {
                    "status": "Delivered",
                    "sub_status": "Delivered_Other",
                    "sub_status_descr": None,
                },
                "latest_event": events[0],
                "time_metrics": {
                    "days_after_order": 4,
                    "days_of_transit": 4,
                    "days_of_transit_done": 4,
                    "days_after_last_update": 0,
                    "estimated_delivery_date": {"source": None, "from": None, "to": None},
                },
                "milestone": [],
                "misc_info": {
                    "risk_factor": 0,
                    "service_type": "挂号小包",
                    "weight_raw": "0.640",
                    "weight_kg": "0.640",
                    "pieces": "1",
                    "dimensions": None,
                    "customer_number": None,
                    "reference_number": None,
                    "local_number": None,
                    "local_provider": None,
                    "local_key": 0,
                },
                "tracking": {
                    "providers_hash": 1840275593,
                    "providers": [
                        {
                            "provider": {
                                "key": 3011,
                                "name": "China Post",
                                "alias": "China Post",
                                "tel": "11183",
                                "homepage": "http://www.chinapost.com.cn/",
                                "country": "CN",
                            },
                            "service_type": "挂号小包",
                            "latest_sync_status": "Success",
                            "latest_sync_time": events[0]["time_utc"],
                            "events_hash": -582019374,
                            "events": events,
                        }
                    ],
                },
            },
        },
    }
    return SamplePayload(
        "17track", tracking.encode(), _json(body), {"content-type": "application/json"}
    )


def _adyen_refund(
    n: int, order_id: str, amount: Decimal, currency: str, when: datetime
) -> SamplePayload:
    psp = f"QX{n:012d}RF"
    body = {
        "live": "false",
        "notificationItems": [
            {
                "NotificationRequestItem": {
                    "additionalData": {},
                    "amount": {
                        "currency": currency,
                        "value": _minor(amount, 0 if currency == "JPY" else 2),
                    },
                    "eventCode": "REFUND",
                    "eventDate": _iso(when, 1),
                    "merchantAccountCode": "RakumaJP",
                    "merchantReference": order_id,
                    "originalReference": f"QX{n:012d}PY",
                    "paymentMethod": "visa",
                    "pspReference": psp,
                    "reason": "",
                    "success": "true",
                }
            }
        ],
    }
    return SamplePayload("adyen", psp.encode(), _json(body), {"content-type": "application/json"})


STORIES: list[Callable[[int, random.Random], CaseStory]] = [shopify_story, hub_protocol_story]


def generate(cases: int, *, seed: int = 7) -> list[CaseStory]:
    """`cases` stories, alternating between the story kinds."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not security
    return [STORIES[n % len(STORIES)](n, rng) for n in range(cases)]


def payloads(stories: list[CaseStory]) -> Iterator[SamplePayload]:
    for story in stories:
        yield from story.payloads
