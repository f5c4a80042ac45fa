"""Marketplace display names: a console never shows a raw marketplace id.

Amazon marketplace ids are Amazon's own (`ATVPDKIKX0DER` is amazon.com), Mercado Libre's are
its site ids (`MLB` is Brazil); brand names are not translated, so one table serves every
locale. An id not listed is shown as it is, after a generic clean-up, rather than hidden.
"""

from __future__ import annotations

MARKETPLACE_NAMES: dict[str, str] = {
    "shopify": "Shopify",
    "ATVPDKIKX0DER": "Amazon.com",
    "A2EUQ1WTGCTBG2": "Amazon.ca",
    "A1AM78C64UM0Y8": "Amazon.com.mx",
    "A2Q3Y263D00KWC": "Amazon.com.br",
    "A1F83G8C2ARO7P": "Amazon.co.uk",
    "A28R8C7NBKEWEA": "Amazon.ie",
    "A1PA6795UKMFR9": "Amazon.de",
    "A13V1IB3VIYZZH": "Amazon.fr",
    "AMEN7PMS3EDWL": "Amazon.com.be",
    "A1RKKUPIHCS9HS": "Amazon.es",
    "APJ6JRA9NG5V4": "Amazon.it",
    "A1805IZSGTT6HS": "Amazon.nl",
    "A1VC38T7YXB528": "Amazon.co.jp",
    "AAHKV2X7AFYLW": "Amazon.cn",
    "A17E79C6D8DWNP": "Amazon.sa",
    "A2VIGQ35RCS4UG": "Amazon.ae",
    "ARBP9OOSHTCHU": "Amazon.eg",
    "MLB": "Mercado Livre Brasil",
    "MLM": "Mercado Libre México",
    "MLA": "Mercado Libre Argentina",
    "MLC": "Mercado Libre Chile",
    "MCO": "Mercado Libre Colombia",
    "MPE": "Mercado Libre Perú",
    "MLU": "Mercado Libre Uruguay",
    "MLV": "Mercado Libre Venezuela",
    "MEC": "Mercado Libre Ecuador",
    "rakuma-jp": "Rakuma",
    "mercadito-sa": "Mercadito",
}


def marketplace_name(marketplace: str | None) -> str | None:
    """The display name of a marketplace id; an unlisted id cleaned up ("my-shop" -> "My Shop")."""
    if not marketplace:
        return None
    known = MARKETPLACE_NAMES.get(marketplace)
    if known is not None:
        return known
    return " ".join(part.capitalize() for part in marketplace.replace("_", "-").split("-") if part)
