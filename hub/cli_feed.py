"""`hub feed`: look at a case the way a regional support team sees it, offline.

    hub feed render --region DE case.json [--at 2026-03-14T15:30:00Z] [--translate]

prints the `LocalizedCaseView` as pretty JSON. Unknown region, unreadable file, invalid case
JSON or a bad `--at` exit with status 2 and a one-line reason on stderr. Without `--translate`
no provider is called: foreign-language text is shown as "translation pending".
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from schemas.case import CASE, Case
from schemas.errors import HubError

feed_cli = typer.Typer(
    help="Localized regional case feeds.", no_args_is_help=True, add_completion=False
)

USAGE_ERROR = 2


@feed_cli.callback()
def feed() -> None:
    """Localized regional case feeds."""


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(USAGE_ERROR)


def _instant(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise _fail(f"--at: not an ISO 8601 time: {text!r}") from exc
    if value.tzinfo is None:
        raise _fail(f"--at: {text!r} has no UTC offset (add Z or +hh:mm)")
    return value


def _read_case(path: Path) -> Case:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return CASE.validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        where = ".".join(str(part) for part in first["loc"]) or "case"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise _fail(f"invalid case JSON in {path}: {where}: {first['msg']}{more}") from exc


@feed_cli.command("render")
def render(
    case_file: Annotated[Path, typer.Argument(metavar="CASE_JSON_FILE", help="a Case as JSON")],
    region: Annotated[str, typer.Option("--region", help="region code, e.g. DE")],
    at: Annotated[
        str | None, typer.Option("--at", help="render as of this ISO 8601 instant (default: now)")
    ] = None,
    translate: Annotated[
        bool, typer.Option(help="translate the reason text with the configured provider")
    ] = False,
) -> None:
    """Print a case as one region's feed shows it (pretty JSON)."""
    from translations.regions import REGIONS
    from translations.views import render_case

    try:
        target = REGIONS.region(region)
    except HubError as exc:
        raise _fail(str(exc)) from exc
    now = _instant(at)
    case = _read_case(case_file)
    translation = None
    if translate:
        from schemas.settings import load_settings
        from translations.machine import resilient_translator_from_settings

        try:
            translator = resilient_translator_from_settings(load_settings())
        except HubError as exc:
            raise _fail(str(exc)) from exc
        translation = asyncio.run(translator.translate_reason(case, target))
    view = render_case(case, target, now=now, translation=translation)
    typer.echo(view.model_dump_json(indent=2))
