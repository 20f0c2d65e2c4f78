"""Grants that land in a customer-managed policy instead of a role's inline ``DefaultPolicy``.

aws-cdk-lib's ``Grant.add_to_principal`` calls ``grantee.grant_principal.add_to_principal_policy(statement)``,
which a ``Role`` answers by writing its inline ``DefaultPolicy``. The compliance packs flag inline policies
(``IAMNoInlinePolicy``), so our constructs route their statements into one ``ManagedPolicy`` instead:

- ``ManagedPolicyRole``: a ``Role`` whose every added statement (grants from other constructs, and what
  ``lambda.Function`` adds itself, e.g. X-Ray) goes into its own managed policy, created as a child of the
  role so that anything depending on the role (the function) also waits for the policy.
- ``ManagedPolicyGrantee``: wraps a grantee's role so that one ``Grant.add_to_principal`` writes into a new
  managed policy attached to that role (what ``grant_invoke(..., managed_policy=True)`` uses).
"""

from __future__ import annotations

import jsii
from aws_cdk import Names
from aws_cdk import aws_iam as iam
from constructs import Construct


class ManagedPolicyRole(iam.Role):
    """A ``Role`` that keeps its statements in one customer-managed policy (child ``Policy``), never inline."""

    def __init__(self, scope: Construct, id: str, *, policy_description: str | None = None, **props) -> None:
        super().__init__(scope, id, **props)
        self._policy_description = policy_description
        self._managed_policy: iam.ManagedPolicy | None = None

    @property
    def managed_policy(self) -> iam.ManagedPolicy:
        """The role's own managed policy (created on first use)."""
        if self._managed_policy is None:
            self._managed_policy = iam.ManagedPolicy(self, "Policy", roles=[self], description=self._policy_description)
        return self._managed_policy

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        self.managed_policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self.managed_policy)

    def add_to_policy(self, statement: iam.PolicyStatement) -> bool:
        self.add_to_principal_policy(statement)
        return True


@jsii.implements(iam.IPrincipal)
class _ManagedPolicyPrincipal:
    def __init__(self, role: iam.IRole, policy: iam.ManagedPolicy) -> None:
        self._role = role
        self._policy = policy

    @property
    def grant_principal(self) -> iam.IPrincipal:
        return self

    @property
    def assume_role_action(self) -> str:
        return self._role.assume_role_action

    @property
    def policy_fragment(self) -> iam.PrincipalPolicyFragment:
        return self._role.policy_fragment

    @property
    def principal_account(self) -> str | None:
        return self._role.principal_account

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        self._policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self._policy)

    def add_to_policy(self, statement: iam.PolicyStatement) -> bool:
        self.add_to_principal_policy(statement)
        return True


@jsii.implements(iam.IGrantable)
class ManagedPolicyGrantee:
    """``grantee``'s role, seen through a new managed policy ``scope/id`` attached to it."""

    def __init__(self, scope: Construct, id: str, grantee: iam.IGrantable, *, description: str | None = None) -> None:
        role = grantee.grant_principal
        if not hasattr(role, "role_arn"):
            raise ValueError(
                f"managed_policy=True needs a grantee whose principal is an IAM role, got {type(role).__name__}"
            )
        existing = scope.node.try_find_child(id)  # the same grant asked for twice: one policy
        self.policy = existing if isinstance(existing, iam.ManagedPolicy) else iam.ManagedPolicy(
            scope, id, roles=[role], description=description
        )
        self._principal = _ManagedPolicyPrincipal(role, self.policy)

    @classmethod
    def for_grant(cls, owner: Construct, grantee: iam.IGrantable, name: str, *, description: str) -> "ManagedPolicyGrantee":
        """The managed policy a ``grant_*(..., managed_policy=True)`` of ``owner`` puts its statements in: one per
        owner and grantee role, named ``<name><owner's unique id>`` and placed under the role when it is a
        construct of this app (else under ``owner``)."""
        principal = grantee.grant_principal
        scope = principal if isinstance(principal, Construct) else owner
        return cls(scope, f"{name}{Names.unique_id(owner)}", grantee, description=description)

    @property
    def grant_principal(self) -> iam.IPrincipal:
        return self._principal
