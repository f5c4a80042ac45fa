"""Localized regional feeds on the real broker, with real `hub worker` processes.

A buyer in Germany returns an order bought on Rakuma (Japan) from a seller based in Saudi
Arabia: the case routes to DE (buyer country), JP (marketplace) and SA (seller country) at once.
Its hub-protocol payloads go through the whole pipeline (raw.hub -> normalize -> cases ->
case.changes -> feeds) and come out on feed.de, feed.jp and feed.sa in German, Japanese and
Arabic, translated by a local LibreTranslate stand-in (tests/support/libretranslate.py); with
the translator down the feed still flows ("translation pending") and the translation follows as
an update when it is back. The HTTP side: tokens per region, the list, and the SSE stream
opened with a ticket.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from streams.cases import case_id_for_order
from tests.support.kafka import Record, produce, read_until
from tests.support.libretranslate import FakeLibreTranslate, running_libretranslate
from tests.support.sse import EventStream
from tests.support.workers import HubWorker

pytestmark = pytest.mark.integration

TOKENS = {"DE": "tok-de-7f3a", "JP": "tok-jp-91c2", "SA": "tok-sa-0b5e"}
CONSOLE_TOKEN = "tok-console-44d1"
"""Valid for DE and SA at once (a team that covers two regions)."""

def feeds_worker(
    bootstrap: str, prefix: str, state_dir: Path, translator: FakeLibreTranslate, **env: str
) -> HubWorker:
    tokens = {f"HUB_FEED_TOKENS__{code}": json.dumps([token, CONSOLE_TOKEN] if code in {"DE", "SA"}
                                                    else [token])
              for code, token in TOKENS.items()}
    return HubWorker(
        bootstrap=bootstrap, topic_prefix=prefix, state_dir=state_dir, app_id=f"hub-{prefix}",
        extra_env={
            "HUB_TRANSLATION_PROVIDER": "libre", "HUB_TRANSLATION_URL": translator.url,
            "HUB_TRANSLATION_TIMEOUT_SECONDS": "2",
            "HUB_TRANSLATION_RETRY_INTERVAL_SECONDS": "0.5",
            **tokens, **env,
        },
    )


@pytest.fixture
def translator() -> Iterator[FakeLibreTranslate]:
    with running_libretranslate() as fake:
        yield fake


# --- the story ----


def return_story(
    order_id: str, *, buyer: str = "DE", seller: str = "SA", marketplace: str = "rakuma-jp",
    reason: str = "The box arrived damaged",
) -> list[tuple[bytes, bytes]]:
    """order.placed then return.requested, in the hub protocol, as a marketplace produces them
    to raw.hub: 1234.56 EUR, the return asked for on 2026-03-14 at 15:30 Berlin time."""

    def event(event_type: str, occurred_at: str, **fields: Any) -> tuple[bytes, bytes]:
        body = {"protocol_version": 1, "event_type": event_type,
                "event_id": f"{order_id}-{event_type}", "marketplace": marketplace,
                "occurred_at": occurred_at, "order_id": order_id, "buyer_country": buyer,
                "seller_country": seller, **fields}
        return order_id.encode(), json.dumps(body, ensure_ascii=False).encode()

    amount = {"amount": "1234.56", "currency": "EUR"}
    return [
        event("order.placed", "2026-03-10T10:00:00+09:00", amount=amount),
        event("return.requested", "2026-03-14T15:30:00+01:00", return_id=f"{order_id}-R",
              amount=amount, reason_code="damaged", reason=reason, language="en"),
    ]


def new_order() -> str:
    return f"RKM-{uuid.uuid4().hex[:10].upper()}"


# What each team reads, from CLDR via babel: de_DE groups with "." and puts the sign after a
# no-break space; ja_JP keeps the euro sign in front; ar_SA uses Arabic-Indic digits with the
# Arabic separators, inside right-to-left marks. Times are in each team's zone (the request was
# 14:30 UTC): Berlin 15:30, Tokyo 23:30, Riyadh 17:30 (shown as ٥:٣٠ م, 12-hour clock).
EXPECTED = {
    "de": {
        "direction": "ltr", "status_label": "Beantragt", "buyer_country_name": "Deutschland",
        "money": "1.234,56\u00a0€", "opened": "14.03.2026, 15:30:00",
        "translated": "die Schachtel kam beschädigt an",
        "translated_label": "Maschinelle Übersetzung",
        "pending_label": "Übersetzung ausstehend",
    },
    "jp": {
        "direction": "ltr", "status_label": "申請済み", "buyer_country_name": "ドイツ",
        "money": "€1,234.56", "opened": "2026/03/14 23:30:00",
        "translated": "箱が破損して届きました", "translated_label": "機械翻訳",
        "pending_label": "翻訳待ち",
    },
    "sa": {
        "direction": "rtl", "status_label": "تم تقديم الطلب", "buyer_country_name": "ألمانيا",
        "money": "\u200f١٬٢٣٤٫٥٦\u00a0€", "opened": "١٤\u200f/٠٣\u200f/٢٠٢٦، ٥:٣٠:٠٠ م",
        "translated": "وصل الصندوق تالفًا", "translated_label": "ترجمة آلية",
        "pending_label": "الترجمة قيد الانتظار",
    },
}


def views_of(records: list[Record], case_id: str) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in records if r.key == case_id.encode()]


def has_view(case_id: str, *, version: int, state: str) -> Callable[[list[Record]], bool]:
    def done(records: list[Record]) -> bool:
        return any(view["version"] == version and (view.get("reason") or {}).get("state") == state
                   for view in views_of(records, case_id))
    return done


async def feed_view(bootstrap: str, prefix: str, region: str, case_id: str, *, state: str,
                    timeout: float = 60.0) -> tuple[dict[str, Any], list[Record]]:
    records = await read_until(bootstrap, f"{prefix}feed.{region}",
                               has_view(case_id, version=2, state=state), timeout=timeout)
    view = next(v for v in views_of(records, case_id)
                if v["version"] == 2 and v["reason"]["state"] == state)
    return view, records


# --- HTTP helpers ----


def http(port: int, path: str, *, token: str | None = None, method: str = "GET"
         ) -> tuple[int, Any, dict[str, str]]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            body = response.read()
            kind = response.headers.get("Content-Type", "")
            return (response.status, json.loads(body) if "json" in kind else body.decode(),
                    dict(response.headers))
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def stream_path(port: int, region: str, token: str) -> str:
    """The stream's path with a ticket, as the console opens it (EventSource sends no header)."""
    status, body, _ = http(port, f"/feeds/{region}/ticket", token=token, method="POST")
    assert status == 200, body
    return f"/feeds/{region}/stream?ticket={body['ticket']}"


