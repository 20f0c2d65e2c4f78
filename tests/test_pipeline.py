"""The deploy pipeline (issue 25, ``-c pipeline=<file>``): stages from config, gates in order, approvals recorded,
cross-account roles that trust only the pipeline, nag clean, and clear errors for bad stage configs."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, project_context

pytestmark = pytest.mark.slow

EXAMPLE = ROOT / "examples" / "pipeline.yaml"
PIPELINE_ACCOUNT = "111111111111"


@pytest.fixture(scope="module")
def pipeline_assembly(tmp_path_factory):
    """examples/pipeline.yaml synthesized once, in-process, exactly as app.py's pipeline_main builds it."""
    from aws_cdk import App

    from stacks.compliance import attach_compliance
    from stacks.pipeline_config import load_pipeline_config, read_pipeline_file
    from stacks.pipeline_stack import build_pipeline

    context = project_context()
    config = load_pipeline_config(read_pipeline_file(EXAMPLE), context.get)
    out = tmp_path_factory.mktemp("pipeline")
    app = App(outdir=str(out), context=context)
    attach_compliance(app)
    stack = build_pipeline(app, config, "examples/pipeline.yaml")
    app.synth()
    return out, stack, config


def _template(out: Path, name: str = "GptOss-Pipeline") -> dict:
    return json.loads((out / f"{name}.template.json").read_text())


def _resources(template: dict, type_: str) -> dict:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def _pipeline_stages(out: Path) -> list[dict]:
    (pipeline,) = _resources(_template(out), "AWS::CodePipeline::Pipeline").values()
    return pipeline["Properties"]["Stages"]


