"""`hub.logs`: JSON lines carry time (UTC), level, logger, message and the record's fields."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator
from datetime import datetime

import pytest

from hub.logs import JsonFormatter, log_fields, logging_config


@pytest.fixture
def json_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.json_log")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_has_utc_time_level_logger_message_and_the_fields_passed(
    json_log: tuple[logging.Logger, io.StringIO]
) -> None:
    logger, stream = json_log
    logger.warning("dead letter from %s", "raw.hub", extra={
        "topic": "raw.hub", "partition": 3, "offset": 41, "case_id": b"case-\xff1",
        "unrelated": "not a record field"})

    [line] = lines(stream)
    assert line["level"] == "WARNING" and line["logger"] == "tests.json_log"
    assert line["message"] == "dead letter from raw.hub"
    assert (line["topic"], line["partition"], line["offset"]) == ("raw.hub", 3, 41)
    assert line["case_id"] == "case-\\xff1"  # bytes decoded, undecodable ones escaped
    assert "unrelated" not in line and "event_id" not in line
    time = datetime.fromisoformat(str(line["time"]))
    assert str(line["time"]).endswith("Z") and time.utcoffset() is not None


def test_fields_from_the_context_apply_inside_the_block_and_extra_wins(
    json_log: tuple[logging.Logger, io.StringIO]
) -> None:
    logger, stream = json_log
    with log_fields(case_id="case-1", event_id="ev-9"):
        logger.info("inside", extra={"event_id": "ev-10"})
    logger.info("outside")

    inside, outside = lines(stream)
    assert (inside["case_id"], inside["event_id"]) == ("case-1", "ev-10")
    assert "case_id" not in outside


def test_an_exception_is_one_line_with_its_traceback(
    json_log: tuple[logging.Logger, io.StringIO]
) -> None:
    logger, stream = json_log
    try:
        raise ValueError("bad\nrecord")
    except ValueError:
        logger.exception("step failed")

    [line] = lines(stream)  # one line: the newlines are escaped inside the JSON string
    assert "ValueError: bad" in str(line["exception"])


def test_the_configuration_sends_the_root_logger_to_stderr_in_the_chosen_format() -> None:
    config = logging_config("warning", "json")
    assert config["formatters"]["hub"] == {"()": JsonFormatter}
    assert config["root"] == {"level": "WARNING", "handlers": ["stderr"]}
    assert logging_config("info")["formatters"]["hub"]["format"].startswith("%(asctime)s")