@asynccontextmanager
async def event_stream(port: int, path: str) -> AsyncIterator[EventStream]:
    timeout = aiohttp.ClientTimeout(total=None, sock_read=90)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async with session.get(f"http://127.0.0.1:{port}{path}") as response:
            assert response.status == 200, await response.text()
            assert response.headers["Content-Type"].startswith("text/event-stream")
            yield EventStream(response)


# --- tests ----


async def test_one_case_reaches_the_de_jp_and_sa_feeds_in_each_teams_language(
    bootstrap: str, topic_prefix: str, state_dir: Path, translator: FakeLibreTranslate
) -> None:
    order_id = new_order()
    case_id = case_id_for_order(order_id)
    with feeds_worker(bootstrap, topic_prefix, state_dir, translator) as worker:
        async with event_stream(worker.web_port, stream_path(worker.web_port, "DE",
                                                             TOKENS["DE"])) as stream:
            await stream.until(lambda e: e.event == "ready")
            await produce(bootstrap, f"{topic_prefix}raw.hub", return_story(order_id))
            for region, expected in EXPECTED.items():
                view, _ = await feed_view(bootstrap, topic_prefix, region, case_id,
                                          state="translated")
                assert view["region"] == region.upper()
                assert view["direction"] == expected["direction"]
                assert view["status_label"] == expected["status_label"]
                assert view["buyer_country_name"] == expected["buyer_country_name"]
                assert view["requested"]["formatted"] == expected["money"]
                assert view["order_total"]["formatted"] == expected["money"]
                assert view["requested"]["amount"] == "1234.56"
                assert view["opened"]["formatted"] == expected["opened"]
                assert view["opened"]["utc"] == "2026-03-14T14:30:00Z"
                assert view["reason"] == {
                    "original": "The box arrived damaged", "language": "en",
                    "translated": expected["translated"], "state": "translated",
                    "state_label": expected["translated_label"],
                }
            # The worker's own feed follower has it too: live on the stream, then in the list.
            event = await stream.until(lambda e: e.event == "case" and e.id == f"{case_id}:2")
        assert json.loads(event.data)["reason"]["translated"] == EXPECTED["de"]["translated"]
        status, listed, _ = http(worker.web_port, "/feeds/DE", token=TOKENS["DE"])
        assert status == 200 and [v["case_id"] for v in listed] == [case_id]
        status, listed, _ = http(worker.web_port, "/feeds/de?status=requested",
                                 token=TOKENS["DE"])
        assert status == 200 and [v["version"] for v in listed] == [2]
        status, listed, _ = http(worker.web_port, "/feeds/DE?status=refunded", token=TOKENS["DE"])
        assert status == 200 and listed == []
        # Only one call per language: the three regions' texts were each translated once.
        assert len(translator.translate_calls()) == 3


