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

from typing import Mapping, Sequence

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct


#: data-plane actions of each runtime interface endpoint the proxy calls
SAGEMAKER_RUNTIME_ACTIONS = ("sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream", "sagemaker:InvokeEndpointAsync")
BEDROCK_RUNTIME_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream", "bedrock:ApplyGuardrail")
#: who may change the proxy's code and configuration by default: the CDK bootstrap's CloudFormation execution
#: roles, any qualifier (``cdk-<qualifier>-cfn-exec-role-<account>-<region>``). CloudFormation makes a stack's calls
#: with that service role's session (CloudFormation UG, "CloudFormation service role"), whose ``aws:PrincipalArn`` is
#: the role's ARN (IAM UG, "AWS global condition context keys").
CDK_DEPLOYER_ROLE_PATTERN = "arn:{partition}:iam::*:role/cdk-*-cfn-exec-role-*"
#: IAM actions on the proxy role that would hand its unguarded model access to someone else: assume it (trust
#: policy), give it to other code (PassRole), or remove its deny (policies, permissions boundary)
PROXY_ROLE_GUARDED_ACTIONS = (
    "iam:UpdateAssumeRolePolicy",
    "iam:PassRole",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
)
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


def guardrail_identifier(guardrail_arn: str, guardrail_version: str) -> str:
    """The value of ``bedrock:GuardrailIdentifier`` that names one guardrail version: ``<guardrail ARN>:<version>``
    (Bedrock user guide, "Enforce the use of specific guardrails in model inference requests", example 1:
    ``arn:aws:bedrock:us-east-1:123456789012:guardrail/guardrail-id:1``)."""
    return f"{guardrail_arn}:{guardrail_version}"


def model_access_guard_statements(
    *,
    partition: str,
    endpoint_arns: Sequence[str],
    proxy_role_arns: Sequence[str],
    guardrail_identifiers: Sequence[str] = (),
    proxy_function_arns: Sequence[str] = (),
    deployer_role_arns: Sequence[str] = (),
) -> list[iam.PolicyStatement]:
    """Deny statements for a permissions boundary, a role or an SCP (see the module docstring).

    ``endpoint_arns`` are the platform's SageMaker endpoint (and inference-component) ARNs; ``proxy_role_arns`` the
    roles that may still call them and gpt-oss on Bedrock without the guardrail (``aws:PrincipalArn`` of an
    assumed-role session is the role's ARN; patterns allowed, ArnNotLike). ``guardrail_identifiers``: the
    ``bedrock:GuardrailIdentifier`` values a direct gpt-oss call must name (``guardrail_identifier()``); empty:
    any guardrail. ``proxy_function_arns``: the proxy function(s), for the four Lambda statements: no direct
    ``lambda:InvokeFunction`` (it would let the caller write the API Gateway request context the proxy reads the
    caller's identity from), no function URL (public by design), no resource-policy grant to any principal but API
    Gateway (``lambda:Principal``), and no change of its code or configuration (new code, or an environment that
    turns the guardrail off, would remove the guardrail for every caller) except by ``deployer_role_arns``
    (patterns allowed; default: ``CDK_DEPLOYER_ROLE_PATTERN``, the CDK bootstrap's CloudFormation execution roles).
    With the function, the proxy role is guarded too: ``PROXY_ROLE_GUARDED_ACTIONS`` (trust policy, PassRole, its
    policies and boundary) only by the deployers.
    """
    not_proxy = {"ArnNotLike": {"aws:PrincipalArn": list(proxy_role_arns)}}
    only_deployers = {"ArnNotLike": {"aws:PrincipalArn": list(deployer_role_arns) or [CDK_DEPLOYER_ROLE_PATTERN.format(partition=partition)]}}
    statements = []
    if endpoint_arns:
        statements.append(_deny("DenyPlatformEndpointsExceptProxy", SAGEMAKER_RUNTIME_ACTIONS, endpoint_arns, not_proxy))
    # StringNotEquals also matches a request that names no guardrail (a missing key never equals)
    ids = list(guardrail_identifiers)
    guard = {"StringNotEquals": {"bedrock:GuardrailIdentifier": ids[0] if len(ids) == 1 else ids}} if ids else {"Null": {"bedrock:GuardrailIdentifier": "true"}}
    statements.append(
        _deny(
            "DenyGptOssOnBedrockWithoutThisGuardrail" if guardrail_identifiers else "DenyGptOssOnBedrockWithoutGuardrail",
            ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
            [
                f"arn:{partition}:bedrock:*::foundation-model/{GPT_OSS_MODEL_PATTERN}",
                f"arn:{partition}:bedrock:*:*:inference-profile/*{GPT_OSS_MODEL_PATTERN}",
            ],
            {**guard, **not_proxy},
        )
    )
    if proxy_function_arns:
        # the unqualified ARN and every version / alias of it (Lambda authorizes a qualified call on the qualified ARN)
        functions = [a for arn in proxy_function_arns for a in ((arn,) if arn.endswith("*") else (arn, f"{arn}:*"))]
        statements += [
            _deny("DenyDirectInvokeOfTheProxy", ["lambda:InvokeFunction"], functions),
            _deny("DenyFunctionUrlsOnTheProxy", ["lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"], functions),
            _deny("DenyProxyPermissionsExceptApiGateway", ["lambda:AddPermission"], functions,
                  {"StringNotEquals": {"lambda:Principal": "apigateway.amazonaws.com"}}),
            _deny("DenyProxyCodeAndConfigChangesExceptDeploys", ["lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration"],
                  functions, only_deployers),
            # The proxy role may call the models without the guardrail: whoever could assume it (trust policy),
            # lend it to other code (PassRole) or strip its deny (policies, boundary) would hold that power.
            _deny("DenyProxyRoleChangesExceptDeploys", PROXY_ROLE_GUARDED_ACTIONS, proxy_role_arns, only_deployers),
        ]
    return statements


