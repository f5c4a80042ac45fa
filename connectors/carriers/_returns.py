"""Return parcels that say so only in words, and the carriers' own references of a shipment.

A merchant who creates a tracking for a customer's return rarely gets a flag for it: the
carrier (or the tracking platform) only carries what the merchant typed, in the shipment type,
title, note or product name: "Retoure", "Return #1042", "retour", "devolución", "devolução",
"退货", "退件", "返品". `marked_return` reads such fields (never scan descriptions) and says
whether the tracking is a return, so its events carry `direction="return"`. A parcel the
carrier sends back to its shipper ("return to sender", "retour à l'expéditeur", "devolución al
remitente", "an den Absender") is no customer return: those phrases are removed before the
words are looked for.

References. Carriers keep the merchant's own numbers of a shipment in reference lists: DHL
`details.references` (`customer-reference`), UPS `referenceNumber`, AfterShip `order_id` /
`order_number`, 17TRACK `tag`. `reference_kind` files each as an `order` reference, or as a
`return` one when the number (RMA-1042, RET 88) or the carrier's type for it names a return
authorization, so the case step can correlate the parcel with its order or its return.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from schemas.events import Direction, ReferenceKind

_TO_SENDER = re.compile(
    r"\breturn(ed|ing)?\s+to\s+(the\s+)?(sender|shipper|origin)\b"
    r"|\bretour\s+(à|a)\s+l.?exp[ée]diteur|\bretour\s+afzender"
    r"|\b(rücksendung|zurück)\s+an\s+(den\s+)?absender"
    r"|devoluci[óo]n\s+al\s+remitente|devolu[çc][ãa]o\s+ao\s+remetente"
    r"|退回寄件人|退回发件人|退回發件人|差出人(へ|に)返送",
    re.IGNORECASE,
)
_RETURN_WORDS = re.compile(
    r"\breturns?\b|\bretoure\b|\bretour\b|\brücksendung\b|\brma\b"
    r"|devoluci[óo]n|devolu[çc][ãa]o|退货|退貨|退件|返品",
    re.IGNORECASE,
)
_MATCHED = 500  # characters of each field read (a title or note is a line or two)

_RETURN_NUMBER = re.compile(r"^(RMA|RETURN|RETOURE|RET|RTN|RMN|RA)[\s#:_-]*\w*\d", re.IGNORECASE)
_IDENTIFIER = re.compile(r"^[A-Za-z0-9#/.:_-]*\d[A-Za-z0-9#/.:_-]*$")
_RETURN_TYPE = re.compile(r"return|rma|retoure", re.IGNORECASE)


def marked_return(*texts: str | None) -> bool:
    """Whether the merchant's words on a tracking (type, title, note) mark it as a return."""
    for text in texts:
        if text and _RETURN_WORDS.search(_TO_SENDER.sub(" ", text[:_MATCHED])):
            return True
    return False


def direction_of(*texts: str | None) -> Direction | None:
    """`return` for a tracking marked as a return; None (not known) otherwise."""
    return "return" if marked_return(*texts) else None


def reference_kind(value: str, *, carrier_type: str | None = None) -> ReferenceKind:
    """`return` for a return authorization (by the carrier's type for it or its number's
    prefix: RMA-1042, RET 88), else `order`: a merchant's number on a shipment names its
    order."""
    if carrier_type and _RETURN_TYPE.search(carrier_type):
        return "return"
    return "return" if _RETURN_NUMBER.match(value.strip()) else "order"


def identifiers_in(text: str | None) -> list[str]:
    """The numbers or codes in a free tag ("退货 SO-20250301-0187" -> ["SO-20250301-0187"]);
    words without a digit ("return", "gift for mum") name nothing a case could be found by."""
    tokens = re.split(r"[\s,;|，；、]+", text or "")
    return [token for token in tokens if token and _IDENTIFIER.match(token)]


def split_references(
    numbers: Iterable[tuple[str | None, str | None]],
) -> tuple[list[str], list[str]]:
    """(order numbers, return numbers) of `(number, carrier's type)` pairs, blanks dropped."""
    orders: list[str] = []
    returns: list[str] = []
    for number, carrier_type in numbers:
        if not number:
            continue
        kind = reference_kind(number, carrier_type=carrier_type)
        (returns if kind == "return" else orders).append(number)
    return orders, returns
