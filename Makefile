# Self-documenting: `make help` lists the targets with their `## ` comments.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROTOS := $(shell find protos -name '*.proto')

.PHONY: help run test lint test-unit test-integration test-contract test-e2e bench profile protos migrate mail translations clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@# The repository root and the generated protos are importable with no install step.
	$(PY) -c 'import sysconfig, pathlib; p = pathlib.Path(sysconfig.get_paths()["purelib"], "billing-system.pth"); p.write_text("$(CURDIR)\n$(CURDIR)/gen\n")'
	touch $@

gen/.stamp: $(PROTOS) $(VENV)/.installed
	rm -rf gen && mkdir -p gen
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m grpc_tools.protoc -I protos --python_out=gen --grpc_python_out=gen \
	    --mypy_out=gen --mypy_grpc_out=gen $(PROTOS)
	touch $@

protos: gen/.stamp ## Generate the gRPC code and type stubs from protos/ into gen/

translations: $(VENV)/.installed ## Compile the pt-BR/en message catalogues
	$(PY) -m web.common.catalogue compile

run: gen/.stamp translations ## Set up and run the whole system on its embedded defaults
	$(PY) -m services.devstack.run

migrate: gen/.stamp ## Create or upgrade every service's database
	$(PY) -m services.migrate

mail: $(VENV)/.installed ## Show the newest messages of the local Maildir (var/mail)
	$(PY) -m services.devstack.mail

test: gen/.stamp translations ## Set up and run the whole test suite
	$(PY) -m pytest

lint: gen/.stamp ## ruff, and mypy (strict on the domain and service layers); CI runs it
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy billing_common services web

test-unit: gen/.stamp translations ## Only the fast unit tests
	$(PY) -m pytest tests/unit

test-integration: gen/.stamp translations ## Only the integration tests (TEST_DATABASE_URL/TEST_REDIS_URL)
	$(PY) -m pytest tests/integration

test-contract: gen/.stamp translations ## Only the contract tests: each fake against the real service (TEST_DATABASE_URL/TEST_REDIS_URL)
	$(PY) -m pytest tests/contract

test-e2e: gen/.stamp translations ## Only the end-to-end tests (five processes, Chromium)
	$(PY) -m pytest tests/e2e

bench: gen/.stamp translations ## Run the benchmarks and print the ratios
	$(PY) -m tests.bench.run

profile: gen/.stamp translations ## Where a signed-in landing page's time goes (wrk + py-spy)
	$(PY) -m tests.bench.profile

clean: ## Remove the venv, generated code and local data
	rm -rf $(VENV) gen var
