"""The embedded brokers: Apache Kafka (KRaft) that the hub runs itself, one node or a cluster.

The broker comes from Maven Central (`org.apache.kafka:kafka_2.13`), resolved once with Maven
into the hub's cache directory. `LocalKafka` is one combined broker+controller on 127.0.0.1 with
its data under the hub's state directory: the default for the demo (`hub run`), the test session
and the benchmarks. `LocalKafkaCluster` runs several of them from the same jars as one cluster
(every node a broker and a controller voter, each with its own ports and data directory), with
the durability settings of a production cluster: replication factor 3 and `min.insync.replicas`
2 for the internal topics, unclean leader election off. The broker-failure tests kill its nodes;
a deployment uses a real cluster instead (see docker-compose.yml).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from schemas.errors import BrokerError, ToolMissingError
from schemas.settings import Settings

log = logging.getLogger("hub.kafka")

_LOG4J_VERSION = "2.24.3"
_SLF4J_VERSION = "2.0.17"
_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>aftersales-hub</groupId>
  <artifactId>embedded-kafka-broker</artifactId>
  <version>{kafka}</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId>
      <version>{slf4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId>
      <version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId>
      <version>{log4j}</version></dependency>
  </dependencies>
</project>
"""
_LOG4J2_CONFIG = """status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = {level}
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = {level}
logger.state.name = state.change.logger
logger.state.level = WARN
"""


@dataclass(frozen=True, slots=True)
class BrokerStatus:
    """What `hub kafka status` reports."""

    running: bool
    pid: int | None
    bootstrap: str
    accepts_metadata: bool
    rss_bytes: int | None
    data_dir: Path
    version: str

    def describe(self) -> str:
        if not self.running:
            return f"kafka {self.version}: not running (data in {self.data_dir})"
        rss = f"{self.rss_bytes / 2**20:.0f} MiB" if self.rss_bytes else "unknown"
        ready = "ready" if self.accepts_metadata else "starting (no metadata answer yet)"
        return (
            f"kafka {self.version}: running, pid {self.pid}, {self.bootstrap}, {ready}, "
            f"RSS {rss}, data in {self.data_dir}"
        )


@dataclass(frozen=True, slots=True)
class SaslListener:
    """An extra SASL_PLAINTEXT listener of the embedded broker (tests of the hub's SASL client
    settings): PLAIN users in the listener's JAAS config, SCRAM users (SCRAM-SHA-256 and
    SCRAM-SHA-512) written into the KRaft metadata when the storage is formatted."""

    port: int
    plain_users: Mapping[str, str] = field(default_factory=dict)
    scram_users: Mapping[str, str] = field(default_factory=dict)

    def properties(self, plaintext_port: int, controller_port: int) -> dict[str, str]:
        """Broker properties that add this listener to the PLAINTEXT and controller ones."""
        users = " ".join(f'user_{name}="{password}"'
                         for name, password in self.plain_users.items())
        scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        return {
            "listeners": f"PLAINTEXT://127.0.0.1:{plaintext_port},"
            f"SASL_PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{plaintext_port},"
            f"SASL_PLAINTEXT://127.0.0.1:{self.port}",
            "listener.security.protocol.map":
                "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
            "listener.name.sasl_plaintext.sasl.enabled.mechanisms":
                "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
            "listener.name.sasl_plaintext.plain.sasl.jaas.config":
                f"org.apache.kafka.common.security.plain.PlainLoginModule required {users};",
            "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config": scram,
            "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": scram,
        }

    def format_arguments(self) -> list[str]:
        """`kafka-storage format` arguments that create the SCRAM users."""
        return [
            argument
            for name, password in self.scram_users.items()
            for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512")
            for argument in ("--add-scram", f"{mechanism}=[name={name},password={password}]")
        ]


