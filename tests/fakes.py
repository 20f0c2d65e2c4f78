"""Stand-ins for constructs built elsewhere, satisfying the Protocols the proxy and roles accept.

Endpoints need none: tests use ``GptOssEndpoint.from_endpoint_attributes``.

They only grant what the real constructs grant, so tests of the proxy can assert its whole policy.
"""

from __future__ import annotations

from aws_cdk import App, Environment, Stack
from aws_cdk import aws_iam as iam

GUARDRAIL_ARN = "arn:aws:bedrock:us-east-1:111111111111:guardrail/gr0123456789"


def imported_endpoint(name: str = "gptoss-20b-ep", region: str = "us-east-1"):
    """An endpoint deployed elsewhere, imported the way an app imports one
    (``GptOssEndpoint.from_endpoint_attributes``), for tests that build their stack later."""
    from gptoss_constructs.endpoint import GptOssEndpoint

    scope = Stack(App(), "Imported", env=Environment(region=region))
    return GptOssEndpoint.from_endpoint_attributes(scope, "Endpoint", endpoint_name=name)


class FakeGuardrail:
    guardrail_id = "gr0123456789"
    guardrail_version = "3"

    def grant_apply(self, grantee: iam.IGrantable) -> iam.Grant:
        return iam.Grant.add_to_principal(grantee=grantee, actions=["bedrock:ApplyGuardrail"], resource_arns=[GUARDRAIL_ARN])
