"""Error answers of every HTTP endpoint of the hub, as RFC 9457 problem details.

The shape is the `problem` contract (`schemas.problems`); this is its aiohttp response.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from aiohttp import web as aioweb

from schemas.problems import PROBLEM_MEDIA_TYPE, problem


def problem_response(
    status: int, code: str, detail: str | None = None, *,
    headers: Mapping[str, str] | None = None,
) -> aioweb.Response:
    """An `application/problem+json` answer: `code` names the problem, `detail` this case of
    it (default: the problem's title, for answers that must not echo the request)."""
    body = problem(status, code, detail).model_dump()
    return aioweb.Response(
        body=json.dumps(body, ensure_ascii=False).encode(), status=status,
        content_type=PROBLEM_MEDIA_TYPE, charset="utf-8", headers=headers)
