"""`hub dlq list|show|replay`: the dead-letter commands (the work is in `hub.dead_letter_tool`).

Times are shown in the operator's zone: `--tz`, else `HUB_OPERATOR_TZ`, else the process's local
zone (`TZ`, else the machine's). Every command takes `--json` (one JSON document per line, times
as ISO 8601 with their offset, and in UTC).
"""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from schemas.settings import Settings, load_settings

DLQ_STAGES = ("normalize", "cases", "feeds")

dlq_cli = typer.Typer(
    help="Dead letters: list, group and show them, replay them after a fix.",
    no_args_is_help=True,
)

Stage = Annotated[str, typer.Option(help="dead-letter stage: normalize, cases or feeds")]
Zone = Annotated[str | None, typer.Option(
    "--tz", help="IANA time zone for times (default HUB_OPERATOR_TZ, else the local zone)")]
AsJson = Annotated[bool, typer.Option("--json", help="JSON lines instead of text")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _stage(stage: str) -> str:
    if stage not in DLQ_STAGES:
        raise _fail(f"hub dlq: unknown stage {stage!r}: one of {', '.join(DLQ_STAGES)}")
    return stage


def operator_zone(option: str | None, settings: Settings) -> tzinfo | None:
    """The zone to show times in; None: the local zone (per instant, so DST is right)."""
    name = option or settings.operator_tz
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _fail(f"hub dlq: unknown time zone {name!r} (an IANA name such as "
                    "Europe/Berlin)") from exc


def shown_time(moment: datetime | None, zone: tzinfo | None) -> str:
    """`2026-03-02 11:30:00 CET` in the operator's zone; `?` when unknown."""
    if moment is None:
        return "?"
    local = moment.astimezone(zone) if zone is not None else moment.astimezone()
    return local.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def json_times(moment: datetime | None, zone: tzinfo | None) -> dict[str, str | None]:
    if moment is None:
        return {"failed_at": None, "failed_at_utc": None}
    local = moment.astimezone(zone) if zone is not None else moment.astimezone()
    return {"failed_at": local.isoformat(),
            "failed_at_utc": moment.astimezone(UTC).isoformat().replace("+00:00", "Z")}


def shown_bytes(value: bytes) -> tuple[str, str]:
    """(encoding, text) of a record's bytes: UTF-8 text (JSON pretty-printed) when it is,
    hex when short, base64 otherwise."""
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        if len(value) <= 64:
            return "hex", value.hex(" ")
        return "base64", base64.b64encode(value).decode()
    try:
        return "json", json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return "utf-8", text


def letter_json(letter: Any, zone: tzinfo | None, *, with_value: bool) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": letter.id, "stage": letter.stage, "source": letter.source,
        "reason": letter.reason, "error": letter.error,
        "original": {"topic": letter.original_topic, "partition": letter.original_partition,
                     "offset": letter.original_offset},
        **json_times(letter.failed_at, zone), "size": len(letter.value),
    }
    if with_value:
        encoding, text = shown_bytes(letter.value)
        document["key"] = (letter.key.decode("utf-8", errors="backslashreplace")
                           if letter.key is not None else None)
        document["value_base64"] = base64.b64encode(letter.value).decode()
        document["value_text"] = text if encoding in ("utf-8", "json") else None
        document["headers"] = {name: value.decode("utf-8", errors="backslashreplace")
                               for name, value in letter.headers}
    return document


