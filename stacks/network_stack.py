"""NetworkStack: the private VPC of one region."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from gptoss_constructs._defaults import retention_from_days
from gptoss_constructs.network import DEFAULT_INTERFACE_ENDPOINTS, PrivateNetwork
from stacks.base import PlatformStack
from stacks.config import ExistingVpc, PlatformConfig, RegionConfig


def platform_interface_endpoints(region_config: RegionConfig) -> tuple[str, ...]:
    """The interface endpoints this region's platform calls from inside its VPC (``DEFAULT_INTERFACE_ENDPOINTS``
    minus what the region does not use): sagemaker.runtime only with SageMaker models, execute-api only behind
    the private API front door; bedrock-runtime always (the guardrail's ApplyGuardrail), xray always (the
    proxy's active tracing), kms always (the proxy's reasoning sealing)."""
    used = {
        "sagemaker.runtime": bool(region_config.sagemaker_models),
        "bedrock-runtime": True,
        "execute-api": region_config.front_door == "private-api",
        "xray": True,
        "kms": True,  # the proxy's reasoning round trip (KMS Encrypt/Decrypt from the function's code)
    }
    return tuple(name for name in DEFAULT_INTERFACE_ENDPOINTS if used[name])


class NetworkStack(PlatformStack):
    """One region's private network: a new isolated VPC, or the configured existing one, with endpoints."""

    def __init__(
        self, scope: Construct, id: str, *, config: PlatformConfig, region_config: RegionConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, availability_zones=region_config.availability_zones, **kwargs)
        existing = region_config.existing_vpc
        self.network = PrivateNetwork(
            self,
            "Network",
            vpc=self._import_vpc(existing) if existing else None,
            vpc_cidr=existing.vpc_cidr if existing else config.vpc_cidr,
            max_azs=config.max_azs,
            availability_zones=None if existing else region_config.availability_zones,
            interface_endpoints=config.interface_endpoints
            if config.interface_endpoints is not None
            else platform_interface_endpoints(region_config),
            flow_log_retention=retention_from_days(config.flow_log_retention),
            removal_policy=config.removal_policy,
            api_client_cidrs=region_config.api_client_cidrs,
            api_client_security_groups=[
                ec2.SecurityGroup.from_security_group_id(self, f"ApiClient{i}", sg_id, mutable=False)
                for i, sg_id in enumerate(region_config.api_client_security_groups)
            ],
        )
        CfnOutput(self, "VpcId", value=self.network.vpc.vpc_id, description="The private VPC of this region")
        api = self.network.interface_endpoints.get("execute-api")
        if api is not None:
            CfnOutput(
                self,
                "ApiVpcEndpointId",
                value=api.vpc_endpoint_id,
                description="execute-api VPC endpoint: peered networks / VPN call https://{rest-api-id}-{this id}.execute-api.{region}.amazonaws.com/{stage}",
            )

    def _import_vpc(self, existing: ExistingVpc) -> ec2.IVpc:
        return ec2.Vpc.from_vpc_attributes(
            self,
            "ExistingVpc",
            vpc_id=existing.vpc_id,
            vpc_cidr_block=existing.vpc_cidr,
            availability_zones=list(existing.availability_zones),
            isolated_subnet_ids=list(existing.isolated_subnet_ids),
            isolated_subnet_route_table_ids=list(existing.route_table_ids),
        )
