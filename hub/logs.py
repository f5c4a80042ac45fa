"""One log format for every hub process, as text for people or JSON lines for a log pipeline.

    text   2026-03-02 10:00:00,000 WARNING streams.ingest: dead letter from raw.hub[0]@7 ...
    json   {"time": "2026-03-02T10:00:00.000Z", "level": "WARNING", "logger": "streams.ingest",
            "message": "dead letter from raw.hub[0]@7 ...", "topic": "raw.hub", "partition": 0,
            "offset": 7, "source": "hub", "stage": "normalize", "error": "..."}

`HUB_LOG_FORMAT` (`Settings.log_format`) chooses. The record fields (`RECORD_FIELDS`) come from
the log call's `extra=` (the stages pass them: they cannot import the hub) or, for code that
handles one record deep down, from `log_fields(...)`, a context variable the formatter reads;
`extra=` wins. The faust worker gets the same configuration (`logging_config`), since it sets
up logging itself when it starts.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import logging.config
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
RECORD_FIELDS = ("topic", "partition", "offset", "case_id", "event_id", "source", "stage",
                 "error")
"""Fields of the record being handled, added to a JSON line when known."""
LogFormat = Literal["text", "json"]

_fields: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "hub_log_fields", default=None)


@contextlib.contextmanager
def log_fields(**fields: Any) -> Iterator[None]:
    """Add record fields to every log line written inside the block (this task only)."""
    token = _fields.set({**(_fields.get() or {}), **fields})
    try:
        yield
    finally:
        _fields.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, record fields,
    and the exception's traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = _fields.get() or {}
        for name in RECORD_FIELDS:
            value = getattr(record, name, context.get(name))
            if value is not None:
                document[name] = _plain(value)
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            document["exception"] = record.exc_text
        if record.stack_info:
            document["stack"] = self.formatStack(record.stack_info)
        return json.dumps(document, ensure_ascii=False, default=str)


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def logging_config(level: str = "info", log_format: LogFormat = "text") -> dict[str, Any]:
    """A `logging.config.dictConfig` configuration: the root logger to stderr in `log_format`."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter} if log_format == "json" else {"format": FORMAT}
    )
    number = logging.getLevelName(level.upper())
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"hub": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "hub",
                                "stream": "ext://sys.stderr"}},
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        # aiokafka logs every coordinator hiccup of a starting broker at ERROR.
        "loggers": {"aiokafka": {"level": max(logging.WARNING, number)}},
    }


def configure_logging(level: str = "info", log_format: LogFormat = "text") -> None:
    logging.config.dictConfig(logging_config(level, log_format))
    # Warnings of libraries become log lines too, so a JSON stream stays JSON.
    logging.captureWarnings(log_format == "json")
