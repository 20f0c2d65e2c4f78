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
    try:
        config = load_config(context, default_account=os.environ.get("CDK_DEFAULT_ACCOUNT"))
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    app = App(builtin_cloud_formation_validation=config.builtin_cloud_formation_validation)
    Tags.of(app).add("project", "gpt-oss-platform")
    attach_compliance(app)
    build_app(app, config)
    assembly = app.synth()
    for region, report in cost_estimates(config).items():
        path = os.path.join(assembly.directory, f"cost-{region}.md")
        with open(path, "w", encoding="utf-8") as f:
            f.write(report)
        total = [line for line in report.splitlines() if line.startswith("| **Total**")][0].split("|")
        low, high = (total[i].strip().strip("*") for i in (5, 7))
        print(f"cost estimate {region}: {low} to {high} per month at min/max capacity (unverified prices; see {path})", file=sys.stderr)


if __name__ == "__main__":
    main()