async def test_the_feed_flows_while_the_translator_is_down_and_the_translation_follows(
    bootstrap: str, topic_prefix: str, state_dir: Path, translator: FakeLibreTranslate
) -> None:
    order_id = new_order()
    case_id = case_id_for_order(order_id)
    with feeds_worker(bootstrap, topic_prefix, state_dir, translator):
        translator.go_down()
        await produce(bootstrap, f"{topic_prefix}raw.hub", return_story(order_id))
        pending: dict[str, dict[str, Any]] = {}
        for region, expected in EXPECTED.items():
            view, _ = await feed_view(bootstrap, topic_prefix, region, case_id, state="pending")
            assert view["reason"] == {
                "original": "The box arrived damaged", "language": "en", "translated": None,
                "state": "pending", "state_label": expected["pending_label"],
            }
            assert view["requested"]["formatted"] == expected["money"]
            pending[region] = view

        translator.come_back()
        for region, expected in EXPECTED.items():
            view, records = await feed_view(bootstrap, topic_prefix, region, case_id,
                                            state="translated")
            assert view["reason"]["translated"] == expected["translated"]
            # An update of the same case version: the last pending view (SLA records of the
            # policy agent may have re-rendered it meanwhile) with only its text translated.
            published = [v for v in views_of(records, case_id) if v["version"] == 2]
            first_translated = next(i for i, v in enumerate(published)
                                    if v["reason"]["state"] == "translated")
            before = published[first_translated - 1]
            assert first_translated > 0 and before["reason"]["state"] == "pending"
            assert view["version"] == pending[region]["version"] == 2
            assert {k: v for k, v in view.items() if k != "reason"} == {
                k: v for k, v in before.items() if k != "reason"}


