"""Customs milestones recognised in carrier scan text (English, German, Chinese) and codes.

Portuguese and Spanish wording of the Brazilian and Spanish-speaking postal services
(alfândega, aduana, "fiscalização aduaneira finalizada") is recognised too.

Carriers rarely flag customs scans with a code of their own; the milestone is in the scan's
description: "Clearance processing complete", "Held by customs", "Zollabfertigung", "海关查验",
"清关完成", "放行". `recognize_customs` maps such text to the hub's `CustomsStatus`; carriers that
do have a code (AfterShip InTransit_005/006, 17TRACK InTransit_Customs*, UPS "SR") pass it in
`code_status`, which wins over the text.

Rules are tried in order, the most consequential first: seizure, refusal and customs return end
the parcel's journey; a release ends the customs story even when duties are mentioned; "held,
duties due" is `duties_due` (the action the buyer must take); a bare "customs clearance" is
`in_clearance`. Words that merely contain "custom" (customer, customised) never match: English
patterns are word-bounded.
"""

from __future__ import annotations

import re

from schemas.events import CustomsStatus

SCAN_TEXT_MATCHED = 500
"""Characters of each scan text the customs and status rules read. Carrier scan texts are a
phrase or two (the longest recorded one has 115 characters); the event keeps the text itself
up to `connectors.boundary.FREE_TEXT_LIMIT`."""


def _then(first: str, later: str) -> str:
    """A pattern for `first` and, somewhere after it, `later`, that runs in linear time.

    `first.*later` tries `.*` again from every occurrence of `first`: quadratic when `first`
    repeats and `later` never comes (3 s for a 12,000-character scan text). Any `later` after
    some occurrence of `first` is after the first occurrence too, so the pattern anchors at the
    start and commits to that first occurrence (an atomic group): one pass either way.
    """
    return rf"^(?>(?s:.*?){first})(?s:.*){later}"


_RULES: tuple[tuple[CustomsStatus, re.Pattern[str]], ...] = (
    (
        "seized",
        re.compile(
            _then(r"\b(seized|confiscated)\b", r"\bcustoms\b")
            + "|" + _then(r"\bcustoms\b", r"\b(seized|confiscated)\b")
            + r"|beschlagnahm|海关没收|被没收|没收",
            re.IGNORECASE,
        ),
    ),
    (
        "refused",
        re.compile(
            _then(r"\b(refused|rejected|denied)\b", r"\b(customs|entry|import)\b")
            + "|" + _then(r"\bcustoms\b", r"\b(refused|rejected)\b")
            + r"|einfuhr verweigert|vom zoll abgelehnt"
            r"|海关拒绝|拒绝入境|禁止入境",
            re.IGNORECASE,
        ),
    ),
    (
        "returned",
        re.compile(_then(r"\bcustoms\b", r"\breturn(ed)?\b") + "|海关退运|退运出境", re.IGNORECASE),
    ),
    (
        "released",
        re.compile(
            r"\breleased? by (the )?customs\b|\bcustoms (clearance )?(is |has been )?"
            r"(complete[d]?|cleared|released)\b|\bcleared (through )?customs\b"
            r"|\bclearance (processing )?complete[d]?\b|\bshipment release\b"
            r"|\brelease[d]? - (import|export)\b|\bcustoms status updated: released\b"
            r"|zollabfertigung (ist )?abgeschlossen|vom zoll freigegeben|wurde verzollt"
            r"|放行|清关完成|已清关|清关成功|清关完毕|通关完成"
            r"|fiscalização aduaneira (finalizada|concluída)|liberad[oa] (pela|na) alfândega"
            r"|desembaraço (aduaneiro )?(concluído|finalizado)|liberad[oa] (por|en) (la )?aduana",
            re.IGNORECASE,
        ),
    ),
    (
        "duties_paid",
        re.compile(
            r"\b(duties|duty|import taxes|taxes)( and taxes)? (have been |were )?paid\b"
            r"|zoll(gebühren|abgaben)? (wurde[n]? )?bezahlt|einfuhrabgaben bezahlt"
            r"|关税已(缴|付)|已缴(纳)?(关)?税",
            re.IGNORECASE,
        ),
    ),
    (
        "duties_due",
        re.compile(
            _then(r"\b(duties|duty|import (vat|taxes)|customs (charges|fees))\b",
                  r"\b(due|owed|unpaid|payment|pay|collect)\b")
            + r"|\bawaiting payment of (duties|taxes)\b"
            r"|\bpay(ment)? (of )?(duties|import taxes)\b"
            r"|einfuhrabgaben|zollgebühren|" + _then("zoll", "(zu zahlen|fällig)") +
            r"|关税|缴税|税费|待缴"
            r"|aguardando pagamento do despacho|pagamento (dos tributos|do despacho)"
            r"|pago de (aranceles|impuestos)",
            re.IGNORECASE,
        ),
    ),
    (
        "held",
        re.compile(
            _then(r"\b(held|hold|detained|delayed|retained)\b", r"\bcustoms\b")
            + "|" + _then(r"\bcustoms\b",
                          r"\b(held|hold|detained|delay|delayed|inspection|examination)\b")
            + r"|\b(inspection|examination) by customs\b|\bclearance delay\b|"
            + _then("zoll", "(zurückgehalten|festgehalten)")
            + "|" + _then("(zurückgehalten|festgehalten)", "zoll")
            + r"|zollkontrolle|zollbeschau"
            r"|查验|扣留|扣关|海关扣|暂扣|海关抽检"
            r"|retid[oa] (na|pela) alfândega|retenid[oa] (en|por) (la )?aduana",
            re.IGNORECASE,
        ),
    ),
    (
        "declared",
        re.compile(
            r"\bcustoms declaration\b|\bdeclared to customs\b|\bcustoms (data|information)"
            r" (was |has been )?(sent|transmitted|submitted)\b"
            r"|zollanmeldung|zolldaten übermittelt|报关|申报",
            re.IGNORECASE,
        ),
    ),
    (
        "in_clearance",
        re.compile(
            r"\bcustoms\b|\bclearance\b|\bclearing (agency|agent|process)\b"
            r"|zollabfertigung|verzollung|beim zoll|\bzoll\b|zollamt"
            r"|清关|海关|通关"
            r"|alfândega|aduan(a|eira|eiro|ero)|desembaraço|fiscalização aduaneira",
            re.IGNORECASE,
        ),
    ),
)


_GENERIC: frozenset[CustomsStatus] = frozenset({"in_clearance", "declared"})


def recognize_customs(
    *texts: str | None, code_status: CustomsStatus | None = None
) -> CustomsStatus | None:
    """The customs milestone a scan reports, or None when it is not a customs scan.

    Args:
        texts: the scan's free texts (description, status text, remark) as received.
        code_status: a milestone the carrier's own code already states. It wins, except that
            a generic code ("clearance in progress") yields to text naming something more
            specific: 17TRACK files a "海关查验（扣留）" scan under InTransit_CustomsProcessing.
    """
    if code_status is not None and code_status not in _GENERIC:
        return code_status
    # The rules cost about a microsecond per character: each text is read only as far as a
    # scan text runs (`SCAN_TEXT_MATCHED`), so a payload of long texts stays cheap.
    joined = " ".join(
        " ".join(text[:SCAN_TEXT_MATCHED].replace("_", " ").split()) for text in texts if text
    )
    for status, pattern in _RULES:
        if joined and pattern.search(joined):
            return status if status not in _GENERIC or code_status is None else code_status
    return code_status
