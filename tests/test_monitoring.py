"""PlatformMonitoring: dashboard widgets on our resources' metrics, every alarm with its threshold and action,
an encrypted topic; and the cost estimate's arithmetic."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Duration, Environment, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from gptoss_constructs import cost
from gptoss_constructs.bedrock_model import BedrockFoundationModel
from gptoss_constructs.endpoint import GptOssEndpoint
from gptoss_constructs.guardrail import ModelGuardrail
from gptoss_constructs.invoke_proxy import InvokeProxy, ProxyRoute
from gptoss_constructs.monitoring import PlatformMonitoring
from gptoss_constructs.network import PrivateNetwork
from tests.conftest import make_app


@pytest.fixture(scope="module")
def built():
    stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
    net = PrivateNetwork(stack, "Net", flow_logs=False)
    ep = GptOssEndpoint(stack, "Ep", model="gpt-oss-20b", vpc=net.vpc)
    guardrail = ModelGuardrail(stack, "Guardrail")
    proxy = InvokeProxy(stack, "Proxy", vpc=net.vpc, service_endpoints=net, guardrail=guardrail, code=lambda_.Code.from_inline("x=1"),
                        routes=[ProxyRoute.sagemaker("gpt-oss-20b", ep), ProxyRoute.bedrock("gpt-oss-120b", BedrockFoundationModel("gpt-oss-120b"))])
    proxy.add_private_api(vpc_endpoint=net.interface_endpoints["execute-api"])
    mon = PlatformMonitoring(stack, "Mon", endpoints=[ep], proxy=proxy, guardrail=guardrail, alarm_emails=["oncall@example.com"], endpoint_latency_p99=Duration.seconds(30))
    return stack, ep, proxy, mon, Template.from_stack(stack)


def _dashboard(stack: Stack, t: Template) -> str:
    (dash,) = t.find_resources("AWS::CloudWatch::Dashboard").values()
    return json.dumps(stack.resolve(dash["Properties"]["DashboardBody"]))


def test_dashboard_widgets_reference_our_resources(built):
    stack, ep, proxy, mon, t = built
    body = _dashboard(stack, t)
    for needle in (
        "ModelLatency", "Invocation5XXErrors", "ConcurrentRequestsPerModel", "GPUUtilization", "GPUMemoryUtilization", ep.endpoint_name,
        "InvocationsIntervened", "AWS/Bedrock/Guardrails", "GptOssPlatform", "CompletionTokens", "ReasoningTokens", "Consumer",
        "AWS/ApiGateway", "5XXError", "Throttles", "Duration", "p99", "ColdStart", "GuardrailPolicyType", "{GptOssPlatform,Status}",
    ):
        assert needle in body, needle
    assert stack.resolve(proxy.function.function_name)["Ref"] in body


def test_every_alarm_has_its_metric_threshold_and_topic_actions(built):
    stack, ep, proxy, mon, t = built
    topic = {"Ref": stack.resolve(mon.topic.node.default_child.logical_id)}
    alarms = {a["Properties"]["AlarmDescription"]: a["Properties"] for a in t.find_resources("AWS::CloudWatch::Alarm").values() if a["Properties"].get("AlarmActions") == [topic]}
    expected = {
        f"{ep.endpoint_name}: model errors (5xx)": ("Invocation5XXErrors", 5),
        f"{ep.endpoint_name}: model latency p99 above 30 s": ("ModelLatency", 30_000_000),
        f"{ep.endpoint_name}: saturated at its maximum capacity": ("ConcurrentRequestsPerModel", 16),
        "invoke proxy: function errors": ("Errors", 5),
        "invoke proxy: throttled invocations": ("Throttles", 1),
        "private API: 5xx responses": ("5XXError", 5),
        "guardrail: ApplyGuardrail server errors (all guardrails of the region)": ("InvocationServerErrors", 1),
        "alarm topic: notifications that could not be e-mailed (dead-letter queue not empty)": ("ApproximateNumberOfMessagesVisible", 1),
        "security: the proxy refused requests (403)": ("Requests", 10),
        "security: private API 4xx responses (IAM and resource-policy denials are 403s)": ("4XXError", 50),
        "security: guardrail interventions spiked (all guardrails of the region)": ("InvocationsIntervened", 50),
    }
    assert {d: (p["MetricName"], p["Threshold"]) for d, p in alarms.items()} == expected
    for p in alarms.values():
        assert p["OKActions"] == [topic] and p["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and p["TreatMissingData"] == "notBreaching"


def test_guardrail_alarm_uses_a_published_dimension_set(built):
    """Bedrock user guide, "Monitor Amazon Bedrock Guardrails using CloudWatch metrics"
    (https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring-guardrails-cw-metrics.html): the dimension
    ``Operation`` = ``ApplyGuardrail`` is published for InvocationServerErrors. An alarm on an unpublished
    combination (the old GuardrailArn + GuardrailVersion + Operation) would stay OK forever."""
    _, _, _, _, t = built
    (alarm,) = [a["Properties"] for a in t.find_resources("AWS::CloudWatch::Alarm").values() if a["Properties"]["MetricName"] == "InvocationServerErrors"]
    assert (alarm["Namespace"], alarm["Dimensions"]) == ("AWS/Bedrock/Guardrails", [{"Name": "Operation", "Value": "ApplyGuardrail"}])


def test_cloudwatch_key_grant_has_confused_deputy_conditions_and_explicit_actions(built):
    """SNS developer guide, "Key management" (awsdocs/amazon-sns-developer-guide doc_source/sns-key-management.md):
    "Enable compatibility between event sources from AWS services and encrypted topics" asks for a key-policy
    statement for the service principal, and "Allow a user to send messages to a topic with SSE" names what a
    publisher uses: "The publisher must have the kms:GenerateDataKey and kms:Decrypt permissions" (the
    compatibility example writes GenerateDataKey*, whose other members, GenerateDataKeyWithoutPlaintext and the
    key-pair forms, a publish never calls). aws:SourceAccount and
    aws:SourceArn (this account's alarms in this region) keep another account's alarms from using it
    (the same conditions as aws/modern-data-architecture-accelerator ``grantCloudWatchAlarmsTopicAccess``)."""
    stack, _, _, mon, t = built
    (key,) = [k for k in t.find_resources("AWS::KMS::Key").values() if any(s.get("Sid") == "AllowCloudWatchAlarmsToPublish" for s in k["Properties"]["KeyPolicy"]["Statement"])]
    (statement,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "AllowCloudWatchAlarmsToPublish"]
    assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {"aws:SourceArn": {"Fn::Join": ["", ["arn:aws:cloudwatch:us-east-1:", {"Ref": "AWS::AccountId"}, ":alarm:*"]]}},
    }


def test_topic_is_encrypted_ssl_only_and_subscribed(built):
    stack, _, _, mon, t = built
    key = stack.resolve(mon.encryption_key.node.default_child.logical_id)
    t.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [key, "Arn"]}})
    t.has_resource_properties("AWS::SNS::TopicPolicy", {"PolicyDocument": {"Statement": Match.array_with([Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])}})
    t.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "oncall@example.com"})
    t.has_resource_properties("AWS::KMS::Key", {"KeyPolicy": {"Statement": Match.array_with([Match.object_like({"Sid": "AllowCloudWatchAlarmsToPublish", "Principal": {"Service": "cloudwatch.amazonaws.com"}})])}})


@pytest.mark.parametrize(("props", "message"), [({"alarm_emails": ["oncall"]}, "alarm_emails must be e-mail addresses, got 'oncall'"), ({"proxy_error_threshold": 0}, "proxy_error_threshold must be between 1 and 100000, got 0")])
def test_fails_on_bad_props(props, message):
    with pytest.raises(ValueError) as err:
        PlatformMonitoring(Stack(make_app(), "T"), "Mon", **props)
    assert message in str(err.value)


def test_cost_arithmetic_and_scale_to_zero_idle_cost():
    rows = cost.estimate([("gpt-oss-20b", "ml.g6e.xlarge", 1, 3), ("gpt-oss-120b", "ml.p5.48xlarge", 0, 1), ("gpt-oss-20b", "ml.x99.large", 1, 1)])
    g6e, p5, unknown = rows
    assert g6e.monthly(1) == round(g6e.usd_per_hour * 730, 2) and g6e.monthly(3) == round(3 * g6e.usd_per_hour * 730, 2)
    assert p5.monthly(0) == 0.0  # scale-to-zero idles at no instance cost
    assert unknown.usd_per_hour is None and unknown.monthly(1) is None
    est = cost.region_estimate("us-east-1", endpoints=rows, assumptions=cost.CostAssumptions(requests_per_month=0))
    assert est.unpriced == ["SageMaker gpt-oss-20b on ml.x99.large"]
    assert est.monthly_low == round(g6e.monthly(1), 2) and est.monthly_high == round(g6e.monthly(3) + p5.monthly(1), 2)


def test_cost_includes_the_fixed_costs_of_a_small_deployment():
    """Issue 13 item 19: ten interface endpoints in two AZs at ~USD 0.01 per endpoint-AZ-hour is ~USD 146 a
    month; KMS keys, alarms and dashboards are monthly per resource (prices unverified, sources in cost.PRICES)."""
    est = cost.region_estimate("us-east-1", interface_endpoints=10, availability_zones=2, kms_keys=5, alarms=7, dashboards=1,
                               rest_api=False, assumptions=cost.CostAssumptions(requests_per_month=0))
    by_item = {line.item: line.monthly_low for line in est.lines}
    assert by_item["VPC interface endpoints"] == 146.0
    assert by_item["KMS customer-managed keys"] == 5.0 and by_item["CloudWatch alarms"] == 0.7 and by_item["CloudWatch dashboards"] == 3.0
    assert est.monthly_low == est.monthly_high == 154.7


def test_cost_per_request_terms_follow_the_assumptions():
    a = cost.CostAssumptions(requests_per_month=1_000_000, prompt_tokens=1000, answer_tokens=500, seconds_per_request=20)
    est = cost.region_estimate("us-west-2", bedrock_models=["gpt-oss-120b"], routes=2, lambda_memory_mb=1024,
                               guardrail_policies=["content", "pii"], assumptions=a)
    by_item = {line.item: line.monthly_low for line in est.lines}
    assert by_item["Lambda (invoke proxy)"] == round(20_000_000 * 0.0000133334 + 0.20, 2)   # 1 GB x 20 s x 1 M, Arm
    assert by_item["API Gateway (private REST API)"] == 3.5
    # 4,000 prompt characters = 4 units; 2,000 answer characters streamed as two 1,000-character fields (reasoning,
    # text) with the 48-character first batch = 2 + 2 units (cost.guardrail_units_per_response): 8 units per
    # request; content filters + PII = USD 0.25 per 1,000 units
    assert by_item["Bedrock Guardrails (input + output)"] == 2000.0
    # half the requests (two routes) on gpt-oss-120b: 500,000 x (1,000 x 0.15 + 500 x 0.60) / 1 M
    assert by_item["Bedrock gpt-oss-120b tokens"] == 225.0
    text = est.render()
    assert "`cost_requests_per_month`" in text and "unverified" in text and f"**${est.monthly_high:,.2f}**" in text


def test_cost_assumptions_come_from_context_keys():
    from stacks.config import ConfigError, load_cost_assumptions

    a = load_cost_assumptions({"cost_requests_per_month": "5000", "cost_answer_tokens": 2000}.get)
    assert (a.requests_per_month, a.prompt_tokens, a.answer_tokens, a.seconds_per_request) == (5000, 1000, 2000, 20)
    with pytest.raises(ConfigError, match="context key 'cost_prompt_tokens': -1 is out of range; allowed: 0 to 131072"):
        load_cost_assumptions({"cost_prompt_tokens": -1}.get)


def test_app_writes_a_cost_file_per_region(platform_app):
    east = (platform_app.outdir / "cost-us-east-1.md").read_text()
    west = (platform_app.outdir / "cost-us-west-2.md").read_text()
    assert "| SageMaker gpt-oss-20b on ml.g6e.xlarge |" in east and "unverified" in east.lower()
    for text in (east, west):
        assert "| VPC interface endpoints |" in text and "| KMS customer-managed keys |" in text and "| CloudWatch alarms |" in text
    assert "| Bedrock gpt-oss-120b tokens |" in west and "SageMaker" not in west.split("| --- |")[-1]
    line = [l for l in platform_app.stderr.splitlines() if l.startswith("cost estimate us-east-1:")][0]
    assert "per month at min/max capacity and 100,000 requests" in line


def test_topic_policy_lets_this_accounts_alarms_publish(built):
    """``enforce_ssl`` writes an AWS::SNS::TopicPolicy, and a topic policy replaces the topic's default policy, so
    CloudWatch needs its own Allow or every alarm action fails with "is not authorized to perform: SNS:Publish ...
    because no resource-based policy allows" (aws-solutions/automated-security-response-on-aws#43). The statement
    follows the SNS developer guide, "Example cases for Amazon SNS access control" ("Allow any CloudWatch alarm to
    publish to a topic": ArnLike aws:SourceArn ``arn:aws:cloudwatch:<region>:<account>:alarm:*``) with the service
    principal and aws:SourceAccount ("Allow any AWS resource to publish to a topic") against the confused deputy."""
    stack, _, _, mon, t = built
    (policy,) = t.find_resources("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and allow["Action"] == "sns:Publish"
    assert allow["Resource"] == {"Ref": stack.resolve(mon.topic.node.default_child.logical_id)}
    assert allow["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {"aws:SourceArn": {"Fn::Join": ["", ["arn:aws:cloudwatch:us-east-1:", {"Ref": "AWS::AccountId"}, ":alarm:*"]]}},
    }
    # the TLS deny stays, and the topic's alarms are the ones this statement lets in
    assert any(s["Effect"] == "Deny" for s in statements)
    ours = [a["Properties"] for a in t.find_resources("AWS::CloudWatch::Alarm").values() if "AlarmActions" in a["Properties"]]
    assert len(ours) == len(mon.alarms) and all(a["AlarmActions"] == [allow["Resource"]] for a in ours)


def test_email_subscriptions_have_an_encrypted_dead_letter_queue(built):
    """SNS developer guide, "Amazon SNS dead-letter queues (DLQs)" (doc_source/sns-dead-letter-queues.md): SMTP
    endpoints are retried 50 times over 6 hours and the message is then discarded unless the subscription has a
    DLQ (a RedrivePolicy with deadLetterTargetArn, same account and Region); an encrypted DLQ needs a customer
    managed key whose policy lets the SNS service principal use it; the guide recommends 14 days of retention.
    The key statement uses what the SQS developer guide names for service event sources ("Configure KMS
    permissions for AWS services": kms:GenerateDataKey and kms:Decrypt) and the aws:SourceArn = topic condition
    aws-cdk-lib adds for SQS subscriptions (aws/aws-cdk#20339); the queue policy is the SNS guide's "Publish
    messages to an Amazon SQS queue" statement (sqs:SendMessage, ArnEquals aws:SourceArn = the topic)."""
    stack, _, _, mon, t = built
    queue = mon.dead_letter_queue
    queue_id = stack.resolve(queue.node.default_child.logical_id)
    topic = {"Ref": stack.resolve(mon.topic.node.default_child.logical_id)}
    (sub,) = t.find_resources("AWS::SNS::Subscription").values()
    assert sub["Properties"]["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    props = t.find_resources("AWS::SQS::Queue")[queue_id]["Properties"]
    key_id = stack.resolve(queue.encryption_master_key.node.default_child.logical_id)
    assert props["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]} and props["MessageRetentionPeriod"] == 14 * 86400
    key_statements = t.find_resources("AWS::KMS::Key")[key_id]["Properties"]["KeyPolicy"]["Statement"]
    (sns_use,) = [s for s in key_statements if s.get("Principal") == {"Service": "sns.amazonaws.com"}]
    assert sorted(sns_use["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"] and sns_use["Condition"] == {"ArnEquals": {"aws:SourceArn": topic}}
    (qp,) = [p["Properties"] for p in t.find_resources("AWS::SQS::QueuePolicy").values() if p["Properties"]["Queues"] == [{"Ref": queue_id}]]
    statements = qp["PolicyDocument"]["Statement"]
    assert {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": {"Fn::GetAtt": [queue_id, "Arn"]}, "Condition": {"ArnEquals": {"aws:SourceArn": topic}}} in statements
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements)


def test_no_dead_letter_queue_without_email_subscriptions():
    stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
    mon = PlatformMonitoring(stack, "Mon")
    assert mon.dead_letter_queue is None
    Template.from_stack(stack).resource_count_is("AWS::SQS::Queue", 0)


def test_alarm_emails_leave_no_open_nag_finding_in_any_pack(tmp_path):
    """Issue 21 item 6: ``-c alarm_emails=...`` failed the gate with Serverless-SNSRedrivePolicy on the e-mail
    subscription. With the dead-letter queue every pack is clean; the queue's own two findings (a DLQ without a
    DLQ) are acknowledged on the queue with a reason."""
    from aws_cdk import App

    from stacks.compliance import attach_compliance
    from tests.conftest import project_context

    app = App(context=project_context(), outdir=str(tmp_path))
    attach_compliance(app)
    stack = Stack(app, "Mon", env=Environment(region="us-east-1"))
    PlatformMonitoring(stack, "Mon", alarm_emails=["oncall@example.com", "ops@example.com"])
    app.synth()  # raises ValidationFailed on any unacknowledged error
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert [(p["pluginName"], v["ruleName"]) for p in report["pluginReports"] for v in p["violations"]] == []
    assert {p["pluginName"] for p in report["pluginReports"]} >= {"AwsSolutions", "Serverless"}  # the packs that acknowledged the queue


def test_app_names_each_dashboard_after_its_stack(platform_app):
    """The operator may read dashboards named ``GptOss-*`` only (PlatformRoles; CloudWatch in the Service
    Authorization Reference: GetDashboard acts on ``dashboard/${DashboardName}``), so the app names them so."""
    for region in ("us-east-1", "us-west-2"):
        stack = f"GptOss-Monitoring-{region}"
        (dash,) = [r for r in platform_app.template(stack)["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
        assert dash["Properties"]["DashboardName"] == stack


def test_security_alarms_read_published_metrics(built):
    """Issue 22 (Low): security alarms on the alarm topic. Guardrail interventions use the published
    ``Operation=ApplyGuardrail`` set of InvocationsIntervened (Bedrock user guide, "Monitor Amazon Bedrock Guardrails
    using CloudWatch metrics"); the proxy's 403s its embedded-metric ``Requests`` by ``Status`` (the format
    lambda/invoke_proxy/gptoss_proxy/wiring.py declares: Dimensions [["Status"]]); the private API's 4XXError from
    aws-cdk-lib's ``RestApi.metric_client_error``."""
    _, _, _, mon, t = built
    alarms = {a["Properties"]["AlarmDescription"]: a["Properties"] for a in t.find_resources("AWS::CloudWatch::Alarm").values() if "AlarmDescription" in a["Properties"]}
    blocks = alarms["security: guardrail interventions spiked (all guardrails of the region)"]
    assert (blocks["Namespace"], blocks["Dimensions"]) == ("AWS/Bedrock/Guardrails", [{"Name": "Operation", "Value": "ApplyGuardrail"}])
    forbidden = alarms["security: the proxy refused requests (403)"]
    assert (forbidden["Namespace"], forbidden["Dimensions"], forbidden["Statistic"]) == ("GptOssPlatform", [{"Name": "Status", "Value": "403"}], "Sum")
    from pathlib import Path

    wiring = (Path(__file__).resolve().parent.parent / "lambda/invoke_proxy/gptoss_proxy/wiring.py").read_text()
    assert '"Dimensions": [["Status"]]' in wiring and '"Status": str(record.get("status"' in wiring
    assert alarms["security: private API 4xx responses (IAM and resource-policy denials are 403s)"]["Namespace"] == "AWS/ApiGateway"
