"""Builds one region's stack set from the typed config. ``app.py`` calls this once per region."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from typing import Mapping
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import App, CfnWaitConditionHandle, Environment, Stack

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
            readers=[r for r in (proxy.roles.auditor_role,) if r is not None],
            alarm_topic=monitoring.monitoring.topic,
            removal_policy=removal_policy,
            env=env,
            description=f"gpt-oss-platform {region}: CloudTrail audit trail (data events: SageMaker, Bedrock, guardrail, proxy)",
        )
    stacks = RegionStacks(network=network, guardrail=guardrail, models=models, proxy=proxy, monitoring=monitoring, audit=audit)
    wire_cross_stack_references(stacks, region_fingerprint(config, region))
    for stack in stacks.all():
        apply_role_governance(
            stack,
            permissions_boundary=iam.ManagedPolicy.from_managed_policy_arn(stack, "PermissionsBoundary", config.permissions_boundary)
            if config.permissions_boundary
            else None,
            role_name_prefix=config.role_name_prefix,
        )
    return stacks


_ROOT = Path(__file__).resolve().parent.parent


def region_fingerprint(config: PlatformConfig, region: str) -> str:
    """A digest of everything that decides the region's producer resources: the typed config, the catalog and
    the source of the constructs and stacks. It changes whenever a deploy could replace a producer resource."""
    digest = hashlib.sha256()
    platform = {k: v for k, v in vars(config).items() if k not in ("region_configs", "cost_assumptions")}  # every platform-wide setting (the cost estimate's assumptions build nothing)
    digest.update(json.dumps([config.for_region(region), platform], default=_stable, sort_keys=True).encode())
    for path in sorted([*(_ROOT / "constructs").rglob("*.py"), *(_ROOT / "constructs").rglob("*.json"), *(_ROOT / "constructs").rglob("*.yaml"), *(_ROOT / "stacks").rglob("*.py")]):
        digest.update(path.relative_to(_ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _stable(value):
    """A JSON-able, run-independent form of config values (jsii objects have no stable repr)."""
    if dataclasses.is_dataclass(value):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if hasattr(value, "to_seconds"):  # Duration
        return {"seconds": value.to_seconds()}
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"no stable form for {type(value).__name__} in the config fingerprint")


def wire_cross_stack_references(stacks: RegionStacks, fingerprint: str) -> None:
    """Makes ``cdk deploy --all`` carry changed producer values into their consumers.

    cdk.json sets ``@aws-cdk/core:defaultCrossStackReferences: weak``: consumers read producer outputs with
    ``Fn::GetStackOutput``, which is "resolved at stack create or update time"; "if the referenced stack or
    output is later deleted or modified, the consuming stack is not automatically updated" (CloudFormation
    template reference, Fn::GetStackOutput). Strong references (exports) would instead block every producer
    change that alters a consumed value (a new guardrail version, a replaced VPC endpoint) while it is in use.

    So: (1) explicit dependencies put producers first — Proxy and Monitoring also depend on Models, whose
    endpoint names they use as plain strings (no reference, hence no implicit dependency), so a targeted
    deploy never routes to an endpoint that does not exist yet; (2) each consumer stack carries a no-op
    ``AWS::CloudFormation::WaitConditionHandle`` whose logical id holds ``fingerprint``: whenever a producer
    could have changed, every consumer template changes too, CloudFormation updates it, and its
    ``Fn::GetStackOutput`` values are resolved again.
    """
    consumers: list[tuple[Stack, list[Stack]]] = [
        (stacks.proxy, [stacks.network, stacks.guardrail] + ([stacks.models] if stacks.models else [])),
        (stacks.monitoring, [stacks.proxy, stacks.guardrail] + ([stacks.models] if stacks.models else [])),
    ]
    if stacks.models is not None:
        consumers.append((stacks.models, [stacks.network]))
    if stacks.audit is not None:
        consumers.append((stacks.audit, [stacks.proxy, stacks.monitoring]))
    for consumer, producers in consumers:
        for producer in producers:
            consumer.add_stack_dependency(producer, "reads its values (Fn::GetStackOutput) or its endpoint names")
        CfnWaitConditionHandle(consumer, f"ProducerFingerprint{fingerprint}")


def build_app(app: App, config: PlatformConfig) -> dict[str, RegionStacks]:
    return {region: build_region(app, config, region) for region in config.regions}


def cost_estimates(config: PlatformConfig, stacks: dict[str, RegionStacks], assumptions=None) -> dict:
    """region → ``cost.RegionCost`` (totals and lines): endpoints from config, fixed costs counted in the
    region's synthesized constructs (interface endpoints, KMS keys, alarms, dashboards), per-request costs from
    the assumptions."""
    from aws_cdk import aws_cloudwatch as cloudwatch
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_kms as kms

    from gptoss_constructs import catalog, cost
    from stacks.config import route_names

    def count(region_stacks: RegionStacks, cls, where=lambda c: True) -> int:
        return sum(1 for stack in region_stacks.all() for c in stack.node.find_all() if isinstance(c, cls) and where(c))

    out = {}
    for region in config.regions:
        rc = config.for_region(region)
        rows = []
        for model in rc.sagemaker_models:
            itype = rc.instance_types.get(model) or catalog.hosting(model).default_instance_type
            low = 0 if rc.scale_to_zero and rc.autoscaling_min_capacity == 0 else max(rc.autoscaling_min_capacity, 1)
            rows.append((model, itype, low, rc.autoscaling_max_capacity))
        g = rc.guardrail
        policies = [name for name, on in (("content", g.content_filters), ("topics", g.denied_topics), ("pii", g.pii_entities),
                                          ("grounding", g.grounding_threshold is not None or g.relevance_threshold is not None)) if on]
        azs = rc.existing_vpc.availability_zones if rc.existing_vpc else rc.availability_zones
        rs = stacks[region]
        out[region] = cost.region_estimate(
            region,
            endpoints=cost.estimate(rows),
            bedrock_models=rc.bedrock_models,
            routes=len(route_names(rc)),
            interface_endpoints=count(rs, ec2.CfnVPCEndpoint, lambda c: c.vpc_endpoint_type == "Interface"),
            availability_zones=len(azs) if azs else config.max_azs,
            kms_keys=count(rs, kms.CfnKey),
            alarms=count(rs, cloudwatch.CfnAlarm),
            dashboards=count(rs, cloudwatch.CfnDashboard),
            lambda_memory_mb=config.memory_size or 1024,  # InvokeProxy's default memory_size
            rest_api=rc.front_door == "private-api",
            guardrail_policies=policies,
            **({"guardrail_first_batch_chars": config.guardrail_first_batch_chars} if config.guardrail_first_batch_chars is not None else {}),
            assumptions=assumptions or cost.CostAssumptions(),
        )
    return out
