"""The app's configuration: read once from CDK context (cdk.json or ``-c key=value``), typed and validated.

Every key is documented in README.md ("Configuration"). Errors name the key, the bad value and the allowed
values, and are raised before any construct is built.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from aws_cdk import Duration, RemovalPolicy

from gptoss_constructs import catalog
from gptoss_constructs._defaults import RETENTION_DAYS, retention_from_days
from gptoss_constructs._validation import require_choices, require_private_cidr
from gptoss_constructs.front_door import validate_throttling
from gptoss_constructs.governance import RoleNamePrefix
from gptoss_constructs.guardrail_policy import GuardrailPolicy, PolicyError, load_policy
from gptoss_constructs.invoke_proxy import validate_buffered_timeout, validate_escalate_principals, validate_function_props
from gptoss_constructs.network import ALL_INTERFACE_ENDPOINTS, validate_network_props
from gptoss_invoke_proxy_asset.gptoss_proxy.core.settings import Route, Settings
from stacks.proxy_config import route_names

FRONT_DOORS = ("private-api",)
#: front doors that existed once, and why they are gone (the error names what to use instead)
REMOVED_FRONT_DOORS = {
    "function-url": "Lambda function URLs are reachable only over the public internet (Lambda developer guide, "
    "'Lambda function URLs': PrivateLink does not cover them); use 'private-api'",
}
REMOVAL_POLICIES = {"retain": RemovalPolicy.RETAIN, "destroy": RemovalPolicy.DESTROY}

#: context keys that were renamed to the prop they set: old key → new key (an old key stops synth, naming the new)
RENAMED_KEYS = {
    "proxy_streaming": "streaming",
    "proxy_memory_mb": "memory_size",
    "proxy_timeout_seconds": "timeout",
    "proxy_reserved_concurrency": "reserved_concurrent_executions",
    "fallbacks": "routes",
    "route_max_tokens": "routes",
    "route_max_reasoning_effort": "routes",
    "api_throttle_rate_limit": "throttling_rate_limit",
    "api_throttle_burst_limit": "throttling_burst_limit",
    "configure_apigw_account_role": "configure_account_logging_role",
    "permissions_boundary_arn": "permissions_boundary",
    "flow_log_retention_days": "flow_log_retention",
}
#: the fields of one entry of ``routes`` (``ProxyRoute`` options)
ROUTE_OPTIONS = ("fallback", "max_tokens", "max_reasoning_effort", "handoff", "max_reasoning_tokens", "reasoning_tokens", "budget_mode")

#: keys that may also be set per region under ``region_overrides``
REGION_KEYS = (
    "sagemaker_models",
    "bedrock_models",
    "instance_types",
    "autoscaling_min_capacity",
    "autoscaling_max_capacity",
    "scale_to_zero",
    "guardrail_policy",
    "front_door",
    "availability_zones",
    "existing_vpc",
    "model_data_urls",
    "tiktoken_encodings_base",
    "s3_prefix_list_id",
    "api_client_cidrs",
    "api_client_security_groups",
    "bedrock_inference_profiles",
)


class ConfigError(ValueError):
    """A context value is wrong; the message says which key, what value and what is allowed."""


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
    # optional AuditTrail stack per region
    audit_trail: bool = False
    #: App prop: aws-cdk-lib's built-in CloudFormation validation at synth (a WASM build of cfn-lint's rules). Off:
    #: it was ~60% of this app's synth time, and `make lint` and the tests run cfn-lint itself on every template
    builtin_cloud_formation_validation: bool = False
    #: request assumptions of the cost estimate (``cost_*`` keys; a ``gptoss_constructs.cost.CostAssumptions``)
    cost_assumptions: Any = None

    def proxy_props(self) -> dict[str, Any]:
        """The InvokeProxy props set in config (unset ones keep the construct's defaults)."""
        names = ("streaming", "guardrail_stream_mode", "memory_size", "timeout", "reserved_concurrent_executions",
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


# ---- parsing helpers: context values arrive as JSON types (cdk.json) or strings (-c key=value) ----------


def _decode(key: str, value: Any) -> Any:
    """``-c key=value`` gives strings; JSON-looking strings are decoded so both spellings work."""
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError as err:
            raise ConfigError(f"context key '{key}': {value!r} is not valid JSON ({err.msg})") from None
    return value


def _as_list(key: str, value: Any) -> list[str]:
    value = _decode(key, value)
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value]
    raise ConfigError(f"context key '{key}': expected a list of strings or a comma-separated string, got {value!r}")


def _as_int(key: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"context key '{key}': expected an integer, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"context key '{key}': {value} is out of range; allowed: {low} to {high}")
    return value


def _as_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(f"context key '{key}': expected true or false, got {value!r}")


def _as_choice(key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"context key '{key}': {value!r} is not allowed; allowed: {', '.join(allowed)}")
    return value


def _as_mapping(key: str, value: Any) -> dict:
    value = _decode(key, value)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"context key '{key}': expected an object (JSON mapping), got {value!r}")
    return value


def _models(key: str, value: Any, region: str, offered: Callable[[catalog.ModelInfo], tuple[str, ...]], service: str) -> tuple[str, ...]:
    names = _as_list(key, value)
    for name in names:
        if name not in catalog.models():
            raise ConfigError(
                f"context key '{key}': unknown model {name!r}; allowed: {', '.join(catalog.model_names())}"
            )
        regions = offered(catalog.models()[name])
        if region not in regions:
            raise ConfigError(
                f"context key '{key}': {name} is not offered by {service} in {region}; "
                f"it is offered in: {', '.join(regions)}. Choose one of those regions, or remove {name} from "
                f"'{key}' for {region} with -c region_overrides='{{\"{region}\": {{\"{key}\": []}}}}'"
            )
    if len(set(names)) != len(names):
        raise ConfigError(f"context key '{key}': a model is listed twice in {names}")
    return tuple(names)


_ACCOUNT = re.compile(r"\d{12}")
_INSTANCE = re.compile(r"ml\.[a-z0-9]+\.[a-z0-9]+")
_AZ = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-\d[a-z]")


def _region_config(region: str, account: str | None, ctx: Mapping[str, Any], k: Callable[[str], str]) -> RegionConfig:
    """``k(name)`` gives the full key path for messages (``region_overrides.<region>.<name>`` when overridden)."""

    sagemaker_value = ctx.get("sagemaker_models")
    if sagemaker_value is None:
        sagemaker_value = default_sagemaker_models(region)
    sagemaker = _models(k("sagemaker_models"), sagemaker_value, region, lambda m: m.jumpstart_regions, "SageMaker JumpStart")
    profiled = _inference_profiles(k("bedrock_inference_profiles"), ctx.get("bedrock_inference_profiles"), region)
    bedrock_value = ctx.get("bedrock_models")
    if bedrock_value is None:
        bedrock_value = default_bedrock_models(region, sagemaker)
    bedrock = _models(
        k("bedrock_models"), bedrock_value, region,
        lambda m: m.bedrock_regions + ((region,) if m.name in profiled else ()), "Amazon Bedrock",
    )
    unused = [m for m in profiled if m not in bedrock]
    if unused:
        raise ConfigError(
            f"context key '{k('bedrock_inference_profiles')}': {', '.join(unused)} is not in bedrock_models for {region}; "
            f"allowed: {', '.join(bedrock) or '(none: bedrock_models is empty)'}"
        )
    if not sagemaker and not bedrock:
        raise ConfigError(
            f"context keys '{k('sagemaker_models')}' and '{k('bedrock_models')}': region {region} serves no model; "
            "list at least one model in either"
        )
    instance_types = _as_mapping(k("instance_types"), ctx.get("instance_types"))
    for model, itype in instance_types.items():
        if model not in sagemaker:
            raise ConfigError(
                f"context key '{k('instance_types')}': {model!r} is not a SageMaker model in {region}; "
                f"allowed: {', '.join(sagemaker) or '(none: sagemaker_models is empty)'}"
            )
        if not isinstance(itype, str) or not _INSTANCE.fullmatch(itype):
            raise ConfigError(
                f"context key '{k('instance_types')}': {itype!r} for {model} is not a SageMaker instance type "
                "(expected e.g. 'ml.g6e.2xlarge')"
            )
        try:
            catalog.validate_hosting(model, region, itype)
        except ValueError as err:
            raise ConfigError(f"context key '{k('instance_types')}': {err}") from None
    low = _as_int(k("autoscaling_min_capacity"), ctx.get("autoscaling_min_capacity", 1), 0, 100)
    high = _as_int(k("autoscaling_max_capacity"), ctx.get("autoscaling_max_capacity", 2), 1, 100)
    scale_to_zero = _as_bool(k("scale_to_zero"), ctx.get("scale_to_zero", False))
    if low > high:
        raise ConfigError(
            f"context key '{k('autoscaling_min_capacity')}': {low} is above autoscaling_max_capacity {high}"
        )
    if low == 0 and not scale_to_zero:
        raise ConfigError(
            f"context key '{k('autoscaling_min_capacity')}': 0 needs scale_to_zero=true "
            "(an endpoint variant keeps at least one instance otherwise)"
        )
    guardrail_policy = ctx.get("guardrail_policy", "baseline")
    if not isinstance(guardrail_policy, str) or not guardrail_policy.strip():
        raise ConfigError(
            f"context key '{k('guardrail_policy')}': expected a preset name or a policy file path, got {guardrail_policy!r}"
        )
    try:
        policy = load_policy(guardrail_policy.strip(), base_dir=Path.cwd())
    except PolicyError as err:
        raise ConfigError(f"context key '{k('guardrail_policy')}': {err}") from None
    front_door = ctx.get("front_door", "private-api")
    if front_door in REMOVED_FRONT_DOORS:
        raise ConfigError(f"context key '{k('front_door')}': {front_door!r} was removed: {REMOVED_FRONT_DOORS[front_door]}")
    front_door = _as_choice(k("front_door"), front_door, FRONT_DOORS)

    azs = _as_list(k("availability_zones"), ctx.get("availability_zones")) or None
    if azs is not None:
        bad = [z for z in azs if not (_AZ.fullmatch(z) and z.startswith(region))]
        if bad or len(azs) < 2:
            raise ConfigError(
                f"context key '{k('availability_zones')}': expected at least two AZ names of {region} "
                f"(e.g. {region}a,{region}b), got {azs}"
            )
    elif account is not None:
        azs = catalog.default_availability_zones(region)
        if azs is None:
            raise ConfigError(
                f"context key '{k('availability_zones')}': an explicit account is set and the catalog has no AZ "
                f"names for {region}; set availability_zones for it (e.g. {region}a,{region}b)"
            )
    existing = _existing_vpc(k("existing_vpc"), ctx.get("existing_vpc"), region)
    model_data_urls = _as_mapping(k("model_data_urls"), ctx.get("model_data_urls"))
    for model, url in model_data_urls.items():
        if model not in sagemaker:
            raise ConfigError(f"context key '{k('model_data_urls')}': {model!r} is not a SageMaker model in {region}; allowed: {', '.join(sagemaker) or '(none)'}")
        if not (isinstance(url, str) and url.startswith("s3://") and url.endswith("/")):
            raise ConfigError(f"context key '{k('model_data_urls')}': {url!r} for {model} is not an S3 prefix like 's3://bucket/path/'")
    encodings = ctx.get("tiktoken_encodings_base")
    if encodings is not None and not (isinstance(encodings, str) and encodings.startswith("/")):
        raise ConfigError(f"context key '{k('tiktoken_encodings_base')}': expected an absolute directory in the container (e.g. /opt/ml/model), got {encodings!r}")
    prefix_list = ctx.get("s3_prefix_list_id")
    if prefix_list is not None and not (isinstance(prefix_list, str) and re.fullmatch(r"pl-[0-9a-f]{8,17}", prefix_list)):
        raise ConfigError(f"context key '{k('s3_prefix_list_id')}': expected the id of com.amazonaws.{region}.s3 ('pl-' and 8 to 17 hex digits), got {prefix_list!r}")
    api_cidrs = []
    for cidr in _as_list(k("api_client_cidrs"), ctx.get("api_client_cidrs")):
        try:  # the construct's rule, named by the context key
            api_cidrs.append(require_private_cidr(k("api_client_cidrs"), cidr, min_prefix=8, max_prefix=32))
        except ValueError as err:
            raise ConfigError(f"context key '{k('api_client_cidrs')}': {err}") from None
    api_sgs = _as_list(k("api_client_security_groups"), ctx.get("api_client_security_groups"))
    bad_sgs = [g for g in api_sgs if not re.fullmatch(r"sg-[0-9a-f]{8,17}", g)]
    if bad_sgs:
        raise ConfigError(
            f"context key '{k('api_client_security_groups')}': expected security group ids like "
            f"'sg-0123456789abcdef0', got {', '.join(map(repr, bad_sgs))}"
        )
    return RegionConfig(
        region=region,
        account=account,
        sagemaker_models=sagemaker,
        bedrock_models=bedrock,
        instance_types=dict(instance_types),
        autoscaling_min_capacity=low,
        autoscaling_max_capacity=high,
        scale_to_zero=scale_to_zero,
        guardrail_policy=guardrail_policy.strip(),
        guardrail=policy,
        front_door=front_door,
        availability_zones=tuple(azs) if azs else None,
        existing_vpc=existing,
        model_data_urls=dict(model_data_urls),
        tiktoken_encodings_base=encodings,
        s3_prefix_list_id=prefix_list,
        bedrock_inference_profiles=profiled,
        api_client_cidrs=tuple(api_cidrs),
        api_client_security_groups=tuple(api_sgs),
    )


#: the model a region hosts on SageMaker by default, where SageMaker JumpStart offers it
DEFAULT_SAGEMAKER_MODEL = "gpt-oss-20b"


def default_sagemaker_models(region: str) -> list[str]:
    """``sagemaker_models`` when the key is not set: gpt-oss-20b where the catalog says SageMaker JumpStart
    offers it in ``region``, else none (the region is then served by Bedrock: :func:`default_bedrock_models`)."""
    small = catalog.models().get(DEFAULT_SAGEMAKER_MODEL)
    return [DEFAULT_SAGEMAKER_MODEL] if small and region in small.jumpstart_regions else []


def default_bedrock_models(region: str, sagemaker: tuple[str, ...]) -> list[str]:
    """``bedrock_models`` when the key is not set, from the catalog:

    - a region hosting gpt-oss-20b on SageMaker where Bedrock serves gpt-oss-120b in-region: 120b on Bedrock
      (it becomes 20b's fallback);
    - a region hosting nothing on SageMaker: every model Bedrock serves in-region (catalog order, small first);
    - else none.
    """
    offered = [name for name, info in catalog.models().items() if region in info.bedrock_regions]
    if not sagemaker:
        return offered
    return ["gpt-oss-120b"] if "gpt-oss-20b" in sagemaker and "gpt-oss-120b" in offered else []


def _inference_profiles(key: str, value: Any, region: str) -> tuple[str, ...]:
    """Models to call through their geographic cross-Region inference profile: each needs a catalog profile
    whose source regions include ``region``."""
    names = _as_list(key, value)
    for name in names:
        if name not in catalog.models():
            raise ConfigError(f"context key '{key}': unknown model {name!r}; allowed: {', '.join(catalog.model_names())}")
        if catalog.models()[name].inference_profile(region) is None:
            callable_from = sorted({r for p in (catalog.models()[name].inference_profiles or {}).values() for r in p.source_regions})
            raise ConfigError(
                f"context key '{key}': the catalog has no cross-Region inference profile of {name} callable from {region}; "
                f"profiles are callable from: {', '.join(callable_from) or '(none)'}"
            )
    return tuple(names)


def _existing_vpc(key: str, value: Any, region: str) -> ExistingVpc | None:
    raw = _as_mapping(key, value)
    if not raw:
        return None
    required = ("vpc_id", "vpc_cidr", "availability_zones", "isolated_subnet_ids", "route_table_ids")
    missing = [f for f in required if f not in raw]
    unknown = [f for f in raw if f not in required]
    if missing or unknown:
        raise ConfigError(
            f"context key '{key}': "
            + (f"missing field(s) {', '.join(missing)}" if missing else f"unknown field(s) {', '.join(unknown)}")
            + f"; fields: {', '.join(required)}"
        )
    if not re.fullmatch(r"vpc-[0-9a-f]{8,17}", str(raw["vpc_id"])):
        raise ConfigError(f"context key '{key}.vpc_id': expected 'vpc-' and 8 to 17 hex digits, got {raw['vpc_id']!r}")
    try:
        cidr = require_private_cidr(f"{key}.vpc_cidr", str(raw["vpc_cidr"]), min_prefix=8, max_prefix=28)
    except ValueError as err:
        raise ConfigError(f"context key '{err}") from None
    azs = _as_list(f"{key}.availability_zones", raw["availability_zones"])
    subnets = _as_list(f"{key}.isolated_subnet_ids", raw["isolated_subnet_ids"])
    tables = _as_list(f"{key}.route_table_ids", raw["route_table_ids"])
    if len(azs) < 2 or len(subnets) != len(azs) or len(tables) != len(azs):
        raise ConfigError(
            f"context key '{key}': give one isolated subnet and one route table per AZ, in at least 2 AZs; got "
            f"{len(azs)} AZ(s), {len(subnets)} subnet(s), {len(tables)} route table(s)"
        )
    return ExistingVpc(str(raw["vpc_id"]), cidr, tuple(azs), tuple(subnets), tuple(tables))



def _retention_days(value: Any, key: str = "flow_log_retention") -> int:
    days = _as_int(key, 365 if value is None else value, 1, 3653)
    if days not in RETENTION_DAYS:
        raise ConfigError(
            f"context key '{key}': {days} is not a CloudWatch Logs retention (days); "
            f"allowed: {', '.join(map(str, RETENTION_DAYS))}"
        )
    return days


def _construct_rule(key: str, rule: Callable[[], Any]) -> Any:
    """Runs a construct's own validation of a value; its ValueError becomes a ConfigError naming the context key
    (each range or choice is written once, in the construct or the proxy core, and checked from here early)."""
    try:
        return rule()
    except ValueError as err:
        raise ConfigError(f"context key '{key}': {err}") from None


_ARN_OR_ACCOUNT = re.compile(r"\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+)")
_BOUNDARY = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}|aws):policy/[\w+=,.@/-]+")


