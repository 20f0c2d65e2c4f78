"""ModelStack: the region's SageMaker JumpStart endpoints, one per configured SageMaker model."""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, CfnOutput, RemovalPolicy, Validations
from constructs import Construct

from gptoss_constructs.endpoint import EGRESS_WARNING, TOKENIZER_WARNING, GptOssEndpoint
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
                model_data_url=region_config.model_data_urls.get(model),
                tiktoken_encodings_base=region_config.tiktoken_encodings_base,
                s3_prefix_list_id=region_config.s3_prefix_list_id,
                interface_endpoints=network if region_config.s3_prefix_list_id else None,
                removal_policy=removal_policy,
            )
            if not region_config.tiktoken_encodings_base:
                Validations.of(endpoint).acknowledge(
                    Acknowledgment(
                        id=f"Annotation::{TOKENIZER_WARNING}",
                        reason="UNCONFIRMED(verify:tokenizer-in-container) offline whether the LMI image or the JumpStart artifacts provide "
                        "o200k_base.tiktoken (catalog containers.lmi.tokenizer_encodings); the preflight hub-content "
                        "check decides it before deploy, and the fix is the context keys model_data_urls + "
                        "tiktoken_encodings_base (README, 'Tokenizer encodings')",
                    )
                )
            if not region_config.s3_prefix_list_id:
                Validations.of(endpoint).acknowledge(
                    Acknowledgment(
                        id=f"Annotation::{EGRESS_WARNING}",
                        reason="the model's subnets are isolated (no internet gateway or NAT route), so HTTPS to 0.0.0.0/0 "
                        "reaches only the S3 gateway endpoint and the VPC's interface endpoints; the S3 prefix list id "
                        "cannot be looked up offline: set the context key s3_prefix_list_id to narrow the rule (README)",
                    )
                )
            endpoint.add_autoscaling(
                min_capacity=region_config.autoscaling_min_capacity,
                max_capacity=region_config.autoscaling_max_capacity,
            )
            self.endpoints[model] = endpoint
            CfnOutput(self, f"{construct_id}EndpointName", value=endpoint.endpoint_name, description=f"{model} on {endpoint.instance_type}")