@dlq_cli.command("list")
def dlq_list(
    stage: Stage = "normalize",
    limit: Annotated[int, typer.Option(help="how many per partition, newest last")] = 50,
    group_by: Annotated[str | None, typer.Option(
        "--group-by", help="count every retained letter by reason or source")] = None,
    tz: Zone = None,
    as_json: AsJson = False,
) -> None:
    """List the newest dead letters of a stage, or count them all by reason or source."""
    from hub.dead_letter_tool import group_dead_letters, list_dead_letters, read_dead_letters

    settings = load_settings()
    zone = operator_zone(tz, settings)
    stage = _stage(stage)
    if group_by is not None:
        if group_by not in ("reason", "source"):
            raise _fail(f"hub dlq list: --group-by reason or source, not {group_by!r}")
        letters = asyncio.run(read_dead_letters(settings, stage, limit=None))
        groups = group_dead_letters(letters, group_by)  # type: ignore[arg-type]
        for group in groups:
            if as_json:
                typer.echo(json.dumps({
                    group_by: group.value, "count": group.count, "sources": list(group.sources),
                    "newest": group.newest,
                    "newest_failed_at": json_times(group.newest_failed_at, zone)["failed_at"],
                }, ensure_ascii=False))
            else:
                typer.echo(f"{group.count:>6}  {group.value}  (sources: "
                           f"{', '.join(group.sources)}; newest {group.newest} at "
                           f"{shown_time(group.newest_failed_at, zone)})")
        typer.echo(f"{len(letters)} dead letter(s) in {len(groups)} group(s)", err=True)
        return
    shown = asyncio.run(list_dead_letters(settings, stage, limit=limit))
    for letter in shown:
        if as_json:
            typer.echo(json.dumps(letter_json(letter, zone, with_value=False),
                                  ensure_ascii=False))
        else:
            typer.echo(f"{letter.id:<9} {shown_time(letter.failed_at, zone):<24} "
                       f"{letter.source:<12} {letter.original:<28} {letter.reason}")
    typer.echo(f"{len(shown)} dead letter(s) shown", err=True)


@dlq_cli.command("show")
def dlq_show(
    letter_id: Annotated[str, typer.Argument(metavar="ID", help="PARTITION:OFFSET, as listed")],
    stage: Stage = "normalize",
    tz: Zone = None,
    as_json: AsJson = False,
) -> None:
    """Show one dead letter in full: why, where from, when, and the original record."""
    from hub.dead_letter_tool import DeadLetterNotFound, find_dead_letter

    settings = load_settings()
    zone = operator_zone(tz, settings)
    try:
        letter = asyncio.run(find_dead_letter(settings, _stage(stage), letter_id))
    except ValueError as exc:
        raise _fail(f"hub dlq show: {exc}") from exc
    except DeadLetterNotFound as exc:
        raise _fail(f"hub dlq show: {exc}", 1) from exc
    if as_json:
        typer.echo(json.dumps(letter_json(letter, zone, with_value=True), ensure_ascii=False))
        return
    encoding, text = shown_bytes(letter.value)
    key = letter.key.decode("utf-8", errors="backslashreplace") if letter.key else "(none)"
    lines = [
        f"dead letter {letter.id} of dlq.{stage}",
        f"  stage      {letter.stage}",
        f"  source     {letter.source}",
        f"  reason     {letter.reason}",
        f"  error      {letter.error}",
        f"  original   {letter.original}",
        f"  failed at  {shown_time(letter.failed_at, zone)}",
        f"  key        {key}",
        *(f"  header     {name}: {value.decode('utf-8', errors='backslashreplace')}"
          for name, value in letter.headers),
        f"  value      {len(letter.value)} bytes, {encoding}:",
        text,
    ]
    typer.echo("\n".join(lines))


@dlq_cli.command("replay")
def dlq_replay(
    stage: Stage = "normalize",
    source: Annotated[str | None, typer.Option(help="only this source's letters")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="list what would be replayed; produce and move nothing")] = False,
    tz: Zone = None,
    as_json: AsJson = False,
) -> None:
    """Re-drive dead letters to the topics they came from (each source resumes where its last
    replay stopped)."""
    from tqdm import tqdm

    from hub.dead_letter_tool import replay_dead_letters

    settings = load_settings()
    zone = operator_zone(tz, settings)
    stage = _stage(stage)
    with tqdm(unit="record", desc=f"scanning dlq.{stage}", disable=as_json) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        report = asyncio.run(replay_dead_letters(settings, stage, source=source,
                                                 dry_run=dry_run, progress=progress))
    verb = "would replay" if dry_run else "replayed"
    if as_json:
        for letter in report.replayed if dry_run else ():
            typer.echo(json.dumps(letter_json(letter, zone, with_value=False),
                                  ensure_ascii=False))
        typer.echo(json.dumps({"stage": stage, "source": source, "dry_run": dry_run,
                               "scanned": report.scanned, "replayed": len(report.replayed),
                               "by_source": report.by_source()}))
        return
    if dry_run:
        for letter in report.replayed:
            typer.echo(f"{letter.id:<9} {shown_time(letter.failed_at, zone):<24} "
                       f"{letter.source:<12} {letter.original:<28} {letter.reason}")
    counts = ", ".join(f"{name}: {count}" for name, count in report.by_source().items())
    typer.echo(f"{verb} {len(report.replayed)} dead letter(s) from dlq.{stage}"
               + (f" ({counts})" if counts else ""))
