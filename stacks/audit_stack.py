"""AuditStack: the optional CloudTrail audit trail of one region (context key ``audit_trail``)."""

from __future__ import annotations

from typing import Any, Sequence

from aws_cdk import CfnOutput, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from gptoss_constructs.audit import AuditTrail
from stacks.base import PlatformStack
from stacks.config import RegionConfig


class AuditStack(PlatformStack):
    """Who called the models, the guardrail and the proxy: ``AuditTrail`` with the proxy function's invocations."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        region_config: RegionConfig,
        proxy,
        removal_policy: RemovalPolicy,
        readers: Sequence[iam.IGrantable] = (),
        alarm_topic: sns.ITopic | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, availability_zones=region_config.availability_zones, **kwargs)
        self.audit = AuditTrail(self, "Audit", functions=[proxy.function], alarm_topic=alarm_topic, removal_policy=removal_policy)
        for reader in readers:  # the platform's auditor role: this trail's configuration, logs and log files
            self.audit.grant_read(reader)
        CfnOutput(self, "TrailBucket", value=self.audit.bucket.bucket_name, description="S3 bucket of the audit trail's log files")
        CfnOutput(self, "TrailLogGroup", value=self.audit.log_group.log_group_name, description="CloudWatch Logs copy of the audit trail")
