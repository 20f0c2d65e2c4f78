"""Resources as built: the endpoint, the log groups, the alarm topic, the audit trail.

"Expected" always means what CloudFormation was asked to build: the template it last applied (``GetTemplate``)
for the resource whose physical id the live resource has. The config → template mapping is what the offline
tests cover; these checks close the gap between the template and the account.
"""

from __future__ import annotations

import time
from typing import Any, Iterable, Mapping

from tools.verify.core import FAIL, PASS, SKIP, RegionContext, Result, error_code

KINDS = ("Network", "Guardrail", "Models", "Proxy", "Monitoring", "Audit")


def _template_resource(ctx: RegionContext, kind: str, physical_id: str, resource_type: str) -> Mapping[str, Any]:
    """The template properties of the stack resource whose physical id is ``physical_id`` (a name, or an ARN
    ending with it: the CloudFormation registry schemas make the ARN the primary identifier of
    AWS::SageMaker::EndpointConfig / Model; compared case-insensitively, as SageMaker may lower-case names in ARNs)."""
    def name(value: str) -> str:  # a name, or the last segment of an ARN
        return value.split("/")[-1].lower()

    stack = ctx.stack(kind)
    for r in stack.resources if stack else ():
        if r["ResourceType"] == resource_type and name(r.get("PhysicalResourceId") or "") == name(physical_id):
            return ctx.template(kind).get("Resources", {}).get(r["LogicalResourceId"], {}).get("Properties", {})
    return {}


# ---- endpoint ------------------------------------------------------------------------------------------------


def _endpoint_names(ctx: RegionContext) -> list[tuple[str, str]]:
    """(endpoint name, output description "<model> on <instance type>") from the Models stack's outputs."""
    stack = ctx.stack("Models")
    named = [(v, stack.output_descriptions.get(k, "")) for k, v in sorted(stack.outputs.items()) if k.endswith("EndpointName")]
    # without the outputs: the stack's endpoints themselves (physical id = the endpoint ARN; the model unknown)
    return named or [(arn.split("/")[-1], "") for arn in stack.physical_ids("AWS::SageMaker::Endpoint")]


def _images(ctx: RegionContext, variant: Mapping, endpoint: str) -> tuple[list[str], list[str]]:
    """(live images, model names) of one production variant: its model, or its inference components' models."""
    sm = ctx.client("sagemaker")
    names = [variant["ModelName"]] if variant.get("ModelName") else []
    if not names:
        for ic in sm.list_inference_components(EndpointNameEquals=endpoint).get("InferenceComponents", []):
            spec = sm.describe_inference_component(InferenceComponentName=ic["InferenceComponentName"]).get("Specification", {})
            if spec.get("ModelName"):
                names.append(spec["ModelName"])
    images = []
    for name in names:
        model = sm.describe_model(ModelName=name)
        containers = [model["PrimaryContainer"]] if model.get("PrimaryContainer") else model.get("Containers", [])
        images += [c.get("Image", "") for c in containers]
    return images, names