def _policies(template: dict) -> list[dict]:
    docs = [r["Properties"]["PolicyDocument"] for r in template["Resources"].values()
            if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")]
    return [s for d in docs for s in d["Statement"]]


def test_gates_run_in_order_and_one_deploy_group_per_account_and_region(pipeline_assembly):
    """Issue 25 gates: synth (with the scanners) → per stage preflight → approval (prod) → deploy → verify."""
    out, _, config = pipeline_assembly
    stages = _pipeline_stages(out)
    assert [s["Name"] for s in stages[:4]] == ["Source", "Build", "UpdatePipeline", "Assets"]
    deploy_stages = stages[4:]
    assert len(deploy_stages) == len(config.stages)
    for stage_config, stage in zip(config.stages, deploy_stages):
        actions = stage["Actions"]
        order = lambda pred: [a.get("RunOrder", 1) for a in actions if pred(a)]  # noqa: E731
        preflight = order(lambda a: a["Name"].startswith("Preflight-"))
        approve = order(lambda a: a["Name"] == "Approve")
        deploy = order(lambda a: a["ActionTypeId"]["Category"] == "Deploy")
        verify = order(lambda a: a["Name"].split(".")[-1].startswith("Verify-"))
        assert len(preflight) == len(verify) == len(stage_config.regions)
        assert max(preflight) < min(deploy) and max(deploy) < max(verify)
        if stage_config.prod:
            assert approve and max(preflight) < approve[0] < min(deploy)
        else:
            assert approve == []
        # one deploy group per (account, region): every deploy action assumes that account's bootstrap deploy role
        for region in stage_config.regions:
            roles = {json.dumps(a.get("RoleArn")) for a in actions if a["ActionTypeId"]["Category"] == "Deploy" and f"-{region}." in a["Name"] + "."}
            assert roles and all(stage_config.account in r and region in r for r in roles), roles


def test_synth_step_runs_the_scanner_gate_with_the_pipeline_context(pipeline_assembly):
    """The synth gate is `make lint` (cdk-nag packs at synth fail on open findings; cfn-lint and checkov after)."""
    out, _, _ = pipeline_assembly
    projects = _resources(_template(out), "AWS::CodeBuild::Project")
    specs = [p["Properties"]["Source"].get("BuildSpec", "") for p in projects.values()]
    assert any("make lint CDK_ARGS='-c pipeline=examples/pipeline.yaml'" in s for s in specs)


def test_artifact_bucket_is_kms_encrypted_versioned_logged_and_retained(pipeline_assembly):
    """The stage evidence (verify's reports/verify output) lives in the artifact bucket: it must survive the stack."""
    out, stack, _ = pipeline_assembly
    t = _template(out)
    logical = stack.resolve(stack.pipeline.artifact_bucket.node.default_child.logical_id)
    bucket = t["Resources"][logical]
    props = bucket["Properties"]
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert sse["SSEAlgorithm"] == "aws:kms" and "KMSMasterKeyID" in sse
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "LoggingConfiguration" in props
    assert bucket["DeletionPolicy"] == "Retain" and bucket["UpdateReplacePolicy"] == "Retain"
    key = stack.resolve(stack.pipeline.encryption_key.node.default_child.logical_id)
    assert t["Resources"][key]["Properties"]["EnableKeyRotation"] is True
    pipeline = next(iter(_resources(t, "AWS::CodePipeline::Pipeline").values()))
    stores = {s["Region"]: s["ArtifactStore"] for s in pipeline["Properties"]["ArtifactStores"]}
    assert stores["us-east-1"]["Location"] == {"Ref": logical}
    assert stores["us-east-1"]["EncryptionKey"] == {"Id": {"Fn::GetAtt": [key, "Arn"]}, "Type": "KMS"}
    assert all(s["EncryptionKey"]["Type"] == "KMS" for s in stores.values())


def test_verify_steps_keep_their_evidence_as_output_artifacts(pipeline_assembly):
    out, _, config = pipeline_assembly
    verify = [a for s in _pipeline_stages(out) for a in s["Actions"] if a["Name"].split(".")[-1].startswith("Verify-")]
    assert len(verify) == sum(len(s.regions) for s in config.stages)
    assert all(a.get("OutputArtifacts") for a in verify)
    projects = _resources(_template(out), "AWS::CodeBuild::Project")
    specs = [p["Properties"]["Source"].get("BuildSpec", "") for p in projects.values()]
    assert sum("make verify" in s and "reports/verify" in s for s in specs) == len(verify)


def test_preflight_assumes_only_the_bootstrap_lookup_role_which_is_read_only():
    """aws-cdk's bootstrap template (node_modules/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml, the one
    `cdk bootstrap` deploys): the LookupRole is named cdk-<qualifier>-lookup-role-<account>-<region>, trusts the
    --trust and --trust-for-lookup accounts, carries ReadOnlyAccess and denies kms:Decrypt."""
    from gptoss_constructs.pipeline import lookup_role_arn

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "node_modules/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml").read_text(), Loader=Loader)
    role = template["Resources"]["LookupRole"]["Properties"]
    assert role["RoleName"] == {"Fn::Sub": "cdk-${Qualifier}-lookup-role-${AWS::AccountId}-${AWS::Region}"}
    assert role["ManagedPolicyArns"] == [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess"}]
    assert role["Policies"][0]["PolicyDocument"]["Statement"][0] == {"Sid": "DontReadSecrets", "Effect": "Deny", "Action": ["kms:Decrypt"], "Resource": "*"}
    trusted = json.dumps(role["AssumeRolePolicyDocument"])
    assert "TrustedAccountsForLookup" in trusted and "TrustedAccounts" in trusted
    assert lookup_role_arn("222222222222", "us-east-1") == "arn:aws:iam::222222222222:role/cdk-hnb659fds-lookup-role-222222222222-us-east-1"


def test_preflight_roles_may_assume_exactly_the_stage_lookup_roles(pipeline_assembly):
    out, _, config = pipeline_assembly
    assumed = {s["Resource"] for s in _policies(_template(out)) if s.get("Sid") == "AssumeTheStageLookupRole"}
    expected = {f"arn:aws:iam::{s.account}:role/cdk-hnb659fds-lookup-role-{s.account}-{r}" for s in config.stages for r in s.regions}
    assert assumed == expected


def test_verify_role_trusts_only_the_pipeline_accounts_verify_runner(pipeline_assembly):
    """Cross-account trust names the pipeline account and, as the confused-deputy guard, the one runner role
    (aws:PrincipalArn, IAM UG "AWS global condition context keys")."""
    out, _, config = pipeline_assembly
    for stage in config.stages:
        for region in stage.regions:
            asm = out / f"assembly-GptOss-Pipeline-{stage.name}-{region}"
            (path,) = asm.glob(f"*GptOssVerifyAccess{region.replace('-', '')}*.template.json")
            t = json.loads(path.read_text())
            (role,) = _resources(t, "AWS::IAM::Role").values()
            (st,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            assert st["Action"] == "sts:AssumeRole"
            assert PIPELINE_ACCOUNT in json.dumps(st["Principal"])
            runner = f"arn:aws:iam::{PIPELINE_ACCOUNT}:role/gptoss-pipeline-verify-{stage.name}-{region}"
            assert st["Condition"] == {"ArnEquals": {"aws:PrincipalArn": runner}}
            (policy,) = _resources(t, "AWS::IAM::ManagedPolicy").values()
            actions = {a for st in policy["Properties"]["PolicyDocument"]["Statement"] for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])}
            # what make verify calls (README "After the deploy": its checks and the short-lived verifier)
            assert {"sagemaker:DescribeEndpoint", "cloudwatch:SetAlarmState", "cloudtrail:GetTrailStatus", "lambda:CreateFunction",
                    "lambda:InvokeFunction", "iam:PassRole", "ec2:CreateSecurityGroup", "cloudformation:GetTemplate"} <= actions
            (passrole,) = [st for st in policy["Properties"]["PolicyDocument"]["Statement"] if st["Action"] == "iam:PassRole"]
            assert passrole["Condition"] == {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
            assert passrole["Resource"].endswith(f":role/GptOssVerifier-{region}")
    names = {r["Properties"].get("RoleName") for r in _resources(_template(out), "AWS::IAM::Role").values()}
    assert {f"gptoss-pipeline-verify-{s.name}-{r}" for s in config.stages for r in s.regions} <= names


def _service_model(service: str) -> dict:
    import botocore

    folder = Path(botocore.__file__).parent / "data" / service
    (path,) = sorted(folder.glob("*/service-2.json*"))[-1:]
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        return json.load(f)


def test_approvers_may_answer_only_their_stages_approval_and_codepipeline_records_them(pipeline_assembly):
    """PutApprovalResult is authorized on the action resource arn:...:codepipeline:<region>:<account>:<pipeline>/
    <stage>/<action> (Service Authorization Reference, AWS CodePipeline, resource type "action"); CodePipeline keeps
    who answered (botocore codepipeline service model: ActionExecution.lastUpdatedBy, "The ARN of the user who last
    changed the pipeline"), and CloudTrail logs the PutApprovalResult call with its caller."""
    model = _service_model("codepipeline")
    assert "lastUpdatedBy" in model["shapes"]["ActionExecution"]["members"]
    assert "PutApprovalResult" in model["operations"]
    out, _, config = pipeline_assembly
    t = _template(out)
    prod = [s for s in config.stages if s.prod]
    policies = [r["Properties"] for r in _resources(t, "AWS::IAM::ManagedPolicy").values()
                if any(s.get("Sid") == "AnswerThisApproval" for s in r["Properties"]["PolicyDocument"]["Statement"])]
    assert len(policies) == len(prod)
    for stage, props in zip(prod, policies):
        (answer,) = [s for s in props["PolicyDocument"]["Statement"] if s.get("Sid") == "AnswerThisApproval"]
        assert answer["Action"] == "codepipeline:PutApprovalResult"
        assert json.dumps(answer["Resource"]).endswith(f'/{stage.name}/Approve"]]}}') or f"/{stage.name}/Approve" in json.dumps(answer["Resource"])
        assert sorted(props["Roles"]) == sorted(a.rsplit("/", 1)[1] for a in stage.approvers)


def test_pipeline_and_its_stages_are_nag_clean(pipeline_assembly):
    """Every pack, every severity (warnings do not fail synth, so the report is read: DESIGN.md trap 5)."""
    out, _, _ = pipeline_assembly
    report = json.loads((out / "validation-report.json").read_text())
    open_findings = [(p["pluginName"], v["ruleName"], c["constructPath"]) for p in report["pluginReports"]
                     for v in p["violations"] for c in v["violatingConstructs"]]
    assert open_findings == []
    assert {p["pluginName"] for p in report["pluginReports"]} >= {"AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", "Serverless"}


def test_stage_stacks_keep_the_plain_apps_names(pipeline_assembly):
    """Preflight, verify and operators find stacks by name: inside a Stage they keep GptOss-<kind>-<region>."""
    out, _, _ = pipeline_assembly
    manifest = json.loads((out / "assembly-GptOss-Pipeline-dev-us-east-1" / "manifest.json").read_text())
    names = {a["properties"].get("stackName") for a in manifest["artifacts"].values() if a["type"] == "aws:cloudformation:stack"}
    assert {"GptOss-Network-us-east-1", "GptOss-Proxy-us-east-1", "GptOss-VerifyAccess-us-east-1"} <= names


def test_iam5_acknowledgments_name_known_kinds_only():
    from gptoss_constructs.pipeline import wildcard_findings, wildcard_reason

    doc = {"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject*", "ssm:*"], "Resource": [
        {"Fn::Join": ["", [{"Fn::GetAtt": ["PipelineArtifactsEB21E7E8", "Arn"]}, "/*"]]}, "arn:aws:ssm:us-east-1:1:parameter/*"]}]}
    findings = wildcard_findings(doc)
    assert findings == ["Action::s3:GetObject*", "Action::ssm:*", "Resource::<PipelineArtifactsEB21E7E8.Arn>/*", "Resource::arn:aws:ssm:us-east-1:1:parameter/*"]
    assert wildcard_reason("Action::ssm:*") is None  # an unknown kind stays open and fails synth
    assert wildcard_reason("Resource::arn:aws:ssm:us-east-1:1:parameter/*") is None
    assert wildcard_reason("Resource::<PipelineArtifactsEB21E7E8.Arn>/*", ["<PipelineArtifactsEB21E7E8.Arn>"])


