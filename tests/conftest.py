"""Shared fixtures: the project's CDK context, and the real app synthesized once per test session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
# jsii prints an end-of-life banner on Node 20; `make test` puts Node 22 first on PATH, this covers direct runs.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

#: the regions the session app is synthesized for (SageMaker in us-east-1, Bedrock-only in us-west-2)
APP_REGIONS = ("us-east-1", "us-west-2")


def project_context(**overrides: Any) -> dict[str, Any]:
    """cdk.json's context (feature flags and defaults) with ``overrides`` applied, as the CLI would pass it."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    context.update(overrides)
    return context


def make_app(**overrides: Any):
    """An App with the project's feature flags, for construct tests (no synth to disk)."""
    from aws_cdk import App

    return App(context=project_context(**overrides))


@dataclass
class SynthResult:
    """A cloud assembly written by ``python app.py``, exactly as ``cdk synth`` runs it."""

    outdir: Path
    returncode: int
    stderr: str

    def template(self, stack: str) -> dict:
        return json.loads((self.outdir / f"{stack}.template.json").read_text())

    def stacks(self) -> list[str]:
        manifest = json.loads((self.outdir / "manifest.json").read_text())
        return sorted(k for k, v in manifest["artifacts"].items() if v["type"] == "aws:cloudformation:stack")

    def manifest_env(self, stack: str) -> str:
        return json.loads((self.outdir / "manifest.json").read_text())["artifacts"][stack]["environment"]

    def validation_report(self) -> dict:
        return json.loads((self.outdir / "validation-report.json").read_text())

    def acknowledgments(self, stack: str) -> dict[str, dict[str, str]]:
        """construct path → {finding id: reason} from ``<stack>.metadata.json``."""
        metadata = json.loads((self.outdir / f"{stack}.metadata.json").read_text())
        return {
            path: entry["data"]
            for path, entries in metadata.items()
            for entry in entries
            if entry["type"] == "aws:cdk:acknowledged-rules"
        }


def run_app(outdir: Path, env_overrides: dict[str, str] | None = None, **context: Any) -> SynthResult:
    """Runs app.py the way the CDK CLI does (context in CDK_CONTEXT_JSON, output in CDK_OUTDIR), with no
    AWS credentials or account in the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update(
        CDK_CONTEXT_JSON=json.dumps(project_context(**context)),
        CDK_OUTDIR=str(outdir),
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.update(env_overrides or {})
    proc = subprocess.run(
        [sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    return SynthResult(outdir=outdir, returncode=proc.returncode, stderr=proc.stderr)


@pytest.fixture(scope="session")
def platform_app(tmp_path_factory) -> SynthResult:
    """The full app for two regions, synthesized once per session with all five nag packs."""
    result = run_app(tmp_path_factory.mktemp("cdk.out"), regions=",".join(APP_REGIONS))
    assert result.returncode == 0, f"app.py failed:\n{result.stderr[-4000:]}"
    return result
