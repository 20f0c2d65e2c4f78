"""The model-access guard as a service control policy document, written before any deploy.

Usage (the same ``-c`` context as synth)::

    .venv/bin/python -m tools.guard_scp -c regions=us-east-1,us-west-2 [--out reports/scp] \
        [--guardrail-identifier arn:aws:bedrock:us-east-1:111122223333:guardrail/abc123:1]

Builds the app's constructs (no synth, no nag) to learn the deterministic SageMaker endpoint names, then writes
``<out>/model-access-guard.json`` (``gptoss_constructs.model_access.guard_scp_document``): an SCP an organization
administrator attaches to the platform's accounts (or OU). What it denies to every principal of those accounts but
the proxy's role: the platform's SageMaker endpoints; gpt-oss on Bedrock without the platform's guardrail (pin the
version with ``--guardrail-identifier`` after the Guardrail stack is deployed, from its outputs); and on the proxy
function: direct ``lambda:InvokeFunction`` (a direct invoker writes the API Gateway request context the proxy
reads the caller's identity from), function URLs, ``lambda:AddPermission`` for any principal but API Gateway, and
code or configuration changes by anyone but the deploying CloudFormation execution roles (``--deployer-role-arn``).

``write(outdir, config, stacks)`` is what a report generator calls with a config and ``build_app``'s stacks.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

ROOT = Path(__file__).resolve().parent.parent
FILE_NAME = "model-access-guard.json"
#: AWS Organizations quota: an SCP document is at most 5,120 characters
SCP_MAX_CHARACTERS = 5120


def guard_scp(config: Any, stacks: Mapping[str, Any], guardrail_identifiers: Sequence[str] = (), deployer_role_arns: Sequence[str] = ()) -> dict:
    """The SCP for ``config`` (``stacks.config.PlatformConfig``) and its ``build_app`` stacks (region → RegionStacks).
    An SCP belongs to one organization, and so to one partition: GovCloud regions get ``arn:aws-us-gov`` patterns,
    and a config that mixes partitions is refused (write one SCP per partition)."""
    from gptoss_constructs.model_access import guard_scp_document
    from tools.preflight import partition_of

    partitions = sorted({partition_of(r) for r in config.regions})
    if len(partitions) != 1:
        raise ValueError(f"the regions span the partitions {', '.join(partitions)}; an SCP belongs to one organization, so "
                         "write one per partition (e.g. -c regions=us-gov-west-1 for aws-us-gov)")

    endpoint_names = {
        region: [e.endpoint_name for e in rs.models.endpoints.values()] if rs.models is not None else [] for region, rs in stacks.items()
    }
    return guard_scp_document(
        regions=list(config.regions),
        endpoint_names=endpoint_names,
        partition=partitions[0],
        role_name_prefix=config.role_name_prefix or "",
        guardrail_identifiers=guardrail_identifiers,
        deployer_role_arns=deployer_role_arns,
    )


def write(outdir: Path, config: Any, stacks: Mapping[str, Any], guardrail_identifiers: Sequence[str] = (), deployer_role_arns: Sequence[str] = ()) -> Path:
    """Writes ``<outdir>/model-access-guard.json``; raises ValueError when it exceeds the SCP size quota."""
    document = guard_scp(config, stacks, guardrail_identifiers, deployer_role_arns)
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    compact = json.dumps(document, separators=(",", ":"))
    if len(compact) > SCP_MAX_CHARACTERS:
        raise ValueError(f"the guard SCP is {len(compact)} characters, above the {SCP_MAX_CHARACTERS} an SCP may hold; split it by region")
    outdir.mkdir(parents=True, exist_ok=True)
    path = outdir / FILE_NAME
    path.write_text(text, encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "reports" / "scp"), help="output directory (default: reports/scp)")
    parser.add_argument("--guardrail-identifier", action="append", default=[],
                        help="<guardrail ARN>:<version> a direct gpt-oss call must name (repeatable); default: any guardrail")
    parser.add_argument("--deployer-role-arn", action="append", default=[],
                        help="a role that may change the proxy's code and configuration (ARN pattern; repeatable); "
                        "default: the CDK bootstrap's CloudFormation execution roles, arn:aws:iam::*:role/cdk-*-cfn-exec-role-*")
    args, cdk_args = parser.parse_known_args(argv)
    sys.path.insert(0, str(ROOT))
    from aws_cdk import App

    from stacks.platform import build_app
    from tools.preflight import config_from_args

    config = config_from_args(cdk_args, "guard_scp")
    if config is None:
        return 2
    stacks = build_app(App(), config)
    try:
        path = write(Path(args.out), config, stacks, args.guardrail_identifier, args.deployer_role_arn)
    except ValueError as err:
        print(f"guard_scp: {err}", file=sys.stderr)
        return 2
    print(f"guard_scp: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
