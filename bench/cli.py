"""`python -m bench [--quick]`: run the benchmark set and rewrite bench/RESULTS.md.

Stages, all on one dedicated broker started for the run:
  1. throughput: B0, B1, F0, Q, N and H interleaved (each goes first once), several
     repetitions each, on input produced before the measured window;
  2. latency: open loop at fixed offered loads (half of H's median maximum rate, and the same
     absolute load for every variant), joined on record/event ids;
  3. scaling: H's cost per record at more cases, and 1 vs 2 workers;
  4. profile: py-spy on an H worker draining a backlog (flame graph + summary).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.kafka import broker_settings, create_topics, start_broker
from bench.machine import INFRA_CPUS, can_pin, code_state, describe, pin_self
from bench.profile import Summary
from bench.sut import PEER_PYTHON, Variant, ensure_peer_venv
from bench.traffic import (
    BenchRecord,
    cases_for,
    expect,
    preload_case_states,
    produce_all,
    records,
    records_per_case,
    verify_templates,
)
from bench.trials import TrialResult, latency_trial, throughput_trial

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"


@dataclass(frozen=True)
class Plan:
    name: str
    shared_records: int  # B0, B1, Q throughput input
    hub_records: int  # H throughput input
    reps: int
    latency_seconds: float
    latency_warmup_seconds: float
    latency_reps: int
    low_load: bool  # also H and B0 at a quarter of H's maximum rate
    preloaded_cases: tuple[int, ...]  # H's cost per record with this many cases already stored
    two_workers: bool
    profile_seconds: int


QUICK = Plan("quick", shared_records=20_000, hub_records=1_500, reps=2, latency_seconds=10,
             latency_warmup_seconds=4, latency_reps=1, low_load=False, preloaded_cases=(),
             two_workers=False, profile_seconds=0)
FULL = Plan("full", shared_records=100_000, hub_records=4_000, reps=3, latency_seconds=40,
            latency_warmup_seconds=8, latency_reps=1, low_load=True,
            preloaded_cases=(10_000, 100_000, 1_000_000),
            two_workers=True, profile_seconds=20)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _records(n_records: int, *, first_case: int = 0) -> list[BenchRecord]:
    return list(records(cases_for(n_records), first_case=first_case))


class Session:
    def __init__(self, plan: Plan, variants: list[str], run_dir: Path) -> None:
        self.plan = plan
        self.variants = variants
        self.run_dir = run_dir
        self.results: list[TrialResult] = []
        self.broker = start_broker(run_dir, partitions=4)
        self.bootstrap = self.broker.bootstrap
        self.trial = 0
        self.sources: tuple[str, ...] = ()
        self.notes: list[str] = []
        self.latency_load = 0.0
        self.size_summary = "n/a"
        self.shared_cases = 0
        self.profile_rate = 0.0
        self.profile_summary: Summary | None = None

    def next_ns(self, tag: str) -> str:
        self.trial += 1
        return f"bench.{tag}{self.trial}."

    def variant(self, name: str, ns: str, **kwargs: object) -> Variant:
        return Variant(name, ns, self.sources, self.bootstrap, **kwargs)  # type: ignore[arg-type]

    def record(self, result: TrialResult) -> None:
        self.results.append(result)
        state = "ok" if result.valid else f"VOID ({result.void_reason.splitlines()[0][:160]})"
        if result.kind == "throughput":
            log(f"  {result.variant:<2} {result.label:<10} rep {result.rep}: "
                f"{result.rate:8.0f} rec/s, {result.cpu_ms_per_1k:7.0f} CPU ms/1k, "
                f"RSS {result.rss_steady_mib:4.0f}/{result.rss_peak_mib:4.0f} MiB, {state}")
        else:
            log(f"  {result.variant:<2} {result.label:<10} at {result.offered:.0f} rec/s: "
                f"p50 {result.p50_ms:.0f} ms, p99 {result.p99_ms:.0f} ms, "
                f"p99.9 {result.p999_ms:.0f} ms, {state}")
        with (self.run_dir / "trials.jsonl").open("a") as stream:
            stream.write(json.dumps(result.as_dict()) + "\n")

    # -- stage 1 ------------------------------------------------------------------------------

    def throughput(self) -> None:
        plan = self.plan
        shared = _records(plan.shared_records)
        shared_expect = expect(shared)
        self.sources = tuple(sorted(shared_expect.sources))
        self.size_summary = shared_expect.size_summary()
        self.shared_cases = cases_for(plan.shared_records)
        hub_batch = _records(plan.hub_records)
        hub_expect = expect(hub_batch, with_event_ids=True)
        if any(v != "H" for v in self.variants):
            base = self.variant("B0", "bench.in.", input_ns="bench.in.")
            asyncio.run(create_topics(self.bootstrap, {t: {} for t in base.input_topics.values()},
                                      4))
            seconds = asyncio.run(produce_all(self.bootstrap, shared, base.input_topics))
            log(f"produced {len(shared)} records ({shared_expect.bytes_total / 2**20:.0f} MiB) "
                f"in {seconds:.1f} s before the measured window")
        order = list(self.variants)
        for rep in range(plan.reps):
            for name in order:
                ns = self.next_ns(name.lower())
                work = self.run_dir / ns.strip(".")
                if name == "H":
                    variant = self.variant("H", ns)
                    result = asyncio.run(throughput_trial(
                        variant, hub_batch, hub_expect, work, label="1 worker", rep=rep,
                        cases=cases_for(plan.hub_records), produce_input=True))
                else:
                    variant = self.variant(name, ns, input_ns="bench.in.")
                    result = asyncio.run(throughput_trial(
                        variant, shared, shared_expect, work, label="backlog", rep=rep,
                        cases=self.shared_cases, produce_input=False))
                self.record(result)
            order = order[1:] + order[:1]  # interleave: each variant goes first once

    # -- stage 2 ------------------------------------------------------------------------------

    def hub_max_rate(self) -> float:
        rates = sorted(r.rate for r in self.results
                       if r.variant == "H" and r.kind == "throughput" and r.valid
                       and r.label == "1 worker")
        return rates[len(rates) // 2] if rates else 0.0

    def latency(self) -> None:
        plan = self.plan
        hub_max = self.hub_max_rate()
        if hub_max <= 0:
            self.notes.append("latency skipped: no valid H throughput trial to set the load")
            return
        self.latency_load = max(1.0, round(hub_max / 2))
        # N has no latency trial: its outputs carry no bench header to join on (the ingest
        # stage's latency is H's first hop, reported with H's hops).
        runs = [(self.latency_load, "half H max", v) for v in self.variants if v != "N"]
        if plan.low_load:
            runs += [(max(1.0, round(hub_max / 4)), "quarter H max", v)
                     for v in self.variants if v in ("H", "B0")]
        first_case = 5_000_000  # fresh cases for every trial, far from the throughput stories
        for rep in range(plan.latency_reps):
            for rate, label, name in runs:
                warm_n = int(rate * plan.latency_warmup_seconds)
                meas_n = int(rate * plan.latency_seconds)
                batch = _records(warm_n + meas_n, first_case=first_case)
                first_case += cases_for(warm_n + meas_n) + 1
                warm, measured = batch[:warm_n], batch[warm_n:]
                with_ids = name == "H"
                e_warm = expect(warm, with_event_ids=with_ids)
                e_meas = expect(measured, with_event_ids=with_ids)
                ns = self.next_ns(f"lat{name.lower()}")
                result = asyncio.run(latency_trial(
                    self.variant(name, ns), warm, measured, e_warm, e_meas,
                    self.run_dir / ns.strip("."), rate=rate, label=label, rep=rep))
                self.record(result)

    # -- stage 3 ------------------------------------------------------------------------------

    def scaling(self) -> None:
        plan = self.plan
        if "H" not in self.variants:
            return
        batch = _records(plan.hub_records, first_case=1_000_000)
        e = expect(batch, with_event_ids=True)
        for stored in plan.preloaded_cases:
            ns = self.next_ns("hs")
            variant = self.variant("H", ns)
            asyncio.run(create_topics(self.bootstrap, variant.topics_to_create(), 4))
            seconds = asyncio.run(preload_case_states(self.bootstrap, ns, stored, batch[0]))
            log(f"preloaded {stored:,} case states into {ns}case.state in {seconds:.0f} s")
            result = asyncio.run(throughput_trial(
                variant, batch, e, self.run_dir / ns.strip("."), label=f"{stored:,} stored",
                rep=0, cases=cases_for(plan.hub_records) + stored, produce_input=True,
                first_output_timeout=900))
            self.record(result)
        if plan.two_workers:
            batch = _records(plan.hub_records, first_case=2_000_000)
            e = expect(batch, with_event_ids=True)
            ns = self.next_ns("h2w")
            result = asyncio.run(throughput_trial(
                self.variant("H", ns, workers=2), batch, e, self.run_dir / ns.strip("."),
                label="2 workers", rep=0, cases=cases_for(plan.hub_records),
                produce_input=True))
            self.record(result)

    # -- stage 4 ------------------------------------------------------------------------------

    def profile(self) -> None:
        from bench.profile import py_spy

        seconds = self.plan.profile_seconds
        if seconds <= 0 or "H" not in self.variants:
            return
        if py_spy() is None:
            self.notes.append("profile skipped: py-spy is not installed")
            return
        asyncio.run(profile_hub(self, seconds))

    def close(self) -> None:
        self.broker.stop()
        # The broker's data (inputs and outputs of every trial) is not needed after the run.
        shutil.rmtree(self.broker.data_dir, ignore_errors=True)


async def profile_hub(session: Session, seconds: int) -> None:
    """py-spy on one H worker under a steady open-loop load at 80 % of its maximum rate, so
    every stage (normalize, route, resolve, build_cases, read model) runs as in production."""
    from bench.kafka import OffsetProbe, delete_topics_with_prefix
    from bench.profile import record, summarize
    from bench.traffic import produce_paced

    rate = max(10.0, round(0.8 * (session.hub_max_rate() or 150.0)))
    n_records = int(rate * (2 * seconds + 15))
    batch = _records(n_records, first_case=3_000_000)
    warm, load = batch[: int(rate * 5)], batch[int(rate * 5):]
    ns = session.next_ns("prof")
    variant = session.variant("H", ns)
    await create_topics(session.bootstrap, variant.topics_to_create(), variant.partitions)
    work = session.run_dir / ns.strip(".")
    running = variant.start(work)
    probe = OffsetProbe(session.bootstrap)
    await probe.start()
    raw = OUT / "profile.collapsed.txt"
    svg = OUT / "profile.svg"
    try:
        await produce_paced(session.bootstrap, warm, variant.input_topics, rate)
        deadline = time.monotonic() + 180
        while await probe.count([variant.output_topic]) < 50 and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        pid = running.pids[0]
        producing = asyncio.create_task(
            produce_paced(session.bootstrap, load, variant.input_topics, rate))
        await asyncio.sleep(2)
        await asyncio.to_thread(record, pid, raw, seconds=seconds, fmt="raw")
        await asyncio.to_thread(record, pid, svg, seconds=seconds, fmt="flamegraph")
        await producing
    finally:
        running.stop()
        await probe.stop()
        await delete_topics_with_prefix(session.bootstrap, (ns, variant.group))
        shutil.rmtree(work / "state", ignore_errors=True)
    session.profile_rate = rate
    if raw.exists():
        session.profile_summary = summarize(raw)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, a few minutes")
    parser.add_argument("--variants", default="B0,B1,F0,Q,N,H",
                        help="comma-separated subset")
    parser.add_argument("--skip", default="", help="stages to skip: latency,scaling,profile")
    parser.add_argument("--profile-seconds", type=int, default=None,
                        help="py-spy the hub for this long (default: the plan's; 0 = skip)")
    parser.add_argument("--no-results", action="store_true",
                        help="do not rewrite bench/RESULTS.md")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.profile_seconds is not None:
        plan = dataclasses.replace(plan, profile_seconds=args.profile_seconds)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if "Q" in variants and not ensure_peer_venv():
        variants.remove("Q")
    pin_self(INFRA_CPUS)
    run_dir = OUT / "runs" / time.strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    machine = describe(PEER_PYTHON)
    machine["hub code at start"] = code_state()
    log(f"plan {plan.name}: {variants}, pinning {'on' if can_pin() else 'off'}; "
        f"run dir {run_dir}")
    verify_templates()
    started = time.monotonic()
    session = Session(plan, variants, run_dir)
    try:
        machine["broker"] = ", ".join(f"{k}={v}" for k, v in broker_settings(session.broker)
                                      .items())
        log("stage 1: throughput")
        session.throughput()
        for stage, title, run in (("latency", "stage 2: latency (open loop)", session.latency),
                                  ("scaling", "stage 3: scaling", session.scaling),
                                  ("profile", "stage 4: profile", session.profile)):
            if stage in skip:
                continue
            log(title)
            try:
                run()
            except Exception as exc:  # noqa: BLE001 - keep the stages that worked
                log(f"{stage} failed: {exc!r}")
                session.notes.append(f"stage {stage} failed: {exc!r}")
    finally:
        session.close()
    elapsed = time.monotonic() - started
    machine["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    machine["hub code at end"] = code_state()
    if machine["hub code at end"] != machine["hub code at start"]:
        session.notes.append("the hub's code changed during the run: trials of H may not "
                             "all have run the same code")
    from bench.report import render

    text = render(session, machine, elapsed=elapsed, records_per_case=records_per_case())
    (run_dir / "RESULTS.generated.md").write_text(text)
    if not args.no_results:
        from bench.report import update_results

        update_results(ROOT / "RESULTS.md", text)
    log(f"done in {elapsed / 60:.1f} min; results in {ROOT / 'RESULTS.md'}")
    if os.environ.get("BENCH_PRINT"):
        sys.stdout.write(text)
