"""Stand-ins for constructs built elsewhere, satisfying the Protocols the proxy and roles accept.

They only grant what the real constructs grant, so tests of the proxy can assert its whole policy.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam

ENDPOINT_ARN = "arn:aws:sagemaker:us-east-1:111111111111:endpoint/gptoss-20b-ep"
GUARDRAIL_ARN = "arn:aws:bedrock:us-east-1:111111111111:guardrail/gr0123456789"


class FakeEndpoint:
    endpoint_name = "gptoss-20b-ep"

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
            resource_arns=[ENDPOINT_ARN],
        )


class FakeGuardrail:
    guardrail_id = "gr0123456789"
    guardrail_version = "3"

    def grant_apply(self, grantee: iam.IGrantable) -> iam.Grant:
        return iam.Grant.add_to_principal(grantee=grantee, actions=["bedrock:ApplyGuardrail"], resource_arns=[GUARDRAIL_ARN])
