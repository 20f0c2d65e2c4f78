"""Compliance wiring: the one place that decides which cdk-nag packs check the app."""

from __future__ import annotations

from aws_cdk import App, Validations
from cdk_nag import (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NIST80053R5Checks,
    PCIDSS321Checks,
    ServerlessChecks,
)

#: pack names as they appear in cdk.out/validation-report.json (pluginName) and in acknowledgment ids
NAG_PACKS = ("AwsSolutions", "HIPAA.Security", "NIST.800-53.R5", "PCI.DSS.3.2.1", "Serverless")


def attach_compliance(app: App) -> None:
    """Adds all five cdk-nag packs (verbose) as validation plugins on ``app``.

    An unacknowledged error fails synth; warnings are printed and recorded in
    ``cdk.out/validation-report.json`` (the tests fail on those too).
    """
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(verbose=True),
        HIPAASecurityChecks(verbose=True),
        NIST80053R5Checks(verbose=True),
        PCIDSS321Checks(verbose=True),
        ServerlessChecks(verbose=True),
    )
