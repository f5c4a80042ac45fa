"""What an error answer of the hub looks like, written out by hand (RFC 9457 problem details)."""

from __future__ import annotations

from typing import Any

PROBLEMS = "https://aftersales-hub.example/problems/"


def problem_answer(status: int, code: str) -> dict[str, Any]:
    """The intake's answer for `code`: its detail is the fixed title, never request data."""
    title = code[0].upper() + code[1:].replace("_", " ")
    return {"type": PROBLEMS + code, "title": title, "status": status, "detail": title,
            "code": code}
