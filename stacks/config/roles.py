"""The platform roles' and governance keys: who may assume the consumer, operator and auditor roles, their trust
conditions, the permissions boundary and the role-name prefix. Principal and trust rules are the constructs'."""

from __future__ import annotations

import re
from typing import Any, Callable

from gptoss_constructs._validation import require_principals
from gptoss_constructs.governance import RoleNamePrefix
from gptoss_constructs.roles import validate_trust_conditions
from stacks.config.parse import ConfigError, as_bool, as_list, construct_rule, optional

#: an IAM managed policy ARN (customer or AWS managed); only the config reads it as text
_BOUNDARY = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}|aws):policy/[\w+=,.@/-]+")


def principals(key: str, value: Any) -> tuple[str, ...]:
    """Account ids or IAM role/user/root ARNs (``stacks.proxy_stack.principal`` turns each into a principal)."""
    items = as_list(key, value)
    construct_rule(key, lambda: require_principals(key, items))
    return tuple(items)


def role_keys(context: Callable[[str], Any]) -> dict[str, Any]:
    """PlatformRoles' principals and trust conditions, and the governance aspect's boundary and prefix."""
    boundary = context("permissions_boundary")
    if boundary is not None and not _BOUNDARY.fullmatch(str(boundary)):
        raise ConfigError(
            f"context key 'permissions_boundary': expected an IAM managed policy ARN "
            f"(arn:aws:iam::<account>:policy/<name>), got {boundary!r}"
        )
    prefix = context("role_name_prefix")
    if prefix is not None:
        construct_rule("role_name_prefix", lambda: RoleNamePrefix(str(prefix)))  # the aspect checks its prefix
    org = optional(context, "principal_org_id", lambda k, v: str(v))
    arns = tuple(as_list("principal_arns", context("principal_arns")))
    construct_rule("principal_org_id", lambda: validate_trust_conditions(principal_org_id=org))
    construct_rule("principal_arns", lambda: validate_trust_conditions(principal_arns=arns))
    per_role = {}
    for key in ("operator_principal_arns", "auditor_principal_arns"):
        if context(key) is not None:
            values = tuple(as_list(key, context(key)))
            construct_rule(key, lambda v=values: validate_trust_conditions(principal_arns=v))
            per_role[key] = values
    return dict(
        operator_principal_arns=per_role.get("operator_principal_arns"),
        auditor_principal_arns=per_role.get("auditor_principal_arns"),
        auditor_require_mfa=optional(context, "auditor_require_mfa", as_bool),
        consumer_principals=principals("consumer_principals", context("consumer_principals")),
        operator_principals=principals("operator_principals", context("operator_principals")),
        auditor_principals=principals("auditor_principals", context("auditor_principals")),
        permissions_boundary=str(boundary) if boundary is not None else None,
        role_name_prefix=str(prefix) if prefix is not None else None,
        operator_require_mfa=optional(context, "operator_require_mfa", as_bool),
        principal_org_id=org,
        principal_arns=arns,
    )
