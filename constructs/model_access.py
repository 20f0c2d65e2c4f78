"""Model access only through the platform.

Two layers, both optional to the constructs and wired by ``stacks/proxy_stack.py``:

* ``ModelAccessThroughVpcEndpoints`` — a managed policy on the proxy role that denies its model and guardrail
  calls unless they arrive through the platform's own interface endpoints (``aws:SourceVpce``). The proxy's
  grants (``grant_invoke`` / ``grant_apply``) stay as they are; this deny conditions all of them at once, so a
  stolen proxy credential is useless outside the VPC.
* ``model_access_guard_statements`` — statements for a permissions boundary or an SCP that deny
  ``sagemaker:InvokeEndpoint*`` on the platform's endpoints to every principal but the proxy role, and
  ``bedrock:InvokeModel*`` on gpt-oss models without a guardrail (``bedrock:GuardrailIdentifier``) to every
  principal but the proxy role (which applies the guardrail itself with ApplyGuardrail). ``ModelAccessGuard``
  renders them as a stack output (resolved ARNs at deploy time) for the account's administrators to attach.
"""

from __future__ import annotations

from typing import Sequence

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct


#: data-plane actions of each runtime interface endpoint the proxy calls
SAGEMAKER_RUNTIME_ACTIONS = ("sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream", "sagemaker:InvokeEndpointAsync")
BEDROCK_RUNTIME_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream", "bedrock:ApplyGuardrail")
#: Bedrock model ids of gpt-oss (``openai.gpt-oss-120b-1:0``, ``openai.gpt-oss-20b-1:0``)
GPT_OSS_MODEL_PATTERN = "openai.gpt-oss-*"


class ModelAccessThroughVpcEndpoints(Construct):
    """Denies ``role`` every SageMaker-runtime / Bedrock-runtime data-plane call that does not come through the
    given interface endpoint (``StringNotEquals aws:SourceVpce``). Pass ``None`` for an endpoint the platform
    does not own (e.g. an existing VPC whose endpoints are managed elsewhere): then that service is not
    restricted and ``self.unrestricted`` names it.

    Example::

        ModelAccessThroughVpcEndpoints(self, "ModelAccess", role=proxy.role,
            sagemaker_runtime=network.interface_endpoints["sagemaker.runtime"],
            bedrock_runtime=network.interface_endpoints["bedrock-runtime"])
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        role: iam.IRole,
        sagemaker_runtime: ec2.IInterfaceVpcEndpoint | None,
        bedrock_runtime: ec2.IInterfaceVpcEndpoint | None,
    ) -> None:
        """
        :param role: the role whose runtime calls are restricted (the proxy's).
        :param sagemaker_runtime: the platform's ``sagemaker.runtime`` interface endpoint, or None to leave
            SageMaker-runtime calls unrestricted.
        :param bedrock_runtime: the platform's ``bedrock-runtime`` interface endpoint, or None to leave
            Bedrock-runtime calls (models and ApplyGuardrail) unrestricted.
        """
        super().__init__(scope, id)
        statements = []
        self.unrestricted: list[str] = []
        for sid, actions, endpoint, name in (
            ("DenySageMakerRuntimeOutsideVpcEndpoint", SAGEMAKER_RUNTIME_ACTIONS, sagemaker_runtime, "sagemaker.runtime"),
            ("DenyBedrockRuntimeOutsideVpcEndpoint", BEDROCK_RUNTIME_ACTIONS, bedrock_runtime, "bedrock-runtime"),
        ):
            if endpoint is None:
                self.unrestricted.append(name)
                continue
            statements.append(
                iam.PolicyStatement(
                    sid=sid,
                    effect=iam.Effect.DENY,
                    actions=list(actions),
                    resources=["*"],
                    conditions={"StringNotEquals": {"aws:SourceVpce": endpoint.vpc_endpoint_id}},
                )
            )
        self.policy: iam.ManagedPolicy | None = None
        if statements:
            self.policy = iam.ManagedPolicy(
                self,
                "Policy",
                description="gpt-oss proxy: model and guardrail calls only through the platform's VPC endpoints",
                statements=statements,
                roles=[role],
            )
            # no IAM5 acknowledgment needed: cdk-nag's wildcard rule reads Allow statements only


def model_access_guard_statements(*, partition: str, endpoint_arns: Sequence[str], proxy_role_arns: Sequence[str]) -> list[iam.PolicyStatement]:
    """Deny statements for a permissions boundary or an SCP (see the module docstring).

    ``endpoint_arns`` are the platform's SageMaker endpoint (and inference-component) ARNs; ``proxy_role_arns`` the
    roles that may still call them and gpt-oss on Bedrock without a guardrail identifier (``aws:PrincipalArn`` of an
    assumed-role session is the role's ARN).
    """
    statements = []
    not_proxy = {"ArnNotEquals": {"aws:PrincipalArn": list(proxy_role_arns)}}
    if endpoint_arns:
        statements.append(
            iam.PolicyStatement(
                sid="DenyPlatformEndpointsExceptProxy",
                effect=iam.Effect.DENY,
                actions=list(SAGEMAKER_RUNTIME_ACTIONS),
                resources=list(endpoint_arns),
                conditions=not_proxy,
            )
        )
    statements.append(
        iam.PolicyStatement(
            sid="DenyGptOssOnBedrockWithoutGuardrail",
            effect=iam.Effect.DENY,
            actions=["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
            resources=[
                f"arn:{partition}:bedrock:*::foundation-model/{GPT_OSS_MODEL_PATTERN}",
                f"arn:{partition}:bedrock:*:*:inference-profile/*{GPT_OSS_MODEL_PATTERN}",
            ],
            conditions={"Null": {"bedrock:GuardrailIdentifier": "true"}, **not_proxy},
        )
    )
    return statements


class ModelAccessGuard(Construct):
    """Publishes the model-access guard policy (``model_access_guard_statements``) as the stack output
    ``ModelAccessGuardPolicy``: a JSON policy document with this deployment's ARNs, ready to be put into a
    permissions boundary or an SCP by an administrator. Creates no IAM resource."""

    def __init__(self, scope: Construct, id: str, *, endpoint_arns: Sequence[str], proxy_role: iam.IRole) -> None:
        """
        :param endpoint_arns: the platform's SageMaker endpoint ARNs (empty: no endpoint statement).
        :param proxy_role: the only role that may invoke them, and gpt-oss on Bedrock without a guardrail identifier.
        """
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.document = iam.PolicyDocument(
            statements=model_access_guard_statements(
                partition=stack.partition, endpoint_arns=endpoint_arns, proxy_role_arns=[proxy_role.role_arn]
            )
        )
        self.output = CfnOutput(
            self,
            "Policy",
            value=stack.to_json_string(self.document.to_json()),
            description="Deny policy for a permissions boundary or SCP: platform endpoints only via the proxy role; gpt-oss on Bedrock only with a guardrail (README: Compliance)",
        )
        self.output.override_logical_id("ModelAccessGuardPolicy")


__all__ = ["ModelAccessThroughVpcEndpoints", "ModelAccessGuard", "model_access_guard_statements"]
