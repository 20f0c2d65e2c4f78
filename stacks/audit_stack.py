"""AuditStack: the optional CloudTrail audit trail of one region (context key ``audit_trail``)."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy
from constructs import Construct

from gptoss_constructs.audit import AuditTrail
from stacks.base import PlatformStack
from stacks.config import RegionConfig


class AuditStack(PlatformStack):
    """Who called the models, the guardrail and the proxy: ``AuditTrail`` with the proxy function's invocations."""

    def __init__(self, scope: Construct, id: str, *, region_config: RegionConfig, proxy, removal_policy: RemovalPolicy, **kwargs: Any) -> None:
        super().__init__(scope, id, availability_zones=region_config.availability_zones, **kwargs)
        self.audit = AuditTrail(self, "Audit", functions=[proxy.function], removal_policy=removal_policy)
        CfnOutput(self, "TrailBucket", value=self.audit.bucket.bucket_name, description="S3 bucket of the audit trail's log files")
        CfnOutput(self, "TrailLogGroup", value=self.audit.log_group.log_group_name, description="CloudWatch Logs copy of the audit trail")
