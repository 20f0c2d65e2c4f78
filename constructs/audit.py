"""AuditTrail: who called the models, the guardrail and the proxy — a CloudTrail trail with data events."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Names, RemovalPolicy, Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from gptoss_constructs._compliance import acknowledge_in_packs, skip_scanner_checks
from gptoss_constructs._defaults import allow_cloudwatch_logs, retention_from_days

#: CloudTrail data-event resource types (advanced event selector field ``resources.type``) and what they record
DATA_EVENT_TYPES: dict[str, str] = {
    "AWS::SageMaker::Endpoint": "SageMaker InvokeEndpoint / InvokeEndpointWithResponseStream",
    "AWS::Bedrock::Model": "Bedrock InvokeModel / InvokeModelWithResponseStream / Converse on foundation models",
    "AWS::Bedrock::Guardrail": "Bedrock ApplyGuardrail",
    "AWS::Lambda::Function": "Lambda Invoke of the proxy function",
}
#: six years: HIPAA §164.316(b)(2)(i) retention of required documentation
DEFAULT_RETENTION_DAYS = 2192

KEY_ACTIONS_FOR_CLOUDTRAIL = ("kms:GenerateDataKey", "kms:DescribeKey")


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
        retention_days: int = DEFAULT_RETENTION_DAYS,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param functions: Lambda functions whose invocations are recorded.
            Default: - every function of the account and region (``AWS::Lambda::Function`` without an ARN filter).
        :param retention_days: how long the CloudWatch Logs copy is kept (a CloudWatch Logs retention value).
            Default: - 2192 (six years, HIPAA §164.316(b)(2)(i)); the S3 copy is kept until you delete it.
        :param removal_policy: for the key, bucket and log group. Default: - RETAIN.
        """
        super().__init__(scope, id)
        retention = retention_from_days(retention_days)
        stack = Stack.of(self)
        self.trail_name = Names.unique_resource_name(self, max_length=128, separator="-")
        trail_arn = f"arn:{stack.partition}:cloudtrail:{stack.region}:{stack.account}:trail/{self.trail_name}"
        source = {"StringEquals": {"aws:SourceArn": trail_arn}}

        self.encryption_key = kms.Key(
            self, "Key", description="gpt-oss-platform: audit trail log files", enable_key_rotation=True, removal_policy=removal_policy
        )
        self.encryption_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudTrailEncryptsThisTrailsLogs",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=list(KEY_ACTIONS_FOR_CLOUDTRAIL),
                resources=["*"],
                conditions={
                    **source,
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:{stack.partition}:cloudtrail:*:{stack.account}:trail/*"},
                },
            )
        )
        allow_cloudwatch_logs(self.encryption_key, sid="CloudWatchLogsEncryptsTheTrailLogGroup")

        # SSE-KMS works for server-access-log targets once the key lets the logging service use it
        # (aws/aws-cdk PR #25350, "KMS encryption works fine for server access logging target buckets")
        self.access_log_bucket = self._private_bucket("AccessLogs", removal_policy)
        self.bucket = self._private_bucket("Bucket", removal_policy)
        self._server_access_logging(stack)
        self.log_group = logs.LogGroup(self, "LogGroup", encryption_key=self.encryption_key, retention=retention, removal_policy=removal_policy)

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
            include_global_service_events=False,
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
        self._acknowledge()

    def _private_bucket(self, id: str, removal_policy: RemovalPolicy) -> s3.Bucket:
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
        # UNCONFIRMED offline: that S3 log delivery needs no KMS action beyond these two (preflight: access-log
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

    def _acknowledge(self) -> None:
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
        for bucket in (self.bucket, self.access_log_bucket):
            acknowledge_in_packs(
                bucket,
                "S3BucketReplicationEnabled",
                "single-Region audit store, not replicated across Regions: the bucket is versioned, so an overwritten "
                "or deleted object keeps its previous version; it has no S3 Object Lock, and only the trail's own log "
                "files (not the server access logs) are covered by CloudTrail's log-file validation digests; an "
                "organization trail's bucket is usually the replicated copy (register: compensating control, owner)",
            )
