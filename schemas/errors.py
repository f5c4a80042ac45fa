"""The hub's exceptions, grouped by what the caller must do.

    HubError
    ├── ConfigurationError        fix the settings or the machine; the process cannot start
    │   └── ToolMissingError      Java or Maven is not installed
    ├── BrokerError               the local Kafka broker could not be managed
    └── RecordError               one record could not be handled
        ├── FatalRecordError      stop: going on would corrupt state
        ├── RetriableRecordError  try the same record again after `retry_after` seconds
        └── SkippableRecordError  the record is bad: dead-letter it with its reason, go on

Foreign exceptions (JSON, pydantic, KeyError...) are translated into these once, at the
boundary (`connectors.boundary`), never left to escape into a worker.
"""

from __future__ import annotations


class HubError(Exception):
    """Root of every error the hub raises on purpose."""


class ConfigurationError(HubError):
    """A setting or a required tool is wrong or missing; the process cannot start."""


class ToolMissingError(ConfigurationError):
    """An external program the hub needs (java, mvn) is not on the PATH."""

    def __init__(self, tool: str, *, hint: str) -> None:
        super().__init__(f"{tool} was not found on PATH: {hint}")
        self.tool = tool
        self.hint = hint


class BrokerError(HubError):
    """The local Kafka broker could not be fetched, formatted, started or stopped."""


class RecordError(HubError):
    """One record could not be handled; says which source and why."""

    def __init__(self, reason: str, *, source: str | None = None) -> None:
        super().__init__(f"{source}: {reason}" if source else reason)
        self.reason = reason
        self.source = source


class FatalRecordError(RecordError):
    """Handling this record would corrupt state: stop the stream."""


class RetriableRecordError(RecordError):
    """A passing condition (a dependency down): the same record may succeed later."""

    def __init__(self, reason: str, *, source: str | None = None, retry_after: float) -> None:
        super().__init__(reason, source=source)
        self.retry_after = retry_after


class SkippableRecordError(RecordError):
    """The record itself is bad: it goes to the dead-letter topic with this reason."""
