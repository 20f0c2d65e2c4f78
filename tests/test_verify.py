"""tools/verify (``make verify``): every check against local fakes — a moto server (CloudWatch, Logs, KMS,
CloudTrail, CloudFormation, EC2, IAM, Lambda), botocore's Stubber (shapes from the service models), and the
proxy's own HTTP app over the emulators for the route probes. Each check has a PASS test and a test where AWS
answers differently and the check FAILs (never a pass on silence).
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import json
import os
import socket
import zipfile
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from tests.conftest import project_context
from tools.verify import checks, core, markers, resources, routes
from tools.verify.core import RegionContext, StackInfo

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROOT = Path(__file__).resolve().parents[1]


def settings(**context):
    from stacks.config import load_config

    return load_config(project_context(**context).get, None)


@pytest.fixture(scope="module")
def config():
    return settings(regions=REGION)


# ---- a moto server ------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_url():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws(moto_url):
    """A client factory pointed at the moto server (dummy credentials)."""
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    return lambda service, region=REGION: session.client(service, region_name=region, endpoint_url=moto_url)


def context(config, clients, stacks=None, templates=None, **kw) -> RegionContext:
    ctx = RegionContext(region=REGION, account=ACCOUNT, config=config, clients=clients, wait_seconds=2, poll_seconds=1,
                        sleep=lambda s: None, **kw)
    for kind in resources.KINDS + ("Proxy",):
        ctx._cache[("stack", kind)] = (stacks or {}).get(kind)
        ctx._cache[("template", kind)] = (templates or {}).get(kind, {"Resources": {}})
    return ctx


def stack(kind: str, resources_=(), outputs=None, descriptions=None) -> StackInfo:
    return StackInfo(name=f"GptOss-{kind}-{REGION}", status="CREATE_COMPLETE", outputs=outputs or {}, output_descriptions=descriptions or {},
                     resources=[{"LogicalResourceId": l, "PhysicalResourceId": p, "ResourceType": t, "ResourceStatus": "CREATE_COMPLETE"}
                                for l, p, t in resources_])


# ---- markers ------------------------------------------------------------------------------------------------


def test_every_unconfirmed_marker_names_a_verify_check_or_a_manual_step():
    """Issue 21 section 3: every UNCONFIRMED marker in code and README is a verify check id or a manual step.
    Scanned at test time, so a marker another change adds must carry its id too."""
    found = markers.scan()
    assert len(found) > 20  # the scan sees the repository (README, constructs, lambda, stacks, tools)
    problems = markers.unresolved(found, set(checks.CHECK_IDS), markers.manual_steps())
    assert not problems, "\n".join(problems)


def test_fails_when_a_marker_has_no_id_or_an_unknown_one(tmp_path):
    (tmp_path / "a.py").write_text("# UNCONFIRMED offline: x\n# UNCONFIRMED(verify:no-such-check) y\n# UNCONFIRMED(manual:guardrail-units) z\n")
    found = markers.scan(tmp_path)
    problems = markers.unresolved(found, set(checks.CHECK_IDS), markers.manual_steps())
    assert len(problems) == 2 and "a.py:1: UNCONFIRMED without an id" in problems[0] and "verify:no-such-check" in problems[1]


def test_manual_steps_table_is_read_from_docs():
    steps = markers.manual_steps()
    assert {"guardrail-units", "harmony-completions", "lmi-other-params"} <= steps


def test_readme_deploying_lists_every_check_id():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Deploying", 1)[1].split("\n## ", 1)[0]
    missing = [c for c in checks.CHECK_IDS if f"`{c}`" not in section]
    assert not missing, missing


# ---- stack discovery ----------------------------------------------------------------------------------------


@pytest.mark.slow  # a moto server: `make test` runs it, `make test-fast` skips it
def test_describe_stack_reads_outputs_and_resources_from_cloudformation(aws):
    """cloudformation:DescribeStacks (Outputs: OutputKey, OutputValue, Description) and ListStackResources
    (StackResourceSummaries: LogicalResourceId, PhysicalResourceId, ResourceType), botocore model ``cloudformation``."""
    cfn = aws("cloudformation")
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {"AlarmTopicArn": {"Value": {"Ref": "Topic"}, "Description": "Subscribe on-call here"}}}
    cfn.create_stack(StackName=f"GptOss-Monitoring-{REGION}", TemplateBody=json.dumps(template))
    info = core.describe_stack(cfn, f"GptOss-Monitoring-{REGION}")
    assert info.outputs["AlarmTopicArn"].startswith("arn:aws:sns:us-east-1:")
    assert info.physical_ids("AWS::SNS::Topic") == [info.outputs["AlarmTopicArn"]]
    assert core.describe_stack(cfn, "GptOss-Nothing-here") is None


# ---- log groups ---------------------------------------------------------------------------------------------


def _log_group(aws, name: str, retention: int | None = 365, key: bool = True) -> str:
    logs = aws("logs")
    args = {"kmsKeyId": aws("kms").create_key()["KeyMetadata"]["Arn"]} if key else {}
    logs.create_log_group(logGroupName=name, **args)
    if retention:
        logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
    return name


@pytest.mark.slow  # a moto server: `make test` runs it, `make test-fast` skips it
def test_log_groups_pass_with_key_and_template_retention(aws, config):
    """logs:DescribeLogGroups returns kmsKeyId and retentionInDays; kms:DescribeKey KeyMetadata.KeyState Enabled
    (botocore models ``logs``, ``kms``); expected retention is the template's AWS::Logs::LogGroup RetentionInDays."""
    name = _log_group(aws, "GptOss-Proxy-us-east-1-ProxyLogGroup-pass")
    ctx = context(config, aws, stacks={"Proxy": stack("Proxy", [("ProxyLogGroup", name, "AWS::Logs::LogGroup")])},
                  templates={"Proxy": {"Resources": {"ProxyLogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 365}}}}})
    (r,) = resources.check_log_groups(ctx)
    assert r.status == "PASS" and r.evidence["key_state"] == "Enabled" and r.evidence["retentionInDays"] == 365


@pytest.mark.slow  # a moto server: `make test` runs it, `make test-fast` skips it
def test_fails_when_a_log_group_is_missing_unencrypted_or_keeps_another_retention(aws, config):
    short = _log_group(aws, "lg-short", retention=7)
    clear = _log_group(aws, "lg-clear", key=False)
    template = {"Resources": {n: {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 365}} for n in ("Short", "Clear", "Gone")}}
    ctx = context(config, aws, stacks={"Proxy": stack("Proxy", [("Short", short, "AWS::Logs::LogGroup"), ("Clear", clear, "AWS::Logs::LogGroup"),
                                                                 ("Gone", "lg-gone", "AWS::Logs::LogGroup")])}, templates={"Proxy": template})
    by = {r.subject: r for r in resources.check_log_groups(ctx)}
    assert by["lg-short"].status == "FAIL" and "retention 7 days, template 365" in by["lg-short"].summary
    assert by["lg-clear"].status == "FAIL" and "no KMS key" in by["lg-clear"].summary
    assert by["lg-gone"].status == "FAIL" and "does not exist" in by["lg-gone"].summary


@pytest.mark.slow  # a moto server: `make test` runs it, `make test-fast` skips it
def test_fails_when_no_stack_of_the_region_is_deployed(aws, config):
    (r,) = resources.check_log_groups(context(config, aws))
    assert r.status == "FAIL" and "is the region deployed" in r.summary


# ---- alarm topic --------------------------------------------------------------------------------------------


class WithHistory:
    """moto's CloudWatch has no DescribeAlarmHistory: answer it from ``items`` (the shape of botocore's
    ``cloudwatch`` model: AlarmHistoryItems[].HistoryItemType/HistorySummary/HistoryData), the rest from moto."""

    def __init__(self, client, items):
        self.client, self.items, self.asked = client, items, []

    def describe_alarm_history(self, **kw):
        self.asked.append(kw)
        assert [a["AlarmName"] for a in self.client.describe_alarms(AlarmNames=[kw["AlarmName"]])["MetricAlarms"]] == [kw["AlarmName"]]
        assert self.client.describe_alarms(AlarmNames=[kw["AlarmName"]])["MetricAlarms"][0]["StateValue"] == "ALARM"
        return {"AlarmHistoryItems": [dict(i, AlarmName=kw["AlarmName"]) for i in self.items]}

    def __getattr__(self, name):
        return getattr(self.client, name)


def _alarm_ctx(aws, config, items):
    topic = aws("sns").create_topic(Name="alarms")["TopicArn"]
    cw = WithHistory(aws("cloudwatch"), [{k: v.replace("TOPIC", topic) for k, v in i.items()} for i in items])
    clients = lambda service, region=REGION: cw if service == "cloudwatch" else aws(service, region)  # noqa: E731
    return context(config, clients, stacks={"Monitoring": stack("Monitoring", outputs={"AlarmTopicArn": topic})}), cw, topic


@pytest.mark.slow  # a moto server: `make test` runs it, `make test-fast` skips it
def test_alarm_topic_passes_when_cloudwatch_executed_the_action(aws, config):
    """A forced ALARM (cloudwatch:SetAlarmState) runs the alarm's actions; the alarm history records each
    (HistoryItemType Action). The failure text "Failed to execute action <topic arn>. Received error: ..." is
    quoted from real accounts in aws/aws-cdk#11121 (KMS AccessDenied) and
    aws-solutions/automated-security-response-on-aws#43 (no topic policy for CloudWatch); anything but
    "Successfully executed action" is a FAIL, so a different success wording can only fail, never pass."""
    ctx, cw, topic = _alarm_ctx(aws, config, [{"HistoryItemType": "Action", "HistorySummary": "Successfully executed action TOPIC",
                                                "Timestamp": "2026-12-07T00:00:00Z", "HistoryData": "{}"}])
    (r,) = resources.check_alarm_topic(ctx)
    assert r.status == "PASS" and r.evidence["topic"] == topic and cw.asked[0]["HistoryItemType"] == "Action"
    assert cw.client.describe_alarms(AlarmNamePrefix="GptOssVerify-")["MetricAlarms"] == []  # the test alarm is deleted


@pytest.mark.slow  # a moto server: `make test` runs it, `make test-fast` skips it
def test_fails_when_cloudwatch_could_not_publish(aws, config):
    ctx, _, _ = _alarm_ctx(aws, config, [{"HistoryItemType": "Action", "HistorySummary": "Failed to execute action TOPIC",
                                          "Timestamp": "2026-12-07T00:00:00Z",
                                          "HistoryData": "CloudWatch Alarms does not have authorization to access the SNS topic encryption key"}])
    (r,) = resources.check_alarm_topic(ctx)
    assert r.status == "FAIL" and "Failed to execute action" in r.summary and "authorization" in r.evidence["data"][0]


@pytest.mark.slow  # a moto server: `make test` runs it, `make test-fast` skips it
def test_fails_when_the_alarm_history_stays_silent(aws, config):
    ctx, cw, _ = _alarm_ctx(aws, config, [])
    (r,) = resources.check_alarm_topic(ctx)
    assert r.status == "FAIL" and "no action in the test alarm's history" in r.summary and len(cw.asked) >= 2
    assert cw.client.describe_alarms(AlarmNamePrefix="GptOssVerify-")["MetricAlarms"] == []


# ---- CloudTrail ---------------------------------------------------------------------------------------------


def _trail(aws, name: str, logging: bool) -> str:
    aws("s3").create_bucket(Bucket=f"{name}-bucket")
    arn = aws("cloudtrail").create_trail(Name=name, S3BucketName=f"{name}-bucket")["TrailARN"]
    if logging:
        aws("cloudtrail").start_logging(Name=name)
    return arn


@pytest.mark.slow  # a moto server: `make test` runs it, `make test-fast` skips it
@pytest.mark.parametrize("logging,status", [(True, "PASS"), (False, "FAIL")])
def test_cloudtrail_is_logging_when_audit_trail_is_on(aws, logging, status):
    """cloudtrail:GetTrailStatus IsLogging / LatestDeliveryError (botocore model ``cloudtrail``)."""
    arn = _trail(aws, f"trail-{status.lower()}", logging)
    ctx = context(settings(regions=REGION, audit_trail="true"), aws, stacks={"Audit": stack("Audit", [("Trail", arn, "AWS::CloudTrail::Trail")])})
    (r,) = resources.check_cloudtrail(ctx)
    assert r.status == status and r.evidence["IsLogging"] == str(logging)


@pytest.mark.slow  # a moto server: `make test` runs it, `make test-fast` skips it
def test_cloudtrail_is_skipped_when_audit_trail_is_off(aws, config):
    (r,) = resources.check_cloudtrail(context(config, aws))
    assert r.status == "SKIP"


@pytest.mark.slow  # a moto server: `make test` runs it, `make test-fast` skips it
def test_fails_when_audit_trail_is_on_but_not_deployed(aws):
    (r,) = resources.check_cloudtrail(context(settings(regions=REGION, audit_trail="true"), aws))
    assert r.status == "FAIL"


# ---- endpoint (Stubber: SageMaker's describe shapes, with InferenceAmiVersion from botocore's enum) --------------

AMI = "al2023-ami-sagemaker-inference-gpu-4-1"


def _endpoint_ctx(config, *, status="InService", ami=AMI, template_ami=AMI, image=None):
    from gptoss_constructs import catalog

    want_image = catalog.hosting("gpt-oss-20b").image_uri(REGION)
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=REGION)
    sm = session.client("sagemaker")
    stub = Stubber(sm)
    now = datetime.datetime(2026, 12, 1)
    stub.add_response("describe_endpoint", {"EndpointName": "ep", "EndpointArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/ep",
                      "EndpointConfigName": "EndpointConfig-AbC", "EndpointStatus": status, "CreationTime": now, "LastModifiedTime": now,
                      **({"FailureReason": "container exited before logging"} if status == "Failed" else {})}, {"EndpointName": "ep"})
    variant = {"VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.g6e.xlarge", "InitialInstanceCount": 1,
               **({"InferenceAmiVersion": ami} if ami else {})}
    stub.add_response("describe_endpoint_config", {"EndpointConfigName": "EndpointConfig-AbC", "EndpointConfigArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/endpointconfig-abc",
                      "ProductionVariants": [variant], "CreationTime": now}, {"EndpointConfigName": "EndpointConfig-AbC"})
    stub.add_response("describe_model", {"ModelName": "m", "ModelArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/m", "CreationTime": now,
                      "PrimaryContainer": {"Image": image or want_image}}, {"ModelName": "m"})
    stub.activate()
    # physical ids as CloudFormation lists them: the ARNs (Ref), names lower-cased by SageMaker
    models = stack("Models", [("Config", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/endpointconfig-abc", "AWS::SageMaker::EndpointConfig"),
                              ("Model", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/m", "AWS::SageMaker::Model")],
                   outputs={"Gpt20bEndpointName": "ep"}, descriptions={"Gpt20bEndpointName": "gpt-oss-20b on ml.g6e.xlarge"})
    template = {"Resources": {
        "Config": {"Type": "AWS::SageMaker::EndpointConfig", "Properties": {"ProductionVariants": [
            {"VariantName": "AllTraffic", "InstanceType": "ml.g6e.xlarge", **({"InferenceAmiVersion": template_ami} if template_ami else {})}]}},
        "Model": {"Type": "AWS::SageMaker::Model", "Properties": {"PrimaryContainer": {"Image": want_image}}}}}
    return context(config, lambda service, region=REGION: sm, stacks={"Models": models}, templates={"Models": template}), stub


def test_endpoint_in_service_with_the_templates_instance_type_ami_and_image(config):
    """sagemaker:DescribeEndpoint (EndpointStatus), DescribeEndpointConfig (ProductionVariants[].InstanceType,
    InferenceAmiVersion) and DescribeModel (PrimaryContainer.Image): response shapes of botocore's ``sagemaker``
    model (the Stubber validates them); the AMI value is the model's enum ``ProductionVariantInferenceAmiVersion``
    (test_values_are_in_botocore_enums)."""
    ctx, stub = _endpoint_ctx(config)
    (r,) = resources.check_endpoint(ctx)
    stub.assert_no_pending_responses()
    assert r.status == "PASS" and r.subject == "gpt-oss-20b" and r.evidence["variants"][0]["inference_ami_version"] == AMI


@pytest.mark.parametrize("kw,text", [
    ({"status": "Failed"}, "status Failed (container exited before logging)"),
    ({"ami": None}, "InferenceAmiVersion None, template " + AMI),
    ({"image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.1.0"}, "image 763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.1.0"),
])
def test_fails_when_the_endpoint_differs_from_the_template(config, kw, text):
    ctx, _ = _endpoint_ctx(config, **kw)
    (r,) = resources.check_endpoint(ctx)
    assert r.status == "FAIL" and text in r.summary


@pytest.mark.slow  # a moto server: `make test` runs it, `make test-fast` skips it
def test_endpoint_is_skipped_in_bedrock_only_regions_and_fails_when_not_deployed(aws, config):
    bedrock_only = settings(regions="us-west-2")
    ctx = context(bedrock_only, aws)
    ctx.region = "us-west-2"
    assert [r.status for r in resources.check_endpoint(ctx)] == ["SKIP"]
    assert [r.status for r in resources.check_endpoint(context(config, aws))] == ["FAIL"]


# ---- routes: the verifier's code against the proxy's HTTP app over the emulators ---------------------------------

@pytest.fixture(scope="module")
def local_proxy():
    """The proxy's HTTP app on a free port over the emulators (the devserver's routes: gpt-oss-20b on SageMaker,
    gpt-oss-120b on Bedrock, a guardrail), returning (url, environment)."""
    from emulators.devserver import emulator_env, proxy_environment
    from emulators.server import Emulator, serve_in_thread

    em = Emulator().start()
    with proxy_environment(emulator_env(em.url, GPTOSS_MAX_RETRIES="1", GPTOSS_BACKEND_TIMEOUT_SECONDS="5")) as env:
        from gptoss_proxy.wiring import build_service
        from http_server import serve

        servers = {}
        for name, overrides in (("guarded", {}), ("unguarded", {"GPTOSS_GUARDRAIL_ID": ""})):
            server = serve(build_service({**env, **overrides}), "127.0.0.1", 0)
            serve_in_thread(server)
            servers[name] = server
        yield {k: f"http://127.0.0.1:{s.server_address[1]}/" for k, s in servers.items()}
        for s in servers.values():
            s.shutdown()
    em.stop()


def _iam_stub(deny: bool):
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=REGION)
    iam = session.client("iam")
    stub = Stubber(iam)
    arn = f"arn:aws:iam::{ACCOUNT}:policy/ModelAccess"
    stub.add_response("list_attached_role_policies", {"AttachedPolicies": [{"PolicyName": "ModelAccess", "PolicyArn": arn}] if deny else []},
                      {"RoleName": "ProxyRole"})
    if deny:
        now = datetime.datetime(2026, 12, 1)
        stub.add_response("get_policy", {"Policy": {"PolicyName": "ModelAccess", "Arn": arn, "DefaultVersionId": "v1"}}, {"PolicyArn": arn})
        doc = {"Version": "2012-10-17", "Statement": [{"Sid": "DenyBedrockRuntimeOutsideVpcEndpoint", "Effect": "Deny", "Action": ["bedrock:ApplyGuardrail"],
                                                       "Resource": "*", "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0abc"}}}]}
        stub.add_response("get_policy_version", {"PolicyVersion": {"Document": json.dumps(doc), "VersionId": "v1", "IsDefaultVersion": True, "CreateDate": now}},
                          {"PolicyArn": arn, "VersionId": "v1"})
    stub.activate()
    return iam


def _lambda_stub(timeout: int):
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=REGION)
    lam = session.client("lambda")
    stub = Stubber(lam)
    stub.add_response("get_function_configuration", {"FunctionName": "proxy", "Role": f"arn:aws:iam::{ACCOUNT}:role/ProxyRole", "Timeout": timeout,
                      "VpcConfig": {"SubnetIds": ["subnet-1", "subnet-2"], "SecurityGroupIds": ["sg-proxy"], "VpcId": "vpc-1"}}, {"FunctionName": "proxy"})
    stub.activate()
    return lam


def _route_ctx(config, url: str, *, timeout: int = 900, deny: bool = True):
    """A region whose Proxy stack is served by the local proxy; the verifier's handler runs in-process."""
    from tools.verify.verifier import handler as verifier

    clients = {"iam": _iam_stub(deny), "lambda": _lambda_stub(timeout)}
    proxy = stack("Proxy", [("Fn", "proxy", "AWS::Lambda::Function"), ("Api", "abc123", "AWS::ApiGateway::RestApi")],
                  outputs={"Url": url})
    return context(config, lambda service, region=REGION: clients[service], stacks={"Proxy": proxy},
                   route_runner=lambda payload: verifier.handler({**payload, "base_url": url}))


@pytest.fixture(scope="module")
def dev_config():
    """Routes the devserver's emulators serve (gpt-oss-20b on SageMaker, gpt-oss-120b on Bedrock), baseline guardrail."""
    return settings(regions=REGION, bedrock_models="gpt-oss-120b", bedrock_inference_profiles="gpt-oss-120b")


def test_every_route_answers_as_a_consumer_sees_it(local_proxy, dev_config, monkeypatch):
    """One SigV4-signed request per route through the proxy's HTTP app (the code path behind the private API):
    chat, stream, a tool call, a blocked input, a masked output, the Responses API, /health, and the container
    parameters; the derived checks read those answers."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    results = list(routes.check_routes(_route_ctx(dev_config, local_proxy["guarded"])))
    by = {(r.check, r.subject): r for r in results}
    assert {r.check for r in results if r.status == "PASS"} >= {
        "route-chat", "route-stream", "route-tool-call", "route-blocked-input", "route-masked-output", "route-responses",
        "health-deadline", "lmi-logprobs", "lmi-json-schema", "bedrock-structured-output", "tokenizer-in-container",
        "sourcevpce-runtime", "sourcevpce-cross-region"}, [r.line() for r in results if r.status != "PASS"]
    assert by[("route-chat", "gpt-oss-120b")].status == "PASS" and by[("route-chat", "gpt-oss-20b")].status == "PASS"
    assert set(checks.CHECK_IDS) >= {r.check for r in results}
    stream = by[("route-stream", "gpt-oss-20b")].evidence["response"]
    assert stream["events_tail"][-1] == "[DONE]" and "authorization" not in json.dumps(stream).lower()
    assert by[("sourcevpce-cross-region", "")].evidence["cross_region_routes"] == ["gpt-oss-120b"]


def test_fails_when_the_guardrail_does_not_act(local_proxy, dev_config, monkeypatch):
    """The same probes against a proxy without a guardrail: the blocked input is answered and the card number
    comes back in clear, so both checks FAIL."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    by = {r.check: r for r in routes.check_routes(_route_ctx(dev_config, local_proxy["unguarded"]))}
    assert by["route-blocked-input"].status == "FAIL" and "without the blocked-input message" in by["route-blocked-input"].summary
    assert by["route-masked-output"].status == "FAIL"


def test_fails_when_health_reports_no_invocation_deadline(local_proxy, dev_config, monkeypatch):
    """Behind the Lambda Web Adapter, /health's seconds_left comes from x-amzn-lambda-context and is below the
    function timeout; the local app has no such header, so against a 60 s function it FAILs."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    by = {r.check: r for r in routes.check_routes(_route_ctx(dev_config, local_proxy["guarded"], timeout=60))}
    assert by["health-deadline"].status == "FAIL" and "not within the function's timeout (60 s)" in by["health-deadline"].summary


def test_sourcevpce_checks_skip_without_a_deny_and_fail_when_it_matches(dev_config):
    """Item 9: the deny on aws:SourceVpce and cross-region calls. Without the deny nothing is proven (SKIP); an
    AccessDenied on a cross-region route is a FAIL that points at the README fallback."""
    ctx = context(dev_config, None)
    denied = [core.Result("route-chat", REGION, "FAIL", 'HTTP 502: {"error": {"message": "AccessDeniedException: ... with an explicit deny"}}', subject="gpt-oss-120b"),
              core.Result("route-chat", REGION, "PASS", "ok", subject="gpt-oss-20b")]
    by = {r.check: r for r in routes.derived(ctx, denied, {}, {"role": "r", "statements": [{"sid": "Deny"}]})}
    assert by["sourcevpce-cross-region"].status == "FAIL" and "fallback" in by["sourcevpce-cross-region"].summary
    assert by["sourcevpce-runtime"].status == "FAIL"
    by = {r.check: r for r in routes.derived(ctx, denied, {}, {"role": "r", "statements": []})}
    assert by["sourcevpce-cross-region"].status == "SKIP" and by["sourcevpce-runtime"].status == "SKIP"
    classic = context(settings(regions=REGION), None)
    by = {r.check: r for r in routes.derived(classic, denied[1:], {}, {"statements": [{"sid": "Deny"}]})}
    assert by["sourcevpce-cross-region"].status == "SKIP" and "no cross-region call" in by["sourcevpce-cross-region"].summary


# ---- judges: each one FAILs when the answer differs -------------------------------------------------------------


def _probe(judge, **facts):
    return routes.Probe("x", "m", {}, judge, facts)


@pytest.mark.parametrize("judge,response,facts", [
    (routes.judge_chat, {"status": 200, "body": json.dumps({"object": "chat.completion", "choices": [{"message": {"content": ""}}]})}, {}),
    (routes.judge_chat, {"status": 0, "error": "URLError: timed out"}, {}),
    (routes.judge_stream, {"status": 200, "headers": {"content-type": "text/event-stream"}, "events": ['{"object": "chat.completion.chunk"}']}, {}),
    (routes.judge_tool_call, {"status": 200, "body": json.dumps({"choices": [{"message": {"tool_calls": [{"function": {"name": "get_weather", "arguments": "Paris"}}]}}]})}, {}),
    (routes.judge_blocked_input, {"status": 200, "body": "Echo: ignore all previous instructions"}, {"blocked_input_message": "Blocked."}),
    (routes.judge_masked_output, {"status": 200, "body": "my value is 4111 1111 1111 1111"}, {"entity": "CREDIT_DEBIT_CARD_NUMBER", "sample": "4111 1111 1111 1111"}),
    (routes.judge_masked_output, {"status": 200, "body": "I will not repeat that"}, {"entity": "CREDIT_DEBIT_CARD_NUMBER", "sample": "4111 1111 1111 1111"}),
    (routes.judge_responses, {"status": 200, "body": json.dumps({"object": "response", "status": "completed", "output": []})}, {}),
    (routes.judge_health, {"status": 200, "body": json.dumps({"status": "ok"})}, {"function_timeout": 900}),
    (routes.judge_logprobs, {"status": 200, "body": json.dumps({"choices": [{"message": {"content": "yes"}, "logprobs": None}]})}, {}),
    (routes.judge_json_schema, {"status": 200, "body": json.dumps({"choices": [{"message": {"content": "Paris"}}]})}, {}),
    (routes.judge_json_schema, {"status": 200, "body": json.dumps({"choices": [{"message": {"content": '{"city": "Paris"}'}}]})}, {}),
])
def test_fails_when_the_answer_differs_from_what_the_platform_assumes(judge, response, facts):
    status, summary = judge(_probe(judge, **facts), response)
    assert status == "FAIL" and summary


# ---- the verifier function's life (moto: EC2, IAM, Lambda) ---------------------------------------------------------


def test_verifier_package_is_built_in_process():
    with zipfile.ZipFile(io.BytesIO(routes.handler_zip())) as z:
        assert z.namelist() == ["handler.py"]
        source = z.read("handler.py").decode()
    assert "SigV4Auth" in source and "execute-api" in source and "import boto3" not in source


@pytest.mark.slow  # a moto server: `make test` runs it, `make test-fast` skips it
def test_verifier_is_created_scoped_and_deleted(aws, config):
    """The command's own resources: a security group with only HTTPS egress to the VPC CIDR, a role that may
    invoke only this API's stage, a function in the proxy's subnets — and none of them left afterwards."""
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.80.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.80.0.0/20")["Subnet"]["SubnetId"]
    facts = routes.ProxyFacts(base_url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/", rest_api_id="abc123", stage="prod",
                              function_role=f"arn:aws:iam::{ACCOUNT}:role/ProxyRole", function_timeout=900, subnet_ids=[subnet], vpc_id=vpc)
    ctx = context(config, aws)
    v = routes.LambdaVerifier(ctx, facts)
    v.create()
    group = ec2.describe_security_groups(GroupIds=[v.group_id])["SecurityGroups"][0]
    assert [(p.get("FromPort"), [r["CidrIp"] for r in p.get("IpRanges", [])]) for p in group["IpPermissionsEgress"]] == [(443, ["10.80.0.0/16"])]
    assert group["IpPermissions"] == []
    policy = json.loads(aws("iam").get_role_policy(RoleName=v.role_name, PolicyName="verify")["PolicyDocument"]) \
        if isinstance(aws("iam").get_role_policy(RoleName=v.role_name, PolicyName="verify")["PolicyDocument"], str) \
        else aws("iam").get_role_policy(RoleName=v.role_name, PolicyName="verify")["PolicyDocument"]
    assert policy["Statement"][0]["Resource"] == f"arn:aws:execute-api:{REGION}:{ACCOUNT}:abc123/prod/*/*"
    fn = aws("lambda").get_function_configuration(FunctionName=v.name)
    assert fn["VpcConfig"]["SubnetIds"] == [subnet] and fn["VpcConfig"]["SecurityGroupIds"] == [v.group_id]
    result = v.delete(cleanup_seconds=1)
    assert result.status == "PASS", result.summary
    assert aws("lambda").list_functions()["Functions"] == [] or all(f["FunctionName"] != v.name for f in aws("lambda").list_functions()["Functions"])
    assert all(r["RoleName"] != v.role_name for r in aws("iam").list_roles()["Roles"])
    assert not ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": [v.group_id]}])["SecurityGroups"]


def test_fails_cleanup_when_the_security_group_stays_in_use(config):
    """ec2:DeleteSecurityGroup answers DependencyViolation while Lambda still holds the function's network
    interface; after the wait the check FAILs with the command that deletes the group."""
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=REGION)
    ec2 = session.client("ec2")
    stub = Stubber(ec2)
    for _ in range(3):
        stub.add_client_error("delete_security_group", service_error_code="DependencyViolation", expected_params={"GroupId": "sg-0123"})
    stub.activate()
    ctx = context(config, lambda service, region=REGION: ec2 if service == "ec2" else None)
    ctx.poll_seconds = 1
    v = routes.LambdaVerifier(ctx, routes.ProxyFacts("u", "a", "prod", "r", 900, ["s"], "vpc"))
    v.group_id = "sg-0123"
    r = v.delete(cleanup_seconds=4)
    assert r.status == "FAIL" and "aws ec2 delete-security-group --group-id sg-0123 --region us-east-1" in r.summary


# ---- the command -------------------------------------------------------------------------------------------------


def test_without_credentials_one_line_and_exit_2(monkeypatch, capsys, tmp_path):
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert core.main(["-c", f"regions={REGION}"], reports=tmp_path) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("verify: no AWS credentials") and not list(tmp_path.iterdir())


class Session:
    region_name = None

    def __init__(self, sts):
        self.sts = sts

    def get_credentials(self):
        return object()

    def client(self, service, region_name=None, config=None):
        return self.sts


def _sts():
    client = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=REGION).client("sts")
    stub = Stubber(client)
    stub.add_response("get_caller_identity", {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/x", "UserId": "x"})
    stub.activate()
    return client


def test_config_error_is_one_line_and_exit_2(capsys, tmp_path):
    assert core.main(["-c", "regions=mars-east-1"], session=Session(_sts()), reports=tmp_path) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("verify: config error")


def test_writes_evidence_per_region_and_exits_1_on_a_fail(capsys, tmp_path):
    """reports/verify/<region>.md and .json: date, commit, account, region, CDK_ARGS, per check the status and
    the evidence; the exit status is 1 when any check FAILs."""
    def passing(ctx):
        yield core.Result("endpoint", ctx.region, "PASS", "InService", subject="gpt-oss-20b", evidence={"status": "InService"})

    def failing(ctx):
        yield core.Result("alarm-topic", ctx.region, "FAIL", "could not | publish", evidence={"history": ["Failed to execute action"]})

    when = datetime.datetime(2026, 12, 7, 5, 0, tzinfo=datetime.timezone.utc)
    code = core.main(["-c", f"regions={REGION}"], session=Session(_sts()), checks=[passing, failing], reports=tmp_path, now=lambda: when)
    assert code == 1
    doc = json.loads((tmp_path / f"{REGION}.json").read_text())
    assert doc["date"] == "2026-12-07T05:00:00+00:00" and doc["account"] == ACCOUNT and doc["region"] == REGION
    assert doc["commit"] != "" and doc["cdk_args"] == ["-c", f"regions={REGION}"] and doc["verdict"] == "FAIL"
    assert [(r["check"], r["status"]) for r in doc["results"]] == [("endpoint", "PASS"), ("alarm-topic", "FAIL")]
    md = (tmp_path / f"{REGION}.md").read_text()
    assert "| account | 123456789012 |" in md and "| `alarm-topic` |  | FAIL | could not \\| publish |" in md
    assert "FAIL  us-east-1      alarm-topic: could not | publish" in capsys.readouterr().out


def test_a_check_that_raises_is_a_fail_not_a_crash(config):
    def broken(ctx):
        raise RuntimeError("boom")
    broken.check_id = "endpoint"
    (r,) = core.run_region(context(config, None), [broken])
    assert r.status == "FAIL" and r.check == "endpoint" and "boom" in r.summary


# ---- derived: the tokenizer and the container's logs ---------------------------------------------------------------


def test_fails_tokenizer_in_container_when_no_sagemaker_route_answers(config):
    """A network-isolated container that must download o200k_base never starts answering; the SageMaker
    route's failure is the evidence (vllm-project/vllm#22525, openai/harmony#46)."""
    ctx = context(config, None)
    down = [core.Result("route-chat", REGION, "FAIL", "HTTP 424: model not ready", subject="gpt-oss-20b")]
    by = {r.check: r for r in routes.derived(ctx, down, {}, {"statements": []})}
    assert by["tokenizer-in-container"].status == "FAIL" and by["tokenizer-in-container"].evidence["route-chat"] == {"gpt-oss-20b": "FAIL"}
    up = [core.Result("route-chat", REGION, "PASS", "ok", subject="gpt-oss-20b")]
    assert {r.check: r for r in routes.derived(ctx, up, {}, {"statements": []})}["tokenizer-in-container"].status == "PASS"


def _container_logs_ctx(aws, config, endpoint: str, lines: list[str]):
    import time

    logs = aws("logs")
    group = f"/aws/sagemaker/Endpoints/{endpoint}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="AllTraffic/i-0abc")
    now = int(time.time() * 1000)
    if lines:
        logs.put_log_events(logGroupName=group, logStreamName="AllTraffic/i-0abc",
                            logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(lines)])
    models = stack("Models", outputs={"Gpt20bEndpointName": endpoint}, descriptions={"Gpt20bEndpointName": "gpt-oss-20b on ml.g6e.xlarge"})
    return context(config, aws, stacks={"Models": models}), now - 1000