class LocalKafka:
    """Fetch, format, start, probe and stop one KRaft node (broker+controller) on 127.0.0.1:
    a single-node broker, or one node of a `LocalKafkaCluster`."""

    def __init__(
        self,
        *,
        version: str,
        port: int,
        controller_port: int,
        data_dir: Path,
        cache_dir: Path,
        heap: str = "512m",
        partitions: int = 4,
        log_level: str = "INFO",
        sasl: SaslListener | None = None,
        node_id: int = 1,
        voters: Mapping[int, int] | None = None,
        cluster_id: str | None = None,
    ) -> None:
        """`sasl`: an extra SASL_PLAINTEXT listener with its users (the PLAINTEXT listener on
        `port` stays: the hub's own probes and the broker's internal traffic use it).
        `voters`: node id -> controller port of every controller of the cluster (default: this
        node alone); `cluster_id`: the id its storage is formatted with (default: a new one)."""
        self.version = version
        self.node_id = node_id
        self.voters = dict(voters or {node_id: controller_port})
        self.cluster_id = cluster_id
        self.port = port
        self.controller_port = controller_port
        self.data_dir = data_dir
        self.jar_dir = cache_dir / "kafka" / version / "libs"
        self.heap = heap
        self.partitions = partitions
        self.log_level = log_level
        self.sasl = sasl

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalKafka:
        return cls(
            version=settings.kafka_version,
            port=settings.kafka_port,
            controller_port=settings.kafka_controller_port,
            data_dir=settings.kafka_data_dir,
            cache_dir=settings.cache_dir,
            heap=settings.kafka_heap,
            partitions=settings.partitions,
        )

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def sasl_bootstrap(self) -> str:
        """The SASL_PLAINTEXT listener's address.

        Raises:
            BrokerError: the broker has no SASL listener.
        """
        if self.sasl is None:
            raise BrokerError("this broker has no SASL listener")
        return f"127.0.0.1:{self.sasl.port}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "broker.log"

    @property
    def _pid_file(self) -> Path:
        return self.data_dir / "broker.pid"

    # -- fetching ---------------------------------------------------------------------------

    def fetch(self) -> Path:
        """Resolve the broker's jars from Maven Central into the cache (once per version).

        Raises:
            ToolMissingError: Maven is not installed.
            BrokerError: Maven could not resolve the artifacts.
        """
        marker = self.jar_dir.parent / "resolved"
        if marker.exists() and any(self.jar_dir.glob("kafka_2.13-*.jar")):
            return self.jar_dir
        mvn = shutil.which("mvn")
        if mvn is None:
            raise ToolMissingError(
                "mvn", hint="install Apache Maven (Debian: apt-get install maven)"
            )
        self.jar_dir.parent.mkdir(parents=True, exist_ok=True)
        pom = self.jar_dir.parent / "pom.xml"
        pom.write_text(_POM.format(kafka=self.version, slf4j=_SLF4J_VERSION, log4j=_LOG4J_VERSION))
        log.info("resolving Apache Kafka %s from Maven Central", self.version)
        result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            [
                mvn,
                "-q",
                "-B",
                "-f",
                str(pom),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={self.jar_dir}",
                "-DincludeScope=runtime",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            tail = (result.stdout + result.stderr).strip().splitlines()[-15:]
            raise BrokerError(
                f"Maven could not resolve org.apache.kafka:kafka_2.13:{self.version}:\n"
                + "\n".join(tail)
            )
        marker.write_text(self.version)
        return self.jar_dir

    # -- formatting and starting ------------------------------------------------------------

    def _java(self) -> str:
        java = shutil.which("java")
        if java is None:
            raise ToolMissingError(
                "java", hint="install a Java 17+ runtime (apt-get install openjdk-17-jre-headless)"
            )
        return java

    def _classpath(self) -> str:
        return str(self.jar_dir / "*")

    # Class-data sharing: the JVM spends most of a broker's start loading and verifying the
    # same few thousand classes. The first broker to stop cleanly dumps them into an archive
    # (kept next to the jars, one per Kafka version and JVM); later brokers map it and start
    # in about half the time. A JVM that cannot use an archive warns and runs without it.

    def _class_archive(self) -> Path:
        java = os.path.realpath(self._java())
        digest = hashlib.sha256(java.encode()).hexdigest()[:12]
        return self.jar_dir.parent / f"classes-{digest}.jsa"

    @property
    def _dumped_class_archive(self) -> Path:
        return self.data_dir / "classes.jsa"

    def _class_archive_options(self, *, dump: bool = True) -> list[str]:
        archive = self._class_archive()
        if archive.exists():
            return [f"-XX:SharedArchiveFile={archive}"]
        if not dump:
            return []
        # The dump lists every class it skips as a warning: thousands of lines in broker.log.
        return [f"-XX:ArchiveClassesAtExit={self._dumped_class_archive}", "-Xlog:cds=off"]

    def _keep_class_archive(self) -> None:
        """Move an archive this node dumped at a clean exit to the shared place (atomically:
        several nodes may stop at once)."""
        dumped = self._dumped_class_archive
        if not dumped.exists():
            return
        target = self._class_archive()
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f"{target.name}.{os.getpid()}.{uuid.uuid4().hex}")
            shutil.copyfile(dumped, partial)
            os.replace(partial, target)
        dumped.unlink(missing_ok=True)

    def _write_config(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "server.properties"
        # Internal topics as durable as the cluster allows: 3 replicas, 2 in sync, on 3 nodes.
        replicas = str(min(3, len(self.voters)))
        in_sync = str(min(2, len(self.voters)))
        voters = ",".join(f"{node}@127.0.0.1:{port}" for node, port in sorted(self.voters.items()))
        properties = {
            "process.roles": "broker,controller",
            "node.id": str(self.node_id),
            "controller.quorum.voters": voters,
            "listeners": (
                f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir / "logs"),
            "num.partitions": str(self.partitions),
            "default.replication.factor": replicas,
            "min.insync.replicas": in_sync,
            "unclean.leader.election.enable": "false",
            "offsets.topic.replication.factor": replicas,
            "offsets.topic.num.partitions": "8",
            "transaction.state.log.replication.factor": replicas,
            "transaction.state.log.min.isr": in_sync,
            "transaction.state.log.num.partitions": "8",
            "share.coordinator.state.topic.replication.factor": replicas,
            "share.coordinator.state.topic.min.isr": in_sync,
            # Local brokers, no late peers to wait for: without this every new consumer group
            # waits 3 s for members that never come.
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "true",
            "log.retention.hours": "168",
        }
        if self.sasl is not None:
            properties.update(self.sasl.properties(self.port, self.controller_port))
        config.write_text("".join(f"{key}={value}\n" for key, value in properties.items()))
        (self.data_dir / "log4j2.properties").write_text(
            _LOG4J2_CONFIG.format(level=self.log_level)
        )
        return config

    def format_storage(self) -> None:
        """Format KRaft storage once; an already formatted directory is kept."""
        config = self._write_config()
        if (self.data_dir / "logs" / "meta.properties").exists():
            return
        cluster_id = self.cluster_id or _kafka_uuid()
        result = subprocess.run(  # noqa: S603
            [
                self._java(),
                *self._class_archive_options(dump=False),
                "-cp",
                self._classpath(),
                f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(config),
                *(self.sasl.format_arguments() if self.sasl is not None else ()),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BrokerError(f"formatting KRaft storage failed: {result.stdout}{result.stderr}")

    def start(self, *, timeout: float = 90.0) -> BrokerStatus:
        """Start the broker (fetching and formatting first) and wait until it serves metadata.

        Idempotent: a broker already running on this data directory is left as it is.

        Raises:
            ToolMissingError: Java or Maven is missing.
            BrokerError: the broker died or did not answer within `timeout` seconds.
        """
        process = self.launch()
        self.wait_ready(timeout, process=process)
        return self.status()

    def launch(self) -> subprocess.Popen[bytes] | None:
        """Start the broker process (fetching and formatting first) without waiting for it;
        None when it already runs. A cluster launches every node before waiting for any: a
        node answers only once a majority of the controllers is up.

        Raises:
            ToolMissingError: Java or Maven is missing.
            BrokerError: a port is taken, or formatting failed.
        """
        if self.status(probe=False).running:
            return None
        for port in (self.port, self.controller_port):
            if _port_in_use(port):
                raise BrokerError(f"port {port} is taken by another process")
        self.fetch()
        self.format_storage()
        self._keep_class_archive()
        command = [
            self._java(),
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            *self._class_archive_options(),
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
            "-cp",
            self._classpath(),
            "kafka.Kafka",
            str(self.data_dir / "server.properties"),
        ]
        with self.log_file.open("ab") as log_stream:
            process = subprocess.Popen(  # noqa: S603
                command,
                stdout=log_stream,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._pid_file.write_text(str(process.pid))
        log.info(
            "started Apache Kafka %s (pid %d) on %s", self.version, process.pid, self.bootstrap
        )
        return process

    def wait_ready(self, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
        """Wait until the broker answers metadata requests.

        Raises:
            BrokerError: `process` exited, or no answer within `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise BrokerError(
                    f"the broker exited with code {process.returncode}:\n{self._log_tail()}"
                )
            if _port_in_use(self.port) and asyncio.run(_answers_metadata(self.bootstrap)):
                return
            time.sleep(0.2)
        raise BrokerError(
            f"the broker did not answer metadata requests within {timeout:.0f} s:\n"
            + self._log_tail()
        )

    def _log_tail(self, lines: int = 20) -> str:
        if not self.log_file.exists():
            return "(no broker log)"
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    # -- status and stopping ----------------------------------------------------------------

    def _pid(self) -> int | None:
        try:
            pid = int(self._pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _alive(pid) else None

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs."""
        return self._pid()

    def status(self, *, probe: bool = True) -> BrokerStatus:
        """The broker's process and, with `probe`, whether it answers metadata requests."""
        pid = self._pid()
        running = pid is not None
        return BrokerStatus(
            running=running,
            pid=pid,
            bootstrap=self.bootstrap,
            accepts_metadata=running
            and probe
            and _port_in_use(self.port)
            and asyncio.run(_answers_metadata(self.bootstrap)),
            rss_bytes=_rss_bytes(pid) if pid else None,
            data_dir=self.data_dir,
            version=self.version,
        )

    def stop(self, *, timeout: float = 30.0) -> bool:
        """Stop the broker cleanly (SIGTERM, then SIGKILL after `timeout`); True if it ran."""
        pid = self._pid()
        if pid is None:
            self._pid_file.unlink(missing_ok=True)
            return False
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            log.warning("broker pid %d ignored SIGTERM for %.0f s; killing it", pid, timeout)
            os.killpg(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.05)
            self._dumped_class_archive.unlink(missing_ok=True)  # maybe cut off mid-write
        else:
            self._keep_class_archive()
        self._pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> None:
        """SIGKILL the broker at once (failure tests)."""
        pid = self._pid()
        if pid is not None:
            os.killpg(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.05)
            self._dumped_class_archive.unlink(missing_ok=True)

    def wipe(self) -> None:
        """Stop the broker and delete its data directory."""
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)


@dataclass(frozen=True, slots=True)
class ClusterStatus:
    """What `hub kafka status` reports for a local cluster: each node, and the brokers the
    cluster's metadata lists."""

    nodes: tuple[BrokerStatus, ...]
    brokers: tuple[int, ...]

    @property
    def running(self) -> bool:
        return any(node.running for node in self.nodes)

    @property
    def bootstrap(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes)

    def describe(self) -> str:
        up = sum(node.running for node in self.nodes)
        head = (f"kafka cluster of {len(self.nodes)} nodes: {up} running, brokers in metadata "
                f"{list(self.brokers)}; HUB_BROKER_URL={self.bootstrap.replace(',', ';')}")
        return "\n".join([head, *(f"  node {index}: {node.describe()}"
                                   for index, node in enumerate(self.nodes, start=1))])


class LocalKafkaCluster:
    """Several `LocalKafka` nodes on 127.0.0.1 as one KRaft cluster: every node a broker and a
    controller voter, so the cluster keeps working while a majority of its nodes runs."""

    def __init__(
        self,
        *,
        version: str,
        ports: list[int],
        controller_ports: list[int],
        data_dir: Path,
        cache_dir: Path,
        heap: str = "384m",
        partitions: int = 4,
        log_level: str = "INFO",
    ) -> None:
        """`ports` and `controller_ports`: one client and one controller port per node; each
        node keeps its data in `data_dir/node-<id>`."""
        if len(ports) != len(controller_ports) or not ports:
            raise BrokerError("a cluster needs one client and one controller port per node")
        taken = [*ports, *controller_ports]
        if len(set(taken)) != len(taken):
            raise BrokerError(f"the cluster's ports collide: {taken}")
        self.data_dir = data_dir
        voters = {node: port for node, port in enumerate(controller_ports, start=1)}
        self.nodes = [
            LocalKafka(
                version=version, port=port, controller_port=controller_port,
                data_dir=data_dir / f"node-{node}", cache_dir=cache_dir, heap=heap,
                partitions=partitions, log_level=log_level, node_id=node, voters=voters,
                cluster_id=self._cluster_id(),
            )
            for node, (port, controller_port) in enumerate(
                zip(ports, controller_ports, strict=True), start=1)
        ]

    @classmethod
    def from_settings(cls, settings: Settings, nodes: int) -> LocalKafkaCluster:
        """The local cluster of `nodes` nodes: node n listens on HUB_KAFKA_PORT + 2(n-1) and
        HUB_KAFKA_CONTROLLER_PORT + 2(n-1) (9092/9093, 9094/9095, 9096/9097 by default)."""
        return cls(
            version=settings.kafka_version,
            ports=[settings.kafka_port + 2 * n for n in range(nodes)],
            controller_ports=[settings.kafka_controller_port + 2 * n for n in range(nodes)],
            data_dir=cluster_data_dir(settings),
            cache_dir=settings.cache_dir,
            heap=settings.kafka_heap,
            partitions=settings.partitions,
        )

    def _cluster_id(self) -> str:
        """The id every node's storage is formatted with, kept next to the nodes' data."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        id_file = self.data_dir / "cluster.id"
        if not id_file.exists():
            id_file.write_text(_kafka_uuid())
        return id_file.read_text().strip()

    @property
    def bootstrap(self) -> str:
        """Every node's client address, as Kafka clients take it."""
        return ",".join(node.bootstrap for node in self.nodes)

    def node(self, node_id: int) -> LocalKafka:
        """The node with this id (1-based, as in `node.id`)."""
        return self.nodes[node_id - 1]

    def start(self, *, timeout: float = 120.0) -> ClusterStatus:
        """Start every node that is not running and wait until each one answers and the
        cluster's metadata lists every broker. Idempotent.

        Raises:
            ToolMissingError: Java or Maven is missing.
            BrokerError: a node died, or the cluster was not whole within `timeout` seconds.
        """
        self.nodes[0].fetch()
        launched = [(node, node.launch()) for node in self.nodes]
        deadline = time.monotonic() + timeout
        for node, process in launched:
            node.wait_ready(max(1.0, deadline - time.monotonic()), process=process)
        self.wait_whole(max(1.0, deadline - time.monotonic()))
        return self.status()

    def wait_whole(self, timeout: float) -> None:
        """Wait until the cluster's metadata lists every node as a broker.

        Raises:
            BrokerError: not within `timeout` seconds.
        """
        wanted = {node.node_id for node in self.nodes}
        deadline = time.monotonic() + timeout
        brokers: set[int] = set()
        while time.monotonic() < deadline:
            brokers = set(asyncio.run(_broker_ids(self.bootstrap)))
            if brokers >= wanted:
                return
            time.sleep(0.2)
        raise BrokerError(f"the cluster lists brokers {sorted(brokers)}, not {sorted(wanted)}, "
                          f"after {timeout:.0f} s")

    def status(self) -> ClusterStatus:
        nodes = tuple(node.status() for node in self.nodes)
        running = ",".join(n.bootstrap for n in nodes if n.running)
        brokers = tuple(sorted(asyncio.run(_broker_ids(running)))) if running else ()
        return ClusterStatus(nodes=nodes, brokers=brokers)

    def stop(self, *, timeout: float = 30.0) -> bool:
        """Stop every node cleanly, all at once; True if any ran. (One after the other, the
        last nodes would wait for a controller quorum that is already gone.)"""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(len(self.nodes)) as pool:
            return any(list(pool.map(lambda node: node.stop(timeout=timeout), self.nodes)))

    def wipe(self) -> None:
        """Stop every node and delete the cluster's data."""
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def cluster_data_dir(settings: Settings) -> Path:
    """Where the local cluster started from these settings keeps its nodes' data."""
    return settings.state_dir / "kafka" / f"cluster-{settings.kafka_port}"


def _kafka_uuid() -> str:
    import base64

    # As Kafka's own Uuid.randomUuid: an id starting with "-" would be read as an option by
    # `kafka-storage format -t` (1 random id in 64).
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, IndexError):
        return True
    if state == "Z":
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        return False
    return True


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _rss_bytes(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except FileNotFoundError:
        return None
    return None


async def _answers_metadata(bootstrap: str) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaError

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        brokers = (await admin.describe_cluster()).get("brokers", [])
        return bool(brokers)
    except (TimeoutError, KafkaError, OSError):
        return False
    finally:
        await admin.close()


async def _broker_ids(bootstrap: str) -> list[int]:
    """The node ids of the brokers the cluster's metadata lists ([] when nobody answers)."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaError

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        return [int(b["node_id"]) for b in (await admin.describe_cluster()).get("brokers", [])]
    except (TimeoutError, KafkaError, OSError):
        return []
    finally:
        await admin.close()
