.PHONY: run test bench lint

run:  ## set up, then run the hub on the embedded broker with sample traffic
	HUB_BOOTSTRAP_BROWSER=0 HUB_BOOTSTRAP_DEPLOY=0 ./scripts/bootstrap && .venv/bin/hub run

test:  ## set up, then run every test tier against a real broker the tests start
	./scripts/bootstrap && .venv/bin/python -m pytest

bench:  ## set up, then run the benchmarks (never part of the tests)
	./scripts/bootstrap && .venv/bin/python -m pip install -q -e ".[bench]" && .venv/bin/python -m bench

lint:
	.venv/bin/ruff check . && .venv/bin/mypy
