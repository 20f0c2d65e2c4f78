"""Builds one region's stack set from the typed config. ``app.py`` calls this once per region."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import App, Environment, RemovalPolicy

from stacks.config import PlatformConfig
from stacks.guardrail_stack import GuardrailStack
from stacks.network_stack import NetworkStack

STACK_PREFIX = "GptOss"


@dataclass
class RegionStacks:
    """The stacks of one region, for tests and for wiring."""

    network: NetworkStack
    guardrail: GuardrailStack


def stack_name(kind: str, region: str) -> str:
    """``GptOss-Network-us-east-1``: stack names (and construct ids) are a contract; do not rename."""
    return f"{STACK_PREFIX}-{kind}-{region}"


def build_region(app: App, config: PlatformConfig, region: str) -> RegionStacks:
    region_config = config.for_region(region)
    # Region-only env unless an account is configured (then AZs come from config: no lookups at synth).
    env = Environment(account=config.account, region=region)
    network = NetworkStack(
        app,
        stack_name("Network", region),
        config=config,
        region_config=region_config,
        env=env,
        description=f"gpt-oss-platform {region}: private VPC, VPC endpoints and flow logs",
    )
    removal_policy = RemovalPolicy.DESTROY if config.removal_policy == "destroy" else RemovalPolicy.RETAIN
    guardrail = GuardrailStack(
        app,
        stack_name("Guardrail", region),
        region_config=region_config,
        policy=region_config.guardrail,
        removal_policy=removal_policy,
        env=env,
        description=f"gpt-oss-platform {region}: Bedrock guardrail ({region_config.guardrail_policy})",
    )
    return RegionStacks(network=network, guardrail=guardrail)


def build_app(app: App, config: PlatformConfig) -> dict[str, RegionStacks]:
    return {region: build_region(app, config, region) for region in config.regions}
