"""Organisation guard rails for every role the app creates: a permissions boundary and a role-name prefix."""

from __future__ import annotations

import re

import jsii
from aws_cdk import Aspects, CfnResource, IAspect, Names, Stack
from aws_cdk import aws_iam as iam
from constructs import IConstruct

_PREFIX = re.compile(r"[\w+=,.@-]{1,32}")
_MAX_ROLE_NAME = 64


@jsii.implements(IAspect)
class RoleNamePrefix:
    """Names every IAM role in scope ``<prefix><unique id>`` (≤ 64 characters), unless it already has a name.

    Many organisations only let a deployment role create roles under a fixed prefix (``iam:CreateRole`` on
    ``role/<prefix>*``). Fixed names mean a role is replaced, not renamed, when its construct path changes.
    """

    def __init__(self, prefix: str) -> None:
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(
                f"role_name_prefix must be 1 to 32 characters of letters, digits and +=,.@_-, got {prefix!r}"
            )
        self.prefix = prefix

    def visit(self, node: IConstruct) -> None:
        # CfnRole of iam.Role, and the plain CfnResource roles of custom-resource providers
        if isinstance(node, CfnResource) and node.cfn_resource_type == "AWS::IAM::Role":
            # iam.Role leaves an unnamed role's RoleName as a token that resolves to nothing
            if Stack.of(node).resolve(getattr(node, "role_name", None)) is None:
                node.add_property_override("RoleName", self._name(node))

    def _name(self, node: IConstruct) -> str:
        return self.prefix + Names.unique_resource_name(node, max_length=_MAX_ROLE_NAME - len(self.prefix), separator="-")


def apply_role_governance(
    scope: IConstruct, *, permissions_boundary: iam.IManagedPolicy | None = None, role_name_prefix: str | None = None
) -> None:
    """Applies a permissions boundary and/or a role-name prefix to every role under ``scope`` (an Aspect each,
    so roles added later, including those inside library constructs, are covered too)."""
    if permissions_boundary is not None:
        iam.PermissionsBoundary.of(scope).apply(permissions_boundary)
    if role_name_prefix is not None:
        Aspects.of(scope).add(RoleNamePrefix(role_name_prefix))
