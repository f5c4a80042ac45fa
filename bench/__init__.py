"""Benchmarks of the hub: throughput, latency and cost against the physical limit and a peer.

Never part of the test suite. `python -m bench` (or `make bench`) runs the full set and rewrites
the generated part of `bench/RESULTS.md`; `python -m bench --quick` runs small sizes in a few
minutes. See `bench/README.md` for the variants (B0, B1, H, Q), the measures and the method.
"""
