"""Localized regional case feeds: the pure core.

A case is routed to one or more regions (`regions`), rendered for the region's locale and time
zone (`views`) with UI strings from gettext catalogs in the Babel layout (`catalogs`, `labels`),
and its free text is masked (`privacy`), language-detected (`language`) and machine-translated
behind a glossary and a translation memory (`glossary`, `machine`). Nothing here touches Kafka:
the feeds stage calls these functions.
"""
