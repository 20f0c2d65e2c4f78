"""AuditTrail: who called the models, the guardrail and the proxy — a CloudTrail trail with data events."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Acknowledgment, Duration, Names, RemovalPolicy, Stack, Validations
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from gptoss_constructs._compliance import acknowledge_in_packs, skip_scanner_checks
from gptoss_constructs._defaults import allow_cloudwatch_logs, nag_resource
from gptoss_constructs._validation import require_range

#: CloudTrail data-event resource types (advanced event selector field ``resources.type``) and what they record
DATA_EVENT_TYPES: dict[str, str] = {
    "AWS::SageMaker::Endpoint": "SageMaker InvokeEndpoint / InvokeEndpointWithResponseStream",
    "AWS::Bedrock::Model": "Bedrock InvokeModel / InvokeModelWithResponseStream / Converse on foundation models",
    "AWS::Bedrock::Guardrail": "Bedrock ApplyGuardrail",
    "AWS::Lambda::Function": "Lambda Invoke of the proxy function",
}
#: six years: HIPAA §164.316(b)(2)(i) retention of required documentation
DEFAULT_RETENTION = logs.RetentionDays.SIX_YEARS

#: the encrypt section of the CloudTrail user guide's key policy ("Granting encrypt permissions"), as written there
KEY_ACTIONS_FOR_CLOUDTRAIL = ("kms:GenerateDataKey*",)
#: S3 Object Lock retention modes (S3 user guide, "Locking objects with Object Lock")
OBJECT_LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")
#: CloudTrail configuration changes: the CIS AWS Foundations Benchmark 3.5 / 4.5 filter pattern (the metric filter
#: Security Hub CSPM's CloudWatch controls look for) on the trail's CloudWatch Logs copy
TRAIL_CHANGES_PATTERN = (
    "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || "
    "($.eventName = StartLogging) || ($.eventName = StopLogging) }"
)
#: namespace of the audit metric filters
AUDIT_NAMESPACE = "GptOssPlatform/Audit"


class AuditTrail(Construct):
    """A single-region CloudTrail trail for the platform's data plane: management events plus data events for
    SageMaker endpoint invocations, Bedrock model invocations and ApplyGuardrail, and Lambda invocations of the
    given functions. Log files go to an S3 bucket and a CloudWatch Logs group, both encrypted with one
    customer-managed KMS key (rotation on); log-file integrity validation is on.

    Off by default in the app (context key ``audit_trail``). If your organization already runs an organization
    trail, add the same advanced event selectors (``self.event_selectors``) to it instead (README: Compliance).

    Example::

        AuditTrail(self, "Audit", functions=[proxy.function])
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        functions: Sequence[lambda_.IFunction] = (),
        retention: logs.RetentionDays = DEFAULT_RETENTION,
        object_lock_mode: str | None = "GOVERNANCE",
        object_lock_days: int = 2192,
        include_global_service_events: bool = True,
        alarm_topic: sns.ITopic | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param functions: Lambda functions whose invocations are recorded.
            Default: - every function of the account and region (``AWS::Lambda::Function`` without an ARN filter).
        :param retention: how long the CloudWatch Logs copy is kept.
            Default: - six years (2192 days, HIPAA §164.316(b)(2)(i)); the S3 copy is kept until you delete it.
        :param object_lock_mode: S3 Object Lock default retention of the trail bucket (write once, read many):
            ``GOVERNANCE`` (principals with s3:BypassGovernanceRetention may still delete), ``COMPLIANCE`` (nobody,
            the root user included, until the period ends) or None (no Object Lock). Once on, Object Lock stays on
            for the bucket. Default: - GOVERNANCE.
        :param object_lock_days: the default retention period of each log file, in days (1 to 36500).
            Default: - 2192 (six years).
        :param include_global_service_events: record IAM, STS and CloudFront events; CloudTrail records them in
            us-east-1 only, so a single-region trail elsewhere receives none (use an organization or multi-region
            trail for those). Default: - true.
        :param alarm_topic: where the "trail changed" alarm (CreateTrail, UpdateTrail, DeleteTrail, StartLogging,
            StopLogging in the trail's log group) notifies. Default: - the metric filter only, no alarm.
        :param removal_policy: for the key, bucket and log group. Default: - RETAIN.
        """
        super().__init__(scope, id)
        if object_lock_mode is not None and object_lock_mode not in OBJECT_LOCK_MODES:
            raise ValueError(f"object_lock_mode must be one of {', '.join(OBJECT_LOCK_MODES)} or None, got {object_lock_mode!r}")
        require_range("object_lock_days", object_lock_days, 1, 36500)
        stack = Stack.of(self)
        self.trail_name = Names.unique_resource_name(self, max_length=128, separator="-")
        trail_arn = f"arn:{stack.partition}:cloudtrail:{stack.region}:{stack.account}:trail/{self.trail_name}"
        source = {"StringEquals": {"aws:SourceArn": trail_arn}}

        self.encryption_key = kms.Key(
            self, "Key", description="gpt-oss-platform: audit trail log files", enable_key_rotation=True, removal_policy=removal_policy
        )
        # CloudTrail user guide, "Configure AWS KMS key policies for CloudTrail": three separate sections, each with
        # aws:SourceArn of this trail. DescribeKey requests carry no encryption context, so describe has its own
        # statement (under the encrypt statement's kms:EncryptionContext condition it never applied and CreateTrail
        # failed); kms:Decrypt is needed "to create or update a trail with SSE-KMS encryption enabled" when the bucket
        # uses an S3 Bucket Key, which ours does.
        for sid, actions, conditions in (
            (
                "CloudTrailEncryptsThisTrailsLogs",
                KEY_ACTIONS_FOR_CLOUDTRAIL,
                {**source, "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:{stack.partition}:cloudtrail:*:{stack.account}:trail/*"}},
            ),
            ("CloudTrailDescribesTheKey", ("kms:DescribeKey",), source),
            ("CloudTrailDecryptsForTheBucketKey", ("kms:Decrypt",), source),
        ):
            self.encryption_key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                    actions=list(actions),
                    resources=["*"],
                    conditions=conditions,
                )
            )
        allow_cloudwatch_logs(self.encryption_key, sid="CloudWatchLogsEncryptsTheTrailLogGroup")

        # SSE-KMS works for server-access-log targets once the key lets the logging service use it
        # (aws/aws-cdk PR #25350, "KMS encryption works fine for server access logging target buckets")
        self.access_log_bucket = self._private_bucket("AccessLogs", removal_policy)
        lock = None
        if object_lock_mode is not None:
            days = Duration.days(object_lock_days)
            lock = s3.ObjectLockRetention.governance(days) if object_lock_mode == "GOVERNANCE" else s3.ObjectLockRetention.compliance(days)
        self.bucket = self._private_bucket("Bucket", removal_policy, object_lock=lock)
        self._server_access_logging(stack)
        # named outside every pattern the platform's operator may read (PlatformRoles: <prefix>-*, /aws/sagemaker/...,
        # API-Gateway-Execution-Logs_*): the operator never reads the audit record
        self.log_group = logs.LogGroup(
            self, "LogGroup", log_group_name=f"/aws/cloudtrail/{self.trail_name}", encryption_key=self.encryption_key,
            retention=retention, removal_policy=removal_policy,
        )

        logs_role = iam.Role(
            self,
            "LogsRole",
            assumed_by=iam.ServicePrincipal("cloudtrail.amazonaws.com", conditions=source),
            description="CloudTrail delivers this trail's events to its CloudWatch Logs group",
        )
        logs_policy = iam.ManagedPolicy(
            self,
            "LogsPolicy",
            roles=[logs_role],
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[f"{self.log_group.log_group_arn}"],
                )
            ],
        )

        self.trail = cloudtrail.Trail(
            self,
            "Resource",
            trail_name=self.trail_name,
            bucket=self.bucket,
            encryption_key=self.encryption_key,
            enable_file_validation=True,
            is_multi_region_trail=False,
            include_global_service_events=include_global_service_events,
            management_events=cloudtrail.ReadWriteType.ALL,
        )
        # aws-cdk-lib lets cloudtrail.amazonaws.com write AWSLogs/<account>/*; only this trail may (confused deputy)
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OnlyThisTrailWrites",
                effect=iam.Effect.DENY,
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects("*")],
                conditions={"StringNotEquals": {"aws:SourceArn": trail_arn}},
            )
        )
        self.event_selectors = self._event_selectors(functions)
        cfn: cloudtrail.CfnTrail = self.trail.node.default_child
        cfn.add_property_deletion_override("EventSelectors")
        cfn.add_property_override("AdvancedEventSelectors", self.event_selectors)
        cfn.cloud_watch_logs_log_group_arn = self.log_group.log_group_arn
        cfn.cloud_watch_logs_role_arn = logs_role.role_arn
        # CreateTrail checks that the role may deliver to the log group: the policy must exist first
        cfn.node.add_dependency(logs_policy)
        self.trail_arn = trail_arn
        self.trail_changes = logs.MetricFilter(
            self,
            "TrailChanges",
            log_group=self.log_group,
            filter_pattern=logs.FilterPattern.literal(TRAIL_CHANGES_PATTERN),
            metric_namespace=AUDIT_NAMESPACE,
            metric_name="TrailChanges",
            metric_value="1",
        )
        self.alarm: cw.Alarm | None = None
        if alarm_topic is not None:
            self.alarm = cw.Alarm(
                self,
                "TrailChangesAlarm",
                metric=self.trail_changes.metric(statistic="Sum", period=Duration.minutes(5)),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                alarm_description="audit trail: CloudTrail configuration changed (CreateTrail, UpdateTrail, DeleteTrail, StartLogging or StopLogging)",
            )
            self.alarm.add_alarm_action(cw_actions.SnsAction(alarm_topic))
        self._acknowledge(object_lock_mode, object_lock_days)

    def grant_read(self, grantee: iam.IGrantable) -> iam.ManagedPolicy:
        """Lets ``grantee`` (an auditor role) read this trail and nothing more of it: its configuration and status,
        its CloudWatch Logs copy, its log files in S3 (decrypting them only through S3, ``kms:ViaService``), and
        the key's metadata. The policy is created here, next to the trail, so the grantee's stack does not depend
        on the audit stack. ``cloudtrail:DescribeTrails`` and ``LookupEvents`` have no resource-level permission."""
        stack = Stack.of(self)
        existing = self.node.try_find_child("ReadPolicy")
        if isinstance(existing, iam.ManagedPolicy):
            existing.attach_to_role(grantee.grant_principal)  # type: ignore[arg-type]
            return existing
        policy = iam.ManagedPolicy(
            self,
            "ReadPolicy",
            description="gpt-oss platform auditor: read the audit trail (configuration, log files, CloudWatch Logs copy)",
            roles=[grantee.grant_principal],  # type: ignore[list-item]
            statements=[
                iam.PolicyStatement(sid="TrailConfiguration", actions=["cloudtrail:GetTrail", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors"], resources=[self.trail_arn]),
                iam.PolicyStatement(sid="ListTrails", actions=["cloudtrail:DescribeTrails"], resources=["*"]),
                iam.PolicyStatement(
                    sid="TrailLogGroup",
                    actions=["logs:DescribeLogStreams", "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:GetQueryResults"],
                    resources=[self.log_group.log_group_arn],
                ),
                iam.PolicyStatement(sid="TrailBucket", actions=["s3:ListBucket", "s3:GetBucketObjectLockConfiguration"], resources=[self.bucket.bucket_arn]),
                iam.PolicyStatement(sid="TrailLogFiles", actions=["s3:GetObject", "s3:GetObjectRetention"], resources=[self.bucket.arn_for_objects("*")]),
                iam.PolicyStatement(
                    sid="DecryptLogFilesThroughS3",
                    actions=["kms:Decrypt"],
                    resources=[self.encryption_key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
                ),
                iam.PolicyStatement(sid="TrailKeyMetadata", actions=["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus"], resources=[self.encryption_key.key_arn]),
            ],
        )
        Validations.of(policy).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[{nag_resource(self, self.bucket.arn_for_objects('*'))}]",
                reason="the auditor reads every log file and digest of this trail's bucket, which holds nothing else (CloudTrail writes AWSLogs/<account>/...)",
            )
        )
        Validations.of(policy).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="cloudtrail:DescribeTrails has no resource-level permission (Service Authorization Reference); it lists trail configurations, no events",
            )
        )
        return policy

    def _private_bucket(self, id: str, removal_policy: RemovalPolicy, object_lock: s3.ObjectLockRetention | None = None) -> s3.Bucket:
        """A bucket encrypted with the trail's key (bucket keys on), private, TLS-only, versioned, owner-enforced."""
        return s3.Bucket(
            self,
            id,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.encryption_key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            object_lock_enabled=object_lock is not None or None,
            object_lock_default_retention=object_lock,
            removal_policy=removal_policy,
        )

    def _server_access_logging(self, stack: Stack) -> None:
        """Server access logs of the trail bucket go to the access-log bucket, SSE-KMS with the same key (aws/aws-cdk
        PR #25350: KMS works for log targets once the logging service may use the key). Written by hand rather than
        with ``server_access_logs_bucket``, which would add an unconditioned ``kms:*Encrypt*``-style statement for
        the logging service to our key policy; here it gets two explicit actions and ``aws:SourceAccount``
        (a condition on the bucket ARN would make key and bucket depend on each other)."""
        prefix = "trail-bucket/"
        cfn_bucket: s3.CfnBucket = self.bucket.node.default_child
        cfn_bucket.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
            destination_bucket_name=self.access_log_bucket.bucket_name, log_file_prefix=prefix
        )
        logging = iam.ServicePrincipal("logging.s3.amazonaws.com")
        self.access_log_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="S3ServerAccessLogsOfTheTrailBucket",
                principals=[logging],
                actions=["s3:PutObject"],
                resources=[self.access_log_bucket.arn_for_objects(f"{prefix}*")],
                conditions={"ArnLike": {"aws:SourceArn": self.bucket.bucket_arn}, "StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
        # UNCONFIRMED(manual:access-log-delivery) offline: that S3 log delivery needs no KMS action beyond these two (preflight: access-log
        # objects appear under trail-bucket/ after deploy)
        self.encryption_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="S3LogDeliveryEncryptsAccessLogs",
                principals=[logging],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )

    def _event_selectors(self, functions: Sequence[lambda_.IFunction]) -> list[dict]:
        selectors = [{"Name": "Management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]
        for resource_type, what in DATA_EVENT_TYPES.items():
            fields = [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": [resource_type]}]
            if resource_type == "AWS::Lambda::Function" and functions:
                fields.append({"Field": "resources.ARN", "Equals": [f.function_arn for f in functions]})
            selectors.append({"Name": what, "FieldSelectors": fields})
        return selectors

    def _acknowledge(self, object_lock_mode: str | None, object_lock_days: int) -> None:
        skip_scanner_checks(
            self.access_log_bucket.node.default_child,
            checkov={
                "CKV_AWS_18": "this bucket is the server-access-log target of the trail bucket; logging its own access "
                "would need another bucket without end; it is SSE-KMS, versioned, SSL-only and private",
            },
        )
        skip_scanner_checks(
            self.trail.node.default_child,
            checkov={
                "CKV_AWS_67": "single-Region by design: the app deploys one AuditTrail per platform Region, each recording "
                "that Region's model, guardrail and proxy data events; account-wide multi-Region coverage belongs to the "
                "organization trail (README: Compliance)",
            },
        )
        # no S3BucketLoggingEnabled finding on the access-log bucket: cdk-nag recognises a server-access-log target
        lock = (
            f"S3 Object Lock ({object_lock_mode} mode, {object_lock_days} days) keeps each log file from being "
            "overwritten or deleted, and log-file validation writes integrity digests"
            if object_lock_mode is not None
            else "versioning keeps overwritten log files, and log-file validation writes integrity digests (no Object Lock: object_lock_mode=None)"
        )
        acknowledge_in_packs(
            self.bucket,
            "S3BucketReplicationEnabled",
            f"single-region audit store of one region's trail: {lock}; cross-region replication is a deployment "
            "decision (an organization trail's bucket usually is the replicated copy)",
        )
        acknowledge_in_packs(
            self.access_log_bucket,
            "S3BucketReplicationEnabled",
            "server access logs of the trail bucket (who read or wrote the log files): versioned, SSE-KMS, SSL-only, "
            "private; no Object Lock and no digests, so it is supporting evidence, not the audit record; cross-region "
            "replication is a deployment decision",
        )
