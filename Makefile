# The make targets are subcast's interface: run, test, lint, bench, deploy.
# Each sets up what it needs itself (a virtualenv in .venv) on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Two installs: running needs only the stack (.[local]: 79 packages, 342 MB); `make test` and the
# other developer targets add the test, lint and type-check tools (.[dev] = .[local] + 29 packages).
# A stamp newer than pyproject.toml means its install is done, so `make run` after `make test`
# installs nothing and `make test` after `make run` installs only the difference.
RUN_STAMP := $(VENV)/.installed-local
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint typecheck template-check unit integration e2e bench deploy secrets set-webhook api-key dlq redrive clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip

$(RUN_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[local]'
	touch $(RUN_STAMP)

$(DEV_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(DEV_STAMP) $(RUN_STAMP)

## run: the whole stack from template.yaml on http://127.0.0.1:$${SUBCAST_PORT:-8000}
run: $(RUN_STAMP)
	$(PY) -m infra.local

## test: lint, template checks and every test (unit, integration, e2e)
test: $(DEV_STAMP) lint typecheck template-check
	$(PY) -m pytest

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(DEV_STAMP)
	$(VENV)/bin/mypy

template-check: $(DEV_STAMP)
	$(VENV)/bin/cfn-lint template.yaml
	$(PY) -m infra.template_check

unit: $(DEV_STAMP)
	$(PY) -m pytest tests/unit
integration: $(DEV_STAMP)
	$(PY) -m pytest tests/integration
e2e: $(DEV_STAMP)
	$(PY) -m pytest tests/e2e

bench: $(DEV_STAMP)
	$(PY) -m bench

## deploy: needs the AWS SAM CLI and credentials; see README "Deploying"
deploy:
	sam build && sam deploy --guided

secrets: $(RUN_STAMP)
	$(PY) -m infra.secrets

set-webhook: $(RUN_STAMP)
	$(PY) -m infra.set_webhook

api-key: $(RUN_STAMP)
	$(PY) -m infra.api_key

## dlq: what waits in the dead-letter queues (ids, times, sizes, job kinds; never personal data)
dlq: $(RUN_STAMP)
	$(PY) -m infra.dlq list

## redrive: send a dead-letter queue back to its queue, e.g. make redrive QUEUE=delivery
redrive: $(RUN_STAMP)
	$(PY) -m infra.dlq redrive --queue "$(QUEUE)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis .schemathesis .aws-sam
