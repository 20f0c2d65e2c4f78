"""A separate CDK app that uses gpt-oss-platform only as a library (the wheel), not its app or stacks.

    python -m pip wheel --no-deps ../.. -w dist && python -m pip install dist/gpt_oss_platform-*.whl
    npx cdk synth        # from this folder (its own cdk.json)

It builds a private network and a guardrail in the team's own stack, and grants its own role ApplyGuardrail.
"""

from __future__ import annotations

from aws_cdk import App, Environment, Stack, Validations
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from gptoss_constructs.guardrail import ModelGuardrail
from gptoss_constructs.network import PrivateNetwork


class TeamStack(Stack):
    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        PrivateNetwork(self, "Network", vpc_cidr="10.90.0.0/16", interface_endpoints=["bedrock-runtime"])
        guardrail = ModelGuardrail(self, "Guardrail", policy="pii-redact")
        worker = iam.Role(self, "Worker", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        guardrail.grant_apply(worker)


app = App()
Validations.of(app).add_plugins(AwsSolutionsChecks(verbose=True))
TeamStack(app, "TeamGuardrail", env=Environment(region="eu-west-1"))
app.synth()
