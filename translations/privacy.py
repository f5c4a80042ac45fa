"""Masking of personal data in buyers' free text, before it is shown in a feed or translated.

`mask_personal_data(text)` replaces what it recognizes by a bracketed token:

- `[email]`: e-mail addresses;
- `[iban]`: bank account numbers as IBANs, in capitals, written together or in groups of four
  (`DE89370400440532013000`, `DE89 3704 0044 0532 0130 00`) and passing the ISO 13616
  mod-97 check;
- `[card]`: payment card numbers (13 to 19 digits, spaced or not, passing the Luhn check);
- `[phone]`: phone numbers: 7 to 15 digits, with an optional `+`/`00` prefix and spaces, dots,
  hyphens, slashes or parentheses between digit groups. A bare run of more than 11 digits with
  no prefix and no separator is left alone: that is an order or tracking number, not a phone;
- `[address]`: street addresses written the usual way in the served languages (`123 Main
  Street`, `Hauptstraße 5`, `12 rue de la Paix`, `Calle Mayor 5`, `Rua Augusta, 123`, Japanese
  `丁目/番地` addresses and `〒` postcodes, Chinese `…路88号`, Arabic `شارع …`), UK postcodes,
  Brazilian CEPs;
- `[name]`: a name after a cue ("my name is", "Mein Name ist", "je m'appelle", "me llamo",
  "meu nome é", "Mr/Mrs/Herr/Frau/M./Mme/Sr./Sra.", `…様`/`…さん`, `我叫…`, `…先生/女士`,
  `اسمي …`).

Limits, on purpose documented: this is pattern matching, not named-entity recognition. A name
without a cue ("John will pick it up"), an address in free form ("the blue house behind the
church"), a bare 5-digit ZIP or PLZ, bank account numbers other than IBANs and national ids
are NOT masked. Dates and money amounts are not taken for phones, but a short digit run with
separators (`12-34-56-78`) is masked as one. Full-width digits count as digits.
Masking is idempotent and leaves the rest of the text exactly as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

EMAIL = "[email]"
IBAN = "[iban]"
PHONE = "[phone]"
CARD = "[card]"
ADDRESS = "[address]"
NAME = "[name]"

# Digits and Latin letters: a phone or card number is not glued to them (CJK text may be).
_ALNUM = "0-9A-Za-zÀ-ÖØ-öø-ÿ\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
_EMAIL_LOCAL = r"[\w.!#$%&'*+/=?^`{|}~-]"
# A local part starts where a run of its characters starts: without the lookbehind a run of
# 32k such characters and no `@` is retried from each of its positions (quadratic: 5 s).
_EMAIL = re.compile(rf"(?<!{_EMAIL_LOCAL}){_EMAIL_LOCAL}+@[\w-]+(?:\.[\w-]+)+")
# Country, check digits, then 11 to 30 letters and digits, together or in groups of up to four.
_IBAN = re.compile(
    r"(?<![0-9A-Za-z])[A-Z]{2}[0-9]{2}(?:[0-9A-Z]{11,30}|(?: [0-9A-Z]{1,4}){3,8})(?![0-9A-Za-z])"
)
_CARD = re.compile(rf"(?<![{_ALNUM}+＋])\d(?:[ -]?\d){{12,18}}(?![{_ALNUM}])")
_PHONE = re.compile(
    rf"(?<![{_ALNUM}+＋])(?:[+＋]|00)?\(?\d[\d\s().\-/－]{{5,}}\d(?![{_ALNUM}])"
)
_DATE = re.compile(r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})$")

_LATIN_WORD = r"[A-ZÀ-ÖØ-Þ][\w'’-]*"
_STREET_EN = (r"(?:Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Boulevard|Blvd\.?|Lane|Ln\.?|Drive|"
              r"Dr\.?|Court|Ct\.?|Way|Place|Pl\.?|Terrace|Close|Crescent)")
_ADDRESSES: tuple[re.Pattern[str], ...] = (
    # 123 Main Street (Apt 4B)
    re.compile(rf"\b\d{{1,5}}[A-Za-z]?\s+(?:{_LATIN_WORD}\s+){{1,4}}{_STREET_EN}(?!\w)"
               r"(?:,?\s+(?:Apt|Suite|Unit|Flat)\.?\s*\w+)?"),
    # Hauptstraße 5, Berliner Str. 12a, Am Waldweg 3
    re.compile(r"\b(?:[A-ZÄÖÜ][\wäöüß-]*\s+)?(?:Straße|Strasse|Str\.|[A-ZÄÖÜ][\wäöüß-]*"
               r"(?:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm|ufer|chaussee))"
               r"\s*\d{1,4}(?:\s?[a-zA-Z](?!\w))?"),
    # 12 rue de la Paix, 5, avenue Foch
    re.compile(r"\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|chemin|allée|"
               r"place|impasse|quai|route|cours)\s+(?:(?:de|du|des|la|le|l'|d')\s*)*"
               rf"{_LATIN_WORD}(?:\s+{_LATIN_WORD})*", re.IGNORECASE),
    # Calle Mayor 5, Av. Paulista, 1578, Rua Augusta, 123
    re.compile(r"\b(?:calle|c/|avenida|avda\.|av\.|paseo|plaza|carrera|rua|travessa|alameda|"
               r"rodovia|estrada|praça)\s+(?:(?:de|del|da|do|dos|das|la|los)\s+)*"
               r"[\wÀ-ÿ'-]+(?:\s+[\wÀ-ÿ'-]+){0,3},?\s*(?:n[ºo°.]\s*)?\d{1,5}\b", re.IGNORECASE),
    # Japanese: 〒100-0001, 千代田区千代田1丁目1番1号, 1-2-3
    re.compile(r"〒\s?\d{3}-?\d{4}"),
    # (?<!\d): the number starts where its digits start, not again at each of them (quadratic)
    re.compile(r"[\u4e00-\u9fff\u3040-\u30ff]{0,12}(?<!\d)\d+丁目(?:\d+番(?:地)?)?(?:\d+号?)?"),
    # The lookahead (a digit within reach) fails a long run of kanji at once instead of trying
    # every split of it: the same matches, a twentieth of the work on hostile text.
    re.compile(r"(?=[\u4e00-\u9fff\u3040-\u30ff]{2,21}\d)"
               r"[\u4e00-\u9fff]{1,12}(?:市|区|町|村)[\u4e00-\u9fff\u3040-\u30ff]{0,8}"
               r"\d+(?:-\d+){1,2}"),
    # Chinese: 北京市朝阳区建国路88号(2号楼)
    re.compile(r"[\u4e00-\u9fff]{0,16}(?:路|街|大道|巷|弄|胡同)\d+号[\d\u4e00-\u9fff]{0,8}"),
    # Arabic: شارع الملك فهد 12 / حي النخيل
    re.compile(r"(?:شارع|طريق|حي)\s+[\u0600-\u06ff]+(?:\s+[\u0600-\u06ff]+){0,2}(?:\s+\d+)?"),
    # UK postcode (SW1A 1AA), Brazilian CEP (01310-100)
    re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b"),
    re.compile(r"\b\d{5}-\d{3}\b"),
)

_NAMES: tuple[re.Pattern[str], ...] = (
    re.compile(rf"(?i:\b(?:my name is|mein name ist|ich heiße|je m'appelle|"
               r"me llamo|mi nombre es|meu nome é|me chamo)\s+)"
               rf"({_LATIN_WORD}(?:\s+{_LATIN_WORD}){{0,2}})"),
    re.compile(rf"\b(?:(?:Mr|Mrs|Ms|Dr|Mme|Mlle|Sr|Sra|Srta)\.?|Miss|Herr|Frau|Dona|M\.)\s+"
               rf"({_LATIN_WORD}(?:\s+{_LATIN_WORD})?)"),
    re.compile(r"([\u4e00-\u9fff\u30a0-\u30ff]{1,6})(?=様|さん|先生|女士|小姐)"),
    re.compile(r"(?:我叫|我的名字是|名前は)([\u4e00-\u9fff\u3040-\u30ff]{1,6}?)(?=です|[，。,.\s]|$)"),
    re.compile(r"(?:اسمي|أنا)\s+([\u0600-\u06ff]+(?:\s+[\u0600-\u06ff]+)?)"),
)


# Words that take an honorific but are no one's name (お客様, 皆さん, 担当者様...).
_NOT_NAMES = frozenset(
    {"客", "皆", "担当", "担当者", "店長", "出品者", "販売者", "配達員", "ショップ"}
)


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _valid_iban(compact: str) -> bool:
    """ISO 13616: 15 to 34 characters; moved and read as a number, it is 1 modulo 97."""
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _iban(match: re.Match[str]) -> str:
    # The last groups may be a following word in capitals ("... 0130 00 BIC"): the longest
    # run of leading groups that is an IBAN is masked.
    text = match.group(0)
    groups = text.split(" ")
    for end in range(len(groups), 0, -1):
        candidate = " ".join(groups[:end])
        if _valid_iban(candidate.replace(" ", "")):
            return IBAN + text[len(candidate):]
    return text


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return CARD if _luhn(digits) else match.group(0)


def _phone(match: re.Match[str]) -> str:
    candidate = match.group(0).rstrip()
    tail = match.group(0)[len(candidate):]
    digits = re.sub(r"\D", "", candidate)
    if not 7 <= len(digits) <= 15 or _DATE.match(candidate):
        return match.group(0)
    prefixed = candidate.startswith(("+", "＋", "00", "("))
    if not prefixed and candidate.isdigit() and len(digits) > 11:
        return match.group(0)  # an order or tracking number
    return PHONE + tail


def _name(match: re.Match[str]) -> str:
    if match.group(1) in _NOT_NAMES or match.string[match.start(1) - 1:match.start(1)] == "お":
        return match.group(0)
    start, end = match.span(1)
    offset = match.start()
    text = match.group(0)
    return text[: start - offset] + NAME + text[end - offset:]


_STEPS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (_EMAIL, EMAIL),
    (_IBAN, _iban),
    (_CARD, _card),
    *((pattern, ADDRESS) for pattern in _ADDRESSES),
    (_PHONE, _phone),
    *((pattern, _name) for pattern in _NAMES),
)


def mask_personal_data(text: str) -> str:
    """The text with e-mails, IBANs, cards, phones, street addresses and cued names masked."""
    masked = text
    # A mask can uncover another match that the original text hid (in "a@b.c.@d.e" the
    # second address is glued to the first): mask again until nothing changes. Each pass
    # that changes something removes an "@" or a digit run, so this ends in a few passes.
    for _ in range(_MAX_PASSES):
        before = masked
        for pattern, replacement in _STEPS:
            masked = pattern.sub(replacement, masked)
        if masked == before:
            break
    return masked


_MAX_PASSES = 4


MASK_CACHE_SIZE = 4096
"""Texts whose masked form is remembered: each case change masks its reason text once per
target language and again per region view, and the masking patterns are costly."""


@lru_cache(maxsize=MASK_CACHE_SIZE)
def masked(text: str) -> str:
    """`mask_personal_data(text)`, remembered (it is a pure function of the text)."""
    # The unmasked text is a key only in this process's memory, which holds the same text in
    # the case being processed anyway; nothing of it is persisted or sent.
    return mask_personal_data(text)
