"""Bounded reads of HTTP bodies (requests and responses) for the webhook intake."""

from __future__ import annotations

from aiohttp import StreamReader


async def read_limited(stream: StreamReader, limit: int) -> bytes | None:
    """The whole stream, or None as soon as it is longer than `limit` bytes (never reads more)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await stream.read(limit + 1 - size)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
