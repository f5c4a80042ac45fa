"""A support agent's action on a case: the raw record of the hub's own `console` source.

The console posts an action; the worker checks who may take it, completes it from the read
model (the case's order and region) and writes one `ActionRecord` to `case.actions`, keyed by
case id. The ingest stage turns that record into a canonical event (`streams.console_actions`)
like any provider's payload, so an action reaches the case the way every other fact does, and
is applied once however often it is delivered: its event id derives from the client's
`action_id`.

    take          assign the case to the agent or a teammate (`assignee`)
    reply         a reply to the buyer (`reply`: the agent's words, and the buyer's version)
    note          an internal note (`note`), never shown to the buyer
    request_info  ask the buyer for evidence (`request`: photos of the damage, proof of return)
    escalate      hand the case up (`note`: why)
    propose       propose a resolution (`proposal`: money for partial refunds and compensation)
    close         close the case (`note`: optional)

The JSON shape is a public contract: names stay, fields may be added.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from schemas.money import Money
from schemas.timestamps import UtcDatetime

ActionKind = Literal["take", "reply", "note", "request_info", "escalate", "propose", "close"]
EvidenceKind = Literal[
    "photos_of_damage", "proof_of_return", "proof_of_purchase", "serial_number", "description",
]
ResolutionKind = Literal[
    "return_and_refund", "partial_refund", "compensation", "exchange", "repair", "reship", "reject",
]
ReplyTranslation = Literal["translated", "not_needed", "off", "failed"]
"""What became of a reply for the buyer: translated, already in the buyer's language, sent
untranslated because no translation provider is configured (`off`), or sent untranslated
because the provider failed (`failed`). Never pending: a reply is sent once, as it is."""

MONEY_RESOLUTIONS: frozenset[str] = frozenset({"partial_refund", "compensation"})
ACTION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{7,99}$"
MAX_ACTION_TEXT = 4000

_FROZEN = ConfigDict(frozen=True, extra="forbid", str_max_length=MAX_ACTION_TEXT)


class AgentRef(BaseModel):
    """A support agent: the identity an agent token carries."""

    model_config = _FROZEN

    agent_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    region: str = Field(min_length=2, max_length=16)


class Reply(BaseModel):
    """A reply to the buyer: the agent's words as written, and what the buyer receives."""

    model_config = _FROZEN

    template: str | None = Field(None, description="the reply template the agent started from")
    text: str = Field(min_length=1, description="the agent's words, in `language`")
    language: str = Field(description="BCP 47 tag of `text`")
    buyer_text: str = Field(min_length=1, description="what the buyer receives")
    buyer_language: str = Field(description="BCP 47 tag of `buyer_text`")
    translation: ReplyTranslation


class EvidenceRequest(BaseModel):
    """What the agent asks the buyer to send."""

    model_config = _FROZEN

    evidence: tuple[EvidenceKind, ...] = Field(min_length=1)
    text: str | None = None


class Proposal(BaseModel):
    """A proposed resolution; partial refunds and compensation name their money."""

    model_config = _FROZEN

    resolution: ResolutionKind
    amount: Money | None = None
    reason: str | None = Field(None, description="why (required to reject)")

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.resolution in MONEY_RESOLUTIONS:
            if self.amount is None or self.amount.amount <= 0:
                raise ValueError(f"a {self.resolution} proposal names a positive amount")
        elif self.amount is not None:
            raise ValueError(f"a {self.resolution} proposal names no amount")
        if self.resolution == "reject" and not (self.reason and self.reason.strip()):
            raise ValueError("a rejection gives its reason")
        return self


_REQUIRED: dict[str, str] = {
    "take": "assignee", "reply": "reply", "note": "note", "request_info": "request",
    "propose": "proposal",
}


class AgentAction(BaseModel):
    """One action of an agent on a case, as the console posts it (plus who posted it)."""

    model_config = _FROZEN

    action_id: str = Field(pattern=ACTION_ID_PATTERN,
                           description="the client's id of the action: a retry repeats it")
    kind: ActionKind
    agent: AgentRef
    assignee: AgentRef | None = None
    reply: Reply | None = None
    note: str | None = None
    request: EvidenceRequest | None = None
    proposal: Proposal | None = None

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Self:
        required = _REQUIRED.get(self.kind)
        if required is not None and getattr(self, required) is None:
            raise ValueError(f"a {self.kind} action carries {required}")
        for name in ("assignee", "reply", "request", "proposal"):
            if name != required and getattr(self, name) is not None:
                raise ValueError(f"a {self.kind} action carries no {name}")
        if self.kind == "note" and not (self.note or "").strip():
            raise ValueError("a note has text")
        return self


class ActionRecord(BaseModel):
    """The record on `case.actions`: the action, the case it targets, and when it was taken."""

    model_config = _FROZEN

    schema_version: Literal[1] = 1
    case_id: str = Field(min_length=1, max_length=200)
    order_id: str = Field(min_length=1, max_length=200)
    region: str
    at: UtcDatetime
    action: AgentAction


class ActionEntry(BaseModel):
    """One line of a case's history: who did what, when."""

    model_config = _FROZEN

    at: UtcDatetime
    action: AgentAction


ACTION_RECORD = TypeAdapter(ActionRecord)
