"""The one error shape of every HTTP answer of the hub: RFC 9457 problem details.

    {"type": "https://aftersales-hub.example/problems/not_found", "title": "Not found",
     "status": 404, "detail": "no case 'c-1'", "code": "not_found"}

served as `application/problem+json`. `code` is the hub's machine-readable reason (what a client
branches on; `type` is the same as a URI), `title` its fixed summary, `detail` what was wrong
with this request. The webhook intake never echoes request data: its `detail` is fixed per code.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://aftersales-hub.example/problems/"


class Problem(BaseModel):
    """An error answer (RFC 9457 problem details with the hub's `code`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = Field(description="a URI naming the kind of problem: the base and `code`")
    title: str = Field(description="short summary of the kind of problem, fixed per `code`")
    status: int = Field(ge=400, le=599, description="the HTTP status of the answer")
    detail: str = Field(description="what was wrong with this request")
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="the hub's reason, snake_case")


def problem(status: int, code: str, detail: str | None = None) -> Problem:
    """The problem of an answer: its type and title from `code`, `detail` defaulting to it."""
    title = code.replace("_", " ").capitalize()
    return Problem(type=PROBLEM_TYPE_BASE + code, title=title, status=status,
                   detail=title if detail is None else detail, code=code)
