# The make targets are subcast's interface: run, test, lint, bench, deploy.
# Each sets up what it needs itself (a virtualenv in .venv) on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck template-check unit integration e2e bench deploy secrets set-webhook api-key dlq redrive clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

## run: the whole stack from template.yaml on http://127.0.0.1:$${SUBCAST_PORT:-8000}
run: $(STAMP)
	$(PY) -m infra.local

## test: lint, template checks and every test (unit, integration, e2e)
test: $(STAMP) lint typecheck template-check
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

template-check: $(STAMP)
	$(VENV)/bin/cfn-lint template.yaml
	$(PY) -m infra.template_check

unit: $(STAMP)
	$(PY) -m pytest tests/unit
integration: $(STAMP)
	$(PY) -m pytest tests/integration
e2e: $(STAMP)
	$(PY) -m pytest tests/e2e

bench: $(STAMP)
	$(PY) -m bench

## deploy: needs the AWS SAM CLI and credentials; see README "Deploying"
deploy:
	sam build && sam deploy --guided

secrets: $(STAMP)
	$(PY) -m infra.secrets

set-webhook: $(STAMP)
	$(PY) -m infra.set_webhook

api-key: $(STAMP)
	$(PY) -m infra.api_key

## dlq: what waits in the dead-letter queues (ids, times, sizes, job kinds; never personal data)
dlq: $(STAMP)
	$(PY) -m infra.dlq list

## redrive: send a dead-letter queue back to its queue, e.g. make redrive QUEUE=delivery
redrive: $(STAMP)
	$(PY) -m infra.dlq redrive --queue "$(QUEUE)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis .schemathesis .aws-sam
