#!/usr/bin/env python3
"""gpt-oss-platform CDK app: one stack set per configured region.

Configuration comes from CDK context (cdk.json, or ``-c key=value``); see README.md "Configuration".
"""

from __future__ import annotations

import os
import sys

from aws_cdk import App, Tags

from stacks.compliance import attach_compliance
from stacks.config import ConfigError, load_config
from stacks.platform import build_app, cost_estimates


def main() -> None:
    context = App().node.try_get_context  # the CLI's context, read first: the synthesized App's props come from it
    if context("pipeline"):
        return pipeline_main(context)
    try:
        config = load_config(context, default_account=os.environ.get("CDK_DEFAULT_ACCOUNT"))
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    app = App(builtin_cloud_formation_validation=config.builtin_cloud_formation_validation)
    Tags.of(app).add("project", "gpt-oss-platform")
    attach_compliance(app)
    stacks = build_app(app, config)
    estimates = cost_estimates(config, stacks, config.cost_assumptions)
    assembly = app.synth()
    for region, estimate in estimates.items():
        path = os.path.join(assembly.directory, f"cost-{region}.md")
        with open(path, "w", encoding="utf-8") as f:
            f.write(estimate.render())
        print(
            f"cost estimate {region}: ${estimate.monthly_low:,.2f} to ${estimate.monthly_high:,.2f} per month at min/max capacity "
            f"and {config.cost_assumptions.requests_per_month:,} requests (unverified prices; see {path})",
            file=sys.stderr,
        )


def pipeline_main(context) -> None:
    """``-c pipeline=<file>``: the app is the deploy pipeline, whose stages hold the platform's stacks."""
    from stacks.pipeline_config import load_pipeline_config, read_pipeline_file
    from stacks.pipeline_stack import build_pipeline

    path = str(context("pipeline"))
    try:
        config = load_pipeline_config(read_pipeline_file(path), context)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    app = App(builtin_cloud_formation_validation=config.stages[0].platform.builtin_cloud_formation_validation)
    Tags.of(app).add("project", "gpt-oss-platform")
    attach_compliance(app)
    build_pipeline(app, config, path)
    app.synth()


if __name__ == "__main__":
    main()
