"""PlatformRoles: the roles a platform team hands out — consumer, operator, auditor — each least privilege."""

from __future__ import annotations

import re
from typing import Mapping, Protocol, Sequence

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from gptoss_constructs._compliance import acknowledge_in_packs
from gptoss_constructs._defaults import nag_resource
from gptoss_constructs.endpoint import MODEL_TAG


#: the tag ``app.py`` puts on every resource (``Tags.of(app).add("project", ...)``)
PLATFORM_TAG = ("project", "gpt-oss-platform")


_ORG_ID = re.compile(r"o-[a-z0-9]{10,32}")
_PRINCIPAL_ARN = re.compile(r"arn:aws[a-z-]*:(iam|sts)::(\d{12}|\*):[\w+=,.@/*-]+")


def validate_trust_conditions(*, principal_org_id: str | None = None, principal_arns: Sequence[str] = ()) -> None:
    """The rules for ``PlatformRoles``' trust-condition props (raises ValueError naming the prop)."""
    if principal_org_id is not None and not _ORG_ID.fullmatch(principal_org_id):
        raise ValueError(f"principal_org_id must look like o-abcdef1234 (o- and 10 to 32 lowercase letters or digits), got {principal_org_id!r}")
    bad = [a for a in principal_arns if not _PRINCIPAL_ARN.fullmatch(a)]
    if bad:
        raise ValueError(f"principal_arns must be IAM ARN patterns (arn:...), e.g. arn:aws:iam::111122223333:role/ops-*, got {bad[0]!r}")


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
        rest_api_ids: Sequence[str] = (),
        operator_require_mfa: bool = True,
        principal_org_id: str | None = None,
        principal_arns: Sequence[str] = (),
        platform_tag: tuple[str, str] = PLATFORM_TAG,
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
        :param rest_api_ids: ids of the platform's REST APIs whose configuration the auditor may read
            (``apigateway:GET`` on ``/restapis/<id>`` and below only, never ``/apikeys`` or ``/usageplans``, which
            return API key values). Default: - the auditor reads no API Gateway configuration.
        :param operator_require_mfa: the operator's trust policy requires ``aws:MultiFactorAuthPresent``
            (PCI DSS 8.3: MFA for all non-console administrative access). Default: - true.
        :param principal_org_id: when set, operator and auditor may only be assumed by principals of this AWS
            Organization (``aws:PrincipalOrgID``). Default: - no organization condition.
        :param principal_arns: when set, operator and auditor may only be assumed by principals whose ARN
            matches one of these patterns (``aws:PrincipalArn``, ArnLike). Default: - no principal-ARN condition.
        :param platform_tag: (key, value) of the tag every platform resource carries; the operator may only
            scale scalable targets with this tag. Default: - ``project=gpt-oss-platform``.
        """
        super().__init__(scope, id)
        if consumer_principals and front_door is None:
            raise ValueError("front_door must be given when consumer_principals is set")
        stack = Stack.of(self)
        self._arn = lambda service, resource, region=stack.region: (  # noqa: E731
            f"arn:{stack.partition}:{service}:{region}:{stack.account}:{resource}"
        )
        self.prefix = resource_prefix
        validate_trust_conditions(principal_org_id=principal_org_id, principal_arns=principal_arns)
        self.rest_api_ids = tuple(rest_api_ids)
        self.platform_tag = platform_tag
        self._trust_conditions: dict = {}
        if principal_org_id:
            self._trust_conditions["StringEquals"] = {"aws:PrincipalOrgID": principal_org_id}
        if principal_arns:
            self._trust_conditions["ArnLike"] = {"aws:PrincipalArn": list(principal_arns)}
        self.operator_require_mfa = operator_require_mfa
        self.role_name_pattern = role_name_pattern or f"{resource_prefix}*"
        self.consumer_role = self._consumer(front_door, consumer_principals) if consumer_principals else None
        self.operator_role = self._operator(operator_principals) if operator_principals else None
        self.auditor_role = self._auditor(auditor_principals, reports_bucket) if auditor_principals else None

    def _role(self, id: str, principals: Sequence[iam.IPrincipal], description: str, conditions: Mapping | None = None) -> iam.Role:
        if conditions:
            principals = [p.with_conditions(conditions) for p in principals]
        return iam.Role(self, id, assumed_by=iam.CompositePrincipal(*principals), description=description)

    def _human_trust(self, *, mfa: bool) -> dict:
        """Trust conditions for a human role: org / principal-ARN from config, and MFA when asked."""
        conditions = {k: dict(v) for k, v in self._trust_conditions.items()}
        if mfa:
            conditions["Bool"] = {"aws:MultiFactorAuthPresent": "true"}
        return conditions

    def _policy(self, role: iam.Role, id: str, description: str, statements: list[iam.PolicyStatement]) -> iam.ManagedPolicy:
        return iam.ManagedPolicy(self, id, description=description, roles=[role], statements=statements)

    def _acknowledge(self, policy: iam.ManagedPolicy, resource: str, reason: str) -> None:
        Validations.of(policy).acknowledge(
            Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[{nag_resource(self, resource)}]", reason=reason)
        )

    def _api_arn(self, api_id: str, suffix: str) -> str:
        stack = Stack.of(self)
        return f"arn:{stack.partition}:apigateway:{stack.region}::/restapis/{api_id}{suffix}"

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
                            "stage, i.e. the proxy's routes (POST /v1/chat/completions, POST /v1/responses, GET /v1/models[/<model>], GET /health)",
                        )
                    )
        acknowledge_in_packs(
            default_policy,
            "IAMNoInlinePolicy",
            "the consumer role's only policy is the front door's grant_invoke (one execute-api:Invoke statement on "
            "exactly this API's routes); inline so it cannot be attached to any other principal",
        )
        return role

    # ---- operator -------------------------------------------------------------------------------------

    def _operator(self, principals: Sequence[iam.IPrincipal]) -> iam.Role:
        role = self._role(
            "Operator",
            principals,
            "gpt-oss platform operator: run and scale endpoints, read telemetry; no data plane",
            self._human_trust(mfa=self.operator_require_mfa),
        )
        endpoints = self._arn("sagemaker", f"endpoint/{self.prefix.lower()}*")
        # CloudFormation generates endpoint-config names (a new one per change), so no name prefix matches them:
        # scope by the tag every GptOssEndpoint resource carries (endpoint-config supports aws:ResourceTag).
        endpoint_configs = self._arn("sagemaker", "endpoint-config/*")
        inference_components = self._arn("sagemaker", f"inference-component/{self.prefix.lower()}*")
        # the platform's log groups only: CloudFormation names unnamed log groups after their stack
        # (<prefix>-<kind>-<region>-...), SageMaker writes endpoint logs to /aws/sagemaker/Endpoints/<endpoint>,
        # API Gateway execution logs go to API-Gateway-Execution-Logs_<api id>/<stage>
        log_groups = [
            self._arn("logs", f"log-group:{self.prefix}-*"),
            self._arn("logs", f"log-group:/aws/sagemaker/Endpoints/{self.prefix.lower()}-*"),
            *(self._arn("logs", f"log-group:API-Gateway-Execution-Logs_{api_id}/*") for api_id in self.rest_api_ids),
        ]
        scalable_targets = self._arn("application-autoscaling", "scalable-target/*")
        tag_key, tag_value = self.platform_tag
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
                        "logs:DescribeLogGroups",
                        "logs:GetQueryResults",
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
                    resources=[scalable_targets],
                    conditions={
                        "StringEquals": {
                            f"aws:ResourceTag/{tag_key}": tag_value,
                            "application-autoscaling:service-namespace": "sagemaker",
                        }
                    },
                ),
                iam.PolicyStatement(
                    sid="ReadLogs",
                    actions=["logs:DescribeLogStreams", "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery"],
                    resources=log_groups,
                ),
            ],
        )
        self._acknowledge(policy, endpoints, "operators manage every endpoint this platform names with its prefix; endpoint names are deterministic (gptoss-<size>-<construct hash>-<instance type>), but a model or instance type added later gets a new name, and the role must cover it without a change, so the prefix is the narrowest stable scope")
        self._acknowledge(policy, endpoint_configs, f"CloudFormation generates endpoint-config names, so the statement is scoped by the {MODEL_TAG} tag every platform endpoint config carries; DescribeEndpointConfig is read-only")
        self._acknowledge(policy, inference_components, "inference components (scale-to-zero) carry the platform prefix like their endpoints; the operator resizes copies, never invokes them")
        self._acknowledge(
            policy,
            "*",
            "read-only inventory and telemetry: SageMaker List*, Application Auto Scaling Describe*, CloudWatch "
            "GetMetricData / GetMetricStatistics / ListMetrics and logs:GetQueryResults have no resource-level "
            "permissions; cloudwatch:DescribeAlarms / GetDashboard / ListDashboards and logs:DescribeLogGroups return "
            "alarm, dashboard and log-group configuration only (no log events, no data plane) and stay account-wide "
            "because the platform's alarm, dashboard and log-group names are generated per deployment",
        )
        self._acknowledge(policy, scalable_targets, f"Application Auto Scaling names scalable targets by generated ids only; the statement is limited to SageMaker targets carrying the platform tag {tag_key}={tag_value} (aws:ResourceTag), so the operator changes min/max capacity of this platform's endpoints only and can neither invoke them nor read captures")
        for arn in log_groups:
            self._acknowledge(policy, arn, "the operator reads only the platform's own log groups (named after the platform's stacks, its SageMaker endpoints or its API id), which by design hold no prompt or completion text (the proxy logs ids, routes, latency and token counts); their names are generated per deployment, so a name prefix is the narrowest stable scope")
        return role

    # ---- auditor --------------------------------------------------------------------------------------

    def _auditor(self, principals: Sequence[iam.IPrincipal], reports_bucket: s3.IBucket | None) -> iam.Role:
        role = self._role(
            "Auditor", principals, "gpt-oss platform auditor: read-only configuration and compliance evidence", self._human_trust(mfa=False)
        )
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
                ],
                resources=["*"],
            ),
        ]
        apis = [self._api_arn(api_id, suffix) for api_id in self.rest_api_ids for suffix in ("", "/*")]
        if apis:
            # only the platform's REST APIs: never /apikeys (GET /apikeys?includeValues returns key values) nor
            # /usageplans (usage-plan keys)
            statements.append(iam.PolicyStatement(sid="ReadApiConfiguration", actions=["apigateway:GET"], resources=apis))
        if reports_bucket is not None:
            statements.append(
                iam.PolicyStatement(sid="ReadComplianceReports", actions=["s3:GetObject", "s3:ListBucket"], resources=[reports_bucket.bucket_arn, reports_bucket.arn_for_objects("*")])
            )
        policy = self._policy(role, "AuditorPolicy", "Read-only: templates, role policies, key/log/guardrail/network metadata", statements)
        self._acknowledge(policy, stacks, "the auditor reads every stack of this platform (named <prefix>-<kind>-<region>) and nothing it could change")
        self._acknowledge(policy, roles, f"the platform's role names match {self.role_name_pattern} (CloudFormation's names after the stacks, or role_name_prefix's explicit names); the auditor reads their policies, never assumes or changes them")
        self._acknowledge(
            policy,
            "*",
            "read-only configuration inventory: every action here returns metadata or configuration (no log events, "
            "S3 objects, key material, API keys or model output); kept account-wide because the platform's keys, "
            "endpoints, guardrails and network resources have ids generated per deployment, and because an auditor "
            "must also see what else in the account touches them (cloudformation:ListStacks and kms:ListKeys have no "
            "resource-level permissions at all)",
        )
        for api_id in self.rest_api_ids:
            self._acknowledge(policy, self._api_arn(api_id, "/*"), "apigateway:GET below one of the platform's REST APIs (resources, methods, stages, deployments) returns API configuration only; API key values live under /apikeys, which this statement does not cover")
        if reports_bucket is not None:
            self._acknowledge(policy, reports_bucket.arn_for_objects("*"), "the auditor reads every compliance report object in the reports bucket, which holds nothing else")
        return role
