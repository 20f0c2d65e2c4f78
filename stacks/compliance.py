"""Compliance wiring: the one place that decides which cdk-nag packs check the app."""

from __future__ import annotations

from aws_cdk import App, IPolicyValidationPluginBeta1, Validations
from cdk_nag import (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NIST80053R5Checks,
    PCIDSS321Checks,
    ServerlessChecks,
)

#: the pack classes, in report order; everything else (pack ids, JS class names) is read from them
NAG_PACK_CLASSES = (AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks)


def nag_plugins() -> list[IPolicyValidationPluginBeta1]:
    """One verbose instance of every pack."""
    return [cls(verbose=True) for cls in NAG_PACK_CLASSES]


#: pack ids as the packs name themselves (``readPackName``): the pluginName in cdk.out/validation-report.json
#: and the prefix of every acknowledgment id, e.g. ``NIST.800.53.R5``
NAG_PACKS = tuple(plugin.read_pack_name for plugin in nag_plugins())


def attach_compliance(app: App) -> None:
    """Adds all five cdk-nag packs (verbose) as validation plugins on ``app``.

    An unacknowledged error fails synth; warnings are printed and recorded in
    ``cdk.out/validation-report.json`` (the tests fail on those too).
    """
    Validations.of(app).add_plugins(*nag_plugins())