def check_endpoint(ctx: RegionContext) -> Iterable[Result]:
    """``sagemaker:DescribeEndpoint`` (EndpointStatus InService), ``DescribeEndpointConfig`` (ProductionVariants
    InstanceType, InferenceAmiVersion) and ``DescribeModel`` (PrimaryContainer.Image) against the template."""
    name = "endpoint"
    if not ctx.rc.sagemaker_models:
        yield Result(name, ctx.region, SKIP, "no sagemaker_models in this region (Bedrock only)")
        return
    if ctx.stack("Models") is None:
        yield Result(name, ctx.region, FAIL, "the Models stack is not deployed", evidence={"stack": f"GptOss-Models-{ctx.region}"})
        return
    endpoints = _endpoint_names(ctx)
    if not endpoints:
        yield Result(name, ctx.region, FAIL, "the Models stack has no <Model>EndpointName output")
        return
    sm = ctx.client("sagemaker")
    for endpoint, description in endpoints:
        model = description.split(" on ")[0] if " on " in description else ""
        ep = sm.describe_endpoint(EndpointName=endpoint)
        config = sm.describe_endpoint_config(EndpointConfigName=ep["EndpointConfigName"])
        expected = _template_resource(ctx, "Models", ep["EndpointConfigName"], "AWS::SageMaker::EndpointConfig")
        want_variants = {v.get("VariantName"): v for v in expected.get("ProductionVariants", [])}
        problems, seen = [], []
        if ep["EndpointStatus"] != "InService":
            problems.append(f"status {ep['EndpointStatus']}" + (f" ({ep['FailureReason']})" if ep.get("FailureReason") else ""))
        if not expected:
            problems.append(f"endpoint config {ep['EndpointConfigName']} is not a resource of the Models stack")
        for v in config.get("ProductionVariants", []):
            want = want_variants.get(v["VariantName"], {})
            images, models = _images(ctx, v, endpoint)
            seen.append({"variant": v["VariantName"], "instance_type": v.get("InstanceType"),
                         "inference_ami_version": v.get("InferenceAmiVersion"), "images": images, "models": models})
            if want and v.get("InstanceType") != want.get("InstanceType"):
                problems.append(f"{v['VariantName']}: instance type {v.get('InstanceType')}, template {want.get('InstanceType')}")
            if want and v.get("InferenceAmiVersion") != want.get("InferenceAmiVersion"):
                problems.append(f"{v['VariantName']}: InferenceAmiVersion {v.get('InferenceAmiVersion')}, template {want.get('InferenceAmiVersion')}")
            if not images:
                problems.append(f"{v['VariantName']}: no model image found")
            for m, image in zip(models, images):
                want_image = _template_resource(ctx, "Models", m, "AWS::SageMaker::Model").get("PrimaryContainer", {}).get("Image")
                if not isinstance(want_image, str) and model:  # an intrinsic: the catalog's image for the region
                    from gptoss_constructs import catalog

                    want_image = catalog.hosting(model).image_uri(ctx.region)
                if want_image and image != want_image:
                    problems.append(f"{v['VariantName']}: image {image}, expected {want_image}")
        evidence = {"endpoint": endpoint, "status": ep["EndpointStatus"], "endpoint_config": ep["EndpointConfigName"], "variants": seen}
        if problems:
            yield Result(name, ctx.region, FAIL, "; ".join(problems), subject=model or endpoint, evidence=evidence)
        else:
            v0 = seen[0] if seen else {}
            yield Result(name, ctx.region, PASS, f"{endpoint} InService on {v0.get('instance_type')}, AMI "
                         f"{v0.get('inference_ami_version') or 'default'}, image {', '.join(v0.get('images', []))}",
                         subject=model or endpoint, evidence=evidence)
check_endpoint.check_id = "endpoint"


# ---- log groups ----------------------------------------------------------------------------------------------


