"""A local stand-in for a LibreTranslate server, speaking its real HTTP API.

    POST /translate   q (text or list), source (code or "auto"), target, format ("text" or
                      "html"), api_key; as JSON, form fields or query parameters, as
                      LibreTranslate accepts -> {"translatedText": ...} (plus
                      "detectedLanguage" when source is "auto"); errors are {"error": ...} with
                      400 (bad request), 403 (bad key) or 500
    GET  /languages   [{"code", "name", "targets"}]

Translations are deterministic: phrases of a small dictionary are replaced, word for word,
longest first and case-insensitively; anything else (placeholders like `[[G0]]`, unknown
words) is kept. A pair without dictionary entries gets `"<target>: " + text`.

The server runs in a background thread on 127.0.0.1 and can be switched, for failure tests:
`go_down()` closes the listening socket (connections are refused), `hang()` accepts requests and
never answers until `release()` or `stop()`, `come_back()` listens again on the same port.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

LANGUAGES: dict[str, str] = {
    "en": "English", "ar": "Arabic", "zh": "Chinese", "fr": "French", "de": "German",
    "ja": "Japanese", "pt": "Portuguese", "es": "Spanish",
}

DICTIONARY: dict[tuple[str, str], dict[str, str]] = {
    ("de", "en"): {
        "das paket": "the parcel", "ist": "is", "kam": "arrived", "beschädigt": "damaged",
        "an": "", "bitte": "please", "senden sie": "send", "das": "the", "und": "and",
        "zu klein": "too small", "die hose": "the trousers",
    },
    ("en", "de"): {
        "the box": "die Schachtel", "arrived": "kam", "damaged": "beschädigt an",
        "please send": "bitte senden Sie", "the": "das", "and": "und", "is slow": "ist langsam",
    },
    ("ja", "en"): {
        "サイズが合わない": "the size does not fit",
        "商品が破損していました": "the item was damaged",
    },
    ("zh", "en"): {"商品破损": "the item is damaged", "未收到": "not received"},
    ("en", "ja"): {"the box arrived damaged": "箱が破損して届きました"},
    ("en", "ar"): {"the box arrived damaged": "وصل الصندوق تالفًا"},
}


@dataclass
class Call:
    """One request the server received."""

    path: str
    params: dict[str, Any]


@dataclass
class FakeLibreTranslate:
    """The server's switches and what it saw."""

    api_key: str | None = None
    """When set, requests must carry this key (403 otherwise), as a keyed LibreTranslate."""
    calls: list[Call] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _hang: threading.Event = field(default_factory=threading.Event)
    _released: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        """Base URL, as a client configures it."""
        return f"http://{self.host}:{self.port}/"

    def translate_calls(self, text: str | None = None) -> list[Call]:
        """The POST /translate requests received (for one text when given)."""
        with self._lock:
            return [call for call in self.calls if call.path == "/translate"
                    and (text is None or call.params.get("q") == text)]

    def start(self) -> None:
        """Listen (on a free port the first time, on the same port afterwards)."""
        server = ThreadingHTTPServer((self.host, self.port), _handler(self))
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="fake-libre",
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def go_down(self) -> None:
        """Stop listening: new connections are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def come_back(self) -> None:
        """Listen again on the same port, answering normally."""
        self.release()
        if self._server is None:
            self.start()

    def hang(self) -> None:
        """Accept requests but answer none until `release()`."""
        self._released.clear()
        self._hang.set()

    def release(self) -> None:
        """Answer again; requests left hanging get a 503."""
        self._hang.clear()
        self._released.set()

    def stop(self) -> None:
        """Release hung requests and stop."""
        self.release()
        self.go_down()

    def answer(self, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        """The status and JSON body for a request (the API's logic, without HTTP)."""
        with self._lock:
            self.calls.append(Call(path, params))
        if path == "/languages":
            return 200, [{"code": code, "name": name, "targets": sorted(LANGUAGES)}
                         for code, name in LANGUAGES.items()]
        if path != "/translate":
            return 404, {"error": "Not Found"}
        if self.api_key is not None and params.get("api_key") != self.api_key:
            return 403, {"error": "Invalid API key"}
        q, source, target = params.get("q"), params.get("source"), params.get("target")
        for name, value in (("q", q), ("source", source), ("target", target)):
            if not value:
                return 400, {"error": f"Invalid request: missing {name} parameter"}
        if target not in LANGUAGES or (source != "auto" and source not in LANGUAGES):
            return 400, {"error": f"{source if target in LANGUAGES else target} is not supported"}
        batch = [str(q)] if isinstance(q, str) else [str(text) for text in q or []]
        detected = _detect(" ".join(batch)) if source == "auto" else None
        pair = (str(detected or source), str(target))
        texts = [fake_translate(text, *pair) for text in batch]
        body: dict[str, Any] = {"translatedText": texts[0] if isinstance(q, str) else texts}
        if detected:
            body["detectedLanguage"] = {"confidence": 90.0, "language": detected}
        return 200, body


def fake_translate(text: str, source: str, target: str) -> str:
    """The server's deterministic translation."""
    if source == target:
        return text
    entries = DICTIONARY.get((source, target))
    if not entries:
        return f"{target}: {text}"
    phrases = sorted(entries, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(phrase) for phrase in phrases), re.IGNORECASE)
    translated = pattern.sub(lambda match: entries[match.group(0).lower()], text)
    return " ".join(translated.split())


def _detect(text: str) -> str:
    if re.search(r"[\u3040-\u30ff]", text):
        return "ja"
    if re.search(r"[\u4e00-\u9fff]", text):
        return "zh"
    if re.search(r"[\u0600-\u06ff]", text):
        return "ar"
    return "de" if re.search(r"[äöüß]", text) else "en"


def _handler(fake: FakeLibreTranslate) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  # stdlib name
            pass

        def _params(self) -> dict[str, Any]:
            parts = urlsplit(self.path)
            params: dict[str, Any] = {k: v[0] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if body and "json" in (self.headers.get("Content-Type") or ""):
                loaded = json.loads(body)
                if isinstance(loaded, dict):
                    params.update(loaded)
            elif body:
                params.update({k: v[0] for k, v in parse_qs(body.decode()).items()})
            return params

        def _reply(self) -> None:
            params = self._params()
            if fake._hang.is_set():
                fake._released.wait()
                status, body = 503, {"error": "Service Unavailable"}
            else:
                status, body = fake.answer(urlsplit(self.path).path, params)
            payload = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:  # noqa: N802  # http.server's naming
            self._reply()

        def do_POST(self) -> None:  # noqa: N802  # http.server's naming
            self._reply()

    return Handler


@contextmanager
def running_libretranslate(api_key: str | None = None) -> Iterator[FakeLibreTranslate]:
    """A started fake server, stopped on exit."""
    fake = FakeLibreTranslate(api_key=api_key)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
