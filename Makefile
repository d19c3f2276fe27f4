# The platform's commands. `make run` brings the whole platform up on this machine; `make test` tests it.
# Everything they need is installed from the project's own files (uv.lock, tools/package.json).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3.11
CACHE_DIR ?= $(HOME)/.cache/school-platform
export SCHOOL_CACHE_DIR := $(CACHE_DIR)
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/uv/bin/uv)
PY := $(CURDIR)/.venv/bin/python
BUF := $(CURDIR)/tools/node_modules/.bin/buf
PYTEST := $(PY) -m pytest -p no:cacheprovider

.PHONY: help
help: ## List the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# ---------------------------------------------------------------- install
$(CURDIR)/.tools/uv/bin/uv:
	python3.11 -m venv $(CURDIR)/.tools/uv
	$(CURDIR)/.tools/uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: uv.lock pyproject.toml $(wildcard */pyproject.toml */*/pyproject.toml) | $(UV)
	$(UV) sync --frozen --all-packages
	@touch $@

tools/node_modules/.bin/buf: tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: install
install: .venv/.synced tools/node_modules/.bin/buf ## Install everything (Python workspace, buf)

# ---------------------------------------------------------------- the stack
.PHONY: run up down status clean
run: install ## Run the whole platform in the foreground (Ctrl-C stops everything)
	$(PY) -m school_stack run

up: install ## Start the platform in the background
	$(PY) -m school_stack up

down: ## Stop the background platform
	@if [ -x $(PY) ]; then $(PY) -m school_stack down; fi

status: install ## Show what is running
	$(PY) -m school_stack status

clean: down ## Forget local data (databases, NATS streams, Keycloak)
	rm -rf .run

# ---------------------------------------------------------------- contracts
.PHONY: generate proto openapi check-generated lint-proto
generate: install ## Regenerate everything generated: libs/protos, docs/api/openapi.json, services/*/Dockerfile
	bash scripts/gen-protos.sh
	$(PY) -m gateway.openapi
	bash scripts/gen-dockerfiles.sh

proto: generate ## The same as generate (protos change the OpenAPI document too)

openapi: install ## Regenerate docs/api/openapi.json from the gateway
	$(PY) -m gateway.openapi

lint-proto: install
	$(BUF) lint

check-generated: install ## Fail when generated code (protos, OpenAPI) drifts from its sources
	@tmp=$$(mktemp -d); bash scripts/gen-protos.sh $$tmp; \
	  if ! diff -r -q $$tmp/school libs/protos/src/school >/dev/null; then \
	    diff -r $$tmp/school libs/protos/src/school | head -40; rm -rf $$tmp; \
	    echo "libs/protos is out of date: run 'make proto' and commit"; exit 1; fi; rm -rf $$tmp
	$(PY) -m gateway.openapi --check
	@tmp=$$(mktemp -d); bash scripts/gen-dockerfiles.sh $$tmp; \
	  for f in $$tmp/*/Dockerfile; do svc=$$(basename $$(dirname $$f)); \
	    if ! diff -q $$f services/$$svc/Dockerfile >/dev/null; then rm -rf $$tmp; \
	      echo "services/$$svc/Dockerfile is out of date: run 'make generate' and commit"; exit 1; fi; done; rm -rf $$tmp
	@echo "generated code is up to date"

# ---------------------------------------------------------------- quality
.PHONY: lint fmt
lint: install lint-proto ## ruff, mypy, buf lint
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy libs/common/src services/*/src gateway/src deploy/local/src simulators/src

fmt: install ## Format the Python code
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# ---------------------------------------------------------------- deployment
.PHONY: helm-check
helm-check: install ## Lint and render the Helm chart, validate every manifest, lint the Dockerfiles
	bash scripts/helm-check.sh

# ---------------------------------------------------------------- tests
UNIT_AND_INTEGRATION := libs/common/tests services/*/tests gateway/tests simulators/tests

.PHONY: test test-fast test-e2e
test: install check-generated lint helm-check ## Everything CI runs: checks, unit, integration and end-to-end tests
	$(PYTEST) $(UNIT_AND_INTEGRATION)
	$(MAKE) --no-print-directory test-e2e

# Uses the running stack if there is one (make up); otherwise starts it and stops it afterwards.
test-e2e: install ## End-to-end tests through the gateway with real Keycloak tokens
	@if $(PY) -m school_stack running; then \
	  $(PYTEST) tests/e2e; \
	else \
	  $(PY) -m school_stack up || { $(PY) -m school_stack down; exit 1; }; \
	  rc=0; $(PYTEST) tests/e2e || rc=$$?; \
	  $(PY) -m school_stack down; exit $$rc; \
	fi

# Like test-e2e: uses the running stack, or starts one (with the rate limit out of the way) and stops it.
.PHONY: bench
bench: install ## Benchmarks: gateway and gRPC paths, enrol -> roster, token verification, /v1/me, Keycloak logins and refreshes, the gradebook, the attendance morning burst; reports in bench/results/
	@if $(PY) -m school_stack running; then \
	  $(PY) -m bench.run; \
	else \
	  STACK_RATE_LIMIT_RPS=100000 STACK_RATE_LIMIT_BURST=100000 $(PY) -m school_stack up \
	    || { $(PY) -m school_stack down; exit 1; }; \
	  rc=0; $(PY) -m bench.run || rc=$$?; \
	  $(PY) -m school_stack down; exit $$rc; \
	fi

test-fast: install ## Unit and integration tests only (real PostgreSQL and NATS, no stack)
	$(PYTEST) $(UNIT_AND_INTEGRATION)
