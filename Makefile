# Two entry points (README Quick start): `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DB ?= sqlite:///oversight.sqlite3
DEMO_PORT ?= 8000
# The suite runs on every core (pytest-xdist; at most four: the PostgreSQL cluster and the
# servers the tests start need some), and the slowest tests are listed at the end of each
# run, so their cost stays in sight.
PYTEST_ARGS ?= -n auto --maxprocesses=4 --durations=25

.PHONY: install lock demo test test-fast test-sqlite lint bench clean browser pdf-tools ha

## The versions CI tested: constraints.txt pins every package the project and its dev
## extra install (README, Quick start). `make lock` regenerates it from a fresh venv.
$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

install: $(BIN)/.installed

## pdftoppm and pdftotext (poppler-utils): the export tests render a PDF page (ADR 0030).
pdf-tools:
	scripts/install-pdf-tools

## Resolve pyproject.toml's dependencies afresh (newest allowed versions) in a throwaway
## venv, and pin what was installed: one command after a dependency changes.
LOCK_VENV := $(shell mktemp -u /tmp/oversight-lock.XXXXXX)
lock:
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	{ echo "# The versions CI tests (make install uses them). Regenerate: make lock"; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable --disable-pip-version-check \
	    | grep -v '^case-oversight'; } > constraints.txt
	rm -rf $(LOCK_VENV)

## The npm tools the tests use: graphql-http's audits, graphql-inspector (tools/graphql).
NODE_TOOLS := tools/graphql/node_modules/.installed
$(NODE_TOOLS): tools/graphql/package.json tools/graphql/package-lock.json
	npm ci --prefix tools/graphql --no-audit --no-fund --silent
	touch $@

## The example front-end client's tools (examples/typescript-client): graphql-codegen,
## TypeScript and graphql-ws, which the client-side tests run and load in the browser.
CLIENT_TOOLS := examples/typescript-client/node_modules/.installed
$(CLIENT_TOOLS): examples/typescript-client/package.json examples/typescript-client/package-lock.json
	npm ci --prefix examples/typescript-client --no-audit --no-fund --silent
	touch $@

## The headless browser the client-side tests drive: Debian's chromium, installed when missing.
browser:
	scripts/install-browser

## pg_auto_failover (Debian's postgresql-15-auto-failover), installed when missing: the
## failover test runs a monitor, a primary and a standby with it (ADR 0034).
ha:
	scripts/install-ha

## Seed the deterministic demo authorities (one per policy pack) into a SQLite file,
## bring the projections up to date, print each authority's summary and findings, then
## serve the GraphQL API (development mode: the IDE, and demo tokens printed). A second
## run skips the seeded authorities and the caught-up projections: seconds, not minutes
## (each step shows its progress on a terminal; the summary says any projection's lag).
demo: install
	OVERSIGHT_DATABASE_URL=$(DEMO_DB) $(BIN)/oversight db upgrade
	OVERSIGHT_DATABASE_URL=$(DEMO_DB) $(BIN)/oversight demo seed
	OVERSIGHT_DATABASE_URL=$(DEMO_DB) $(BIN)/oversight projections run --once
	OVERSIGHT_DATABASE_URL=$(DEMO_DB) $(BIN)/oversight demo summary
	OVERSIGHT_DATABASE_URL=$(DEMO_DB) OVERSIGHT_ENV=development $(BIN)/oversight serve --port $(DEMO_PORT)

## Tests at three speeds (README, Tests):
## - test-fast: the domain and its policy, in memory (no database, no server): under a minute;
## - test-sqlite: everything on the embedded default only (no PostgreSQL needed);
## - test: the whole suite on SQLite and on a throwaway PostgreSQL 15 cluster, plus lint
##   and types (what CI runs).
test-fast: install
	$(BIN)/pytest tests/domain -p no:cacheprovider -q $(PYTEST_ARGS)

test-sqlite: install $(NODE_TOOLS) $(CLIENT_TOOLS) browser pdf-tools ha
	OVERSIGHT_TEST_BACKENDS=sqlite $(BIN)/pytest $(PYTEST_ARGS)

# OVERSIGHT_HA_REQUIRED: the failover test fails, rather than skips, without pg_autoctl.
test: install $(NODE_TOOLS) $(CLIENT_TOOLS) browser pdf-tools ha
	OVERSIGHT_HA_REQUIRED=1 PATH="$(CURDIR)/$(BIN):$$PATH" scripts/with-postgres $(BIN)/pytest $(PYTEST_ARGS)
	$(MAKE) lint

lint: install
	$(BIN)/ruff check application domain projections graphql_api oversight migrations tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install
	$(BIN)/python -m benchmarks.cli_help
	OVERSIGHT_PG_FSYNC=on PATH="$(CURDIR)/$(BIN):$$PATH" scripts/with-postgres $(BIN)/python -m benchmarks.event_store_choice
	OVERSIGHT_PG_FSYNC=on PATH="$(CURDIR)/$(BIN):$$PATH" scripts/with-postgres $(BIN)/python -m benchmarks.projection_rebuild
	OVERSIGHT_PG_FSYNC=on PATH="$(CURDIR)/$(BIN):$$PATH" scripts/with-postgres $(BIN)/python -m benchmarks.command_latency
	OVERSIGHT_PG_FSYNC=on PATH="$(CURDIR)/$(BIN):$$PATH" scripts/with-postgres $(BIN)/python -m benchmarks.api_latency
	OVERSIGHT_PG_FSYNC=on PATH="$(CURDIR)/$(BIN):$$PATH" scripts/with-postgres $(BIN)/python -m benchmarks.purge
	OVERSIGHT_PG_FSYNC=on PATH="$(CURDIR)/$(BIN):$$PATH" scripts/with-postgres $(BIN)/python -m benchmarks.sector_import
	OVERSIGHT_PG_FSYNC=on PATH="$(CURDIR)/$(BIN):$$PATH" scripts/with-postgres $(BIN)/python -m benchmarks.medium_authority
	OVERSIGHT_PG_FSYNC=on PATH="$(CURDIR)/$(BIN):$$PATH" scripts/with-postgres $(BIN)/python -m benchmarks.chronology
	OVERSIGHT_PG_FSYNC=on PATH="$(CURDIR)/$(BIN):$$PATH" scripts/with-postgres $(BIN)/python -m benchmarks.tenancy_routing

clean:
	rm -rf $(VENV) tools/graphql/node_modules *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis oversight.sqlite3* .oversight build dist
