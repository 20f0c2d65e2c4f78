"""The configurations we ship, each synthesized and reported on its own (``make nag``), and the provenance a
reviewer needs to reproduce a report: date, commit, tool versions, context, scope."""

from __future__ import annotations

import datetime as _dt
import json
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

#: an existing VPC given by value (no lookup at synth); ids are placeholders of the right shape
EXAMPLE_EXISTING_VPC = {
    "vpc_id": "vpc-0123456789abcdef0",
    "vpc_cidr": "10.20.0.0/16",
    "availability_zones": ["us-east-1a", "us-east-1b"],
    "isolated_subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    "route_table_ids": ["rtb-0123456789abcdef0", "rtb-0123456789abcdef1"],
}


@dataclass(frozen=True)
class Configuration:
    """One shipped configuration: context on top of cdk.json's, and the regions it is reported for."""

    name: str
    description: str
    context: dict[str, Any] = field(default_factory=dict)
    regions: tuple[str, ...] = ("us-east-1",)

    def cdk_args(self) -> list[str]:
        args = ["-c", f"regions={','.join(self.regions)}"]
        for key, value in self.context.items():
            args += ["-c", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
        return args

    def app_context(self) -> dict[str, Any]:
        """The same context as the CLI passes it (strings for -c values), for tests that run app.py directly."""
        return {"regions": ",".join(self.regions), **{k: v if isinstance(v, str) else json.dumps(v) for k, v in self.context.items()}}


CONFIGURATIONS: tuple[Configuration, ...] = (
    Configuration("default", "cdk.json as shipped: SageMaker gpt-oss-20b in us-east-1, Bedrock-only us-west-2, private REST API", regions=("us-east-1", "us-west-2")),
    Configuration("scale-to-zero", "SageMaker inference component with scale to zero (min capacity 0)", {"scale_to_zero": "true", "autoscaling_min_capacity": "0"}),
    Configuration("existing-vpc", "deploy into an existing VPC given by value (no VPC, flow log or endpoints of our own unless listed)", {"existing_vpc": EXAMPLE_EXISTING_VPC}),
    Configuration(
        "roles-boundary",
        "consumer, operator and auditor roles (MFA, organization and principal-ARN trust conditions), a permissions boundary and a role-name prefix on every role",
        {
            "consumer_principals": "arn:aws:iam::111122223333:role/app",
            "operator_principals": "111122223333",
            "auditor_principals": "444455556666",
            "permissions_boundary": "arn:aws:iam::111122223333:policy/platform-boundary",
            "role_name_prefix": "team-",
            "principal_org_id": "o-abcdef1234",
            "principal_arns": "arn:aws:iam::111122223333:role/ops-*,arn:aws:iam::444455556666:role/audit-*",
        },
    ),
    Configuration("audit-trail", "the optional CloudTrail audit trail (data events) on", {"audit_trail": "true"}),
)
BY_NAME = {c.name: c for c in CONFIGURATIONS}
#: shipped options the matrix does not cover, and why
NOT_IN_MATRIX = {
    "data capture": "not a context key of the app: GptOssEndpoint's data_capture_bucket prop only (its nag findings are covered by tests/test_endpoint.py)",
}


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


#: the cfn-guard rules and binary of the Control Tower proactive controls (npm, package.json devDependencies)
CFNGUARD_PACKAGE = ROOT / "node_modules" / "@cdklabs" / "cdk-validator-cfnguard"


def _checkov_version() -> str:
    found = sorted((ROOT / ".venv-checkov").glob("lib/python*/site-packages/checkov-*.dist-info"))
    return found[-1].name[len("checkov-"):-len(".dist-info")] if found else "not installed"


def tool_versions() -> dict[str, str]:
    """Every tool whose output is in the reports (the stamp). A missing tool is named "not installed"."""
    versions = {}
    for dist in ("cdk-nag", "aws-cdk-lib", "constructs", "cfn-lint"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    versions["checkov"] = _checkov_version()
    pkg = CFNGUARD_PACKAGE / "package.json"
    versions["@cdklabs/cdk-validator-cfnguard"] = json.loads(pkg.read_text())["version"] if pkg.exists() else "not installed"
    guard = CFNGUARD_PACKAGE / "guard-version.json"
    versions["cfn-guard"] = json.loads(guard.read_text())["version"] if guard.exists() else "not installed"
    from tools.nag import guard as _guard  # late: guard imports this module

    versions["AWS Guard Rules Registry"] = _guard.registry_version()
    cli = ROOT / "node_modules" / "aws-cdk" / "package.json"
    versions["CDK CLI (aws-cdk)"] = json.loads(cli.read_text())["version"] if cli.exists() else "not installed"
    node = shutil.which("node")
    versions["node"] = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip() if node else "not found"
    versions["python"] = sys.version.split()[0]
    return versions


def tree_state() -> tuple[str, str]:
    """(full commit sha of HEAD, what is uncommitted) — ``""`` when the tree is clean. Generated reports are
    excluded (a run rewrites them); untracked files count, since a new source file changes what synthesizes."""
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--", ".", ":(exclude)reports/nag")
    if status == "unknown":
        return commit, "git status failed"
    changed = [line[3:] for line in status.splitlines() if line.strip()]
    return commit, (", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")) if changed else ""


def provenance(configuration: Configuration | None = None, date: str | None = None, draft: bool = False,
               commit: str | None = None) -> dict[str, Any]:
    """The stamp of one artifact. ``draft`` marks a run on a dirty tree (``make nag NAG_DRAFT=1``)."""
    head, dirty = tree_state()
    context: Any = {"regions": ",".join(configuration.regions), **configuration.context} if configuration else \
        "every configuration of the matrix (reports/nag/README.md)"
    return {
        "date": date or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit or (head + (" + uncommitted changes" if draft and dirty else "")),
        "draft": bool(draft and dirty) if commit is None else draft,
        "dirty": dirty,
        "versions": tool_versions(),
        "context": context,
        "cdk_args": shlex.join(configuration.cdk_args()) if configuration else "",
    }


def synth(configuration: Configuration, outdir: Path, extra_args: list[str] | None = None) -> int:
    """``cdk synth`` of one configuration into ``outdir`` (the CLI, so its version is the one reported)."""
    cmd = ["npx", "--no-install", "cdk", "synth", "--quiet", "-o", str(outdir), *configuration.cdk_args(), *(extra_args or [])]
    print("+", shlex.join(cmd), file=sys.stderr)
    shutil.rmtree(outdir, ignore_errors=True)
    return subprocess.run(cmd, cwd=ROOT).returncode
