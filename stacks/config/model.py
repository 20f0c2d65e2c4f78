"""The typed config the stacks read: one ``PlatformConfig`` with one ``RegionConfig`` per region."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from aws_cdk import Duration, RemovalPolicy

from gptoss_constructs._defaults import retention_from_days
from gptoss_constructs.guardrail_policy import GuardrailPolicy


@dataclass(frozen=True)
class ExistingVpc:
    """An existing VPC to deploy into (no lookup: every value is given, so synth needs no AWS call)."""

    vpc_id: str
    vpc_cidr: str
    availability_zones: tuple[str, ...]
    isolated_subnet_ids: tuple[str, ...]
    route_table_ids: tuple[str, ...]


@dataclass(frozen=True)
class RegionConfig:
    """Everything one region's stack set needs."""

    region: str
    account: str | None
    sagemaker_models: tuple[str, ...]
    bedrock_models: tuple[str, ...]
    instance_types: Mapping[str, str]
    autoscaling_min_capacity: int
    autoscaling_max_capacity: int
    scale_to_zero: bool
    guardrail_policy: str
    guardrail: GuardrailPolicy
    front_door: str
    availability_zones: tuple[str, ...] | None
    existing_vpc: ExistingVpc | None
    #: GptOssEndpoint props: weights mirrors per model, tokenizer directory, the region's S3 prefix list
    model_data_urls: Mapping[str, str] = field(default_factory=dict)
    tiktoken_encodings_base: str | None = None
    s3_prefix_list_id: str | None = None
    #: Bedrock models called through the catalog's geographic cross-Region inference profile (opt-in)
    bedrock_inference_profiles: tuple[str, ...] = ()
    api_client_cidrs: tuple[str, ...] = ()
    api_client_security_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConsumerPlan:
    """A usage plan + API key for one consumer of the private API (chargeback)."""

    name: str
    rate_limit: int
    burst_limit: int
    quota_per_day: int | None


@dataclass(frozen=True)
class PlatformConfig:
    """The whole app's configuration. A field named like a construct prop is that prop's value; ``None`` there
    means "not set": the construct's own default applies (defaults are written in the construct, not here)."""

    regions: tuple[str, ...]
    account: str | None
    vpc_cidr: str
    max_azs: int
    interface_endpoints: tuple[str, ...] | None
    flow_log_retention: int
    removal_policy: RemovalPolicy
    region_configs: Mapping[str, RegionConfig] = field(default_factory=dict)
    # InvokeProxy props
    streaming: bool | None = None
    guardrail_stream_mode: str | None = None
    guardrail_first_batch_chars: int | None = None
    handoff_daily_cap: int | None = None
    handoff_on_high_effort: bool | None = None
    memory_size: int | None = None
    timeout: Duration | None = None
    reserved_concurrent_executions: int | None = None
    max_body_bytes: int | None = None
    escalate_principals: tuple[str, ...] = ()
    #: days, for the proxy's log group and the private API's access and execution logs (InvokeProxy and
    #: PrivateApiFrontDoor ``log_retention``)
    log_retention: int | None = None
    #: route name → ProxyRoute options (fallback, max_tokens, max_reasoning_effort) set in config
    routes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # PrivateApiFrontDoor props and consumers
    throttling_rate_limit: int | None = None
    throttling_burst_limit: int | None = None
    configure_account_logging_role: bool | None = None
    api_consumers: tuple[ConsumerPlan, ...] = ()
    # platform roles, governance and alarms
    consumer_principals: tuple[str, ...] = ()
    operator_principals: tuple[str, ...] = ()
    auditor_principals: tuple[str, ...] = ()
    permissions_boundary: str | None = None
    role_name_prefix: str | None = None
    alarm_emails: tuple[str, ...] = ()
    # PlatformRoles trust conditions (unset operator_require_mfa keeps the construct's default: required)
    operator_require_mfa: bool | None = None
    principal_org_id: str | None = None
    principal_arns: tuple[str, ...] = ()
    #: per-role trust ARN patterns (None: ``principal_arns``) and the auditor's MFA (None: the construct's default)
    operator_principal_arns: tuple[str, ...] | None = None
    auditor_principal_arns: tuple[str, ...] | None = None
    auditor_require_mfa: bool | None = None
    # optional AuditTrail stack per region
    audit_trail: bool = False
    #: App prop: aws-cdk-lib's built-in CloudFormation validation at synth (a WASM build of cfn-lint's rules). Off:
    #: it was ~60% of this app's synth time, and `make lint` and the tests run cfn-lint itself on every template
    builtin_cloud_formation_validation: bool = False
    #: request assumptions of the cost estimate (``cost_*`` keys; a ``gptoss_constructs.cost.CostAssumptions``)
    cost_assumptions: Any = None

    def proxy_props(self) -> dict[str, Any]:
        """The InvokeProxy props set in config (unset ones keep the construct's defaults)."""
        names = ("streaming", "guardrail_stream_mode", "guardrail_first_batch_chars", "memory_size", "timeout", "reserved_concurrent_executions",
                 "handoff_daily_cap", "handoff_on_high_effort", "max_body_bytes")
        props = {n: getattr(self, n) for n in names if getattr(self, n) is not None}
        if self.escalate_principals:
            props["escalate_principals"] = self.escalate_principals
        if self.log_retention is not None:
            props["log_retention"] = retention_from_days(self.log_retention)
        return props

    def private_api_props(self) -> dict[str, Any]:
        """The PrivateApiFrontDoor props set in config."""
        names = ("throttling_rate_limit", "throttling_burst_limit", "configure_account_logging_role")
        props = {n: getattr(self, n) for n in names if getattr(self, n) is not None}
        if self.log_retention is not None:
            props["log_retention"] = retention_from_days(self.log_retention)
        return props

    def for_region(self, region: str) -> RegionConfig:
        return self.region_configs[region]
