"""Agents work the queue in a real browser (headless Chromium) against a real worker and broker.

* A JP agent searches an order, takes the case, replies from a template: the buyer (who wrote in
  Japanese) receives Japanese, the history shows both actions with the reply's texts, and the
  dashboard's first-response figure moves.
* An SA agent works in Arabic, right to left, with the keyboard only, on a return through
  Amazon's fulfilment network:
  once the first response is in, the refund deadline (two business days after the return came
  back on a Wednesday) skips the Saudi Friday-Saturday weekend and falls on Sunday.
* A DE agent does not find the JP case in the DE queue, and acting on it is refused (403).

Screenshots go to `test-artifacts/`.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from streams.cases import case_id_for_order
from tests.integration.test_agent_actions import TOKEN, agents_worker
from tests.integration.test_feeds import new_order, return_story, views_of
from tests.integration.test_support_console import ARTIFACTS, browser_page
from tests.support.kafka import produce, read_until
from tests.support.libretranslate import running_libretranslate

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ACKNOWLEDGE_JA = ("お問い合わせいただきありがとうございます。"
                  "ご依頼を受け付けました。現在確認しております。")


def japanese_story(order: str) -> list[tuple[bytes, bytes]]:
    """A JP buyer's return on Rakuma, in Japanese."""
    story = return_story(order, buyer="JP", seller="JP", marketplace="rakuma-jp",
                         reason="箱が潰れて届き、中の商品が壊れていました")
    return [(key, value.replace(b'"language": "en"', b'"language": "ja"')) for key, value in story]


def amazon_sa_return(order: str, status: str, when: str) -> tuple[bytes, bytes]:
    """An Amazon external-fulfillment return of Amazon.sa (the recorded Indian one, moved)."""
    document: dict[str, Any] = json.loads(
        (FIXTURES / "amazon" / "ef-return-created-in.json").read_text())
    document.update(id=f"ret-{order}", status=status, creationDateTime="2026-03-16T06:41:15Z",
                    lastUpdatedDateTime=when)
    details = document["marketplaceChannelDetails"]
    details["customerOrderId"] = order
    details["marketplaceChannel"]["marketplaceName"] = "AMAZON_SA$"
    document["returnShippingInfo"]["reverseTrackingInfo"]["trackingId"] = f"SA{order[-8:]}"
    return order.encode(), json.dumps(document).encode()


async def view_where(bootstrap: str, prefix: str, region: str, case_id: str, done: Any,
                     timeout: float = 90.0) -> dict[str, Any]:
    records = await read_until(bootstrap, f"{prefix}feed.{region}", lambda rs: any(
        done(view) for view in views_of(rs, case_id)), timeout=timeout)
    return next(view for view in reversed(views_of(records, case_id)) if done(view))