def _principals(key: str, value: Any) -> tuple[str, ...]:
    items = _as_list(key, value)
    bad = [p for p in items if not _ARN_OR_ACCOUNT.fullmatch(p)]
    if bad:
        raise ConfigError(
            f"context key '{key}': {bad[0]!r} is not a 12-digit account id or an IAM role/user/root ARN "
            "(e.g. arn:aws:iam::111122223333:role/app)"
        )
    return tuple(items)


def _emails(value: Any) -> tuple[str, ...]:
    emails = _as_list("alarm_emails", value)
    bad = [e for e in emails if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", e)]
    if bad:
        raise ConfigError(f"context key 'alarm_emails': {bad[0]!r} is not an e-mail address")
    return tuple(emails)


def _optional(context: Callable[[str], Any], key: str, parse: Callable[[str, Any], Any]) -> Any:
    value = context(key)
    return None if value is None else parse(key, value)


def _int(key: str, value: Any) -> int:
    return _as_int(key, value, -(2**31), 2**31 - 1)  # type only: the construct checks the range


def _routes(value: Any) -> dict[str, dict[str, Any]]:
    """``routes``: route name → {fallback, max_tokens, max_reasoning_effort}; values checked by the proxy's Route."""
    routes = {}
    for name, options in _as_mapping("routes", value).items():
        key = f"routes.{name}"
        if not isinstance(options, dict) or set(options) - set(ROUTE_OPTIONS):
            raise ConfigError(f"context key '{key}': expected an object with {', '.join(ROUTE_OPTIONS)}, got {options!r}")
        parsed = dict(options)
        for option in ("fallback", "handoff"):
            if parsed.get(option) is not None and not isinstance(parsed[option], str):
                raise ConfigError(f"context key '{key}.{option}': expected a route name or null, got {parsed[option]!r}")
        for option in ("max_tokens", "max_reasoning_tokens", "reasoning_tokens"):
            if option in parsed:
                parsed[option] = _int(f"{key}.{option}", parsed[option])
        for option in ("max_tokens", "max_reasoning_effort", "max_reasoning_tokens", "reasoning_tokens", "budget_mode"):
            if option in parsed:
                _construct_rule(f"{key}.{option}", lambda o=option: Route.check_field(o, parsed[o], f"route {name!r} {o}"))
        routes[name] = parsed
    return routes


def _consumers(value: Any) -> tuple[ConsumerPlan, ...]:
    consumers = []
    for name, plan in _as_mapping("api_consumers", value).items():
        if not isinstance(plan, dict) or set(plan) - {"rate_limit", "burst_limit", "quota_per_day"}:
            raise ConfigError(
                f"context key 'api_consumers.{name}': expected an object with rate_limit, burst_limit, quota_per_day, got {plan!r}"
            )
        consumers.append(
            ConsumerPlan(
                name=name,
                rate_limit=_as_int(f"api_consumers.{name}.rate_limit", plan.get("rate_limit", 5), 1, 10000),
                burst_limit=_as_int(f"api_consumers.{name}.burst_limit", plan.get("burst_limit", 10), 1, 5000),
                quota_per_day=_as_int(f"api_consumers.{name}.quota_per_day", plan["quota_per_day"], 1, 10**9)
                if plan.get("quota_per_day") is not None
                else None,
            )
        )
    return tuple(consumers)


def _renamed_keys(context: Callable[[str], Any]) -> None:
    for old, new in RENAMED_KEYS.items():
        if context(old) is not None:
            option = {"fallbacks": "fallback", "route_max_tokens": "max_tokens", "route_max_reasoning_effort": "max_reasoning_effort"}.get(old)
            hint = f"""'routes' with "{option}" per route, e.g. -c routes='{{"gpt-oss-20b": {{"{option}": ...}}}}'""" if option else f"'{new}'"
            raise ConfigError(f"context key '{old}' was renamed: use {hint} (context keys take the construct props' names)")


def _proxy_and_platform_keys(context: Callable[[str], Any]) -> dict[str, Any]:
    """The keys of the proxy, its front door, the platform roles, governance and alarms."""
    streaming = _optional(context, "streaming", _as_bool)
    mode = _optional(context, "guardrail_stream_mode", lambda k, v: v)
    if mode is not None:
        _construct_rule("guardrail_stream_mode", lambda: Settings.check_field("guardrail_stream_mode", mode))
    handoff_cap = _optional(context, "handoff_daily_cap", _int)
    if handoff_cap is not None:
        _construct_rule("handoff_daily_cap", lambda: Settings.check_field("handoff_daily_cap", handoff_cap))
    memory_size = _optional(context, "memory_size", _int)
    timeout = _optional(context, "timeout", _int)
    timeout = Duration.seconds(timeout) if timeout is not None else None
    reserved = _optional(context, "reserved_concurrent_executions", _int)
    for key, value in (("memory_size", memory_size), ("timeout", timeout), ("reserved_concurrent_executions", reserved)):
        if value is not None:
            _construct_rule(key, lambda k=key, v=value: validate_function_props(**{k: v}))
    # a buffered proxy behind the private API is cut at the 29 s integration timeout (InvokeProxy.add_private_api)
    _construct_rule("timeout", lambda: validate_buffered_timeout(streaming=streaming, timeout=timeout))
    max_body_bytes = _optional(context, "max_body_bytes", _int)
    if max_body_bytes is not None:
        _construct_rule("max_body_bytes", lambda: Settings.check_field("max_body_bytes", max_body_bytes))
    escalate = tuple(_as_list("escalate_principals", context("escalate_principals")))
    _construct_rule("escalate_principals", lambda: validate_escalate_principals(escalate))
    log_retention = context("log_retention")
    rate = _optional(context, "throttling_rate_limit", _int)
    burst = _optional(context, "throttling_burst_limit", _int)
    for key, value in (("throttling_rate_limit", rate), ("throttling_burst_limit", burst)):
        if value is not None:
            _construct_rule(key, lambda k=key, v=value: validate_throttling(**{k: v}))
    boundary = context("permissions_boundary")
    if boundary is not None and not _BOUNDARY.fullmatch(str(boundary)):
        raise ConfigError(
            f"context key 'permissions_boundary': expected an IAM managed policy ARN "
            f"(arn:aws:iam::<account>:policy/<name>), got {boundary!r}"
        )
    prefix = context("role_name_prefix")
    if prefix is not None:
        _construct_rule("role_name_prefix", lambda: RoleNamePrefix(str(prefix)))  # the aspect checks its prefix
    return dict(
        streaming=streaming,
        guardrail_stream_mode=mode,
        handoff_daily_cap=handoff_cap,
        handoff_on_high_effort=_optional(context, "handoff_on_high_effort", _as_bool),
        memory_size=memory_size,
        timeout=timeout,
        reserved_concurrent_executions=reserved,
        max_body_bytes=max_body_bytes,
        escalate_principals=escalate,
        log_retention=_retention_days(log_retention, "log_retention") if log_retention is not None else None,
        routes=_routes(context("routes")),
        throttling_rate_limit=rate,
        throttling_burst_limit=burst,
        configure_account_logging_role=_optional(context, "configure_account_logging_role", _as_bool),
        api_consumers=_consumers(context("api_consumers")),
        consumer_principals=_principals("consumer_principals", context("consumer_principals")),
        operator_principals=_principals("operator_principals", context("operator_principals")),
        auditor_principals=_principals("auditor_principals", context("auditor_principals")),
        permissions_boundary=str(boundary) if boundary is not None else None,
        role_name_prefix=str(prefix) if prefix is not None else None,
        alarm_emails=_emails(context("alarm_emails")),
        **_role_trust_keys(context),
        audit_trail=bool(_optional(context, "audit_trail", _as_bool)),
        builtin_cloud_formation_validation=_optional(context, "builtin_cloud_formation_validation", _as_bool) or False,
    )


def _role_trust_keys(context: Callable[[str], Any]) -> dict[str, Any]:
    """``operator_require_mfa``, ``principal_org_id``, ``principal_arns``: checked by PlatformRoles' own rules."""
    from gptoss_constructs.roles import validate_trust_conditions

    org = _optional(context, "principal_org_id", lambda k, v: str(v))
    arns = tuple(_as_list("principal_arns", context("principal_arns")))
    _construct_rule("principal_org_id", lambda: validate_trust_conditions(principal_org_id=org))
    _construct_rule("principal_arns", lambda: validate_trust_conditions(principal_arns=arns))
    return dict(operator_require_mfa=_optional(context, "operator_require_mfa", _as_bool), principal_org_id=org, principal_arns=arns)


def check_routes(routes: Mapping[str, Mapping[str, Any]], regions: Mapping[str, RegionConfig]) -> None:
    """Route names in ``routes`` must be routes of some configured region, and a fallback must be another route
    of every region that has the route."""
    names_by_region = {region: route_names(rc) for region, rc in regions.items()}
    all_names = sorted({n for names in names_by_region.values() for n in names})
    for route, options in routes.items():
        if route not in all_names:
            raise ConfigError(
                f"context key 'routes': {route!r} is not a route in any configured region; routes: {', '.join(all_names)}"
            )
        for option in ("fallback", "handoff"):
            target = options.get(option)
            if target is None:
                continue
            for region, names in names_by_region.items():
                if route in names and (target not in names or target == route):
                    others = [n for n in names if n != route]
                    raise ConfigError(
                        f"context key 'routes.{route}.{option}': {target!r} is not another route in {region}; "
                        f"routes there: {', '.join(others) or '(none)'}"
                    )


def load_config(context: Callable[[str], Any], default_account: str | None = None) -> PlatformConfig:
    """Builds the validated config from a context getter (``app.node.try_get_context``).

    :param default_account: used when the ``account`` key is absent (``CDK_DEFAULT_ACCOUNT``).
    """
    _renamed_keys(context)
    regions = _as_list("regions", context("regions") or "us-east-1")
    if not regions:
        raise ConfigError("context key 'regions': no region given; e.g. -c regions=us-east-1,us-west-2")
    supported = catalog.supported_regions()
    for region in regions:
        if region not in supported:
            raise ConfigError(
                f"context key 'regions': {region!r} is not a supported region; valid regions: {', '.join(supported)}"
            )
    if len(set(regions)) != len(regions):
        raise ConfigError(f"context key 'regions': a region is listed twice in {regions}")

    account = context("account") or default_account or None
    if account is not None:
        account = str(account)
        if not _ACCOUNT.fullmatch(account):
            raise ConfigError(f"context key 'account': expected a 12-digit AWS account id, got {account!r}")

    vpc_cidr = context("vpc_cidr") or "10.80.0.0/16"
    try:
        vpc_cidr = require_private_cidr("vpc_cidr", str(vpc_cidr))
    except ValueError as err:
        raise ConfigError(f"context key '{err}") from None
    # unset: None, and the Network stack creates what each region calls (network_stack.platform_interface_endpoints)
    endpoints = _as_list("interface_endpoints", context("interface_endpoints")) if context("interface_endpoints") is not None else None
    if endpoints is not None:
        _construct_rule("interface_endpoints", lambda: require_choices("interface_endpoints", endpoints, ALL_INTERFACE_ENDPOINTS))

    overrides = _as_mapping("region_overrides", context("region_overrides"))
    for region, values in overrides.items():
        if region not in supported:
            raise ConfigError(
                f"context key 'region_overrides': {region!r} is not a supported region; valid regions: {', '.join(supported)}"
            )
        if not isinstance(values, dict):
            raise ConfigError(f"context key 'region_overrides.{region}': expected an object, got {values!r}")
        bad = [key for key in values if key not in REGION_KEYS]
        if bad:
            raise ConfigError(
                f"context key 'region_overrides.{region}': unknown key(s) {', '.join(bad)}; allowed: {', '.join(REGION_KEYS)}"
            )

    region_configs = {}
    for region in regions:
        merged = {key: context(key) for key in REGION_KEYS if context(key) is not None}
        region_overrides = overrides.get(region, {})
        merged.update(region_overrides)

        def key_path(name: str, _region: str = region, _overridden: Mapping = region_overrides) -> str:
            return f"region_overrides.{_region}.{name}" if name in _overridden else name

        region_configs[region] = _region_config(region, account, merged, key_path)

    max_azs = _int("max_azs", context("max_azs") if context("max_azs") is not None else 2)  # the Network's default
    _construct_rule("max_azs", lambda: validate_network_props(max_azs=max_azs))
    more = _proxy_and_platform_keys(context)
    check_routes(more["routes"], region_configs)
    removal_policy = _as_choice("removal_policy", context("removal_policy") or "retain", tuple(REMOVAL_POLICIES))
    return PlatformConfig(
        regions=tuple(regions),
        account=account,
        vpc_cidr=vpc_cidr,
        max_azs=max_azs,
        interface_endpoints=tuple(endpoints) if endpoints is not None else None,
        flow_log_retention=_retention_days(context("flow_log_retention")),
        removal_policy=REMOVAL_POLICIES[removal_policy],
        region_configs=region_configs,
        cost_assumptions=load_cost_assumptions(context),
        **more,
    )


def load_cost_assumptions(context: Callable[[str], Any]):
    """The cost estimate's request assumptions (context keys ``cost_*``; README "Configuration")."""
    from gptoss_constructs.cost import CostAssumptions

    d = CostAssumptions()
    get = lambda key, default: default if context(key) is None else context(key)  # noqa: E731
    return CostAssumptions(
        requests_per_month=_as_int("cost_requests_per_month", get("cost_requests_per_month", d.requests_per_month), 0, 10**10),
        prompt_tokens=_as_int("cost_prompt_tokens", get("cost_prompt_tokens", d.prompt_tokens), 0, 131072),
        answer_tokens=_as_int("cost_answer_tokens", get("cost_answer_tokens", d.answer_tokens), 0, 131072),
        seconds_per_request=_as_int("cost_seconds_per_request", get("cost_seconds_per_request", d.seconds_per_request), 0, 900),
    )