def check_log_groups(ctx: RegionContext) -> Iterable[Result]:
    """Every ``AWS::Logs::LogGroup`` of the region's stacks: ``logs:DescribeLogGroups`` shows it with a KMS key
    (``kmsKeyId``) and the template's ``RetentionInDays``; ``kms:DescribeKey`` shows the key Enabled. A log group
    created with a key proves CloudWatch Logs accepted the key policy (LOGS_KEY_ACTIONS)."""
    name = "log-groups"
    logs, kms = ctx.client("logs"), ctx.client("kms")
    found = 0
    for kind in KINDS:
        stack = ctx.stack(kind)
        if stack is None:
            continue
        for group in stack.physical_ids("AWS::Logs::LogGroup"):
            found += 1
            want = _template_resource(ctx, kind, group, "AWS::Logs::LogGroup")
            live = [g for g in logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups", []) if g["logGroupName"] == group]
            if not live:
                yield Result(name, ctx.region, FAIL, "log group does not exist", subject=group, evidence={"stack": stack.name})
                continue
            g = live[0]
            evidence = {"stack": stack.name, "kmsKeyId": g.get("kmsKeyId"), "retentionInDays": g.get("retentionInDays"),
                        "template_retention": want.get("RetentionInDays")}
            problems = []
            if not g.get("kmsKeyId"):
                problems.append("no KMS key")
            else:
                try:
                    evidence["key_state"] = kms.describe_key(KeyId=g["kmsKeyId"])["KeyMetadata"]["KeyState"]
                except Exception as err:  # noqa: BLE001
                    evidence["key_state"] = f"unreadable ({error_code(err)})"
                if evidence["key_state"] != "Enabled":
                    problems.append(f"key {evidence['key_state']}")
            if g.get("retentionInDays") != want.get("RetentionInDays"):
                problems.append(f"retention {g.get('retentionInDays')} days, template {want.get('RetentionInDays')}")
            if problems:
                yield Result(name, ctx.region, FAIL, "; ".join(problems), subject=group, evidence=evidence)
            else:
                yield Result(name, ctx.region, PASS, f"encrypted ({g['kmsKeyId'].split('/')[-1]}), {g['retentionInDays']} days",
                             subject=group, evidence=evidence)
    if not found:
        yield Result(name, ctx.region, FAIL, "no AWS::Logs::LogGroup in any deployed stack of the region (is the region deployed?)")
check_log_groups.check_id = "log-groups"


# ---- alarm topic ---------------------------------------------------------------------------------------------

TEST_ALARM_NAMESPACE = "GptOss/Verify"


def check_alarm_topic(ctx: RegionContext) -> Iterable[Result]:
    """CloudWatch can publish to the alarm topic: a test alarm (``PutMetricAlarm`` with the topic as its only
    action) is forced to ALARM with ``SetAlarmState``; ``DescribeAlarmHistory`` (HistoryItemType Action) then
    says "Successfully executed action <topic>" or "Failed to execute action <topic>. Received error: ..." (a topic
    or key policy that does not let CloudWatch publish: aws/aws-cdk#11121,
    aws-solutions/automated-security-response-on-aws#43). Only the success text passes. The alarm is deleted
    afterwards. Subscribers get one notification."""
    name = "alarm-topic"
    stack = ctx.stack("Monitoring")
    topic = stack.outputs.get("AlarmTopicArn") if stack else None
    if not topic:
        yield Result(name, ctx.region, FAIL, "the Monitoring stack or its AlarmTopicArn output is missing")
        return
    cw = ctx.client("cloudwatch")
    alarm = f"GptOssVerify-{ctx.region}-{int(time.time())}"
    cw.put_metric_alarm(
        AlarmName=alarm, AlarmDescription="gpt-oss-platform make verify: test of the alarm topic; deleted by the check, ignore",
        Namespace=TEST_ALARM_NAMESPACE, MetricName="VerifyProbe", Statistic="Sum", Period=60, EvaluationPeriods=1,
        Threshold=1.0, ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching",
        AlarmActions=[topic], ActionsEnabled=True,
    )
    try:
        cw.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="make verify: does the alarm topic accept CloudWatch's publish?")
        waited, items = 0.0, []
        while True:
            items = [i for i in cw.describe_alarm_history(AlarmName=alarm, HistoryItemType="Action").get("AlarmHistoryItems", [])
                     if topic in i.get("HistorySummary", "") + i.get("HistoryData", "")]
            if items or waited >= ctx.wait_seconds:
                break
            ctx.sleep(ctx.poll_seconds)
            waited += ctx.poll_seconds
    finally:
        cw.delete_alarms(AlarmNames=[alarm])
    evidence = {"topic": topic, "test_alarm": alarm, "history": [i.get("HistorySummary") for i in items]}
    if not items:
        yield Result(name, ctx.region, FAIL, f"no action in the test alarm's history after {ctx.wait_seconds:.0f} s", evidence=evidence)
    elif any(i.get("HistorySummary", "").startswith("Successfully executed action") for i in items):
        yield Result(name, ctx.region, PASS, "CloudWatch published the test alarm to the topic", evidence=evidence)
    else:
        yield Result(name, ctx.region, FAIL, f"CloudWatch could not publish: {items[0].get('HistorySummary')}",
                     evidence={**evidence, "data": [i.get("HistoryData", "")[:500] for i in items]})
check_alarm_topic.check_id = "alarm-topic"


# ---- audit trail ---------------------------------------------------------------------------------------------


def check_cloudtrail(ctx: RegionContext) -> Iterable[Result]:
    """``cloudtrail:GetTrailStatus`` of the Audit stack's trail: IsLogging, and no LatestDeliveryError."""
    name = "cloudtrail"
    if not ctx.config.audit_trail:
        yield Result(name, ctx.region, SKIP, "audit_trail is off")
        return
    stack = ctx.stack("Audit")
    trails = stack.physical_ids("AWS::CloudTrail::Trail") if stack else []
    if not trails:
        yield Result(name, ctx.region, FAIL, "audit_trail is on but the Audit stack or its trail is missing")
        return
    for trail in trails:
        status = ctx.client("cloudtrail").get_trail_status(Name=trail)
        evidence = {k: str(status.get(k)) for k in ("IsLogging", "LatestDeliveryTime", "LatestDeliveryError", "StartLoggingTime") if k in status}
        if status.get("IsLogging") and not status.get("LatestDeliveryError"):
            yield Result(name, ctx.region, PASS, "logging", subject=trail, evidence=evidence)
        else:
            why = "not logging" if not status.get("IsLogging") else f"delivery error {status.get('LatestDeliveryError')}"
            yield Result(name, ctx.region, FAIL, why, subject=trail, evidence=evidence)
check_cloudtrail.check_id = "cloudtrail"
