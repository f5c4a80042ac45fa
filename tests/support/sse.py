"""A minimal Server-Sent Events reader over an aiohttp response, for the feed stream tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class SseEvent:
    event: str
    id: str | None
    data: str


class EventStream:
    """A minimal Server-Sent Events reader over aiohttp."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self) -> SseEvent:
        fields: dict[str, str] = {}
        data: list[str] = []
        while True:
            raw = await self.response.content.readline()
            if not raw:
                raise EOFError("the stream ended")
            line = raw.decode().rstrip("\r\n")
            if not line:
                if data or fields:
                    return SseEvent(fields.get("event", "message"), fields.get("id"),
                                    "\n".join(data))
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            else:
                fields[name] = value

    async def until(self, wanted: Callable[[SseEvent], bool], timeout: float = 60.0) -> SseEvent:
        async def scan() -> SseEvent:
            while True:
                event = await self.next()
                if wanted(event):
                    return event
        return await asyncio.wait_for(scan(), timeout)
