"""The invoke proxy's and its private front door's keys (InvokeProxy and PrivateApiFrontDoor props), and the
API consumers. Ranges and choices are the constructs' and the proxy core's own rules, named by their key here."""

from __future__ import annotations

from typing import Any, Callable

from aws_cdk import Duration

from gptoss_constructs.front_door import validate_throttling
from gptoss_constructs.invoke_proxy import validate_buffered_timeout, validate_escalate_principals, validate_function_props
from gptoss_invoke_proxy_asset.gptoss_proxy.core.settings import Settings
from stacks.config.model import ConsumerPlan
from stacks.config.parse import ConfigError, as_bool, as_int, as_int32, as_list, as_mapping, construct_rule, optional, retention_days
from stacks.config.routes import parse_routes


def proxy_keys(context: Callable[[str], Any]) -> dict[str, Any]:
    """The keys of the proxy and its front door (``PlatformConfig`` fields of the same names)."""
    streaming = optional(context, "streaming", as_bool)
    mode = optional(context, "guardrail_stream_mode", lambda k, v: v)
    if mode is not None:
        construct_rule("guardrail_stream_mode", lambda: Settings.check_field("guardrail_stream_mode", mode))
    handoff_cap = optional(context, "handoff_daily_cap", as_int32)
    if handoff_cap is not None:
        construct_rule("handoff_daily_cap", lambda: Settings.check_field("handoff_daily_cap", handoff_cap))
    first_batch = optional(context, "guardrail_first_batch_chars", as_int32)
    if first_batch is not None:
        construct_rule("guardrail_first_batch_chars", lambda: Settings.check_field("guardrail_first_batch_chars", first_batch))
    memory_size = optional(context, "memory_size", as_int32)
    timeout = optional(context, "timeout", as_int32)
    timeout = Duration.seconds(timeout) if timeout is not None else None
    reserved = optional(context, "reserved_concurrent_executions", as_int32)
    construct_rule("memory_size", lambda: validate_function_props(memory_size=memory_size))
    construct_rule("timeout", lambda: validate_function_props(timeout=timeout))
    construct_rule("reserved_concurrent_executions", lambda: validate_function_props(reserved_concurrent_executions=reserved))
    # a buffered proxy behind the private API is cut at the 29 s integration timeout (InvokeProxy.add_private_api)
    construct_rule("timeout", lambda: validate_buffered_timeout(streaming=streaming, timeout=timeout))
    max_body_bytes = optional(context, "max_body_bytes", as_int32)
    if max_body_bytes is not None:
        construct_rule("max_body_bytes", lambda: Settings.check_field("max_body_bytes", max_body_bytes))
    escalate = tuple(as_list("escalate_principals", context("escalate_principals")))
    construct_rule("escalate_principals", lambda: validate_escalate_principals(escalate))
    log_retention = context("log_retention")
    rate = optional(context, "throttling_rate_limit", as_int32)
    burst = optional(context, "throttling_burst_limit", as_int32)
    for key, value in (("throttling_rate_limit", rate), ("throttling_burst_limit", burst)):
        if value is not None:
            construct_rule(key, lambda k=key, v=value: validate_throttling(**{k: v}))
    return dict(
        streaming=streaming,
        guardrail_stream_mode=mode,
        guardrail_first_batch_chars=first_batch,
        handoff_daily_cap=handoff_cap,
        handoff_on_high_effort=optional(context, "handoff_on_high_effort", as_bool),
        memory_size=memory_size,
        timeout=timeout,
        reserved_concurrent_executions=reserved,
        max_body_bytes=max_body_bytes,
        escalate_principals=escalate,
        log_retention=retention_days(log_retention, "log_retention") if log_retention is not None else None,
        routes=parse_routes(context("routes")),
        throttling_rate_limit=rate,
        throttling_burst_limit=burst,
        configure_account_logging_role=optional(context, "configure_account_logging_role", as_bool),
        api_consumers=parse_consumers(context("api_consumers")),
    )


def parse_consumers(value: Any) -> tuple[ConsumerPlan, ...]:
    consumers = []
    for name, plan in as_mapping("api_consumers", value).items():
        if not isinstance(plan, dict) or set(plan) - {"rate_limit", "burst_limit", "quota_per_day"}:
            raise ConfigError(
                f"context key 'api_consumers.{name}': expected an object with rate_limit, burst_limit, quota_per_day, got {plan!r}"
            )
        consumers.append(
            ConsumerPlan(
                name=name,
                rate_limit=as_int(f"api_consumers.{name}.rate_limit", plan.get("rate_limit", 5), 1, 10000),
                burst_limit=as_int(f"api_consumers.{name}.burst_limit", plan.get("burst_limit", 10), 1, 5000),
                quota_per_day=as_int(f"api_consumers.{name}.quota_per_day", plan["quota_per_day"], 1, 10**9)
                if plan.get("quota_per_day") is not None
                else None,
            )
        )
    return tuple(consumers)
