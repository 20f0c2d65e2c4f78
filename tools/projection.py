"""A reviewable security projection of a region's synthesized stacks: IAM statements (identity and resource
policies, trust, boundaries), security-group rules, KMS references and public exposure.

It replaces whole-template snapshots: a change to who may do what, what can reach what, what is encrypted with
which key, or what is public shows up as a few lines of YAML diff; everything else (alarm thresholds, dashboard
JSON, asset hashes) is left to the behaviour tests.

    .venv/bin/python -m tools.projection --write            # synthesize the test regions, rewrite tests/projections/
    .venv/bin/python -m tools.projection --check            # synthesize and compare (what the test does)
    .venv/bin/python -m tools.projection --outdir cdk.out   # print the projection of an existing assembly

``make projection`` runs the first; review the diff before committing it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PROJECTIONS = ROOT / "tests" / "projections"
#: regions (and their context) the committed projections are made for; tests/conftest.py synthesizes the same
REGIONS = ("us-east-1", "us-west-2")
#: the other configurations of the nag matrix (tools/nag/matrix.py), projected too: tests/projections/<name>-<region>.yaml
CONFIGURATIONS = ("scale-to-zero", "existing-vpc", "roles-boundary", "audit-trail")
_HASH = re.compile(r"[0-9a-f]{64}")
_OPEN = ("0.0.0.0/0", "::/0")
#: resource types that can be encrypted with a customer key: listed under kms.without_key when they are not
ENCRYPTABLE = ("AWS::Logs::LogGroup", "AWS::SNS::Topic", "AWS::SQS::Queue", "AWS::Lambda::Function", "AWS::SageMaker::EndpointConfig",
               "AWS::Bedrock::Guardrail", "AWS::S3::Bucket", "AWS::DynamoDB::Table")


def render(value: Any) -> Any:
    """CloudFormation intrinsics as short readable strings (``${Logical.Attr}``, joins flattened)."""
    if isinstance(value, str):
        return _HASH.sub("<asset-hash>", value)
    if isinstance(value, list):
        return [render(v) for v in value]
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return f"${{{arg}}}"
        if fn == "Fn::GetAtt":
            return f"${{{'.'.join(arg) if isinstance(arg, list) else arg}}}"
        if fn == "Fn::Join":
            sep, parts = arg
            return sep.join(str(render(p)) for p in parts)
        if fn == "Fn::Sub":
            return render(arg if isinstance(arg, str) else arg[0])
        if fn == "Fn::GetStackOutput":
            return f"${{output:{arg.get('StackName')}.{arg.get('OutputName')}}}"
        if fn == "Fn::ImportValue":
            return f"${{import:{render(arg)}}}"
    if isinstance(value, dict):
        return {k: render(v) for k, v in sorted(value.items())}
    return value


def _list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _statement(s: dict) -> str:
    """One statement on one line: ``Allow <principal> <actions> on <resources> if <conditions>``."""
    parts = [s.get("Effect", "Allow")]
    if "Principal" in s:
        parts.append(json.dumps(render(s["Principal"]), sort_keys=True))
    if "NotPrincipal" in s:
        parts.append("not " + json.dumps(render(s["NotPrincipal"]), sort_keys=True))
    if "Action" in s:
        parts.append(", ".join(sorted(_list(s["Action"]))))
    if "NotAction" in s:
        parts.append("all but " + ", ".join(sorted(_list(s["NotAction"]))))
    if "Resource" in s:
        parts.append("on " + ", ".join(sorted(str(render(r)) for r in _list(s["Resource"]))))
    if "Condition" in s:
        parts.append("if " + json.dumps(render(s["Condition"]), sort_keys=True))
    return " ".join(parts)


def _statements(doc: Any) -> list[str]:
    return sorted(_statement(s) for s in _list((doc or {}).get("Statement", [])))


def _sg_rule(rule: dict, direction: str) -> str:
    proto = {"-1": "all"}.get(str(rule.get("IpProtocol")), str(rule.get("IpProtocol")))
    low, high = rule.get("FromPort"), rule.get("ToPort")
    ports = "" if proto == "all" else (f" {low}" if low == high else f" {low}-{high}")
    peer = next(
        (str(render(rule[k])) for k in ("CidrIp", "CidrIpv6", "SourceSecurityGroupId", "DestinationSecurityGroupId",
                                        "SourcePrefixListId", "DestinationPrefixListId") if k in rule),
        "?",
    )
    return f"{direction} {proto}{ports} {'from' if direction == 'ingress' else 'to'} {peer}"


def _kms_refs(props: Any, path: str = "") -> list[str]:
    out = []
    if isinstance(props, dict):
        for k, v in props.items():
            here = f"{path}.{k}" if path else k
            if k in ("KeyPolicy", "PolicyDocument", "Policy"):
                continue  # statements are projected with the policies
            if re.search(r"kms", k, re.I):
                out.append(f"{here} = {render(v)}")
            else:
                out += _kms_refs(v, here)
    elif isinstance(props, list):
        for i, v in enumerate(props):
            out += _kms_refs(v, f"{path}[{i}]")
    return out


def project(templates: dict[str, dict]) -> dict:
    """The projection of one region's templates (stack name → template)."""
    iam: dict[str, Any] = {}
    resource_policies: dict[str, Any] = {}
    groups: dict[str, list[str]] = {}
    kms: dict[str, Any] = {}
    without_key: list[str] = []
    lambda_permissions: dict[str, list[str]] = {}
    exposure: dict[str, Any] = {"internet_gateways": 0, "nat_gateways": 0, "public_ip_subnets": [], "default_routes": [],
                                "open_ingress": [], "rest_apis": {}, "function_urls": {}, "public_access_blocks": {},
                                "lambda_vpc": {}, "sagemaker_models": {}}
    for stack, template in sorted(templates.items()):
        for lid, res in sorted(template.get("Resources", {}).items()):
            t, p, name = res["Type"], res.get("Properties", {}), f"{stack}/{lid}"
            if t == "AWS::IAM::Role":
                entry = {"trust": _statements(p.get("AssumeRolePolicyDocument"))}
                if p.get("ManagedPolicyArns"):
                    entry["managed_policies"] = sorted(str(render(a)) for a in p["ManagedPolicyArns"])
                if p.get("PermissionsBoundary"):
                    entry["boundary"] = render(p["PermissionsBoundary"])
                for pol in p.get("Policies", []):
                    entry.setdefault("inline", {})[pol["PolicyName"]] = _statements(pol["PolicyDocument"])
                iam[name] = entry
            elif t in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                attached = sorted(str(render(r)) for k in ("Roles", "Users", "Groups") for r in p.get(k, []))
                iam[name] = {"attached_to": attached, "statements": _statements(p.get("PolicyDocument"))}
            elif t == "AWS::Lambda::Permission":
                cond = {k: render(p[k]) for k in ("SourceArn", "SourceAccount", "FunctionUrlAuthType", "PrincipalOrgID") if k in p}
                fn = f"{stack}/{render(p.get('FunctionName'))}"
                lambda_permissions.setdefault(fn, []).append(
                    f"{p.get('Action')} by {render(p.get('Principal'))}" + (f" if {json.dumps(cond, sort_keys=True)}" if cond else "")
                )
            elif "PolicyDocument" in p and t != "AWS::IAM::Policy" or t in ("AWS::KMS::Key", "AWS::ApiGateway::RestApi"):
                doc = p.get("KeyPolicy") or p.get("Policy") or p.get("PolicyDocument")
                if doc:
                    resource_policies[f"{name} ({t})"] = _statements(doc)
            if t == "AWS::EC2::SecurityGroup":
                rules = [_sg_rule(r, "ingress") for r in p.get("SecurityGroupIngress", [])]
                rules += [_sg_rule(r, "egress") for r in p.get("SecurityGroupEgress", [])]
                groups.setdefault(name, []).extend(rules)
            elif t in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
                direction = "ingress" if t.endswith("Ingress") else "egress"
                group = render(p.get("GroupId"))
                local = re.fullmatch(r"\$\{(\w+)\.GroupId\}", str(group))  # a group of this stack: its logical id
                groups.setdefault(f"{stack}/{local.group(1) if local else group}", []).append(_sg_rule(p, direction))
            refs = _kms_refs(p)
            if refs:
                kms[f"{name} ({t})"] = sorted(refs)
            elif t in ENCRYPTABLE:
                without_key.append(f"{name} ({t})")
            if t == "AWS::KMS::Key":
                kms.setdefault(f"{name} ({t})", []).append(f"EnableKeyRotation = {p.get('EnableKeyRotation', False)}")
            if t == "AWS::EC2::InternetGateway":
                exposure["internet_gateways"] += 1
            if t == "AWS::EC2::NatGateway":
                exposure["nat_gateways"] += 1
            if t == "AWS::EC2::Subnet" and p.get("MapPublicIpOnLaunch"):
                exposure["public_ip_subnets"].append(name)
            if t == "AWS::EC2::Route" and (p.get("DestinationCidrBlock") in _OPEN or p.get("DestinationIpv6CidrBlock") in _OPEN):
                exposure["default_routes"].append(name)
            if t == "AWS::ApiGateway::RestApi":
                exposure["rest_apis"][name] = (p.get("EndpointConfiguration") or {}).get("Types", ["EDGE"])
            if t == "AWS::Lambda::Function":
                exposure["lambda_vpc"][name] = "in VPC" if p.get("VpcConfig") else "not in a VPC"
            if t == "AWS::SageMaker::Model":
                exposure["sagemaker_models"][name] = (
                    f"network isolation {'on' if p.get('EnableNetworkIsolation') else 'off'}, {'in VPC' if p.get('VpcConfig') else 'not in a VPC'}"
                )
            if t == "AWS::Lambda::Url":
                exposure["function_urls"][name] = p.get("AuthType")
            if t == "AWS::S3::Bucket":
                exposure["public_access_blocks"][name] = render(p.get("PublicAccessBlockConfiguration", "none"))
    for name, rules in groups.items():
        groups[name] = sorted(rules)
        exposure["open_ingress"] += [f"{name}: {r}" for r in rules if r.startswith("ingress") and r.endswith(_OPEN)]
    resource_policies["lambda_permissions"] = {fn: sorted(lines) for fn, lines in sorted(lambda_permissions.items())}
    kms["without_key"] = sorted(without_key)
    return {"iam": iam, "resource_policies": resource_policies, "security_groups": dict(sorted(groups.items())),
            "kms": kms, "public_exposure": exposure}


