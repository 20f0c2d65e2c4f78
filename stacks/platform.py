"""Builds one region's stack set from the typed config. ``app.py`` calls this once per region."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import App, Environment

from aws_cdk import aws_iam as iam

from gptoss_constructs.governance import apply_role_governance
from stacks.audit_stack import AuditStack
from stacks.config import PlatformConfig
from stacks.guardrail_stack import GuardrailStack
from stacks.model_stack import ModelStack
from stacks.monitoring_stack import MonitoringStack
from stacks.network_stack import NetworkStack
from stacks.proxy_stack import ProxyStack

STACK_PREFIX = "GptOss"


@dataclass
class RegionStacks:
    """The stacks of one region, for tests and for wiring."""

    network: NetworkStack
    guardrail: GuardrailStack
    models: ModelStack | None
    proxy: ProxyStack
    monitoring: MonitoringStack
    audit: AuditStack | None = None

    def all(self) -> list:
        return [s for s in (self.network, self.guardrail, self.models, self.proxy, self.monitoring, self.audit) if s is not None]


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
    removal_policy = config.removal_policy
    guardrail = GuardrailStack(
        app,
        stack_name("Guardrail", region),
        region_config=region_config,
        policy=region_config.guardrail,
        removal_policy=removal_policy,
        env=env,
        description=f"gpt-oss-platform {region}: Bedrock guardrail ({region_config.guardrail_policy})",
    )
    models = None
    if region_config.sagemaker_models:
        models = ModelStack(
            app,
            stack_name("Models", region),
            network=network.network,
            region_config=region_config,
            removal_policy=removal_policy,
            env=env,
            description=f"gpt-oss-platform {region}: SageMaker JumpStart endpoints ({', '.join(region_config.sagemaker_models)})",
        )
    proxy = ProxyStack(
        app,
        stack_name("Proxy", region),
        network=network.network,
        region_config=region_config,
        config=config,
        endpoints=models.endpoints if models else {},
        guardrail=guardrail.guardrail,
        removal_policy=removal_policy,
        env=env,
        description=f"gpt-oss-platform {region}: OpenAI-compatible invoke proxy, private front door, roles",
    )
    monitoring = MonitoringStack(
        app,
        stack_name("Monitoring", region),
        region_config=region_config,
        endpoints=list(models.endpoints.values()) if models else [],
        proxy=proxy.proxy,
        guardrail=guardrail.guardrail,
        alarm_emails=config.alarm_emails,
        removal_policy=removal_policy,
        env=env,
        description=f"gpt-oss-platform {region}: dashboard, alarms and alarm topic",
    )
    audit = None
    if config.audit_trail:
        audit = AuditStack(
            app,
            stack_name("Audit", region),
            region_config=region_config,
            proxy=proxy.proxy,
            removal_policy=removal_policy,
            env=env,
            description=f"gpt-oss-platform {region}: CloudTrail audit trail (data events: SageMaker, Bedrock, guardrail, proxy)",
        )
    stacks = RegionStacks(network=network, guardrail=guardrail, models=models, proxy=proxy, monitoring=monitoring, audit=audit)
    for stack in stacks.all():
        apply_role_governance(
            stack,
            permissions_boundary=iam.ManagedPolicy.from_managed_policy_arn(stack, "PermissionsBoundary", config.permissions_boundary)
            if config.permissions_boundary
            else None,
            role_name_prefix=config.role_name_prefix,
        )
    return stacks


def build_app(app: App, config: PlatformConfig) -> dict[str, RegionStacks]:
    return {region: build_region(app, config, region) for region in config.regions}


def cost_estimates(config: PlatformConfig) -> dict[str, str]:
    """region → the markdown cost estimate of its SageMaker endpoints (min and max capacity)."""
    from gptoss_constructs import catalog, cost

    out = {}
    for region in config.regions:
        rc = config.for_region(region)
        rows = []
        for model in rc.sagemaker_models:
            itype = rc.instance_types.get(model) or catalog.hosting(model).default_instance_type
            low = 0 if rc.scale_to_zero and rc.autoscaling_min_capacity == 0 else max(rc.autoscaling_min_capacity, 1)
            rows.append((model, itype, low, rc.autoscaling_max_capacity))
        out[region] = cost.render(region, cost.estimate(rows), rc.bedrock_models)
    return out
