"""gettext catalogs in the Babel layout, compiled in memory at run time.

Layout: `translations/messages.pot` (extracted from the code with pybabel) and
`translations/<locale>/LC_MESSAGES/messages.po` per shipped locale. The `.po` files are compiled
to `.mo` bytes in memory on first use (`babel.messages.pofile` and `mofile`), so no compiled
file is ever written or committed; fuzzy entries are left out of the compiled catalog, as
`msgfmt` does. To refresh the template after changing a label, run from the repository root:

    .venv/bin/pybabel extract -F translations/babel.cfg -k 'label:1c,2' --no-default-keywords \\
        --sort-output --add-location=never --project=aftersales-hub \\
        -o translations/messages.pot translations
    .venv/bin/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching \\
        --ignore-obsolete -w 100

then translate the new empty entries in every locale (a test fails while any is empty or
fuzzy).

`EXTRACT_ARGS` holds the same extraction arguments; a test extracts with them and fails when
the committed template is stale.
"""

from __future__ import annotations

from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from translations.errors import LocalizationConfigError

CATALOG_DIR = Path(__file__).parent
DOMAIN = "messages"
TEMPLATE = CATALOG_DIR / f"{DOMAIN}.pot"
EXTRACT_ARGS: tuple[str, ...] = (
    "-F", str(CATALOG_DIR / "babel.cfg"),
    "-k", "label:1c,2", "--no-default-keywords",
    "--sort-output", "--add-location=never", "--project=aftersales-hub",
)
"""`pybabel extract` arguments (before `-o FILE DIR`) that produce `messages.pot`."""


def po_path(locale: str) -> Path:
    """Where the catalog of a locale lives."""
    return CATALOG_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=1)
def shipped_locales() -> tuple[str, ...]:
    """Locales that ship a catalog, sorted."""
    return tuple(sorted(
        path.parent.parent.name for path in CATALOG_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")
    ))


def read_catalog(locale: str) -> Any:
    """The parsed `.po` catalog of a locale (a `babel.messages.Catalog`).

    Raises:
        LocalizationConfigError: the locale ships no catalog.
    """
    path = po_path(locale)
    if not path.is_file():
        raise LocalizationConfigError(
            "catalogs", problems=[f"{locale}: no catalog at {path.relative_to(CATALOG_DIR)}"]
        )
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=DOMAIN)


@cache
def translations_for(locale: str) -> Translations:
    """The compiled gettext translations of a shipped locale, built in memory once.

    Raises:
        LocalizationConfigError: the locale ships no catalog.
    """
    buffer = BytesIO()
    write_mo(buffer, read_catalog(locale), use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def gettext(locale: str, context: str, msgid: str) -> str:
    """The translation of `msgid` in `context` for a shipped locale (msgid when untranslated)."""
    return str(translations_for(locale).pgettext(context, msgid))
