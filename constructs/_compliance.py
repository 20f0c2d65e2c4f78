"""Inline, per-resource skips for the template scanners (checkov, cfn-lint), each with its reason.

cdk-nag findings are acknowledged with ``Validations.of(c).acknowledge(...)``; checkov and cfn-lint read the
template instead, so their skips go into the resource's CloudFormation ``Metadata`` (the formats both tools
document), next to the resource they excuse, never as global skips. ``tests/test_lint.py`` requires a reason
for every one.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from aws_cdk import Acknowledgment, CfnResource, Validations
from constructs import IConstruct

#: metadata key holding the written reason of each cfn-lint rule ignored on a resource
CFN_LINT_REASONS = "gptoss:cfn-lint-reasons"


def skip_scanner_checks(
    resource: CfnResource,
    *,
    checkov: Mapping[str, str] | None = None,
    cfn_lint: Mapping[str, str] | None = None,
) -> None:
    """Skips checkov checks / cfn-lint rules on ``resource`` only; maps are ``{check id: reason}``."""
    if checkov:
        resource.add_metadata("checkov", {"skip": [{"id": i, "comment": r} for i, r in checkov.items()]})
    if cfn_lint:
        resource.add_metadata("cfn-lint", {"config": {"ignore_checks": list(cfn_lint)}})
        resource.add_metadata(CFN_LINT_REASONS, dict(cfn_lint))


#: the packs (by their id in acknowledgment ids) that share a rule name, e.g. ``<pack>-IAMNoInlinePolicy``
COMPLIANCE_PACKS = ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")


def acknowledge_in_packs(construct: IConstruct, rule: str, reason: str, packs: Sequence[str] = COMPLIANCE_PACKS) -> None:
    """Acknowledges the same-named finding ``<pack>-<rule>`` of each pack on ``construct``, with one reason."""
    for pack in packs:
        Validations.of(construct).acknowledge(Acknowledgment(id=f"{pack}::{pack}-{rule}", reason=reason))
