"""The systems under test as processes: B0/B1 (aiokafka), Q (Quix Streams), H (`hub worker`).

Each is started pinned to the SUT core (`taskset -c 1`); the harness and the broker stay on
core 0. A variant knows its input and output topic names for a namespace (one per trial, so no
trial reads another's records) and how to start and stop its processes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.kafka import LOG_APPEND, free_port
from bench.machine import SUT_CPUS, taskset_prefix

REPO = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
PEER_VENV = REPO / "bench" / "out" / "peer-venv"
PEER_PYTHON = PEER_VENV / "bin" / "python"
PEER_REQUIREMENT = "quixstreams>=3.28,<3.29"

DESCRIPTIONS = {
    "B0": "aiokafka consume -> produce of the same bytes (physical limit)",
    "B1": "B0 + the hub's normalize_record + canonical JSON (parsing and validation cost)",
    "F0": "one faust agent forwarding the same bytes: stream.events() + Topic.send "
          "(the framework's cost per message)",
    "N": "the hub's ingest stage alone (streams.ingest: normalize + route, batched) "
         "writing case.inbox",
    "H": "the hub as shipped: `hub worker` (ingest stage, case step, feeds, read model, "
         "metrics follower)",
    "Q": "Quix Streams (librdkafka) running the same normalize_record (peer)",
}
PASSTHROUGH = ("B0", "F0")
"""Variants that forward every input record as it is (checked by `bench.seq`, one per input)."""


@dataclass
class Running:
    """Started processes of one variant."""

    processes: list[subprocess.Popen[bytes]]
    logs: list[Path]
    web_ports: list[int] = field(default_factory=list)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.processes)

    def stop(self, timeout: float = 30.0) -> None:
        for p in self.processes:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for p in self.processes:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=30)

    def log_tail(self, lines: int = 30) -> str:
        text = []
        for path in self.logs:
            if path.exists():
                text += path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(text)

    def ready(self) -> bool:
        """H only: every worker's /health says ready (the others have no such page)."""
        for port in self.web_ports:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    if not (r.status == 200 and json.loads(r.read()).get("ready")):
                        return False
            except (urllib.error.URLError, OSError, ValueError):
                return False
        return True


def _spawn(command: list[str], log: Path, env: dict[str, str], cpus: set[int] | None
           ) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as stream:
        return subprocess.Popen(  # noqa: S603
            taskset_prefix(cpus) + command, stdout=stream, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env=env, cwd=REPO, start_new_session=True,
        )