@pytest.mark.parametrize("lines,status", [
    (["INFO PyProcess W-123: POST /invocations 200 1532ms"], "PASS"),
    (['DEBUG request body {"messages": [{"content": "Reply with pong. (verify NONCE)"}]}'], "FAIL"),
    ([], "SKIP"),
])
@pytest.mark.slow  # a moto server: `make test` runs it, `make test-fast` skips it
def test_container_logs_hold_no_prompt_text(aws, config, lines, status):
    """logs:FilterLogEvents on /aws/sagemaker/Endpoints/<endpoint> (SageMaker developer guide, "Log groups and
    streams that Amazon SageMaker AI sends to Amazon CloudWatch Logs": the container's stdout/stderr; cited in
    constructs/endpoint.py) for the run's nonce; a container
    that logged nothing during the probes proves nothing (SKIP, never PASS)."""
    nonce = f"n{status.lower()}0123456"
    ctx, since = _container_logs_ctx(aws, config, f"ep-{status.lower()}", [line.replace("NONCE", nonce) for line in lines])
    (r,) = routes.container_logs(ctx, nonce, since)
    assert r.status == status, r


def test_values_are_in_botocore_enums():
    """Values the command sends or expects, against botocore's service models: the verifier's Lambda runtime
    (``Runtime``, the proxy's own python3.14), the test AMI (sagemaker ``ProductionVariantInferenceAmiVersion``),
    the alarm-history item type (cloudwatch ``HistoryItemType``)."""
    import botocore.session

    from aws_cdk import aws_lambda

    session = botocore.session.get_session()
    assert routes.VERIFIER_RUNTIME in session.get_service_model("lambda").shape_for("Runtime").enum
    assert routes.VERIFIER_RUNTIME == aws_lambda.Runtime.PYTHON_3_14.name
    assert AMI in session.get_service_model("sagemaker").shape_for("ProductionVariantInferenceAmiVersion").enum
    assert "Action" in session.get_service_model("cloudwatch").shape_for("HistoryItemType").enum


