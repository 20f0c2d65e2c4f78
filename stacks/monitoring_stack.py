"""MonitoringStack: the region's dashboard, alarms and alarm topic."""

from __future__ import annotations

from typing import Any, Sequence

from aws_cdk import CfnOutput, RemovalPolicy
from constructs import Construct

from gptoss_constructs.monitoring import PlatformMonitoring
from stacks.base import PlatformStack
from stacks.config import RegionConfig


class MonitoringStack(PlatformStack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        region_config: RegionConfig,
        endpoints: Sequence,
        proxy,
        guardrail,
        alarm_emails: Sequence[str],
        removal_policy: RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, availability_zones=region_config.availability_zones, **kwargs)
        self.monitoring = PlatformMonitoring(
            self, "Monitoring", endpoints=endpoints, proxy=proxy, guardrail=guardrail, alarm_emails=alarm_emails,
            # named after the stack (GptOss-Monitoring-<region>): PlatformRoles scopes the operator to <prefix>-*
            dashboard_name=self.stack_name, removal_policy=removal_policy,
        )
        CfnOutput(self, "DashboardName", value=self.monitoring.dashboard.dashboard_name)
        CfnOutput(self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn, description="Subscribe on-call here")
