"""docs/connectors.md is written against the real code: every file it names exists, and every
code name it quotes is defined in one of the files it names."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "connectors.md").read_text()
PLACEHOLDER = "acmeparcel"
FOREIGN = {"KeyError", "ValidationError"}
"""Names from Python and pydantic the walk-through mentions."""

QUOTED = [token for token in re.findall(r"`([^`\n]+)`", DOC)
          if PLACEHOLDER not in token.lower()]
PATHS = sorted({token for token in QUOTED
                if "/" in token and " " not in token and not token.startswith("/work")
                and re.fullmatch(r"[\w./-]+", token)})
NAMES = sorted({token.removesuffix("(...)") for token in QUOTED
                if re.fullmatch(r"[A-Za-z_]\w*(\.\w+)?(\(\.\.\.\))?", token)
                and "." not in token.removesuffix("(...)").split(".")[-1]} - FOREIGN)


def test_the_walk_through_names_files_and_code() -> None:
    assert len(PATHS) >= 15 and len(NAMES) >= 10


def test_every_file_it_names_exists() -> None:
    missing = [path for path in PATHS if not (ROOT / path).exists()]
    assert missing == []


def test_every_code_name_it_quotes_is_defined_in_a_file_it_names() -> None:
    sources = "\n".join((ROOT / path).read_text() for path in PATHS if path.endswith(".py"))

    def defined(name: str) -> bool:
        return re.search(rf"^\s*(async\s+def|def|class)\s+{name}\b|^\s*{name}\s*[:=]",
                         sources, re.MULTILINE) is not None

    undefined = [name for name in NAMES if not all(defined(part) for part in name.split("."))]
    assert undefined == []
