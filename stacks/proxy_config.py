"""Config of the invoke proxy, its front door and the platform roles (part of the app's typed config).

Read from CDK context by ``load_proxy_config``; every key is documented in README.md ("Configuration").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from gptoss_constructs._defaults import RETENTION_DAYS
from gptoss_constructs.front_door import BUFFERED_TIMEOUT_QUOTA_SECONDS
from gptoss_constructs.invoke_proxy import DEFAULT_MAX_BODY_BYTES, MAX_BODY_BYTES_LIMIT
from stacks.config import ConfigError, RegionConfig, _as_bool, _as_choice, _as_int, _as_list, _as_mapping

REASONING_EFFORTS = ("low", "medium", "high")
STREAM_MODES = ("safe", "fast")
_ARN_OR_ACCOUNT = re.compile(r"\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+)")
_BOUNDARY = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}|aws):policy/[\w+=,.@/-]+")
_PREFIX = re.compile(r"[\w+=,.@-]{1,32}")


@dataclass(frozen=True)
class ConsumerPlan:
    """A usage plan + API key for one consumer of the private API (chargeback)."""

    name: str
    rate_limit: int
    burst_limit: int
    quota_per_day: int | None


@dataclass(frozen=True)
class ProxyConfig:
    """How the proxy, its front door and the platform roles are set up (same in every region)."""

    streaming: bool = True
    guardrail_stream_mode: str = "safe"
    memory_mb: int = 1024
    timeout_seconds: int = 300
    reserved_concurrency: int | None = None
    fallbacks: Mapping[str, str] | None = None
    route_max_tokens: Mapping[str, int] | None = None
    route_max_reasoning_effort: Mapping[str, str] | None = None
    api_throttle_rate_limit: int = 20
    api_throttle_burst_limit: int = 40
    api_consumers: tuple[ConsumerPlan, ...] = ()
    configure_apigw_account_role: bool = True
    consumer_principals: tuple[str, ...] = ()
    operator_principals: tuple[str, ...] = ()
    auditor_principals: tuple[str, ...] = ()
    permissions_boundary_arn: str | None = None
    role_name_prefix: str | None = None
    alarm_emails: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    escalate_principals: tuple[str, ...] = ()
    log_retention_days: int = 365


def route_names(region: RegionConfig) -> dict[str, tuple[str, str]]:
    """Route name → (backend, model) for a region: the model's name, or ``<model>-bedrock`` when the same
    model is also hosted on SageMaker in that region."""
    routes = {m: ("sagemaker", m) for m in region.sagemaker_models}
    for m in region.bedrock_models:
        routes[f"{m}-bedrock" if m in routes else m] = ("bedrock", m)
    return routes


def default_fallbacks(region: RegionConfig) -> dict[str, str]:
    """Small-model-first: every SageMaker route falls back to the largest Bedrock route of the region."""
    routes = route_names(region)
    bedrock = sorted((r for r, (b, _) in routes.items() if b == "bedrock"), key=lambda r: ("120b" in r, r))
    if not bedrock:
        return {}
    return {r: bedrock[-1] for r, (b, _) in routes.items() if b == "sagemaker"}


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


def _int_map(key: str, value: Any, low: int, high: int) -> dict[str, int]:
    return {route: _as_int(f"{key}.{route}", n, low, high) for route, n in _as_mapping(key, value).items()}


def _escalate_principals(value: Any) -> tuple[str, ...]:
    items = _as_list("escalate_principals", value)
    return ("*",) if items == ["*"] else _principals("escalate_principals", items)


def _log_retention(value: Any) -> int:
    days = _as_int("log_retention", 365 if value is None else value, 1, 3653)
    if days not in RETENTION_DAYS:
        raise ConfigError(
            f"context key 'log_retention': {days} is not a CloudWatch Logs retention (days); "
            f"allowed: {', '.join(map(str, RETENTION_DAYS))}"
        )
    return days


def load_proxy_config(context: Callable[[str], Any]) -> ProxyConfig:
    def get(key: str, default: Any) -> Any:
        value = context(key)
        return default if value is None else value

    consumers = []
    for name, plan in _as_mapping("api_consumers", context("api_consumers")).items():
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
    efforts = _as_mapping("route_max_reasoning_effort", context("route_max_reasoning_effort"))
    for route, effort in efforts.items():
        _as_choice(f"route_max_reasoning_effort.{route}", effort, REASONING_EFFORTS)
    fallbacks = _as_mapping("fallbacks", context("fallbacks"))
    for route, target in fallbacks.items():
        if target is not None and not isinstance(target, str):
            raise ConfigError(f"context key 'fallbacks.{route}': expected a route name or null, got {target!r}")
    boundary = context("permissions_boundary_arn")
    if boundary is not None and not _BOUNDARY.fullmatch(str(boundary)):
        raise ConfigError(
            f"context key 'permissions_boundary_arn': expected an IAM managed policy ARN "
            f"(arn:aws:iam::<account>:policy/<name>), got {boundary!r}"
        )
    prefix = context("role_name_prefix")
    if prefix is not None and not _PREFIX.fullmatch(str(prefix)):
        raise ConfigError(
            f"context key 'role_name_prefix': expected 1 to 32 letters, digits or +=,.@_-, got {prefix!r}"
        )
    streaming = _as_bool("proxy_streaming", get("proxy_streaming", True))
    timeout = _as_int("proxy_timeout_seconds", get("proxy_timeout_seconds", 300), 10, 900)
    if not streaming and timeout > BUFFERED_TIMEOUT_QUOTA_SECONDS:
        raise ConfigError(
            f"context key 'proxy_timeout_seconds': {timeout} is longer than the {BUFFERED_TIMEOUT_QUOTA_SECONDS} s a "
            f"buffered private API integration waits (proxy_streaming=false); set proxy_timeout_seconds to at most "
            f"{BUFFERED_TIMEOUT_QUOTA_SECONDS} or keep proxy_streaming=true"
        )
    return ProxyConfig(
        streaming=streaming,
        guardrail_stream_mode=_as_choice("guardrail_stream_mode", get("guardrail_stream_mode", "safe"), STREAM_MODES),
        memory_mb=_as_int("proxy_memory_mb", get("proxy_memory_mb", 1024), 128, 10240),
        timeout_seconds=timeout,
        reserved_concurrency=_as_int("proxy_reserved_concurrency", context("proxy_reserved_concurrency"), 1, 1000)
        if context("proxy_reserved_concurrency") is not None
        else None,
        fallbacks=fallbacks or None,
        route_max_tokens=_int_map("route_max_tokens", context("route_max_tokens"), 1, 131072) or None,
        route_max_reasoning_effort=efforts or None,
        api_throttle_rate_limit=_as_int("api_throttle_rate_limit", get("api_throttle_rate_limit", 20), 1, 10000),
        api_throttle_burst_limit=_as_int("api_throttle_burst_limit", get("api_throttle_burst_limit", 40), 1, 5000),
        api_consumers=tuple(consumers),
        configure_apigw_account_role=_as_bool("configure_apigw_account_role", get("configure_apigw_account_role", True)),
        consumer_principals=_principals("consumer_principals", context("consumer_principals")),
        operator_principals=_principals("operator_principals", context("operator_principals")),
        auditor_principals=_principals("auditor_principals", context("auditor_principals")),
        permissions_boundary_arn=str(boundary) if boundary is not None else None,
        role_name_prefix=str(prefix) if prefix is not None else None,
        alarm_emails=_emails(context("alarm_emails")),
        max_body_bytes=_as_int("max_body_bytes", get("max_body_bytes", DEFAULT_MAX_BODY_BYTES), 1024, MAX_BODY_BYTES_LIMIT),
        escalate_principals=_escalate_principals(context("escalate_principals")),
        log_retention_days=_log_retention(context("log_retention")),
    )


def check_routes(proxy: ProxyConfig, regions: Mapping[str, RegionConfig]) -> None:
    """Route names in ``fallbacks`` and the caps must be routes of some configured region, and a fallback must
    be another route of every region that has the route."""
    names_by_region = {region: route_names(rc) for region, rc in regions.items()}
    all_names = sorted({n for names in names_by_region.values() for n in names})
    for key in ("fallbacks", "route_max_tokens", "route_max_reasoning_effort"):
        for route, target in (getattr(proxy, key) or {}).items():
            if route not in all_names:
                raise ConfigError(
                    f"context key '{key}': {route!r} is not a route in any configured region; routes: {', '.join(all_names)}"
                )
            if key != "fallbacks" or target is None:
                continue
            for region, names in names_by_region.items():
                if route in names and (target not in names or target == route):
                    others = [n for n in names if n != route]
                    raise ConfigError(
                        f"context key 'fallbacks.{route}': {target!r} is not another route in {region}; "
                        f"routes there: {', '.join(others) or '(none)'}"
                    )
