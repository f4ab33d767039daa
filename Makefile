# The two commands of a fresh machine: `make serve` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: install serve test lint typecheck pytest clean bench bench-quick bench-logins faults faults-sqlite faults-postgres soak

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## make serve: upgrade the database, load the demo data if it is empty, serve on :8000
serve: install
	$(BIN)/hojre db upgrade
	$(BIN)/hojre demo --if-empty
	$(BIN)/hojre serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests scripts bench faults
	$(BIN)/ruff format --check src tests scripts bench faults

typecheck: install
	$(BIN)/mypy

## make test: ruff, mypy --strict, pytest (SQLite; PostgreSQL/Redis when their URLs are set)
pytest: install
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

## make faults: kill -9 workers and crash a private PostgreSQL under writes, then kill -9 workers
## in write transactions and WAL checkpoints on SQLite (see faults/README.md; about 3½ min)
faults: install
	$(BIN)/python faults/run.py --database all

## make faults-sqlite / faults-postgres: one of the two
faults-sqlite faults-postgres: faults-%: install
	$(BIN)/python faults/run.py --database $*

## make bench: big (scale 1.0) and small (0.01) datasets on PostgreSQL and SQLite, wrk on every
## v1 endpoint (generated from the route table) and a bare FastAPI app beside /web/ping, results
## in bench/results/<date>.md (about 30 min; BENCH_ARGS: see bench/run.py -h)
bench: install
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(BIN)/python bench/run.py --mode full $(BENCH_ARGS)

## make bench-quick: the small datasets only, a representative subset, 2 s each after a 1 s warm-up, beside ping and the floors (under 3 min)
bench-quick: install
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(BIN)/python bench/run.py --mode quick $(BENCH_ARGS)

## make bench-logins: add-view on SQLite alone and during 40 logins at once, shipped argon2 cost
## (BENCH_ARGS: bench/login_burst.py -h; --src another checkout's src/ to compare)
bench-logins: install
	$(BIN)/python bench/login_burst.py $(BENCH_ARGS)

## make soak: 10 minutes of mixed reads and writes at 70% of the measured maximum on
## PostgreSQL: zero errors and server heap growth under 10% (SOAK_ARGS: bench/soak.py -h)
soak: install
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
