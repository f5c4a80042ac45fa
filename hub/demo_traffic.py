"""First-run traffic for `hub run`: every region's cases, in its language, timed relative to now.

`hub.sample_traffic.generate` is fixed in time (February 2026) and only tells European Shopify
and Japanese stories: the tests and the benchmark depend on its exact bytes. The demo needs
something else: a console that looks alive when it opens. `demo_stories(now)` gives, for every
region of `translations/regions.toml`, one case in each state an agent meets (new, waiting for
the buyer, at risk of breaching the first-response SLA, breached, resolved), told on the
hub-native protocol (`raw.hub`) by a buyer of one of the region's countries, in the region's
language and currency, with times counted back from `now`. Deterministic for (`now`, `run`).

`demo_actions(now)` adds what the region's demo agents (`DEMO_AGENTS`) did on those cases, as
records of `case.actions`: a case waiting for the buyer was taken and photos were asked for, one
at risk was taken but not answered yet, a breached one was escalated, a resolved one was
answered from a reply template, given a proposal and closed. New cases are untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hub.sample_traffic import CaseStory, SamplePayload, _json
from schemas.actions import ActionRecord, AgentAction, AgentRef, Proposal, Reply
from streams.cases import case_id_for_order
from translations.catalogs import gettext
from translations.labels import REPLY_TEMPLATE
from translations.regions import Region, load_regions

DEMO_AGENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "US": (("us-emily", "Emily Carter"), ("us-james", "James Miller")),
    "UK": (("uk-olivia", "Olivia Hughes"), ("uk-harry", "Harry Evans")),
    "DE": (("de-anna", "Anna Schmidt"), ("de-lukas", "Lukas Weber")),
    "FR": (("fr-camille", "Camille Martin"), ("fr-louis", "Louis Bernard")),
    "ES": (("es-lucia", "Lucía García"), ("es-pablo", "Pablo Martínez")),
    "BR": (("br-ana", "Ana Souza"), ("br-pedro", "Pedro Oliveira")),
    "MX": (("mx-sofia", "Sofía Hernández"), ("mx-diego", "Diego López")),
    "JP": (("jp-aiko", "佐藤 愛子"), ("jp-ken", "鈴木 健")),
    "CN": (("cn-fang", "王芳"), ("cn-wei", "李伟")),
    "SA": (("sa-layla", "ليلى العتيبي"), ("sa-fahd", "فهد القحطاني")),
}
"""Two demo agents per region, named as the region's team would be."""

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


def demo_actions(now: datetime, *, run: int = 0) -> list[ActionRecord]:
    """The demo agents' actions on `demo_stories(now, run=run)`, each after its case opened."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    records: list[ActionRecord] = []
    for region in load_regions().regions:
        agents = [AgentRef(agent_id=agent_id, name=name, region=region.code)
                  for agent_id, name in DEMO_AGENTS.get(region.code, ())]
        if not agents:
            continue
        for index, state in enumerate(STATES):
            order_id = f"DEMO-{region.code}-{run:04d}-{index}"

            def record(kind: str, hours_ago: float, agent: AgentRef,
                       **fields: Any) -> ActionRecord:
                return _action(order_id, region.code, now - timedelta(hours=hours_ago),  # noqa: B023 - used at once
                               kind, agent, fields)

            first, second = agents[0], agents[-1]
            if state.name == "waiting-for-buyer":
                records += [
                    record("take", state.requested - 0.5, first, assignee=first),
                    record("request_info", state.requested - 0.75, first,
                           request={"evidence": ["photos_of_damage"]}),
                ]
            elif state.name == "at-risk":
                records.append(record("take", state.requested - 2, second, assignee=second))
            elif state.name == "breached":
                records.append(record("escalate", 2, second))
            elif state.name == "resolved":
                text = gettext(region.locale, "reply template",
                               REPLY_TEMPLATE["acknowledge"].msgid)
                reply = Reply(template="acknowledge", text=text, language=region.language,
                              buyer_text=text, buyer_language=region.language,
                              translation="not_needed")
                records += [
                    record("take", state.requested - 1, first, assignee=first),
                    record("reply", state.requested - 1.5, first, reply=reply),
                    record("propose", state.requested - 2, first,
                           proposal=Proposal(resolution="return_and_refund")),
                    record("close", (state.refunded or 1) - 1, first),
                ]
    return records


def _action(order_id: str, region: str, at: datetime, kind: str, agent: AgentRef,
            fields: dict[str, Any]) -> ActionRecord:
    action = AgentAction.model_validate(
        {"action_id": f"demo-{order_id}-{kind}", "kind": kind, "agent": agent, **fields})
    return ActionRecord(case_id=case_id_for_order(order_id), order_id=order_id, region=region,
                        at=at, action=action)
