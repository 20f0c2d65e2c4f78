"""Alarms, audit and cost keys: ``alarm_emails`` (PlatformMonitoring's rule), ``audit_trail`` and the cost
estimate's ``cost_*`` assumptions."""

from __future__ import annotations

from typing import Any, Callable

from gptoss_constructs._validation import require_email_addresses
from stacks.config.parse import as_bool, as_int, as_list, construct_rule, optional


def alarm_emails(value: Any) -> tuple[str, ...]:
    """``alarm_emails``: validated once, by the rule PlatformMonitoring applies to its ``alarm_emails`` prop."""
    emails = as_list("alarm_emails", value)
    construct_rule("alarm_emails", lambda: require_email_addresses("alarm_emails", emails))
    return tuple(emails)


def monitoring_keys(context: Callable[[str], Any]) -> dict[str, Any]:
    return dict(
        alarm_emails=alarm_emails(context("alarm_emails")),
        audit_trail=bool(optional(context, "audit_trail", as_bool)),
    )


def load_cost_assumptions(context: Callable[[str], Any]):
    """The cost estimate's request assumptions (context keys ``cost_*``; README "Configuration")."""
    from gptoss_constructs.cost import CostAssumptions

    d = CostAssumptions()
    get = lambda key, default: default if context(key) is None else context(key)  # noqa: E731
    return CostAssumptions(
        requests_per_month=as_int("cost_requests_per_month", get("cost_requests_per_month", d.requests_per_month), 0, 10**10),
        prompt_tokens=as_int("cost_prompt_tokens", get("cost_prompt_tokens", d.prompt_tokens), 0, 131072),
        answer_tokens=as_int("cost_answer_tokens", get("cost_answer_tokens", d.answer_tokens), 0, 131072),
        seconds_per_request=as_int("cost_seconds_per_request", get("cost_seconds_per_request", d.seconds_per_request), 0, 900),
    )
