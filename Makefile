# imageedit: `make run` starts everything locally, `make test` runs the tests. Python 3.11+ required.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run reset test test-fast lint bench bench-compare package deploy-rehearsal api-template clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "imageedit needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)  ## the local stack (moto + local Bedrock engine) and the app behind the local API Gateway on :8000
	$(BIN)/python -m devstack.run

reset: $(STAMP)  ## start like `run`, after forgetting all local users, edits and images
	$(BIN)/python -m devstack.run --reset

test: $(STAMP)  ## the whole suite; browser tests run when Debian's chromium is installed
	$(BIN)/python -m pytest

test-fast: $(STAMP)  ## the tests that start no stack process, browser, benchmark or package build, on 2 workers
	$(BIN)/python -m pytest -m "not slow" -n 2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint infra/template.yaml

api-template: $(STAMP)  ## rewrite infra/template.yaml's API resources from deploy/api_routes.py (docs/edge.md)
	$(BIN)/python -m deploy.api_template

package: $(STAMP)  ## the Lambda zip for the production stage (STAGE=dev for dev), from manylinux wheels
	$(BIN)/python -m deploy.package $(or $(STAGE),production)

deploy-rehearsal: package  ## the deploy of docs/deploy.md (stack, zappa deploy/update/rollback/undeploy) against a local moto
	$(BIN)/python -m deploy.rehearsal $(or $(STAGE),production)

bench: $(STAMP)  ## the figures beside their baselines: a table on stdout, logs in .bench/bench.log, JSON in .bench/results.json
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-compare: $(STAMP)  ## two runs side by side: make bench-compare A=.bench/results-....json B=.bench/results.json
	$(BIN)/python -m bench compare $(A) $(or $(B),.bench/results.json)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts dist .bench
