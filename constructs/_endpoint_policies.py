"""VPC endpoint policies of the private network, one rule table per endpoint (kept apart from the construct).

A VPC endpoint without a policy allows every action on every resource of its service, in any account (AWS
PrivateLink guide, "Control access to VPC endpoints using endpoint policies": "the default endpoint policy ...
allows full access through the endpoint"). With private DNS on, every call from the VPC to that service goes
through our endpoint, so a default policy lets code in the VPC reach *another* account's resources (a foreign
private API that allows our endpoint id, an S3 bucket, a role to assume). Each policy below allows:

* on the data path (sagemaker-runtime, bedrock-runtime, execute-api) only the actions the proxy and its
  consumers use, on exact ARN patterns of this account and of the gpt-oss foundation models;
* elsewhere, resources of this account only, by ``aws:ResourceAccount`` (the resource perimeter of
  aws-samples/data-perimeter-policy-examples ``vpc_endpoint_policies/default_endpoint_policy.json``, which uses
  ``aws:ResourceOrgID``; IAM user guide, "AWS global condition context keys", ``aws:ResourceAccount``);
* the AWS-owned resources the platform needs, by exact ARN (the JumpStart and ECR layer buckets), because
  their ``aws:ResourceAccount`` is an AWS account, not ours;
* for actions that write only into the caller's own account and name no resource (X-Ray segments, CloudWatch
  ``PutMetricData``, ``sts:GetCallerIdentity``), those actions on ``*``.

Endpoint policies only limit; the callers' IAM policies still have to allow each call. ``PrivateNetwork`` exposes
each endpoint, so ``endpoint.add_to_policy(...)`` widens one when a workload needs more.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

from aws_cdk import Stack
from aws_cdk import aws_iam as iam

#: Bedrock model ids of gpt-oss (Bedrock user guide, "OpenAI models": ``openai.gpt-oss-120b-1:0``, ``-20b-1:0``)
GPT_OSS_MODEL_PATTERN = "openai.gpt-oss-*"


def _anyone(**kwargs) -> iam.PolicyStatement:
    """Endpoint policy statements name the principal ``*``; the caller's own policies decide who may act."""
    return iam.PolicyStatement(principals=[iam.StarPrincipal()], **kwargs)


def this_account(stack: Stack, actions: Sequence[str] = ("*",), sid: str = "ThisAccountsResourcesOnly") -> iam.PolicyStatement:
    return _anyone(
        sid=sid,
        actions=list(actions),
        resources=["*"],
        conditions={"StringEquals": {"aws:ResourceAccount": stack.account}},
    )


def _sagemaker_runtime(stack: Stack) -> list[iam.PolicyStatement]:
    # The proxy invokes this account's endpoints in this region (and inference components on them); nothing else
    # goes through. Exact ARN patterns (SageMaker resource types endpoint and inference-component) rather than a
    # condition key, so the data path does not depend on which keys a service puts in the request context.
    base = f"arn:{stack.partition}:sagemaker:{stack.region}:{stack.account}"
    return [
        _anyone(
            sid="InvokeThisAccountsEndpoints",
            actions=["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream", "sagemaker:InvokeEndpointAsync"],
            resources=[f"{base}:endpoint/*", f"{base}:inference-component/*"],
        )
    ]