async def test_a_jp_agent_searches_takes_and_replies_from_a_template(
    bootstrap: str, topic_prefix: str, state_dir: Path, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    order, others = new_order(), [new_order(), new_order()]
    case_id = case_id_for_order(order)
    with running_libretranslate() as translator, agents_worker(
        bootstrap, topic_prefix, state_dir, translator
    ) as worker:
        for story in (order, *others):
            await produce(bootstrap, f"{topic_prefix}raw.hub", japanese_story(story))
        for story in (order, *others):
            await view_where(bootstrap, topic_prefix, "jp", case_id_for_order(story),
                             lambda view: view["version"] >= 2)

        async with browser_page(tmp_path / "profile") as page:
            await page.goto(f"http://127.0.0.1:{worker.web_port}/console?region=JP"
                            f"#token={TOKEN['jp-aiko']}")
            await expect(page.locator("html")).to_have_attribute("lang", "ja-JP")
            await expect(page.locator("#whoami")).to_have_text("佐藤 愛子 としてログイン中")
            await expect(page.locator("li.case")).to_have_count(3)
            first_response = page.locator("#dash-first")
            await expect(first_response).to_have_attribute("data-count", "0")
            await expect(first_response).to_have_text("—")

            await page.get_by_label("注文番号・追跡番号・返品番号・申し立て番号で検索").fill(order)
            await page.get_by_role("button", name="検索").click()
            await expect(page.locator("li.case")).to_have_count(1)
            card = page.locator(f'li.case[data-case-id="{case_id}"]')
            await expect(card.locator("h2 .case-headline")).to_have_text(order)
            await expect(card.locator(".fact-marketplace dd")).to_have_text("Rakuma")

            await card.click()
            await page.get_by_role("button", name="担当する").click()
            await expect(card.locator(".badge.assignee")).to_have_text("👤 佐藤 愛子")

            await page.locator("#template").select_option("acknowledge")
            await expect(page.locator("#reply-text")).to_have_value(ACKNOWLEDGE_JA)
            await page.locator("#reply-send").click()

            entries = card.locator(".history-entry")
            await expect(entries).to_have_count(2)
            await expect(entries.nth(0)).to_have_attribute("data-kind", "take")
            await expect(entries.nth(0).locator(".what")).to_have_text("ケースを担当")
            await expect(entries.nth(1)).to_have_attribute("data-kind", "reply")
            await expect(entries.nth(1).locator(".agent")).to_have_text("佐藤 愛子")
            buyer = entries.nth(1).locator(".reply-buyer blockquote")
            await expect(buyer).to_have_text(ACKNOWLEDGE_JA)
            await expect(buyer).to_have_attribute("lang", "ja")
            await expect(entries.nth(1).locator(".reply-original blockquote")).to_have_text(
                ACKNOWLEDGE_JA)
            await expect(entries.nth(1).locator(".reply-translation")).to_have_text(
                "購入者の言語")
            # Tokyo time, in the history and the first-reply fact.
            assert (await card.locator(".fact-first_reply time").get_attribute("title") or ""
                    ).endswith("+09:00")

            await expect(first_response).to_have_attribute("data-count", "1")
            await expect(first_response).not_to_have_text("—")
            await page.screenshot(path=str(ARTIFACTS / "console-jp-agent.png"), full_page=True)


async def test_an_sa_agent_works_in_arabic_right_to_left_with_the_keyboard_only(
    bootstrap: str, topic_prefix: str, state_dir: Path, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    order = f"403-{uuid.uuid4().int % 10**7:07d}-{uuid.uuid4().int % 10**7:07d}"
    case_id = case_id_for_order(order)
    # Sold on Mercadito, returned through Amazon's fulfilment network (an external-fulfilment
    # return): Amazon does not say where the buyer lives; the marketplace's order record does.
    placed = {"protocol_version": 1, "event_type": "order.placed", "event_id": f"{order}-placed",
              "marketplace": "mercadito-sa", "occurred_at": "2026-03-10T10:00:00+03:00",
              "order_id": order, "buyer_country": "SA", "seller_country": "SA",
              "amount": {"amount": "459.00", "currency": "SAR"}}
    with agents_worker(bootstrap, topic_prefix, state_dir, None) as worker:
        await produce(bootstrap, f"{topic_prefix}raw.hub",
                      [(order.encode(), json.dumps(placed).encode())])
        await produce(bootstrap, f"{topic_prefix}raw.amazon", [
            amazon_sa_return(order, "CREATED", "2026-03-16T06:41:15Z"),
            # Back at the returns centre on Wednesday 18 March 2026, noon in Riyadh.
            amazon_sa_return(order, "DELIVERED", "2026-03-18T09:00:00Z"),
        ])
        await view_where(bootstrap, topic_prefix, "sa", case_id,
                         lambda view: view.get("deadline") is not None)

        async with browser_page(tmp_path / "profile") as page:
            await page.goto(f"http://127.0.0.1:{worker.web_port}/console?region=SA"
                            f"#token={TOKEN['sa-layla']}")
            html = page.locator("html")
            await expect(html).to_have_attribute("lang", "ar-SA")
            await expect(html).to_have_attribute("dir", "rtl")
            await expect(page.locator("li.case")).to_have_count(1)
            await expect(page.locator("#dash-open")).to_have_text("١")

            # Keyboard only: search, move to the case, take it, reply, all without a pointer.
            await page.keyboard.press("/")
            await expect(page.locator("#search")).to_be_focused()
            await page.keyboard.type(order)
            await page.keyboard.press("Enter")
            card = page.locator(f'li.case[data-case-id="{case_id}"]')
            await expect(card).to_be_visible()
            await page.keyboard.press("Escape")  # from the search box to the queue
            await page.keyboard.press("j")
            await expect(card).to_be_focused()
            await expect(card).to_have_attribute("aria-current", "true")
            await expect(card.locator(".fact-marketplace dd")).to_have_text("Mercadito")
            await page.keyboard.press("t")
            await expect(card.locator(".badge.assignee")).to_have_text("👤 ليلى العتيبي")
            await expect(card).to_be_focused()  # updated in place, focus kept
            await expect(page.locator("#announce")).to_contain_text("تولّى الحالة")
            await page.keyboard.press("r")
            await expect(page.locator("#reply-text")).to_be_focused()
            await page.keyboard.type("شكرًا لك، سنعيد المبلغ قريبًا")
            await page.keyboard.press("Control+Enter")
            reply = card.locator('.history-entry[data-kind="reply"]')
            await expect(reply.locator(".reply-original blockquote")).to_have_text(
                "شكرًا لك، سنعيد المبلغ قريبًا")
            # A Saudi buyer: the Arabic reply is in their language as it is.
            await expect(reply.locator(".reply-translation")).to_have_text("بلغة المشتري")
            await expect(card.locator(".history-entry")).to_have_count(2)

            # The first response is in: the refund deadline shows, two Saudi business days
            # after Wednesday's return (Thursday, then Sunday: Friday and Saturday are the
            # weekend), at the end of Sunday in Riyadh, in Arabic-Indic digits.
            deadline = card.locator(".fact-deadline time").first
            await expect(deadline).to_have_text(
                "٢٢\u200f/٠٣\u200f/٢٠٢٦، ١١:٥٩:٥٩ م", timeout=60_000)
            due = datetime.fromisoformat(
                (await deadline.get_attribute("datetime") or "").replace("Z", "+00:00"))
            local = due.astimezone(ZoneInfo("Asia/Riyadh"))
            assert (local.date().isoformat(), local.strftime("%A")) == ("2026-03-22", "Sunday")
            await expect(card.locator(".countdown")).to_have_attribute("data-overdue", "true")
            await page.screenshot(path=str(ARTIFACTS / "console-sa-agent.png"), full_page=True)


async def test_a_de_agent_cannot_act_on_a_jp_case(
    bootstrap: str, topic_prefix: str, state_dir: Path, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    order = new_order()
    case_id = case_id_for_order(order)
    with agents_worker(bootstrap, topic_prefix, state_dir, None) as worker:
        await produce(bootstrap, f"{topic_prefix}raw.hub", japanese_story(order))
        await view_where(bootstrap, topic_prefix, "jp", case_id, lambda v: v["version"] >= 2)

        async with browser_page(tmp_path / "profile") as page:
            await page.goto(f"http://127.0.0.1:{worker.web_port}/console?region=DE"
                            f"#token={TOKEN['de-max']}")
            await expect(page.locator("html")).to_have_attribute("lang", "de-DE")
            await page.get_by_label(
                "Suche nach Bestell-, Sendungs-, Retouren- oder Reklamationsnummer").fill(order)
            await page.get_by_role("button", name="Suchen").click()
            await expect(page.locator("#empty")).to_be_visible()
            await expect(page.locator("li.case")).to_have_count(0)
            answer = await page.evaluate(
                """async ([caseId, token]) => {
                    const response = await fetch("/cases/" + caseId + "/actions", {
                        method: "POST",
                        headers: {Authorization: "Bearer " + token,
                                  "Content-Type": "application/json"},
                        body: JSON.stringify({action_id: "de-tries-jp-0001", kind: "close"}),
                    });
                    return [response.status, await response.json()];
                }""", [case_id, TOKEN["de-max"]])
    status, body = answer
    assert status == 403
    # The hub's error shape: problem details (RFC 9457) with its code.
    assert set(body) == {"type", "title", "status", "detail", "code"}
    assert (body["status"], body["code"]) == (403, "forbidden")