def _deny(sid: str, actions: Sequence[str], resources: Sequence[str], conditions: Mapping | None = None) -> iam.PolicyStatement:
    return iam.PolicyStatement(sid=sid, effect=iam.Effect.DENY, actions=list(actions), resources=list(resources), conditions=conditions)


class ModelAccessGuard(Construct):
    """The model-access guard policy (``model_access_guard_statements``) for this deployment:

    - published as the stack output ``ModelAccessGuardPolicy`` (a JSON policy document with this deployment's
      ARNs, resolved at deploy time) for a permissions boundary or an SCP (``guard_scp_document`` renders the SCP
      with ARN patterns, before any deploy);
    - opt-in, attached as a deny to named roles (``attach_to_roles``): a customer-managed policy with the same
      statements, so those principals cannot reach the models, nor the proxy function, around the platform.

    Example::

        ModelAccessGuard(self, "Guard", endpoint_arns=[...], proxy_role=proxy.role, guardrail=guardrail,
                         proxy_function=proxy.function, attach_to_roles=[iam.Role.from_role_name(self, "Dev", "developers")])
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        endpoint_arns: Sequence[str],
        proxy_role: iam.IRole,
        guardrail=None,
        proxy_function: lambda_.IFunction | None = None,
        attach_to_roles: Sequence[iam.IRole] = (),
        deployer_role_arns: Sequence[str] = (),
    ) -> None:
        """
        :param endpoint_arns: the platform's SageMaker endpoint ARNs (empty: no endpoint statement).
        :param proxy_role: the only role that may invoke them, and gpt-oss on Bedrock without the guardrail.
        :param guardrail: the ``ModelGuardrail`` (``guardrail_arn``, ``guardrail_version``) a direct gpt-oss call on
            Bedrock must name. Default: - any guardrail (``Null bedrock:GuardrailIdentifier``).
        :param proxy_function: the proxy's function: direct invoke, function URLs, non-API-Gateway permissions and
            code or configuration changes outside a deploy are denied. Default: - no Lambda statements.
        :param attach_to_roles: roles that get the guard as a deny (a managed policy attached to them).
            Default: - none (the policy is only published).
        :param deployer_role_arns: the only roles that may change the proxy function's code and configuration (ARN
            patterns allowed). Default: - the CDK bootstrap's CloudFormation execution roles
            (``arn:<partition>:iam::*:role/cdk-*-cfn-exec-role-*``), which every ``cdk deploy`` and the pipeline use.
        """
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.statements = model_access_guard_statements(
            partition=stack.partition,
            endpoint_arns=endpoint_arns,
            proxy_role_arns=[proxy_role.role_arn],
            guardrail_identifiers=[guardrail_identifier(guardrail.guardrail_arn, guardrail.guardrail_version)] if guardrail is not None else (),
            proxy_function_arns=[proxy_function.function_arn] if proxy_function is not None else (),
            deployer_role_arns=deployer_role_arns,
        )
        self.document = iam.PolicyDocument(statements=self.statements)
        self.output = CfnOutput(
            self,
            "Policy",
            value=stack.to_json_string(self.document.to_json()),
            description="Deny policy for a permissions boundary or SCP: platform endpoints and the proxy function only via the platform; gpt-oss on Bedrock only with the platform's guardrail (README: Compliance)",
        )
        self.output.override_logical_id("ModelAccessGuardPolicy")
        self.policy: iam.ManagedPolicy | None = None
        if attach_to_roles:
            self.policy = iam.ManagedPolicy(
                self,
                "DenyPolicy",
                description="gpt-oss platform guard: no model, endpoint or proxy-function access around the platform",
                statements=self.statements,
                roles=list(attach_to_roles),
            )


def guard_scp_document(
    *,
    regions: Sequence[str],
    endpoint_names: Mapping[str, Sequence[str]] | None = None,
    partition: str = "aws",
    stack_prefix: str = "GptOss",
    role_name_prefix: str = "",
    guardrail_identifiers: Sequence[str] = (),
    deployer_role_arns: Sequence[str] = (),
) -> dict:
    """The guard as a service control policy (JSON dict), written before any deploy: ARN patterns with ``*`` for
    the account, the platform's deterministic endpoint names, and the name patterns CloudFormation gives the
    proxy's role and function (``<stack>-<logical id>-<suffix>``: ``GptOss-Proxy-<region>-*``; with a role-name
    prefix, ``<prefix>GptOssProxy<region>*``). Without ``guardrail_identifiers`` (the guardrail's id exists only
    after deploy) it requires *a* guardrail; pass ``guardrail_identifier(arn, version)`` from the Guardrail
    stack's outputs to pin this one.

    UNCONFIRMED(manual:scp-name-patterns) offline: the generated-name patterns (compare them with the deployed names after the first deploy).

    What only an SCP closes, and why: an SCP limits every principal of the member accounts, including
    administrators with ``lambda:*`` or ``bedrock:*`` that no boundary of ours reaches; it does not limit service
    principals, so API Gateway keeps invoking the proxy through its resource-based permission.
    """
    endpoint_names = endpoint_names or {}
    endpoint_arns = [f"arn:{partition}:sagemaker:{r}:*:endpoint/{n}" for r in regions for n in endpoint_names.get(r, ())]
    compact = lambda r: r.replace("-", "")  # noqa: E731 - Names.unique_resource_name drops the dashes
    # InvokeProxy's role and function (construct ids Proxy/Role, Proxy/Function; contract, never renamed) under
    # CloudFormation's <stack>-<logical id>-<suffix>, or RoleNamePrefix's <prefix><unique resource name>
    roles = [
        f"arn:{partition}:iam::*:role/{role_name_prefix}{stack_prefix}Proxy{compact(r)}-Proxy-Role-*" if role_name_prefix
        else f"arn:{partition}:iam::*:role/{stack_prefix}-Proxy-{r}-ProxyRole*"
        for r in regions
    ]
    functions = [f"arn:{partition}:lambda:{r}:*:function:{stack_prefix}-Proxy-{r}-ProxyFunction*" for r in regions]
    document = iam.PolicyDocument(
        statements=model_access_guard_statements(
            partition=partition, endpoint_arns=endpoint_arns, proxy_role_arns=roles,
            guardrail_identifiers=guardrail_identifiers, proxy_function_arns=functions,
            deployer_role_arns=deployer_role_arns,
        )
    )
    return document.to_json()


__all__ = ["ModelAccessThroughVpcEndpoints", "ModelAccessGuard", "model_access_guard_statements", "guard_scp_document", "guardrail_identifier"]
