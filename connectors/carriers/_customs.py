"""Customs milestones recognised in carrier scan text and codes, in the carriers' languages.

English, German, Chinese (simplified and traditional), Japanese, Spanish, Portuguese and French
wording is recognised, so that one customs fact reads the same whichever carrier or aggregator
(DHL, UPS, AfterShip, 17TRACK) reports it and in whichever of these languages.

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


def _any(*alternatives: str) -> str:
    """One pattern of several alternatives (one per language, see the rules below)."""
    return "|".join(alternatives)


# Each rule lists its wording per language: English (DHL Express, UPS, FedEx via AfterShip,
# Japan Post's English pages), German (DHL Paket, Deutsche Post), Chinese simplified and
# traditional (China Post, Cainiao, 4PX, Hongkong Post via 17TRACK), Japanese (Japan Post,
# Yamato, Sagawa), Spanish (Correos, Correos de México, Correo Argentino), Portuguese (Correios,
# CTT) and French (La Poste / Colissimo, Chronopost, Canada Post). A release wording must sit
# in "released": the catch-all "in_clearance" rule matches any mention of customs, so a release
# phrase that no earlier rule knows ("released from customs", "liberado de aduana") would
# report a parcel still waiting for clearance.
_RULES: tuple[tuple[CustomsStatus, re.Pattern[str]], ...] = (
    (
        "seized",
        re.compile(
            _any(
                _then(r"\b(seized|confiscated)\b", r"\bcustoms\b"),
                _then(r"\bcustoms\b", r"\b(seized|confiscated)\b"),
                r"beschlagnahm",
                r"海关没收|海關沒收|被没收|被沒收|没收|沒收",
                r"税関で没収|没収",
                r"(decomisad|incautad|confiscad)[oa]",
                r"apreendid[oa]",
                r"saisi(e)? (par|en|à) (la )?douane|confisqué",
            ),
            re.IGNORECASE,
        ),
    ),
    (
        "refused",
        re.compile(
            _any(
                _then(r"\b(refused|rejected|denied)\b", r"\b(customs|entry|import)\b"),
                _then(r"\bcustoms\b", r"\b(refused|rejected)\b"),
                r"einfuhr verweigert|vom zoll abgelehnt",
                r"海关拒绝|海關拒絕|拒绝入境|拒絕入境|禁止入境",
                r"輸入不許可|通関不可",
                r"rechazad[oa] (por|en) (la )?aduana|importación denegada",
                r"recusad[oa] (pela|na) alfândega|importação (proibida|negada)",
                r"refusé(e)? (par|en) (la )?douane|importation refusée",
            ),
            re.IGNORECASE,
        ),
    ),
    (
        "returned",
        re.compile(
            _any(
                _then(r"\bcustoms\b", r"\breturn(ed)?\b"),
                r"海关退运|海關退運|退运出境|退運出境",
                r"devuelto por (la )?aduana",
                r"devolvid[oa] pela alfândega",
                r"renvoyé(e)? par (la )?douane",
            ),
            re.IGNORECASE,
        ),
    ),
    (
        "released",
        re.compile(
            _any(
                r"\breleased? (by|from) (the )?customs\b"
                r"|\breleased by (the )?(customs (agency|authorit(y|ies))|government agency)\b"
                r"|\bcustoms (clearance )?(is |has been )?(complete[d]?|cleared|released)\b"
                r"|\bcleared (through |by |the )?customs\b|\breceived from customs\b"
                r"|\bclearance (processing )?complete[d]?\b|\bshipment release\b"
                r"|\brelease[d]? - (import|export)\b|\bcustoms status updated: released\b",
                r"zollabfertigung (ist )?(abgeschlossen|erfolgt)|verzollung (ist )?abgeschlossen"
                r"|vom zoll freigegeben|freigabe durch (den )?zoll|zollfreigabe|wurde verzollt"
                r"|(hat|passierte) den zoll( passiert)?",
                r"放行|清关完成|清关已完成|已清关|清关成功|清关完毕|通关完成"
                r"|清關完成|清關已完成|已清關|清關成功|通關完成",
                r"通関(手続き?)?完了|通関済|通関許可|輸入許可|税関から(受領|許可)",
                r"liberad[oa] (por|en|de) (la )?aduana|despachad[oa] (de|en|por) (la )?aduana"
                r"|despacho (de aduanas?|aduanero) (completado|finalizado|concluido)"
                r"|trámite aduanero (completado|finalizado|concluido)",
                r"fiscalização aduaneira (finalizada|concluída)"
                r"|liberad[oa] (pela|na) (alfândega|fiscalização|receita federal)"
                r"|liberad[oa] sem tributação"
                r"|desembaraço (aduaneiro )?(concluído|finalizado)",
                r"dédouanement (terminé|effectué|achevé)|\bdédouanée?s?\b"
                r"|libérée? par (la )?douane|mainlevée",
            ),
            re.IGNORECASE,
        ),
    ),
    (
        "duties_paid",
        re.compile(
            _any(
                r"\b(duties|duty|import taxes|taxes)( and taxes)? (have been |were )?paid\b",
                r"zoll(gebühren|abgaben)? (wurde[n]? )?bezahlt|einfuhrabgaben bezahlt",
                r"关税已(缴|付)|關稅已(繳|付)|已缴(纳)?(关)?税|已繳(納)?(關)?稅",
                r"関税(支払|納付)済",
                r"(aranceles|impuestos) pagados",
                r"pagamento (confirmado|efetuado)|tributos pagos",
                r"droits( et taxes)? (payés|acquittés)",
            ),
            re.IGNORECASE,
        ),
    ),
    (
        "duties_due",
        re.compile(
            _any(
                _then(r"\b(duties|duty|import (vat|taxes)|customs (charges|fees))\b",
                      r"\b(due|owed|unpaid|payment|pay|collect)\b")
                + r"|\bawaiting payment of (duties|taxes)\b"
                r"|\bpay(ment)? (of )?(duties|import taxes)\b",
                r"einfuhrabgaben|zollgebühren|" + _then("zoll", "(zu zahlen|fällig)"),
                r"关税|關稅|缴税|繳稅|税费|稅費|待缴|待繳",
                r"関税|消費税",
                r"pago de (aranceles|impuestos)",
                r"aguardando pagamento|pagamento (dos tributos|do despacho)",
                r"(droits|taxes) (de douane )?à payer|paiement des droits",
            ),
            re.IGNORECASE,
        ),
    ),
    (
        "held",
        re.compile(
            _any(
                _then(r"\b(held|hold|detained|delayed|retained)\b", r"\bcustoms\b")
                + "|" + _then(r"\bcustoms\b",
                              r"\b(held|hold|detained|delay|delayed|inspection|examination)\b")
                + r"|\b(inspection|examination) by customs\b|\bclearance delay\b",
                _then("zoll", "(zurückgehalten|festgehalten)")
                + "|" + _then("(zurückgehalten|festgehalten)", "zoll")
                + r"|zollkontrolle|zollbeschau",
                r"查验|查驗|扣留|扣关|扣關|海关扣|海關扣|暂扣|暫扣|海关抽检|海關抽檢",
                r"税関検査|税関(で)?保留|通関保留|税関留置",
                r"(retenid|detenid)[oa] (en|por) (la )?aduana|inspección aduanera",
                r"retid[oa] (na|pela) alfândega",
                r"(retenu|bloqué)e? (en|à la|par la) douane|contrôle douanier",
            ),
            re.IGNORECASE,
        ),
    ),
    (
        "declared",
        re.compile(
            _any(
                r"\bcustoms declaration\b|\bdeclared to customs\b|\bcustoms (data|information)"
                r" (was |has been )?(sent|transmitted|submitted)\b",
                r"zollanmeldung|zolldaten übermittelt",
                r"报关|報關|申报|申報",
                r"税関申告|輸出申告",
                r"declaración aduanera",
                r"declaração aduaneira",
                r"déclaration en douane",
            ),
            re.IGNORECASE,
        ),
    ),
    (
        "in_clearance",
        re.compile(
            _any(
                r"\bcustoms\b|\bclearance\b|\bclearing (agency|agent|process)\b",
                r"zollabfertigung|verzollung|beim zoll|\bzoll\b|zollamt",
                r"清关|清關|海关|海關|通关|通關",
                r"通関|税関",
                r"aduan(a|as|era|ero)",
                r"alfândega|aduaneir[oa]|desembaraço|fiscalização aduaneira",
                r"douan(e|ier|ière)|dédouanement",
            ),
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
