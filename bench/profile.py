"""Profile the hub (H) under load with py-spy and summarize where its CPU goes.

py-spy samples the running `hub worker` from outside (no code change, `--nonblocking` so the
worker is never paused): one flame graph (`bench/out/profile.svg`) and one raw collapsed-stack
file that this module sums into self time per function and per package, and inclusive time of
the hub's own functions.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]+)(?::(?P<line>\d+))?\)$")

# Where a frame's file lives -> the bucket it is billed to.
_BUCKETS = (
    ("pydantic", "pydantic (validation, JSON)"),
    ("/faust/", "faust"),
    ("/mode/", "faust (mode)"),
    ("/aiokafka/", "aiokafka (client, protocol)"),
    ("/kafka/", "aiokafka (client, protocol)"),
    ("rocksdict", "RocksDB (rocksdict)"),
    ("/json/", "stdlib json"),
    ("/typer/", "typer (CLI entry)"),
    ("/asyncio/", "asyncio event loop"),
    ("selectors", "asyncio event loop"),
    ("/streams/", "hub: streams/"),
    ("/connectors/", "hub: connectors/"),
    ("/schemas/", "hub: schemas/"),
    ("/hub/", "hub: hub/"),
    ("/translations/", "hub: translations/"),
    ("/lingua", "lingua (language detection)"),
    ("/babel/", "babel"),
    ("/logging/", "stdlib logging"),
    ("/aiohttp/", "aiohttp (web, health)"),
    ("/venusian/", "faust (mode)"),
)


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return found if Path(found).exists() else None


def record(pid: int, out: Path, *, seconds: int, fmt: str) -> bool:
    tool = py_spy()
    if tool is None:
        return False
    result = subprocess.run(
        [tool, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "100",
         "--nonblocking", "--format", fmt, "--output", str(out)],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        (out.parent / f"py-spy-{fmt}.err").write_text(result.stdout + result.stderr)
    return out.exists()


def bucket(path: str) -> str:
    path = "/" + path.lstrip("/")  # py-spy writes paths relative to their sys.path entry
    for needle, name in _BUCKETS:
        if needle in path:
            return name
    return "other (stdlib, C code)"


@dataclass
class Summary:
    samples: int = 0
    self_by_function: Counter[str] = field(default_factory=Counter)
    self_by_bucket: Counter[str] = field(default_factory=Counter)
    inclusive_hub: Counter[str] = field(default_factory=Counter)
    inclusive_any: Counter[str] = field(default_factory=Counter)


def _short(func: str, path: str, line: str | None) -> str:
    marker = "/site-packages/"
    if marker in path:
        path = path.split(marker, 1)[1]
    else:
        for root in ("/streams/", "/connectors/", "/schemas/", "/hub/", "/translations/"):
            if root in path:
                path = root.strip("/") + "/" + path.split(root, 1)[1]
                break
        else:
            path = Path(path).name
    return f"{func} ({path})"


def summarize(collapsed: Path) -> Summary:
    summary = Summary()
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = []
        for raw in stack.split(";"):
            match = _FRAME.match(raw.strip())
            if match:
                frames.append((match["func"], match["file"], match["line"]))
        if not frames:
            continue
        summary.samples += count
        func, path, line_no = frames[-1]
        summary.self_by_function[_short(func, path, None)] += count
        summary.self_by_bucket[bucket(path)] += count
        seen_hub: set[str] = set()
        seen_any: set[str] = set()
        for func, path, _line in frames:
            name = _short(func, path, None)
            if name not in seen_any:
                summary.inclusive_any[name] += count
                seen_any.add(name)
            if bucket(path).startswith("hub:") and name not in seen_hub:
                summary.inclusive_hub[name] += count
                seen_hub.add(name)
    return summary