def _bedrock_runtime(stack: Stack) -> list[iam.PolicyStatement]:
    # The proxy calls InvokeModel(WithResponseStream) on gpt-oss and ApplyGuardrail on its guardrail, nothing else.
    # Foundation models are AWS-owned ARNs with no account (arn:aws:bedrock:<region>::foundation-model/<id>); a
    # cross-Region inference profile (this account's, any region) invokes the model in each destination region,
    # hence region "*". A STANDARD-tier guardrail is applied through a cross-Region guardrail profile whose ARN in
    # each destination region is checked as well, and carries the caller's account (Bedrock user guide,
    # "Permissions for using cross-Region inference with Amazon Bedrock Guardrails":
    # arn:aws:bedrock:us-east-2:account-id:guardrail-profile/us.guardrail.v1:0).
    p, account = stack.partition, stack.account
    return [
        _anyone(
            sid="InvokeGptOssModelsAndThisAccountsProfiles",
            actions=["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
            resources=[
                f"arn:{p}:bedrock:*::foundation-model/{GPT_OSS_MODEL_PATTERN}",
                f"arn:{p}:bedrock:*:{account}:inference-profile/*",
                f"arn:{p}:bedrock:*:{account}:application-inference-profile/*",
            ],
        ),
        _anyone(
            sid="ApplyThisAccountsGuardrails",
            actions=["bedrock:ApplyGuardrail"],
            resources=[f"arn:{p}:bedrock:{stack.region}:{account}:guardrail/*", f"arn:{p}:bedrock:*:{account}:guardrail-profile/*"],
        ),
    ]


def _execute_api(stack: Stack) -> list[iam.PolicyStatement]:
    # API Gateway developer guide, "Use VPC endpoint policies for private APIs in API Gateway": the endpoint policy
    # says which APIs may be invoked through the endpoint (its examples allow execute-api:Invoke on
    # arn:aws:execute-api:<region>:<account>:<api-id>/*). Ours: every private API of this account in this region,
    # so a foreign private API that allows our endpoint id is not reachable from our VPC.
    return [
        _anyone(
            sid="InvokeThisAccountsApisOnly",
            actions=["execute-api:Invoke"],
            resources=[f"arn:{stack.partition}:execute-api:{stack.region}:{stack.account}:*"],
        )
    ]


def _xray(stack: Stack) -> list[iam.PolicyStatement]:
    # the X-Ray daemon's calls (AWSXRayDaemonWriteAccess) write to / read from the caller's own account and have
    # no resource-level permissions, so they cannot reach another account's data
    return [
        _anyone(
            sid="SendTracesToTheCallersAccount",
            actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"],
            resources=["*"],
        )
    ]


def _monitoring(stack: Stack) -> list[iam.PolicyStatement]:
    return [
        this_account(stack),
        _anyone(sid="PutMetricDataIntoTheCallersAccount", actions=["cloudwatch:PutMetricData"], resources=["*"]),
    ]


def _sts(stack: Stack) -> list[iam.PolicyStatement]:
    # AssumeRole & co. only into this account's roles (a role's aws:ResourceAccount is its account)
    return [this_account(stack), _anyone(sid="WhoAmI", actions=["sts:GetCallerIdentity"], resources=["*"])]


def _this_account_only(stack: Stack) -> list[iam.PolicyStatement]:
    return [this_account(stack)]


#: endpoint name (``ALL_INTERFACE_ENDPOINTS``) → its policy statements
INTERFACE_ENDPOINT_POLICIES: Mapping[str, Callable[[Stack], list[iam.PolicyStatement]]] = {
    "sagemaker.runtime": _sagemaker_runtime,
    "bedrock-runtime": _bedrock_runtime,
    "execute-api": _execute_api,
    "xray": _xray,
    "monitoring": _monitoring,
    "sts": _sts,
    "sagemaker.api": _this_account_only,
    "bedrock": _this_account_only,
    "logs": _this_account_only,
    "kms": _this_account_only,
}


def jumpstart_bucket(region: str) -> str:
    """The regional JumpStart bucket that holds gpt-oss weights (our catalog's ``artifact_bucket``)."""
    return f"jumpstart-cache-prod-{region}"


def ecr_layer_bucket(region: str) -> str:
    """Where ECR serves image layers from (Amazon ECR user guide, "Amazon ECR interface VPC endpoints (AWS
    PrivateLink)", minimum S3 bucket permissions: ``arn:aws:s3:::prod-region-starport-layer-bucket/*``)."""
    return f"prod-{region}-starport-layer-bucket"


def s3_gateway_statements(stack: Stack, region: str, extra_bucket_names: Sequence[str] = ()) -> list[iam.PolicyStatement]:
    """The S3 gateway endpoint's policy: this account's buckets, the JumpStart weights and the ECR layers.

    The SageMaker developer guide ("Give SageMaker AI Hosted Endpoints Access to Resources in Your Amazon VPC":
    create an S3 VPC endpoint, and "Use a custom endpoint policy to restrict access to S3") has hosted models in
    a VPC without internet reach their model data through this endpoint; ours are in JumpStart's regional bucket.
    ECR image pulls fetch layers from ``prod-<region>-starport-layer-bucket`` (ECR user guide, above). Both are
    read-only and AWS-owned, so they are allowed by exact bucket; our own buckets (data capture, reports, an
    overridden ``model_data_url`` in this account) by ``aws:ResourceAccount``.
    """
    p = stack.partition
    read_only = [jumpstart_bucket(region), *extra_bucket_names]
    return [
        this_account(stack, sid="ThisAccountsBuckets"),
        _anyone(
            sid="ReadModelWeights",
            actions=["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"],
            resources=[arn for b in read_only for arn in (f"arn:{p}:s3:::{b}", f"arn:{p}:s3:::{b}/*")],
        ),
        _anyone(
            sid="PullContainerImageLayers",
            actions=["s3:GetObject"],
            resources=[f"arn:{p}:s3:::{ecr_layer_bucket(region)}/*"],
        ),
    ]
