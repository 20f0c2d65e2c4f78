"""The constructs as a library: the project's wheel, installed alone, gives another CDK app gptoss_constructs
(and the proxy's Lambda asset) without this repository's app or stacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "library-app"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    dist, site = tmp_path_factory.mktemp("dist"), tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT), "-w", str(dist)], check=True, capture_output=True)
    (wheel,) = dist.glob("gpt_oss_platform-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)], check=True, capture_output=True)
    return site


def _env(site: Path, outdir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update(PYTHONPATH=str(site), CDK_OUTDIR=str(outdir), CDK_CONTEXT_JSON=json.dumps(json.loads((EXAMPLE / "cdk.json").read_text())["context"]))
    return env


def test_the_wheel_holds_the_library_and_the_asset_but_not_the_app(site):
    assert (site / "gptoss_constructs" / "catalog" / "gpt_oss.json").is_file()
    assert (site / "gptoss_constructs" / "policies" / "strict.yaml").is_file()
    assert (site / "gptoss_invoke_proxy_asset" / "handler.py").is_file()
    assert (site / "gptoss_invoke_proxy_asset" / "gptoss_proxy" / "core" / "service.py").is_file()
    # the Web Adapter starts run.sh: the wheel keeps its executable bit from git (nothing chmods at import time)
    assert os.access(site / "gptoss_invoke_proxy_asset" / "run.sh", os.X_OK)
    assert not (site / "stacks").exists() and not (site / "app.py").exists() and not (site / "tests").exists()


def test_a_separate_app_synthesizes_with_two_of_our_constructs_from_the_wheel(site, tmp_path):
    probe = subprocess.run(
        [sys.executable, "-c", "import gptoss_constructs.guardrail as g, constructs; print(g.__file__); print(constructs.Construct.__module__)"],
        cwd=EXAMPLE, env=_env(site, tmp_path), capture_output=True, text=True, check=True,
    )
    assert probe.stdout.splitlines()[0].startswith(str(site))  # the wheel's copy, not this repository's
    result = subprocess.run([sys.executable, "app.py"], cwd=EXAMPLE, env=_env(site, tmp_path), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    template = json.loads((tmp_path / "TeamGuardrail.template.json").read_text())
    types = {r["Type"] for r in template["Resources"].values()}
    assert {"AWS::EC2::VPC", "AWS::Bedrock::Guardrail", "AWS::Bedrock::GuardrailVersion", "AWS::IAM::Policy"} <= types
    (guardrail,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Bedrock::Guardrail"]
    assert guardrail["Properties"]["SensitiveInformationPolicyConfig"]["RegexesConfig"][0]["Name"] == "Employee ID"
