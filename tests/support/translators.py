"""Translation providers for unit tests: answer at once, record what they were sent."""

from __future__ import annotations


class EchoTranslator:
    """A provider that answers at once and records what it was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    async def translate(self, text: str, source: str, target: str) -> str:
        self.sent.append((text, source, target))
        return f"<{target}> {text}"