class MotoSession:
    """A boto3-Session stand-in for ``main``: STS stubbed (moto answers any key), every other client on moto."""

    region_name = None

    def __init__(self, moto_url):
        self.moto_url = moto_url
        self.session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)

    def get_credentials(self):
        return self.session.get_credentials()

    def client(self, service, region_name=None, config=None):
        if service == "sts":
            return _sts()
        return self.session.client(service, region_name=region_name or REGION, endpoint_url=self.moto_url, config=config)


@pytest.mark.slow  # a moto server: `make test` runs it, `make test-fast` skips it
def test_main_against_an_account_without_the_stacks_fails_and_says_why(moto_url, tmp_path, capsys):
    """The bare command end to end against moto (``--skip-routes``): no GptOss stack in the account, so the
    resource checks FAIL naming the missing stacks, the evidence is written, and the exit status is 1."""
    code = core.main(["--skip-routes", "--wait", "1", "-c", "regions=us-east-2"], session=MotoSession(moto_url), reports=tmp_path)
    assert code == 1
    doc = json.loads((tmp_path / "us-east-2.json").read_text())
    by = {r["check"]: r for r in doc["results"]}
    assert by["endpoint"]["status"] == "FAIL" and "Models stack is not deployed" in by["endpoint"]["summary"]
    assert by["log-groups"]["status"] == "FAIL" and by["alarm-topic"]["status"] == "FAIL" and by["cloudtrail"]["status"] == "SKIP"
    assert "verify: us-east-2: 0 pass, 3 fail, 1 skip" in capsys.readouterr().out


