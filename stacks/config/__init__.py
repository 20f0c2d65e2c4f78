"""The app's configuration: read once from CDK context (cdk.json or ``-c key=value``), typed and validated.

Every key is documented in README.md ("Configuration"). Errors name the key, the bad value and the allowed
values, and are raised before any construct is built. One module per concern:

- ``model``: the typed result (``PlatformConfig``, ``RegionConfig``, ...);
- ``parse``: reading JSON / ``-c`` strings, and ``construct_rule``, which runs a construct's own rule and names the
  context key of a bad value (each rule has one home: the construct, or the proxy core);
- ``regions``: per-region keys, catalog defaults and ``region_overrides``;
- ``routes``: route names, default fallbacks / handoffs, and the ``routes`` key;
- ``proxy``, ``roles``, ``monitoring``: the proxy and front door, the platform roles and governance, alarms and cost.

``from stacks.config import ...`` keeps working for every name it exported before the split.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from aws_cdk import RemovalPolicy

from gptoss_constructs import catalog
from gptoss_constructs._validation import require_choices, require_private_cidr
from gptoss_constructs.network import ALL_INTERFACE_ENDPOINTS, validate_network_props
from stacks.config.model import ConsumerPlan, ExistingVpc, PlatformConfig, RegionConfig
from stacks.config.monitoring import load_cost_assumptions, monitoring_keys
from stacks.config.parse import ConfigError, as_bool, as_choice, as_int32, as_list, construct_rule, optional, retention_days
from stacks.config.proxy import proxy_keys
from stacks.config.regions import (
    DEFAULT_SAGEMAKER_MODEL,
    FRONT_DOORS,
    REGION_KEYS,
    REMOVED_FRONT_DOORS,
    default_bedrock_models,
    default_sagemaker_models,
    region_configs,
)
from stacks.config.roles import role_keys
from stacks.config.routes import ROUTE_OPTIONS, check_routes, default_fallbacks, default_handoffs, route_names

__all__ = [
    "DEFAULT_SAGEMAKER_MODEL",
    "FRONT_DOORS",
    "REGION_KEYS",
    "REMOVAL_POLICIES",
    "REMOVED_FRONT_DOORS",
    "RENAMED_KEYS",
    "ROUTE_OPTIONS",
    "ConfigError",
    "ConsumerPlan",
    "ExistingVpc",
    "PlatformConfig",
    "RegionConfig",
    "check_routes",
    "default_bedrock_models",
    "default_fallbacks",
    "default_handoffs",
    "default_sagemaker_models",
    "load_config",
    "load_cost_assumptions",
    "route_names",
]

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

_ACCOUNT = re.compile(r"\d{12}")


def _renamed_keys(context: Callable[[str], Any]) -> None:
    for old, new in RENAMED_KEYS.items():
        if context(old) is not None:
            option = {"fallbacks": "fallback", "route_max_tokens": "max_tokens", "route_max_reasoning_effort": "max_reasoning_effort"}.get(old)
            hint = f"""'routes' with "{option}" per route, e.g. -c routes='{{"gpt-oss-20b": {{"{option}": ...}}}}'""" if option else f"'{new}'"
            raise ConfigError(f"context key '{old}' was renamed: use {hint} (context keys take the construct props' names)")


#: what a guardrail policy must mask or block for each compliance target (context key ``compliance``): PCI DSS
#: v4.0 3.3.1 / 3.4.1 (no sensitive authentication data such as the card verification code after authorization;
#: PAN unreadable), HIPAA 164.514(b)(2) Safe Harbor identifiers the guardrail's PII types can detect
COMPLIANCE_PII: dict[str, tuple[str, ...]] = {
    "pci": ("CREDIT_DEBIT_CARD_NUMBER", "CREDIT_DEBIT_CARD_CVV", "CREDIT_DEBIT_CARD_EXPIRY"),
    "hipaa": ("NAME", "ADDRESS", "PHONE", "EMAIL", "AGE", "US_SOCIAL_SECURITY_NUMBER", "IP_ADDRESS", "DRIVER_ID"),
}


def compliance_target(value: Any, configs: Mapping[str, Any]) -> tuple[str, ...]:
    """``compliance`` (``pci``, ``hipaa`` or both, comma-separated): every region's guardrail policy must mask or
    block the PII types the target needs (``COMPLIANCE_PII``); the presets ``pii-redact`` and ``strict`` do."""
    targets = as_list("compliance", value) if value is not None else []
    bad = [t for t in targets if t not in COMPLIANCE_PII]
    if bad:
        raise ConfigError(f"context key 'compliance': {bad[0]!r} is not a compliance target; allowed: {', '.join(COMPLIANCE_PII)}")
    for target in targets:
        for region, rc in configs.items():
            covered = {p.type for p in rc.guardrail.pii_entities}
            missing = [t for t in COMPLIANCE_PII[target] if t not in covered]
            if missing:
                raise ConfigError(
                    f"context key 'compliance': {target} needs the guardrail to mask or block {', '.join(missing)}, which "
                    f"{rc.guardrail_policy!r} in {region} does not; set guardrail_policy=pii-redact or strict (or a policy "
                    "file that lists them under pii_entities)"
                )
    return tuple(targets)


def load_config(context: Callable[[str], Any], default_account: str | None = None) -> PlatformConfig:
    """Builds the validated config from a context getter (``app.node.try_get_context``).

    :param default_account: used when the ``account`` key is absent (``CDK_DEFAULT_ACCOUNT``).
    """
    _renamed_keys(context)
    regions = as_list("regions", context("regions") or "us-east-1")
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

    vpc_cidr = str(context("vpc_cidr") or "10.80.0.0/16")
    vpc_cidr = construct_rule("vpc_cidr", lambda: require_private_cidr("vpc_cidr", vpc_cidr))
    # unset: None, and the Network stack creates what each region calls (network_stack.platform_interface_endpoints)
    endpoints = as_list("interface_endpoints", context("interface_endpoints")) if context("interface_endpoints") is not None else None
    if endpoints is not None:
        construct_rule("interface_endpoints", lambda: require_choices("interface_endpoints", endpoints, ALL_INTERFACE_ENDPOINTS))

    configs = region_configs(context, regions, account)
    compliance_target(context("compliance"), configs)
    max_azs = as_int32("max_azs", context("max_azs") if context("max_azs") is not None else 2)  # the Network's default
    construct_rule("max_azs", lambda: validate_network_props(max_azs=max_azs))
    construct_rule("vpc_cidr", lambda: validate_network_props(vpc_cidr=vpc_cidr, max_azs=max_azs))
    more = {**proxy_keys(context), **role_keys(context), **monitoring_keys(context)}
    more["builtin_cloud_formation_validation"] = optional(context, "builtin_cloud_formation_validation", as_bool) or False
    check_routes(more["routes"], configs)
    removal_policy = as_choice("removal_policy", context("removal_policy") or "retain", tuple(REMOVAL_POLICIES))
    return PlatformConfig(
        regions=tuple(regions),
        account=account,
        vpc_cidr=vpc_cidr,
        max_azs=max_azs,
        interface_endpoints=tuple(endpoints) if endpoints is not None else None,
        flow_log_retention=retention_days(context("flow_log_retention")),
        removal_policy=REMOVAL_POLICIES[removal_policy],
        region_configs=configs,
        cost_assumptions=load_cost_assumptions(context),
        **more,
    )
