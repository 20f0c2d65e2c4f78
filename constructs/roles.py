"""PlatformRoles: the roles a platform team hands out — consumer, operator, auditor — each least privilege."""

from __future__ import annotations

from typing import Protocol, Sequence

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from gptoss_constructs._compliance import acknowledge_in_packs
from gptoss_constructs._defaults import nag_resource
from gptoss_constructs.endpoint import MODEL_TAG


class FrontDoor(Protocol):
    """Anything that can let a principal call the proxy (``InvokeProxy`` or one of its front doors)."""

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant: ...


class PlatformRoles(Construct):
    """Human and machine roles for one region of the platform. Each role is created only when principals
    are given for it.

    - **consumer**: may call the proxy's front door, nothing else (``front_door.grant_invoke``).
    - **operator**: may inspect, update and scale this platform's SageMaker endpoints, and read its logs,
      metrics and alarms; it gets no data-plane access (no InvokeEndpoint, InvokeModel, ApplyGuardrail,
      execute-api, nor the data-capture bucket, so it never sees prompts or completions).
    - **auditor**: read-only: the stacks' templates and events, the roles' policies, key and log-group
      metadata, guardrail configuration, and the compliance reports bucket when one is given.

    Example::

        PlatformRoles(self, "Roles", front_door=proxy,
                      consumer_principals=[iam.ArnPrincipal("arn:aws:iam::111122223333:role/app")],
                      auditor_principals=[iam.AccountPrincipal("444455556666")])
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        front_door: FrontDoor | None = None,
        consumer_principals: Sequence[iam.IPrincipal] = (),
        operator_principals: Sequence[iam.IPrincipal] = (),
        auditor_principals: Sequence[iam.IPrincipal] = (),
        resource_prefix: str = "GptOss",
        role_name_pattern: str | None = None,
        reports_bucket: s3.IBucket | None = None,
    ) -> None:
        """
        :param front_door: what consumers may call. Required when ``consumer_principals`` is given.
        :param consumer_principals: who may assume the consumer role. Default: - no consumer role.
        :param operator_principals: who may assume the operator role. Default: - no operator role.
        :param auditor_principals: who may assume the auditor role. Default: - no auditor role.
        :param resource_prefix: stack-name / resource-name prefix that scopes the operator and auditor
            (stacks ``<prefix>-*``, endpoints ``<prefix>*`` and roles ``<prefix>-*``). Default: - ``GptOss``.
        :param role_name_pattern: IAM role-name pattern of the platform's roles, read by the auditor.
            Default: - ``<resource_prefix>*`` (CloudFormation names roles after their stack); with a role-name
            prefix from ``apply_role_governance`` pass ``<role prefix><resource_prefix>*``.
        :param reports_bucket: the bucket holding nag/compliance reports the auditor may read.
            Default: - none.
        """
        super().__init__(scope, id)
        if consumer_principals and front_door is None:
            raise ValueError("front_door must be given when consumer_principals is set")
        stack = Stack.of(self)
        self._arn = lambda service, resource, region=stack.region: (  # noqa: E731
            f"arn:{stack.partition}:{service}:{region}:{stack.account}:{resource}"
        )
        self.prefix = resource_prefix
        self.role_name_pattern = role_name_pattern or f"{resource_prefix}*"
        self.consumer_role = self._consumer(front_door, consumer_principals) if consumer_principals else None
        self.operator_role = self._operator(operator_principals) if operator_principals else None
        self.auditor_role = self._auditor(auditor_principals, reports_bucket) if auditor_principals else None

    def _role(self, id: str, principals: Sequence[iam.IPrincipal], description: str) -> iam.Role:
        return iam.Role(self, id, assumed_by=iam.CompositePrincipal(*principals), description=description)

    def _policy(self, role: iam.Role, id: str, description: str, statements: list[iam.PolicyStatement]) -> iam.ManagedPolicy:
        return iam.ManagedPolicy(self, id, description=description, roles=[role], statements=statements)

    def _acknowledge(self, policy: iam.ManagedPolicy, resource: str, reason: str) -> None:
        Validations.of(policy).acknowledge(
            Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[{nag_resource(self, resource)}]", reason=reason)
        )

    # ---- consumer -------------------------------------------------------------------------------------

    def _consumer(self, front_door: FrontDoor, principals: Sequence[iam.IPrincipal]) -> iam.Role:
        role = self._role("Consumer", principals, "gpt-oss platform consumer: may call the invoke proxy only")
        grant = front_door.grant_invoke(role)
        default_policy = role.node.find_child("DefaultPolicy")
        for statement in grant.principal_statements:
            for resource in statement.resources:
                if "*" in str(Stack.of(self).resolve(resource)):
                    Validations.of(default_policy).acknowledge(
                        Acknowledgment(
                            id=f"AwsSolutions::AwsSolutions-IAM5[{nag_resource(self, resource)}]",
                            reason="execute-api ARNs end in <stage>/<method>/<path>; the wildcards cover this one API's "
                            "stage, i.e. the proxy's three routes (POST /v1/chat/completions, GET /v1/models, GET /health)",
                        )
                    )
        acknowledge_in_packs(
            default_policy,
            "IAMNoInlinePolicy",
            "the consumer role's only policy is the front door's grant_invoke (one execute-api:Invoke or "
            "lambda:InvokeFunctionUrl statement on this API/function); inline so it cannot be attached to any other "
            "principal",
        )
        return role

    # ---- operator -------------------------------------------------------------------------------------

    def _operator(self, principals: Sequence[iam.IPrincipal]) -> iam.Role:
        role = self._role("Operator", principals, "gpt-oss platform operator: run and scale endpoints, read telemetry; no data plane")
        endpoints = self._arn("sagemaker", f"endpoint/{self.prefix.lower()}*")
        # CloudFormation generates endpoint-config names (a new one per change), so no name prefix matches them:
        # scope by the tag every GptOssEndpoint resource carries (endpoint-config supports aws:ResourceTag).
        endpoint_configs = self._arn("sagemaker", "endpoint-config/*")
        inference_components = self._arn("sagemaker", f"inference-component/{self.prefix.lower()}*")
        log_groups = self._arn("logs", "log-group:*")
        policy = self._policy(
            role,
            "OperatorPolicy",
            "Inspect, update and scale gpt-oss endpoints; read logs, metrics and alarms",
            [
                iam.PolicyStatement(
                    sid="EndpointLifecycle",
                    actions=[
                        "sagemaker:DescribeEndpoint",
                        "sagemaker:DescribeInferenceComponent",
                        "sagemaker:UpdateEndpoint",
                        "sagemaker:UpdateEndpointWeightsAndCapacities",
                        "sagemaker:UpdateInferenceComponentRuntimeConfig",
                    ],
                    resources=[endpoints, inference_components],
                ),
                iam.PolicyStatement(
                    sid="DescribeEndpointConfigs",
                    actions=["sagemaker:DescribeEndpointConfig"],
                    resources=[endpoint_configs],
                    conditions={"StringLike": {f"aws:ResourceTag/{MODEL_TAG}": "gpt-oss-*"}},
                ),
                iam.PolicyStatement(
                    sid="ListWithoutResourceScope",
                    actions=[
                        "sagemaker:ListEndpoints",
                        "sagemaker:ListEndpointConfigs",
                        "sagemaker:ListInferenceComponents",
                        "application-autoscaling:DescribeScalableTargets",
                        "application-autoscaling:DescribeScalingActivities",
                        "application-autoscaling:DescribeScalingPolicies",
                        "cloudwatch:GetMetricData",
                        "cloudwatch:GetMetricStatistics",
                        "cloudwatch:ListMetrics",
                        "cloudwatch:DescribeAlarms",
                        "cloudwatch:GetDashboard",
                        "cloudwatch:ListDashboards",
                    ],
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    sid="ScaleEndpointVariants",
                    actions=["application-autoscaling:RegisterScalableTarget", "application-autoscaling:PutScalingPolicy"],
                    resources=[self._arn("application-autoscaling", "scalable-target/*")],
                ),
                iam.PolicyStatement(
                    sid="ReadLogs",
                    actions=["logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:GetQueryResults"],
                    resources=[log_groups],
                ),
            ],
        )
        self._acknowledge(policy, endpoints, "operators manage every endpoint this platform names with its prefix; endpoint names are generated per deployment, so a prefix is the narrowest stable scope")
        self._acknowledge(policy, endpoint_configs, f"CloudFormation generates endpoint-config names, so the statement is scoped by the {MODEL_TAG} tag every platform endpoint config carries; DescribeEndpointConfig is read-only")
        self._acknowledge(policy, inference_components, "inference components (scale-to-zero) carry the platform prefix like their endpoints; the operator resizes copies, never invokes them")
        self._acknowledge(policy, "*", "List*, Describe*, CloudWatch metric reads and dashboard reads have no resource-level permissions in IAM; all are read-only telemetry and inventory, no data-plane call")
        self._acknowledge(policy, self._arn("application-autoscaling", "scalable-target/*"), "Application Auto Scaling identifies scalable targets by generated ids only; the operator can change min/max capacity but not invoke endpoints or read captures")
        self._acknowledge(policy, log_groups, "the operator reads the platform's logs, which by design hold no prompt or completion text (the proxy logs ids, routes, latency and token counts); log group names are generated per stack")
        return role

    # ---- auditor --------------------------------------------------------------------------------------

    def _auditor(self, principals: Sequence[iam.IPrincipal], reports_bucket: s3.IBucket | None) -> iam.Role:
        role = self._role("Auditor", principals, "gpt-oss platform auditor: read-only configuration and compliance evidence")
        stacks = self._arn("cloudformation", f"stack/{self.prefix}-*/*")
        roles = f"arn:{Stack.of(self).partition}:iam::{Stack.of(self).account}:role/{self.role_name_pattern}"
        statements = [
            iam.PolicyStatement(
                sid="ReadStacks",
                actions=["cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents", "cloudformation:DescribeStackResources", "cloudformation:GetTemplate", "cloudformation:ListStackResources"],
                resources=[stacks],
            ),
            iam.PolicyStatement(
                sid="ReadRolePolicies",
                actions=["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"],
                resources=[roles],
            ),
            iam.PolicyStatement(
                sid="ReadConfigurationMetadata",
                actions=[
                    "cloudformation:ListStacks",
                    "iam:GetPolicy",
                    "iam:GetPolicyVersion",
                    "kms:DescribeKey",
                    "kms:GetKeyPolicy",
                    "kms:GetKeyRotationStatus",
                    "kms:ListKeys",
                    "logs:DescribeLogGroups",
                    "sagemaker:DescribeEndpoint",
                    "sagemaker:DescribeEndpointConfig",
                    "sagemaker:DescribeModel",
                    "sagemaker:ListEndpoints",
                    "bedrock:GetGuardrail",
                    "bedrock:ListGuardrails",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeVpcEndpoints",
                    "ec2:DescribeFlowLogs",
                    "apigateway:GET",
                ],
                resources=["*"],
            ),
        ]
        if reports_bucket is not None:
            statements.append(
                iam.PolicyStatement(sid="ReadComplianceReports", actions=["s3:GetObject", "s3:ListBucket"], resources=[reports_bucket.bucket_arn, reports_bucket.arn_for_objects("*")])
            )
        policy = self._policy(role, "AuditorPolicy", "Read-only: templates, role policies, key/log/guardrail/network metadata", statements)
        self._acknowledge(policy, stacks, "the auditor reads every stack of this platform (named <prefix>-<kind>-<region>) and nothing it could change")
        self._acknowledge(policy, roles, "CloudFormation names the platform's roles after their stacks (<prefix>...); the auditor reads their policies, never assumes or changes them")
        self._acknowledge(policy, "*", "Describe/Get/List calls on keys, log groups, endpoints, guardrails, network and API Gateway metadata have no (or only account-wide) resource-level scope; every action here is read-only and returns configuration, never data")
        if reports_bucket is not None:
            self._acknowledge(policy, reports_bucket.arn_for_objects("*"), "the auditor reads every compliance report object in the reports bucket, which holds nothing else")
        return role