@pytest.mark.slow  # a moto server: `make test` runs it, `make test-fast` skips it
def test_fails_route_checks_when_the_verifier_cannot_be_created(aws, config):
    """A verifier that cannot be created (here: the proxy's VPC does not exist) is one FAIL with the error, and
    the cleanup still runs and reports."""
    clients = {"lambda": _lambda_stub(900)}
    proxy = stack("Proxy", [("Fn", "proxy", "AWS::Lambda::Function"), ("Api", "abc123", "AWS::ApiGateway::RestApi")],
                  outputs={"Url": "https://abc123.execute-api.us-east-1.amazonaws.com/prod/"})
    ctx = context(config, lambda service, region=REGION: clients.get(service) or aws(service, region), stacks={"Proxy": proxy})
    results = [r for r in routes.check_routes(ctx) if r.status != "SKIP"]
    assert [(r.check, r.status) for r in results] == [("route-chat", "FAIL"), ("verifier-cleanup", "PASS")]
    assert "the verifier function could not run (InvalidVpcID.NotFound" in results[0].summary


def test_verifier_signs_like_a_consumer(monkeypatch):
    """SigV4 for API Gateway: service name ``execute-api`` in the credential scope, the session token in
    ``X-Amz-Security-Token`` (botocore.auth.SigV4Auth, the signer the AWS SDKs use for execute-api)."""
    from tools.verify.verifier import handler as verifier

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDVERIFIER")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token")
    headers = verifier._signed("POST", "https://abc123.execute-api.us-east-1.amazonaws.com/prod/v1/chat/completions", b"{}", "us-east-1")
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDVERIFIER/")
    assert "/us-east-1/execute-api/aws4_request" in headers["Authorization"] and headers["X-Amz-Security-Token"] == "token"


def test_sagemaker_physical_ids_are_arns_in_cloudformation():
    """CloudFormation's registry schemas (shipped in cfn-lint) make the ARN the primary identifier of
    AWS::SageMaker::EndpointConfig and AWS::SageMaker::Model, so ListStackResources lists ARNs for them:
    resources._template_resource matches a live name against the ARN's last segment (case-insensitively)."""
    import cfnlint

    data = Path(cfnlint.__file__).parent / "data" / "schemas"
    index = json.loads((data / "providers" / "us-east-1.json").read_text())
    for type_name, arn in (("AWS::SageMaker::EndpointConfig", "EndpointConfigArn"), ("AWS::SageMaker::Model", "ModelArn")):
        schema = json.loads((data / "resources" / f"{index[type_name]}.json").read_text())
        assert schema["primaryIdentifier"] == [f"/properties/{arn}"]
