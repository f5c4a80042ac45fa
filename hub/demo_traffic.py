"""First-run traffic for `hub run`: every region's cases, in its language, timed relative to now.

`hub.sample_traffic.generate` is fixed in time (February 2026) and only tells European Shopify
and Japanese stories: the tests and the benchmark depend on its exact bytes. The demo needs
something else: a console that looks alive when it opens. `demo_stories(now)` gives, for every
region of `translations/regions.toml`, one case in each state an agent meets (new, waiting for
the buyer, at risk of breaching the first-response SLA, breached, resolved), told on the
hub-native protocol (`raw.hub`) by a buyer of one of the region's countries, in the region's
language and currency, with times counted back from `now`. Deterministic for (`now`, `run`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hub.sample_traffic import CaseStory, SamplePayload, _json
from translations.regions import Region, load_regions

REASONS: dict[str, tuple[str, str]] = {
    "en": ("damaged", "The box arrived crushed and the lamp inside is broken."),
    "de": ("size_fit", "Die Jacke ist zu klein, ich brauche eine Nummer größer."),
    "fr": ("damaged", "Le colis est arrivé abîmé, l'écran est fissuré."),
    "es": ("not_as_described", "El color no coincide con la foto del anuncio."),
    "pt": ("defective", "O fone parou de funcionar depois de dois dias."),
    "ja": ("size_fit", "サイズが合わないので返品したいです。"),
    "zh": ("wrong_item", "收到的颜色和订单不一致，请更换。"),
    "ar": ("damaged", "وصل الطرد تالفاً والشاشة مكسورة."),
}
"""A buyer's reason in each language the regions read: (canonical reason code, the text)."""

CURRENCIES: dict[str, tuple[str, Decimal]] = {
    "US": ("USD", Decimal("89.99")), "UK": ("GBP", Decimal("64.50")),
    "DE": ("EUR", Decimal("129.00")), "FR": ("EUR", Decimal("249.50")),
    "ES": ("EUR", Decimal("59.90")), "BR": ("BRL", Decimal("349.90")),
    "MX": ("MXN", Decimal("1299.00")), "JP": ("JPY", Decimal("12800")),
    "CN": ("CNY", Decimal("688.00")), "SA": ("SAR", Decimal("459.00")),
}
"""What a region's sample order costs, in its currency; other regions pay in USD."""


@dataclass(frozen=True, slots=True)
class _State:
    """A case state, as the times of its events counted back from now (hours)."""

    name: str
    requested: float
    approved: float | None = None
    refunded: float | None = None
    status: str = "requested"


STATES: tuple[_State, ...] = (
    _State("new", requested=0.2),
    _State("waiting-for-buyer", requested=26, approved=24, status="label_created"),
    # The default first-response SLA is 48 h with a warning 12 h before (sla.toml).
    _State("at-risk", requested=40),
    _State("breached", requested=60),
    _State("resolved", requested=150, approved=146, refunded=30, status="refunded"),
)


def demo_stories(now: datetime, *, run: int = 0) -> list[CaseStory]:
    """One story per region and state, every event before `now` (timezone-aware).

    `run` tells repeated rounds apart: its stories have new order ids, so they are new cases.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return [
        _story(region, state, index, now, run)
        for region in load_regions().regions
        for index, state in enumerate(STATES)
    ]


def _story(region: Region, state: _State, index: int, now: datetime, run: int) -> CaseStory:
    country = region.buyer_countries[index % len(region.buyer_countries)] \
        if region.buyer_countries else (region.seller_countries or ("US",))[0]
    language = region.language
    reason_code, text = REASONS.get(language, REASONS["en"])
    currency, total = CURRENCIES.get(region.code, ("USD", Decimal("89.99")))
    tag = f"{region.code}-{run:04d}-{index}"
    order_id, return_id = f"DEMO-{tag}", f"DEMO-RET-{tag}"
    marketplace = f"demo-{region.code.lower()}"
    amount = {"amount": str(total), "currency": currency}

    def event(event_type: str, hours_ago: float, **fields: Any) -> SamplePayload:
        body = {
            "protocol_version": 1, "event_type": event_type,
            "event_id": f"{event_type}-{tag}", "marketplace": marketplace,
            "occurred_at": (now - timedelta(hours=hours_ago)).isoformat(timespec="seconds"),
            "order_id": order_id, **fields,
        }
        return SamplePayload("hub", order_id.encode(), _json(body), note=state.name)

    payloads = [
        event("order.placed", state.requested + 72, amount=amount, buyer_country=country,
              seller_country=(region.seller_countries or (country,))[0]),
        event("return.requested", state.requested, return_id=return_id, reason_code=reason_code,
              reason=text, language=language, amount=amount),
    ]
    if state.approved is not None:
        payloads += [
            event("return.approved", state.approved, return_id=return_id),
            event("return.label_created", state.approved - 0.5, return_id=return_id,
                  label={"carrier": "DHL", "tracking_number": f"JD{run:06d}{region.code}{index}"}),
        ]
    if state.refunded is not None:
        payloads.append(event("refund.succeeded", state.refunded, refund_id=f"DEMO-RF-{tag}",
                              return_id=return_id, amount=amount))
    refunded = {currency: total} if state.refunded is not None else {}
    return CaseStory(order_id, payloads, state.status, refunded)
