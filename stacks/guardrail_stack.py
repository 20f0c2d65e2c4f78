"""GuardrailStack: the region's Bedrock guardrail, from the configured preset or policy file."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy
from constructs import Construct

from gptoss_constructs.guardrail import ModelGuardrail
from gptoss_constructs.guardrail_policy import GuardrailPolicy
from stacks.base import PlatformStack
from stacks.config import RegionConfig


class GuardrailStack(PlatformStack):
    """One guardrail per region; the proxy applies it to every input and output."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        region_config: RegionConfig,
        policy: GuardrailPolicy,
        removal_policy: RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, availability_zones=region_config.availability_zones, **kwargs)
        self.guardrail = ModelGuardrail(self, "Guardrail", policy=policy, removal_policy=removal_policy)
        CfnOutput(self, "GuardrailId", value=self.guardrail.guardrail_id)
        CfnOutput(self, "GuardrailVersion", value=self.guardrail.guardrail_version)
        CfnOutput(self, "GuardrailPolicy", value=f"{region_config.guardrail_policy} ({self.guardrail.policy_fingerprint})")
