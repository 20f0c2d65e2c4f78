"""Only the guardrail: a team that calls Bedrock itself but wants our reviewed policy files and versioning.

    .venv/bin/python examples/guardrail_only.py
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, CfnOutput, Environment, Stack, Validations
from aws_cdk import aws_iam as iam

from gptoss_constructs.guardrail import ModelGuardrail
from gptoss_constructs.guardrail_policy import parse_policy

POLICY = parse_policy(
    {
        "description": "support bot",
        "blocked_input_message": "Sorry, I can't help with that.",
        "blocked_output_message": "The answer was withheld.",
        "content_filters": [{"type": "PROMPT_ATTACK", "input_strength": "HIGH", "output_strength": "NONE"}],
        "denied_topics": [{"name": "Competitor pricing", "definition": "Statements about the prices of competitors' products."}],
        "pii_entities": [{"type": "EMAIL", "action": "ANONYMIZE"}],
    }
)


def build(app: App) -> Stack:
    stack = Stack(app, "GuardrailOnly", env=Environment(region="eu-central-1"))
    guardrail = ModelGuardrail(stack, "Guardrail", policy=POLICY)
    app_role = iam.Role(stack, "AppRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    guardrail.grant_apply(app_role)
    # deployment-specific acknowledgment, next to the resource it excuses (our constructs carry their own)
    for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"):
        Validations.of(app_role.node.find_child("DefaultPolicy")).acknowledge(
            Acknowledgment(
                id=f"{pack}::{pack}-IAMNoInlinePolicy",
                reason="the app role's only policy is the guardrail's grant_apply (ApplyGuardrail on this guardrail and "
                "Decrypt on its key); inline so it stays bound to this one role",
            )
        )
    CfnOutput(stack, "GuardrailVersion", value=guardrail.guardrail_version)
    return stack


if __name__ == "__main__":
    app = App(outdir="cdk.out.examples")
    build(app)
    app.synth()
