"""`python -m bench.stall [--workers 2] [--records 4000] [--runs 5]`: hunt the multi-worker stall.

Starts its own broker, then per run: produces the bench traffic, starts `--workers` hub workers
(unpinned) and waits until every expected event is in its case. When nothing moves for
`--patience` seconds, it says where the missing events stopped (never reached `case.inbox`, or
on it but not applied) and writes a `py-spy dump` of every worker next to the workers' logs.
Not part of `python -m bench`: a diagnostic for the two-worker stall (see RESULTS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import time
from pathlib import Path

from bench.kafka import create_topics, read_all, start_broker
from bench.profile import py_spy
from bench.sut import Variant
from bench.traffic import cases_for, expect, produce_all, records
from bench.trials import CaseTracker

OUT = Path(__file__).resolve().parent / "out" / "stall"


async def one_run(bootstrap: str, run: int, workers: int, n_records: int,
                  patience: float) -> bool:
    batch = list(records(cases_for(n_records), first_case=run * 100_000))
    expected = expect(batch, with_event_ids=True)
    variant = Variant("H", f"stall{run}.", tuple(sorted(expected.sources)), bootstrap,
                      workers=workers)
    await create_topics(bootstrap, variant.topics_to_create(), variant.partitions)
    await produce_all(bootstrap, batch, variant.input_topics)
    tracker = CaseTracker(bootstrap, variant.cases_topic)
    tracker.expected = set(expected.event_ids)
    await tracker.start()
    work = OUT / f"run{run}"
    running = variant.start(work, pin=False)
    started = last_change = time.monotonic()
    last = -1
    try:
        while True:
            missing = await tracker.missing()
            if missing == 0:
                print(f"run {run}: all {len(tracker.expected)} events applied in "
                      f"{time.monotonic() - started:.0f} s")
                return True
            if missing != last:
                last, last_change = missing, time.monotonic()
            if time.monotonic() - last_change > patience:
                break
            await asyncio.sleep(1.0)
        print(f"run {run}: STALLED with {missing} of {len(tracker.expected)} events unapplied "
              f"for {patience:.0f} s")
        tool = py_spy()
        for pid in running.pids:
            if tool is not None:
                dump = subprocess.run([tool, "dump", "--pid", str(pid)], capture_output=True,
                                      text=True, check=False)
                (work / f"py-spy-dump-{pid}.txt").write_text(dump.stdout + dump.stderr)
        unapplied = {e for e in tracker.expected if tracker._applied[e] <= 0}  # noqa: SLF001
        found = set()
        for record in await read_all(bootstrap, [variant.ns + "case.inbox"]):
            try:
                document = json.loads(record.value or b"")
            except ValueError:
                continue
            if document.get("event_id") in unapplied:
                found.add(document["event_id"])
        print(f"  unapplied events present on case.inbox: {len(found)} "
              f"(the rest never left the ingest stage)")
        print(f"  worker logs and py-spy dumps in {work}")
        return False
    finally:
        running.stop()
        await tracker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stall", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--records", type=int, default=4000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--patience", type=float, default=45.0)
    args = parser.parse_args()
    # A fresh broker every time: topics of an earlier invocation would count as applied.
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    broker = start_broker(OUT, partitions=4, pin=False)
    try:
        stalled = 0
        for run in range(args.runs):
            ok = asyncio.run(one_run(broker.bootstrap, run, args.workers, args.records,
                                     args.patience))
            stalled += not ok
        print(f"{stalled} of {args.runs} runs stalled")
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