def project_assembly(outdir: Path, region: str) -> dict:
    manifest = json.loads((outdir / "manifest.json").read_text())
    stacks = [k for k, v in manifest["artifacts"].items() if v["type"] == "aws:cloudformation:stack" and v["environment"].endswith(f"/{region}")]
    return project({s: json.loads((outdir / f"{s}.template.json").read_text()) for s in stacks})


def dump(projection: dict, region: str) -> str:
    header = (
        f"# Security projection of the {region} stacks (IAM, security groups, KMS, public exposure).\n"
        "# Generated by `make projection` (tools/projection.py); tests/test_security_projection.py compares it.\n"
        "# Review every changed line: it is a change to who may do what, what can reach what, or what is public.\n"
    )
    return header + yaml.safe_dump(projection, sort_keys=False, width=200, allow_unicode=True)


def synth(outdir: Path, overrides: dict | None = None) -> None:
    """Synthesizes the app for ``REGIONS`` (or ``overrides``, a matrix configuration's context) the way
    tests/conftest.py does (no AWS credentials)."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    context["regions"] = ",".join(REGIONS)
    context.update(overrides or {})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update(CDK_CONTEXT_JSON=json.dumps(context), CDK_OUTDIR=str(outdir), AWS_EC2_METADATA_DISABLED="true")
    subprocess.run([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, check=True)


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--outdir", type=Path, help="an existing cloud assembly (default: synthesize one)")
    mode = args.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite tests/projections/<region>.yaml")
    mode.add_argument("--check", action="store_true", help="exit 1 when a committed projection differs")
    opts = args.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        outdir = opts.outdir or Path(tmp)
        if opts.outdir is None:
            synth(outdir)
        status = 0
        for region in REGIONS:
            text = dump(project_assembly(outdir, region), region)
            path = PROJECTIONS / f"{region}.yaml"
            if opts.write:
                PROJECTIONS.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                print(f"wrote {path.relative_to(ROOT)}")
            elif opts.check:
                if not path.exists() or path.read_text() != text:
                    print(f"{path.relative_to(ROOT)} is out of date: run make projection and review the diff")
                    status = 1
            else:
                print(text)
        if opts.outdir is None:
            status |= _configurations(opts.write, opts.check)
    return status


def configuration_path(name: str, region: str) -> Path:
    return PROJECTIONS / f"{name}-{region}.yaml"


def _configurations(write: bool, check: bool) -> int:
    """The matrix configurations' projections (one synth each, its regions)."""
    from tools.nag import matrix

    status = 0
    for name in CONFIGURATIONS:
        cfg = matrix.BY_NAME[name]
        with tempfile.TemporaryDirectory() as tmp:
            synth(Path(tmp), cfg.app_context())
            for region in cfg.regions:
                text = dump(project_assembly(Path(tmp), region), f"{region} ({name})")
                path = configuration_path(name, region)
                if write:
                    path.write_text(text)
                    print(f"wrote {path.relative_to(ROOT)}")
                elif check and (not path.exists() or path.read_text() != text):
                    print(f"{path.relative_to(ROOT)} is out of date: run make projection and review the diff")
                    status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
