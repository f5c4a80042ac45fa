"""The support console in a real browser (headless Chromium via Playwright) against a real worker.

A team covering Saudi Arabia and Germany opens /console with its token: the Saudi feed shows
in Arabic, right to left, with Arabic-Indic digits; an SLA breach published by the policy side
is highlighted; a case whose translation is pending says so, and turns translated live when the
translator is back; a case produced after the page opened appears by itself. Switching to the
German feed turns the page German and left to right. Screenshots go to `test-artifacts/`.

Needs Debian's Chromium at /usr/bin/chromium (`apt-get install -y chromium`); without it the
test fails and says so: a browser test that skips silently hides a broken console.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from schemas.case import CASE
from schemas.records import CaseChangeRecord
from streams.cases import case_id_for_order
from tests.integration.test_feeds import (
    CONSOLE_TOKEN,
    EXPECTED,
    feed_view,
    feeds_worker,
    new_order,
    return_story,
    views_of,
)
from tests.support.kafka import produce, read_until
from tests.support.libretranslate import (
    FakeLibreTranslate,
    fake_translate,
    running_libretranslate,
)

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TIMEOUT_MS = 60_000
PENDING_TEXT = "The box arrived damaged, the lid is broken"


@asynccontextmanager
async def browser_page(profile: Path) -> AsyncIterator[Any]:
    """A page of a fresh headless Chromium profile."""
    executable = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed: the console test needs Debian's chromium at "
                    f"{CHROMIUM} (apt-get install -y chromium). Playwright's own browser "
                    "download is not used.")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.fail("the playwright Python package is missing: pip install 'playwright>=1.48,<2'")
    async with async_playwright() as playwright:
        # Playwright refuses --user-data-dir in args: a persistent context IS a fresh profile dir.
        context = await playwright.chromium.launch_persistent_context(
            str(profile), executable_path=executable, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900}, locale="en-US",
        )
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            yield page
        finally:
            await context.close()


async def publish_sla_breach(bootstrap: str, prefix: str, case_id: str) -> None:
    """What the policy agent publishes on case.changes when a deadline passes."""
    cases = await read_until(bootstrap, f"{prefix}cases",
                             lambda records: any(r.key == case_id.encode() for r in records))
    case = CASE.validate_json(next(r.value for r in reversed(cases) if r.key == case_id.encode()))
    record = CaseChangeRecord(
        case_id=case_id, version=case.version, event_type="sla.breach",
        event_id=f"{case_id}:first_response:breach:2026-03-15T14:30:00Z", changed_fields=[],
        case=case,
    )
    await produce(bootstrap, f"{prefix}case.changes",
                  [(case_id.encode(), record.model_dump_json().encode())])


async def test_console_shows_the_saudi_feed_in_arabic_rtl_live(
    bootstrap: str, topic_prefix: str, state_dir: Path, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    breached, pending, arriving = new_order(), new_order(), new_order()
    breached_id, pending_id, arriving_id = map(case_id_for_order, (breached, pending, arriving))
    translator: FakeLibreTranslate
    with running_libretranslate() as translator, feeds_worker(
        bootstrap, topic_prefix, state_dir, translator
    ) as worker:
        raw = f"{topic_prefix}raw.hub"
        await produce(bootstrap, raw, return_story(breached))
        await feed_view(bootstrap, topic_prefix, "sa", breached_id, state="translated")
        await publish_sla_breach(bootstrap, topic_prefix, breached_id)
        await read_until(bootstrap, f"{topic_prefix}feed.sa", lambda records: any(
            view.get("alert") for view in views_of(records, breached_id)))
        translator.go_down()
        # Another text: the translation memory would answer the first one without the provider.
        await produce(bootstrap, raw, return_story(pending, reason=PENDING_TEXT))
        await feed_view(bootstrap, topic_prefix, "sa", pending_id, state="pending")

        async with browser_page(tmp_path / "profile") as page:
            await page.goto(f"http://127.0.0.1:{worker.web_port}/console?region=SA")
            # The sign-in form already speaks the region's language.
            await page.get_by_label("رمز الوكيل أو الفريق").fill(CONSOLE_TOKEN)
            await page.get_by_role("button", name="فتح وحدة التحكم").click()

            html = page.locator("html")
            await expect(html).to_have_attribute("lang", "ar-SA")
            await expect(html).to_have_attribute("dir", "rtl")
            await expect(page.locator("#cases")).to_have_attribute("dir", "rtl")
            await expect(page.locator("h1")).to_have_text("وحدة تحكم الدعم")

            card = page.locator(f'li.case[data-case-id="{breached_id}"]')
            # Headed by the order number an agent searches for, under its Arabic label.
            await expect(card.locator("h2 .case-headline")).to_have_text(breached)
            await expect(card.locator("h2 .case-label")).to_have_text("الطلب")
            await expect(card.locator(".badge.status")).to_have_text("تم تقديم الطلب")
            await expect(card.locator(".fact-requested .money")).to_have_text(
                EXPECTED["sa"]["money"])
            await expect(card.locator(".fact-opened time")).to_have_text(EXPECTED["sa"]["opened"])
            await expect(card.locator(".translated blockquote")).to_have_text(
                EXPECTED["sa"]["translated"])
            await expect(card.locator(".translated blockquote")).to_have_attribute("lang", "ar-SA")
            await expect(card.locator(".original blockquote")).to_have_text(
                "The box arrived damaged")
            await expect(card.locator(".original blockquote")).to_have_attribute("lang", "en")
            await expect(card).to_have_class("case breached alerted")
            await expect(card.locator(".badge.alert-breach")).to_contain_text(
                "تم تجاوز اتفاقية مستوى الخدمة")
            # The deadline in Riyadh time and Arabic-Indic digits (which deadline binds is the
            # policy's business: the policy agent, when wired, publishes its own breaches).
            await expect(card.locator(".fact-deadline time").first).to_have_text(re.compile(
                r"^[٠-٩]{2}\u200f/٠٣\u200f/٢٠٢٦، [٠-٩]{1,2}:[٠-٩]{2}:[٠-٩]{2} [صم]$"))
            await expect(page.locator("#access")).to_be_hidden()

            waiting = page.locator(f'li.case[data-case-id="{pending_id}"]')
            await expect(waiting).to_have_attribute("data-translation", "pending")
            await expect(waiting.locator(".badge.translation-pending")).to_have_text(
                EXPECTED["sa"]["pending_label"])
            await expect(waiting.locator(".original blockquote")).to_have_text(PENDING_TEXT)
            await expect(page.locator("#clock")).to_contain_text("٢٠٢٦")
            await page.screenshot(path=str(ARTIFACTS / "console-sa-pending.png"), full_page=True)

            # Live: the translator comes back, and a new case arrives, without a reload.
            translator.come_back()
            await expect(waiting).to_have_attribute("data-translation", "translated")
            await expect(waiting.locator(".translated blockquote")).to_have_text(
                fake_translate(PENDING_TEXT, "en", "ar"))
            await produce(bootstrap, raw, return_story(arriving, buyer="SA", seller="CN",
                                                       marketplace="mercadito-sa"))
            fresh = page.locator(f'li.case[data-case-id="{arriving_id}"]')
            await expect(fresh.locator(".fact-buyer_country dd")).to_have_text(
                "المملكة العربية السعودية")
            await expect(page.locator("li.case")).to_have_count(3)
            await page.screenshot(path=str(ARTIFACTS / "console-sa.png"), full_page=True)

            # Filter by status, in the region's words.
            await page.locator("#status").select_option("refunded")
            await expect(page.locator("li.case")).to_have_count(0)
            await expect(page.locator("#empty")).to_be_visible()
            await page.locator("#status").select_option("requested")
            await expect(page.locator("li.case")).to_have_count(3)

            # The same team's German feed: German, left to right.
            await page.locator("#region").select_option("DE")
            await expect(html).to_have_attribute("lang", "de-DE")
            await expect(html).to_have_attribute("dir", "ltr")
            german = page.locator(f'li.case[data-case-id="{breached_id}"]')
            await expect(german.locator(".badge.status")).to_have_text("Beantragt")
            await expect(german.locator(".fact-requested .money")).to_have_text(
                EXPECTED["de"]["money"])
            await expect(german.locator(".translated blockquote")).to_have_text(
                EXPECTED["de"]["translated"])
            await expect(page.locator("h1")).to_have_text("Support-Konsole")
            await page.screenshot(path=str(ARTIFACTS / "console-de.png"), full_page=True)
    assert (ARTIFACTS / "console-sa.png").stat().st_size > 10_000


async def test_a_console_link_with_the_token_in_its_fragment_opens_the_region(
    bootstrap: str, topic_prefix: str, state_dir: Path, tmp_path: Path
) -> None:
    """The link `hub run` prints: the token rides in the fragment (never sent to the server),
    the console uses it and removes it from the address bar at once."""
    from playwright.async_api import expect

    order = new_order()
    with running_libretranslate() as translator, feeds_worker(
        bootstrap, topic_prefix, state_dir, translator
    ) as worker:
        await produce(bootstrap, f"{topic_prefix}raw.hub", return_story(order, buyer="SA"))
        await feed_view(bootstrap, topic_prefix, "sa", case_id_for_order(order), state="translated")

        async with browser_page(tmp_path / "profile") as page:
            base = f"http://127.0.0.1:{worker.web_port}/console?region=SA"
            await page.goto(f"{base}#token={CONSOLE_TOKEN}")

            await expect(page.locator("#access")).to_be_hidden()
            await expect(page.locator("html")).to_have_attribute("dir", "rtl")
            card = page.locator(f'li.case[data-case-id="{case_id_for_order(order)}"]')
            await expect(card.locator("h2 .case-headline")).to_have_text(order)
            assert page.url == base
