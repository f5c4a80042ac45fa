"""One log format for every hub process: time, level, logger, message (key=value where useful)."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure_logging(level: str = "info") -> None:
    logging.basicConfig(level=level.upper(), format=FORMAT)
    # aiokafka logs every coordinator hiccup of a starting broker at ERROR.
    logging.getLogger("aiokafka").setLevel(
        max(logging.WARNING, logging.getLevelName(level.upper()))
    )
