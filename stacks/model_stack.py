"""ModelStack: the region's SageMaker JumpStart endpoints, one per configured SageMaker model."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy
from constructs import Construct

from gptoss_constructs.endpoint import GptOssEndpoint
from gptoss_constructs.network import PrivateNetwork
from stacks.base import PlatformStack
from stacks.config import RegionConfig


class ModelStack(PlatformStack):
    """gpt-oss endpoints in the region's private VPC, each with autoscaling from config."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        network: PrivateNetwork,
        region_config: RegionConfig,
        removal_policy: RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, availability_zones=region_config.availability_zones, **kwargs)
        self.endpoints: dict[str, GptOssEndpoint] = {}
        for model in region_config.sagemaker_models:
            construct_id = "Gpt" + model.split("-")[-1].capitalize()  # Gpt20b, Gpt120b: ids are a contract
            endpoint = GptOssEndpoint(
                self,
                construct_id,
                model=model,
                vpc=network.vpc,
                instance_type=region_config.instance_types.get(model),
                initial_instance_count=max(region_config.autoscaling_min_capacity, 1),
                scale_to_zero=region_config.scale_to_zero,
                # one copy fills an instance, so managed instance scaling needs as many instances as copies
                max_instance_count=region_config.autoscaling_max_capacity if region_config.scale_to_zero else None,
                removal_policy=removal_policy,
            )
            endpoint.add_autoscaling(
                min_capacity=region_config.autoscaling_min_capacity,
                max_capacity=region_config.autoscaling_max_capacity,
            )
            self.endpoints[model] = endpoint
            CfnOutput(self, f"{construct_id}EndpointName", value=endpoint.endpoint_name, description=f"{model} on {endpoint.instance_type}")
