"""Hub workers as real processes (`hub worker`) for integration tests that kill and restart them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

HUB = Path(sys.executable).with_name("hub")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class HubWorker:
    """One `hub worker` process with its own web port and state directory."""

    def __init__(
        self,
        *,
        bootstrap: str,
        topic_prefix: str,
        state_dir: Path,
        app_id: str,
        web_port: int | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.web_port = web_port or free_port()
        self.log_path = state_dir / f"worker-{self.web_port}.log"
        self.env = {
            **os.environ,
            "HUB_BROKER_URL": f"kafka://{bootstrap}",
            "HUB_TOPIC_PREFIX": topic_prefix,
            "HUB_APP_ID": app_id,
            "HUB_STATE_DIR": str(state_dir),
            "HUB_WEB_PORT": str(self.web_port),
            "HUB_LOG_LEVEL": "info",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout: float = 90.0) -> HubWorker:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603
                [str(HUB), "worker"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.kill()
            raise
        return self

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"worker exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if self._healthy():
                return
            time.sleep(0.2)
        raise TimeoutError(f"worker not ready within {timeout} s:\n{self.log_tail()}")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(  # noqa: S310 - loopback only
                f"http://127.0.0.1:{self.web_port}/health", timeout=1
            ) as response:
                return bool(response.status == 200 and json.loads(response.read())["ready"])
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final commit (what a crash looks like)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 30.0) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> HubWorker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
