"""``make verify``: after ``cdk deploy``, prove on AWS what offline tests cannot, and keep the evidence.

Usage (the same ``-c`` context as synth and deploy)::

    make verify CDK_ARGS="-c regions=us-east-1"
    .venv/bin/python -m tools.verify -c regions=us-east-1 [--profile NAME] [--skip-routes] [--wait SECONDS]

For every configured region it finds the deployed stacks (CloudFormation DescribeStacks / ListStackResources /
GetTemplate), runs the checks of ``tools.verify.checks`` and writes ``reports/verify/<region>.md`` and ``.json``:
date, commit, account, region and, per check, PASS / FAIL / SKIP with the evidence it saw. Exit 1 on any FAIL,
2 without credentials or with a config error (one line, no traceback).

Modules: ``core`` (results, context, evidence, the command), ``resources`` (endpoint, log groups, alarm topic,
trail), ``routes`` (one request per route from inside the VPC through a short-lived verifier function; why that
design: its docstring), ``verifier/handler.py`` (the function's code), ``markers`` (UNCONFIRMED markers → checks).
"""

from tools.verify.core import main

__all__ = ["main"]