@dataclass(frozen=True)
class Variant:
    """One variant in one namespace (`ns` prefixes every topic of the trial)."""

    name: str
    ns: str
    sources: tuple[str, ...]
    bootstrap: str
    partitions: int = 4
    workers: int = 1
    input_ns: str = ""  # B0/B1/Q read a shared input produced once; H reads its own copy

    @property
    def in_ns(self) -> str:
        return self.input_ns or self.ns

    # -- topics -------------------------------------------------------------------------------

    @property
    def is_hub(self) -> bool:
        return self.name == "H"

    def raw_topic(self, source: str) -> str:
        return f"{self.in_ns}raw.{source}"

    @property
    def input_topics(self) -> dict[str, str]:
        return {source: self.raw_topic(source) for source in self.sources}

    @property
    def group(self) -> str:
        return f"bench-{self.ns.strip('.')}"

    @property
    def ingest_group(self) -> str:
        """H and N: the ingest stage's consumer group (`<app_id>-ingest`)."""
        return f"{self.group}-ingest"

    @property
    def cases_topic(self) -> str:
        return f"{self.ns}cases"

    @property
    def output_topic(self) -> str:
        if self.name == "N":
            return f"{self.ns}case.inbox"
        return f"{self.ns}case.changes" if self.is_hub else f"{self.ns}out"

    def topics_to_create(self) -> dict[str, dict[str, str]]:
        if self.is_hub:
            from schemas.settings import load_settings
            from streams.provisioning import hub_topics

            settings = load_settings(topic_prefix=self.ns, partitions=self.partitions)
            return {name: {**config, **LOG_APPEND}
                    for name, config in hub_topics(settings).items()}
        topics: dict[str, dict[str, str]] = {t: {} for t in self.input_topics.values()}
        topics[self.output_topic] = dict(LOG_APPEND)
        if self.name == "N":
            topics[f"{self.ns}dlq.normalize"] = dict(LOG_APPEND)
        return topics

    # -- processes ----------------------------------------------------------------------------

    def start(self, work_dir: Path, *, pin: bool = True) -> Running:
        cpus = SUT_CPUS if pin and self.workers == 1 else None
        group = self.group
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        logs: list[Path] = []
        processes = []
        ports: list[int] = []
        if self.name in ("B0", "B1"):
            log = work_dir / f"{self.name}.log"
            command = [str(PYTHON), "-m", "bench.passthrough", "--mode", self.name.lower(),
                       "--bootstrap", self.bootstrap, "--output", self.output_topic,
                       "--group", group, "--prefix", self.in_ns, *self.input_topics.values()]
            processes.append(_spawn(command, log, env, cpus))
            logs.append(log)
        elif self.name == "F0":
            log = work_dir / "F0.log"
            command = [str(PYTHON), "-m", "bench.faust_forward", "--bootstrap", self.bootstrap,
                       "--output", self.output_topic, "--group", group,
                       *self.input_topics.values()]
            processes.append(_spawn(command, log, env, cpus))
            logs.append(log)
        elif self.name == "N":
            log = work_dir / "N.log"
            command = [str(PYTHON), "-m", "bench.ingest_only", "--bootstrap", self.bootstrap,
                       "--input-prefix", self.in_ns, "--output-prefix", self.ns,
                       "--group", self.ingest_group]
            processes.append(_spawn(command, log, env, cpus))
            logs.append(log)
        elif self.name == "Q":
            log = work_dir / "Q.log"
            env["PYTHONPATH"] = str(REPO)
            command = [str(PEER_PYTHON), "-m", "bench.peer_quix", "--bootstrap", self.bootstrap,
                       "--output", self.output_topic, "--group", group, "--prefix", self.in_ns,
                       *self.input_topics.values()]
            processes.append(_spawn(command, log, env, cpus))
            logs.append(log)
        else:
            for i in range(self.workers):
                port = free_port()
                log = work_dir / f"H-worker{i}.log"
                worker_env = {
                    **env,
                    "HUB_BROKER_URL": f"kafka://{self.bootstrap}",
                    "HUB_TOPIC_PREFIX": self.ns,
                    "HUB_APP_ID": group,
                    "HUB_STATE_DIR": str(work_dir / "state"),
                    "HUB_WEB_PORT": str(port),
                    "HUB_PARTITIONS": str(self.partitions),
                    "HUB_LOG_LEVEL": "warning",
                }
                processes.append(_spawn([str(PYTHON.with_name("hub")), "worker"], log,
                                        worker_env, cpus))
                logs.append(log)
                ports.append(port)
        return Running(processes, logs, ports)


def ensure_peer_venv() -> bool:
    """Q's own virtualenv (quixstreams caps pydantic below the hub's pin, so it cannot share
    the hub's venv). The hub's other dependencies come from the hub's venv through a .pth file,
    after the peer's own packages. Returns False when it cannot be built (Q is then skipped)."""
    marker = PEER_VENV / "ready"
    if marker.exists() and PEER_PYTHON.exists():
        return True
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(PEER_VENV)], check=True)
        subprocess.run([str(PEER_PYTHON), "-m", "pip", "install", "-q", PEER_REQUIREMENT],
                       check=True)
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"bench: cannot build the peer's venv ({exc}); Q is skipped", file=sys.stderr)
        return False
    _link_hub_site_packages()
    marker.write_text(PEER_REQUIREMENT)
    return True


def _link_hub_site_packages() -> None:
    import sysconfig

    hub_site = sysconfig.get_paths()["purelib"]
    out = subprocess.run([str(PEER_PYTHON), "-c",
                          "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True)
    peer_site = Path(out.stdout.strip())
    (peer_site / "zz_hub_venv.pth").write_text(f"import site; site.addsitedir({hub_site!r})\n")
