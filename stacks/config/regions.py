"""Per-region keys: which models a region serves (defaults from the catalog), how they are hosted, and its
network; ``region_overrides`` sets any of ``REGION_KEYS`` for one region."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from gptoss_constructs import catalog
from gptoss_constructs._validation import (
    require_absolute_directory,
    require_availability_zones,
    require_private_cidr,
    require_s3_prefix,
)
from gptoss_constructs.endpoint import validate_autoscaling
from gptoss_constructs.guardrail_policy import PolicyError, load_policy
from stacks.config.model import ExistingVpc, RegionConfig
from stacks.config.parse import ConfigError, as_bool, as_choice, as_int32, as_list, as_mapping, construct_rule, key_error

FRONT_DOORS = ("private-api",)
#: front doors that existed once, and why they are gone (the error names what to use instead)
REMOVED_FRONT_DOORS = {
    "function-url": "Lambda function URLs are reachable only over the public internet (Lambda developer guide, "
    "'Lambda function URLs': PrivateLink does not cover them); use 'private-api'",
}

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

_INSTANCE = re.compile(r"ml\.[a-z0-9]+\.[a-z0-9]+")

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


def models(key: str, value: Any, region: str, offered: Callable[[catalog.ModelInfo], tuple[str, ...]], service: str) -> tuple[str, ...]:
    names = as_list(key, value)
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


def region_config(region: str, account: str | None, ctx: Mapping[str, Any], k: Callable[[str], str]) -> RegionConfig:
    """``k(name)`` gives the full key path for messages (``region_overrides.<region>.<name>`` when overridden)."""

    sagemaker_value = ctx.get("sagemaker_models")
    if sagemaker_value is None:
        sagemaker_value = default_sagemaker_models(region)
    sagemaker = models(k("sagemaker_models"), sagemaker_value, region, lambda m: m.jumpstart_regions, "SageMaker JumpStart")
    profiled = inference_profiles(k("bedrock_inference_profiles"), ctx.get("bedrock_inference_profiles"), region)
    bedrock_value = ctx.get("bedrock_models")
    if bedrock_value is None:
        bedrock_value = default_bedrock_models(region, sagemaker)
    bedrock = models(
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
    instance_types = as_mapping(k("instance_types"), ctx.get("instance_types"))
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
        construct_rule(k("instance_types"), lambda: catalog.validate_hosting(model, region, itype))
    low = as_int32(k("autoscaling_min_capacity"), ctx.get("autoscaling_min_capacity", 1))
    high = as_int32(k("autoscaling_max_capacity"), ctx.get("autoscaling_max_capacity", 2))
    scale_to_zero = as_bool(k("scale_to_zero"), ctx.get("scale_to_zero", False))
    try:  # GptOssEndpoint.add_autoscaling's ranges; its error names min_capacity or max_capacity
        validate_autoscaling(min_capacity=low, max_capacity=high, scale_to_zero=scale_to_zero, max_instance_count=high)
    except ValueError as err:
        raise key_error(k("autoscaling_max_capacity" if str(err).startswith("max_capacity") else "autoscaling_min_capacity"), err) from None
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
    front_door = as_choice(k("front_door"), front_door, FRONT_DOORS)

    azs = as_list(k("availability_zones"), ctx.get("availability_zones")) or None
    if azs is not None:
        construct_rule(k("availability_zones"), lambda: require_availability_zones("availability_zones", azs, region))
    elif account is not None:
        azs = catalog.default_availability_zones(region)
        if azs is None:
            raise ConfigError(
                f"context key '{k('availability_zones')}': an explicit account is set and the catalog has no AZ "
                f"names for {region}; set availability_zones for it (e.g. {region}a,{region}b)"
            )
    existing = existing_vpc(k("existing_vpc"), ctx.get("existing_vpc"), region)
    model_data_urls = as_mapping(k("model_data_urls"), ctx.get("model_data_urls"))
    for model, url in model_data_urls.items():
        if model not in sagemaker:
            raise ConfigError(f"context key '{k('model_data_urls')}': {model!r} is not a SageMaker model in {region}; allowed: {', '.join(sagemaker) or '(none)'}")
        construct_rule(k("model_data_urls"), lambda: require_s3_prefix(f"model_data_url of {model}", url))
    encodings = ctx.get("tiktoken_encodings_base")
    if encodings is not None:
        construct_rule(k("tiktoken_encodings_base"), lambda: require_absolute_directory("tiktoken_encodings_base", encodings))
    prefix_list = ctx.get("s3_prefix_list_id")
    if prefix_list is not None and not (isinstance(prefix_list, str) and re.fullmatch(r"pl-[0-9a-f]{8,17}", prefix_list)):
        raise ConfigError(f"context key '{k('s3_prefix_list_id')}': expected the id of com.amazonaws.{region}.s3 ('pl-' and 8 to 17 hex digits), got {prefix_list!r}")
    api_cidrs = []
    for cidr in as_list(k("api_client_cidrs"), ctx.get("api_client_cidrs")):
        # the construct's rule, named by the context key
        api_cidrs.append(construct_rule(k("api_client_cidrs"), lambda: require_private_cidr("api_client_cidrs", cidr, min_prefix=8, max_prefix=32)))
    api_sgs = as_list(k("api_client_security_groups"), ctx.get("api_client_security_groups"))
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


def inference_profiles(key: str, value: Any, region: str) -> tuple[str, ...]:
    """Models to call through their geographic cross-Region inference profile: each needs a catalog profile
    whose source regions include ``region``."""
    names = as_list(key, value)
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


def existing_vpc(key: str, value: Any, region: str) -> ExistingVpc | None:
    raw = as_mapping(key, value)
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
    cidr = construct_rule(f"{key}.vpc_cidr", lambda: require_private_cidr("vpc_cidr", str(raw["vpc_cidr"]), min_prefix=8, max_prefix=28))
    azs = as_list(f"{key}.availability_zones", raw["availability_zones"])
    construct_rule(f"{key}.availability_zones", lambda: require_availability_zones("availability_zones", azs, region))
    subnets = as_list(f"{key}.isolated_subnet_ids", raw["isolated_subnet_ids"])
    tables = as_list(f"{key}.route_table_ids", raw["route_table_ids"])
    if len(azs) < 2 or len(subnets) != len(azs) or len(tables) != len(azs):
        raise ConfigError(
            f"context key '{key}': give one isolated subnet and one route table per AZ, in at least 2 AZs; got "
            f"{len(azs)} AZ(s), {len(subnets)} subnet(s), {len(tables)} route table(s)"
        )
    return ExistingVpc(str(raw["vpc_id"]), cidr, tuple(azs), tuple(subnets), tuple(tables))


def region_configs(context: Callable[[str], Any], regions: Sequence[str], account: str | None) -> dict[str, RegionConfig]:
    """One :class:`RegionConfig` per region: the top-level keys of ``REGION_KEYS``, then ``region_overrides``."""
    supported = catalog.supported_regions()
    overrides = as_mapping("region_overrides", context("region_overrides"))
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

    configs = {}
    for region in regions:
        merged = {key: context(key) for key in REGION_KEYS if context(key) is not None}
        region_overrides = overrides.get(region, {})
        merged.update(region_overrides)

        def key_path(name: str, _region: str = region, _overridden: Mapping = region_overrides) -> str:
            return f"region_overrides.{_region}.{name}" if name in _overridden else name

        configs[region] = region_config(region, account, merged, key_path)
    return configs
