"""The machine under the benchmark: CPU pinning, /proc sampling of a process, versions."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
# Broker and load generator share core 0; the system under test gets core 1 alone.
INFRA_CPUS = {0}
SUT_CPUS = {1}


def can_pin() -> bool:
    return hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2


def pin_self(cpus: set[int]) -> None:
    """Pin the calling process (its current and future threads) to `cpus`."""
    if can_pin():
        os.sched_setaffinity(0, cpus)


def pin_process_tree(pid: int, cpus: set[int]) -> None:
    """Pin every thread of a running process (the JVM already has its threads)."""
    if not can_pin():
        return
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), cpus)
        except (ProcessLookupError, PermissionError, OSError):
            pass


def taskset_prefix(cpus: set[int] | None) -> list[str]:
    """Command prefix that starts a process pinned to `cpus` (nothing when pinning is off)."""
    if cpus is None or not can_pin():
        return []
    return ["taskset", "-c", ",".join(str(c) for c in sorted(cpus))]


@dataclass(frozen=True, slots=True)
class ProcSample:
    cpu_seconds: float  # user + system, all threads
    rss_bytes: int
    peak_rss_bytes: int  # VmHWM


def sample(pid: int) -> ProcSample | None:
    """CPU time and memory of one process from /proc (None once it has gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat.rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    rss = hwm = 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) * 1024
    return ProcSample((utime + stime) / CLK_TCK, rss, hwm)


def sample_all(pids: list[int]) -> ProcSample | None:
    """The sum over several processes (two workers count as one system under test)."""
    samples = [s for s in (sample(pid) for pid in pids) if s is not None]
    if not samples:
        return None
    return ProcSample(
        sum(s.cpu_seconds for s in samples),
        sum(s.rss_bytes for s in samples),
        sum(s.peak_rss_bytes for s in samples),
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _java_version() -> str:
    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
        return out.stderr.splitlines()[0] if out.stderr else "unknown"
    except OSError:
        return "not found"


def code_state() -> str:
    """The hub's code as the run found it: commit and count of uncommitted changed files in the
    shipped packages (other people edit the tree while benchmarks run)."""
    repo = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=False).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--", "hub", "streams",
             "connectors", "schemas", "translations"],
            capture_output=True, text=True, check=False).stdout.splitlines()
    except OSError:
        return "unknown"
    return f"{head or 'unknown'}" + (f" + {len(dirty)} uncommitted file(s)" if dirty else "")


def describe(peer_python: Path | None) -> dict[str, str]:
    """Machine and software versions for the results file."""
    info = {
        "cpu": f"{_cpu_model()} x {os.cpu_count()} logical",
        "memory": _mem_total(),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "java": _java_version(),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    for package in ("faust-streaming", "aiokafka", "pydantic", "pydantic-core", "rocksdict",
                    "py-spy"):
        info[package] = _version(package)
    if peer_python is not None and peer_python.exists():
        code = ("from importlib import metadata as m;"
                "print(';'.join(f'{p}=={m.version(p)}' for p in "
                "('quixstreams','confluent-kafka','pydantic')));"
                "import confluent_kafka as c; print(c.libversion()[0])")
        out = subprocess.run([str(peer_python), "-c", code], capture_output=True, text=True,
                             check=False)
        lines = out.stdout.split()
        if len(lines) == 2:
            info["peer (own venv)"] = lines[0].replace(";", ", ") + f", librdkafka {lines[1]}"
    return info