# ---- bad configs: clear errors, no synth -------------------------------------------------------------------------

def _raw(**changes) -> dict:
    raw = yaml.safe_load(EXAMPLE.read_text())
    for path, value in changes.items():
        target = raw
        keys = path.split("__")
        for k in keys[:-1]:
            target = target[int(k)] if k.isdigit() else target[k]
        last = keys[-1]
        if value is None:
            del target[last]
        else:
            target[int(last) if last.isdigit() else last] = value
    return raw


def _load(raw):
    from stacks.pipeline_config import load_pipeline_config

    return load_pipeline_config(raw, project_context().get)


def test_example_config_loads():
    config = _load(_raw())
    assert [(s.name, s.account, s.regions, s.prod) for s in config.stages] == [
        ("dev", "222222222222", ("us-east-1",), False), ("prod", "333333333333", ("us-east-1", "us-west-2"), True)]


@pytest.mark.parametrize(("changes", "message"), [
    ({"stages__0__regions": ["us-moon-1"]}, r"stage 'dev': context key 'regions': 'us-moon-1' is not a supported region; valid regions: .*us-east-1"),
    ({"stages__1__approvers": None}, r"stage 'prod' is prod and names no approvers: list the IAM role ARNs \(in the pipeline account 111111111111\)"),
    ({"stages__1__approvers": ["arn:aws:iam::999999999999:role/X"]}, r"approver 'arn:aws:iam::999999999999:role/X' must be an IAM role ARN in the pipeline account 111111111111"),
    ({"stages__0__account": "12345"}, r"stage 'dev': account must be a 12-digit AWS account id, got '12345'"),
    ({"stages__1__account": "222222222222", "stages__1__regions": ["us-east-1"]}, r"two stages deploy to the same account and region \(222222222222/us-east-1\)"),
    ({"stages__1__name": "dev"}, r"pipeline file: two stages deploy|stage names must be unique, dev repeats"),
    ({"source__type": "codecommit"}, r"source.type must be one of connection, s3, got 'codecommit' \(CodeCommit is not offered"),
    ({"source__connection_arn": "arn:aws:iam::1:role/x"}, r"source.connection_arn must be a CodeConnections ARN"),
    ({"pipeline__region": "mars-1"}, r"pipeline.region 'mars-1' is not a supported region"),
    ({"stages__0__context": {"regions": "us-west-2"}}, r"stage 'dev': context.regions is set by the stage itself; remove it"),
    ({"stages__0__context": {"vpc_cidr": "8.8.0.0/16"}}, r"stage 'dev': context key 'vpc_cidr.*must be a private \(RFC 1918\) range, got '8.8.0.0/16'"),
])
def test_fails_when_the_stage_config_is_bad(changes, message):
    from stacks.config import ConfigError

    with pytest.raises(ConfigError, match=message):
        _load(_raw(**changes))


def test_fails_when_the_pipeline_file_is_missing(tmp_path):
    from stacks.config import ConfigError
    from stacks.pipeline_config import read_pipeline_file

    with pytest.raises(ConfigError, match=r"context key 'pipeline': no pipeline file at '.*nope.yaml' \(copy examples/pipeline.yaml"):
        read_pipeline_file(tmp_path / "nope.yaml")


def test_app_py_reports_a_bad_pipeline_file_in_one_line(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "p.yaml"
    bad.write_text(re.sub(r" *approvers:\n *- arn:aws:iam::111111111111:role/ReleaseApprover\n", "", EXAMPLE.read_text()))
    proc = subprocess.run([sys.executable, "app.py"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "CDK_CONTEXT_JSON": json.dumps({**project_context(), "pipeline": str(bad)}),
                               "CDK_OUTDIR": str(tmp_path / "out")})
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert proc.stderr.strip().splitlines()[-1].startswith("error: pipeline file: stage 'prod' is prod and names no approvers"), proc.stderr[-3000:]
