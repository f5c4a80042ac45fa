"""`hub policy`: explain, offline, what the after-sales policy says about one case.

`hub policy explain CASE_JSON_FILE [--at ISO_TIME] [--json] [--rules DIR]` reads a Case as the
`cases` topic and the query API publish it, evaluates it with `streams.policy.assess_case` and
prints the return-window status, every SLA deadline (in UTC and in the buyer's time zone) and the
responsible party with the suggested resolution, each with the rule (id and source or
explanation) that produced it. No broker, no network: only the files named.

Exit codes: 0 on success; 2 with a one-line reason on stderr when the case file or `--at` is
invalid or the policy files do not validate. Registered by the main CLI as `hub policy`.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from schemas.case import CASE, Case
from schemas.timestamps import parse_iso, zone
from streams.policy import PolicyAssessment, PolicyConfigurationError, assess_case, load_policy

policy_cli = typer.Typer(
    help="After-sales policy: return windows, SLA deadlines, responsibility.",
    no_args_is_help=True,
    add_completion=False,
)

_NAME = "hub policy explain"


@policy_cli.callback()
def _group() -> None:
    """After-sales policy: return windows, SLA deadlines, responsibility."""


@policy_cli.command("explain")
def explain(
    case_file: Annotated[
        str, typer.Argument(metavar="CASE_JSON_FILE", help="a Case as JSON, or - for stdin")
    ],
    at: Annotated[
        str | None,
        typer.Option("--at", help="judge at this ISO 8601 instant with offset (default: now)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the assessment as JSON")] = False,
    rules: Annotated[
        Path | None, typer.Option("--rules", help="directory with the three policy TOML files")
    ] = None,
) -> None:
    """Explain the return window, the deadlines and the responsibility of one case."""
    case = _read_case(case_file)
    instant = _instant(at)
    try:
        policy = load_policy(rules)
    except PolicyConfigurationError as exc:
        raise _fail(f"{len(exc.problems)} policy problems, first: {exc.problems[0]}") from exc
    assessment = assess_case(case, policy, at=instant)
    if as_json:
        typer.echo(assessment.model_dump_json(indent=2))
    else:
        typer.echo(render(assessment))


def render(assessment: PolicyAssessment) -> str:
    """The assessment as text for a person."""
    lines = [*_header(assessment), "", *_window(assessment), "", *_deadlines(assessment), "",
             *_responsibility(assessment)]
    return "\n".join(lines)


def _header(a: PolicyAssessment) -> list[str]:
    facts = [f"case {a.case_id}"]
    facts += [f"order {a.order_id}"] if a.order_id else []
    facts.append(f"buyer {a.buyer_country or 'unknown country'}")
    facts += [f"marketplace {a.marketplace}"] if a.marketplace else []
    versions = ", ".join(f"{name} {version}" for name, version in a.policy_versions.items())
    return [
        " | ".join(facts),
        f"assessed at {_utc(a.assessed_at)}"
        + (f" = {_local(a.assessed_at, a.buyer_zone)}" if a.buyer_zone else ""),
        f"policy: {versions}",
    ]


def _window(a: PolicyAssessment) -> list[str]:
    w = a.window
    lines = [f"RETURN WINDOW: {w.state.replace('_', ' ').upper()}", f"  {w.reason}"]
    if w.deadline is not None:
        lines.append(f"  deadline    {_both(w.deadline, w.zone or a.buyer_zone)}")
    if w.started_at is not None:
        lines.append(f"  counted     {w.period}: {_utc(w.started_at)}")
    if w.checked_at is not None:
        what = "return request" if w.checked == "return_requested_at" else "assessment time"
        lines.append(f"  judged      {what} {_utc(w.checked_at)}")
    if w.send_back_by is not None:
        lines.append(f"  send back   by {_both(w.send_back_by, w.zone or a.buyer_zone)}")
    if w.rule_id is not None:
        lines.append(f"  rule        {w.rule_id} ({w.rule_kind}): {w.source}")
    if len(w.considered) > 1:
        lines.append(f"  considered  {', '.join(w.considered)} (the latest deadline governs)")
    return lines


def _deadlines(a: PolicyAssessment) -> list[str]:
    if not a.deadlines:
        return ["DEADLINES: none started"]
    lines = [f"DEADLINES ({len(a.deadlines)}):"]
    for d in a.deadlines:
        shown_zone = d.zone or a.buyer_zone
        lines.append(f"  {d.name}: {d.state.replace('_', ' ').upper()}")
        lines.append(f"    due       {_both(d.due_at, shown_zone)}")
        if d.warn_at is not None:
            lines.append(f"    warn at   {_both(d.warn_at, shown_zone)}")
        lines.append(f"    started   by {d.started_by} at {_utc(d.started_at)}")
        met = f"by {d.met_by} at {_utc(d.met_at)}" if d.met_at and d.met_by else "not yet"
        lines.append(f"    met       {met}")
        lines.append(f"    rule      {d.rule_id} ({d.binding}, {d.period}): {d.source}")
        if len(d.considered) > 1:
            lines.append(f"    considered {', '.join(d.considered)} (the earliest due binds)")
    return lines


def _responsibility(a: PolicyAssessment) -> list[str]:
    r = a.responsibility
    lines = [
        f"RESPONSIBLE: {r.party.replace('_', ' ')}",
        f"  resolution        {r.resolution.replace('_', ' ')}",
        f"  return shipping   paid by {r.return_shipping_paid_by}",
        f"  duties            paid by {r.duties_paid_by}",
        f"  rule              {r.rule_id}: {r.explanation}",
        f"  source            {r.source}",
    ]
    if r.disruption_id:
        lines.append(f"  disruption        {r.disruption_id}")
    return lines


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _local(instant: datetime, zone_name: str) -> str:
    local = instant.astimezone(zone(zone_name))
    return f"{local.strftime('%Y-%m-%d %H:%M:%S %Z')} ({zone_name})"


def _both(instant: datetime, zone_name: str | None) -> str:
    if zone_name is None:
        return f"{_utc(instant)} | buyer's zone unknown"
    return f"{_utc(instant)} | {_local(instant, zone_name)}"


def _read_case(case_file: str) -> Case:
    try:
        body = sys.stdin.buffer.read() if case_file == "-" else Path(case_file).read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {case_file}: {exc.strerror or exc}") from exc
    try:
        return CASE.validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "document"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        message = " ".join(str(first["msg"]).split())
        raise _fail(f"{case_file} is not a valid Case: {where}: {message}{more}") from exc


def _instant(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        return parse_iso(text).utc
    except ValueError as exc:
        raise _fail(f"--at {text!r} is not an ISO 8601 instant with an offset") from exc


def _fail(reason: str) -> typer.Exit:
    typer.echo(f"{_NAME}: {reason}", err=True)
    return typer.Exit(2)