async def test_sse_streams_a_case_produced_after_subscribing_and_checks_tokens(
    bootstrap: str, topic_prefix: str, state_dir: Path, translator: FakeLibreTranslate
) -> None:
    order_id = new_order()
    case_id = case_id_for_order(order_id)
    with feeds_worker(bootstrap, topic_prefix, state_dir, translator) as worker:
        port = worker.web_port
        async with event_stream(port, stream_path(port, "jp", TOKENS["JP"])) as stream:
            ready = await stream.until(lambda e: e.event == "ready")
            assert json.loads(ready.data) == {"count": 0, "next": None}
            await produce(bootstrap, f"{topic_prefix}raw.hub", return_story(order_id))
            # The order alone opens no case: its first view is version 2, the return request.
            event = await stream.until(lambda e: e.event == "case")
            assert event.id == f"{case_id}:2"
            view = json.loads(event.data)
            assert (view["locale"], view["status_label"]) == ("ja_JP", "申請済み")
            assert view["reason"]["translated"] == EXPECTED["jp"]["translated"]

        # A new subscriber gets the snapshot first.
        async with event_stream(port, stream_path(port, "JP", TOKENS["JP"])) as stream:
            snapshot = await stream.until(lambda e: e.event == "case")
            assert snapshot.id == f"{case_id}:2"
            assert json.loads((await stream.next()).data) == {"count": 1, "next": None}

        # Access: 401 without or with an unknown token or ticket, 403 for another region, 404
        # unknown region, 400 bad parameters or a token in the URL; every error is JSON.
        for path, token, status, error in [
            ("/feeds/JP", None, 401, "unauthorized"),
            ("/feeds/JP", "not-a-token", 401, "unauthorized"),
            ("/feeds/JP/stream", None, 401, "unauthorized"),
            ("/feeds/JP/stream", TOKENS["DE"], 403, "forbidden"),
            (stream_path(port, "DE", TOKENS["DE"]).replace("/DE/", "/JP/"), None, 401,
             "unauthorized"),
            (f"/feeds/JP/stream?token={TOKENS['JP']}", None, 400, "bad_request"),
            (f"/feeds/JP?token={TOKENS['JP']}", None, 400, "bad_request"),
            ("/feeds/DE", TOKENS["JP"], 403, "forbidden"),
            ("/feeds/SA", TOKENS["DE"], 403, "forbidden"),
            ("/feeds/XX", TOKENS["JP"], 404, "not_found"),
            ("/feeds/XX/stream", None, 404, "not_found"),
            ("/feeds/JP?status=lost", TOKENS["JP"], 400, "bad_request"),
            ("/feeds/JP?order=1", TOKENS["JP"], 400, "bad_request"),
            ("/feeds", None, 401, "unauthorized"),
        ]:
            got, body, headers = http(port, path, token=token)
            assert (got, body["code"], body["status"]) == (status, error, status), path
            assert headers["Content-Type"].startswith("application/problem+json")
            assert isinstance(body["detail"], str)
        assert http(port, "/feeds/JP", token="x")[2]["WWW-Authenticate"].startswith("Bearer")
        status, listed, _ = http(port, "/feeds/JP", token=TOKENS["JP"])
        assert status == 200 and [v["case_id"] for v in listed] == [case_id]

        # A team token lists the regions it may read, with their strings.
        status, body, _ = http(port, "/feeds", token=CONSOLE_TOKEN)
        assert status == 200
        assert [(r["code"], r["direction"], r["intl_locale"]) for r in body["regions"]] == [
            ("DE", "ltr", "de-DE-u-nu-latn"), ("SA", "rtl", "ar-SA-u-nu-arab")]
        assert body["regions"][1]["labels"]["title"] == "وحدة تحكم الدعم"

        status, page, headers = http(port, "/console")
        assert status == 200 and '<html lang="en" dir="ltr">' in page
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert http(port, "/console/console.js")[0] == 200
        assert http(port, "/console/secrets.txt")[0] == 404

        # A worker that stops ends its live streams instead of waiting for the clients.
        async with event_stream(port, stream_path(port, "JP", TOKENS["JP"])) as stream:
            await stream.until(lambda e: e.event == "ready")
            started = time.monotonic()
            await asyncio.to_thread(worker.stop)
            with pytest.raises((EOFError, aiohttp.ClientError)):
                await stream.until(lambda e: False, timeout=10)
            assert time.monotonic() - started < 20
