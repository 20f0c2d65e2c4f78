"""Defaults and small conversions shared by our constructs."""

from __future__ import annotations

import weakref
from typing import Sequence

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

#: CloudWatch Logs retention values (days) in the order of ``logs.RetentionDays`` (jsii enums carry names)
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
_RETENTION_BY_DAYS = dict(zip(RETENTION_DAYS, [m for m in logs.RetentionDays if m.name != "INFINITE"]))


def retention_from_days(days: int) -> logs.RetentionDays:
    """``365`` → ``RetentionDays.ONE_YEAR``; raises ValueError for a value CloudWatch Logs does not accept."""
    try:
        return _RETENTION_BY_DAYS[days]
    except KeyError:
        raise ValueError(
            f"retention must be one of {', '.join(map(str, RETENTION_DAYS))} days, got {days!r}"
        ) from None


def new_key(scope: Construct, id: str, *, description: str, removal_policy: RemovalPolicy) -> kms.Key:
    """A customer-managed KMS key with yearly rotation (the default wherever a construct needs a key)."""
    return kms.Key(scope, id, description=description, enable_key_rotation=True, removal_policy=removal_policy)


#: what CloudWatch Logs may do with a log group's key: the key-policy form of the CloudWatch Logs user guide,
#: "Encrypt log data in CloudWatch Logs using AWS KMS" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/
#: encrypt-log-data-kms.html, step 2): these wildcards, under kms:EncryptionContext:aws:logs:arn. A key policy, so
#: no identity-policy wildcard finding (cdk-nag IAM5 reads IAM policies only).
LOGS_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*")
#: the guide's ``kms:Describe*`` in its own statement: DescribeKey requests carry no encryption context (policy-
#: sentry's IAM database lists no kms:EncryptionContext key for kms:DescribeKey), so under that condition it would
#: never be allowed
LOGS_DESCRIBE_ACTIONS = ("kms:Describe*",)
#: each key's log-group scope so far (one pair of statements per key, widened as groups are added)
_LOGS_SCOPES: "weakref.WeakKeyDictionary[kms.IKey, dict]" = weakref.WeakKeyDictionary()


def allow_cloudwatch_logs(
    key: kms.IKey,
    *,
    log_group_names: Sequence[str] | None = None,
    sid: str = "AllowCloudWatchLogsOfThisAccountAndRegion",
) -> None:
    """Lets CloudWatch Logs of this account and region use ``key`` for the named log groups (no-op for an imported
    key: the caller's key policy must allow it, see README "Encrypted log group fails to create").

    CloudWatch Logs encrypts a log group only if the key policy allows the regional service. The statement is the
    one the CloudWatch Logs user guide documents ("Encrypt log data in CloudWatch Logs using AWS KMS"): principal
    ``logs.<region>.amazonaws.com``, ``kms:Encrypt*``, ``Decrypt*``, ``ReEncrypt*``, ``GenerateDataKey*`` under
    ``ArnLike kms:EncryptionContext:aws:logs:arn`` (the log group's ARN is the context value), plus ``kms:Describe*``
    in a statement of its own (no encryption context on DescribeKey).

    :param log_group_names: names (exact, or a prefix ending in ``*``) of the log groups that use the key; every
        call adds to the same statement. Default: - any log group of this account and region (``log-group:*``): a
        group whose name CloudFormation generates cannot be named in its own key's policy (the group references
        the key, so the key referencing the group is a circular dependency), and CloudFormation documents no
        format for generated names to scope by prefix.
    """
    stack = Stack.of(key)
    scope = _LOGS_SCOPES.get(key)
    if scope is None:
        principal = iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")
        statement = iam.PolicyStatement(sid=sid, principals=[principal], actions=list(LOGS_KEY_ACTIONS), resources=["*"])
        scope = _LOGS_SCOPES[key] = {"names": [], "any": False, "statement": statement}
        key.add_to_resource_policy(statement)
        key.add_to_resource_policy(
            iam.PolicyStatement(sid=f"{sid}Describe", principals=[principal], actions=list(LOGS_DESCRIBE_ACTIONS), resources=["*"])
        )
    if log_group_names is None:
        scope["any"] = True
    else:
        scope["names"].extend(log_group_names)
    base = f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:"
    arns = [f"{base}*"] if scope["any"] else [f"{base}{name}" for name in dict.fromkeys(scope["names"])]
    # the statement is rendered at synth, so widening it here covers every group added so far
    scope["statement"].add_condition("ArnLike", {"kms:EncryptionContext:aws:logs:arn": arns[0] if len(arns) == 1 else arns})


def encrypted_log_group(
    scope: Construct,
    id: str,
    *,
    key: kms.IKey,
    retention: logs.RetentionDays,
    removal_policy: RemovalPolicy,
    log_group_name: str | None = None,
) -> logs.LogGroup:
    """A log group encrypted with ``key`` (whose policy is opened to CloudWatch Logs for this group's name when it
    is given, else for any group of the account and region) and a retention."""
    allow_cloudwatch_logs(key, log_group_names=[log_group_name] if log_group_name else None)
    group = logs.LogGroup(
        scope, id, encryption_key=key, retention=retention, removal_policy=removal_policy, log_group_name=log_group_name
    )
    return group


def nag_resource(scope: Construct, value: str) -> str:
    """How cdk-nag writes a resource in a granular finding id (``Resource::...``): intrinsic parts of the
    resolved value become ``<AWS::AccountId>``, ``<LogicalId>`` or ``<LogicalId.Attr>``."""
    return "Resource::" + nag_render(Stack.of(scope).resolve(value))


def nag_render(node: object) -> str:
    """A resolved CloudFormation value as cdk-nag flattens it in finding ids (its ``flattenCfnReference``):
    joins joined, ``Fn::Sub``'s ``${...}`` as ``<...>``, Ref as ``<LogicalId>``, GetAtt as ``<LogicalId.Attr>``."""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict) and "Fn::Join" in node:
        sep, parts = node["Fn::Join"]
        return sep.join(nag_render(p) for p in parts)
    if isinstance(node, dict) and "Fn::Sub" in node:
        sub = node["Fn::Sub"]
        return nag_render(sub if isinstance(sub, str) else sub[0])
    if isinstance(node, dict) and "Ref" in node:
        return f"<{node['Ref']}>"
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        return f"<{'.'.join(node['Fn::GetAtt'])}>"
    raise ValueError(f"cannot render {node!r} as a cdk-nag resource")
