"""BedrockFoundationModel: a gpt-oss model served by Amazon Bedrock, as an object with a grant."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from gptoss_constructs import catalog
from gptoss_constructs._validation import require_choice


class BedrockFoundationModel:
    """A Bedrock foundation model (not a resource: Bedrock owns it), with the grants to call it.

    Example::

        model = BedrockFoundationModel("gpt-oss-120b")
        model.grant_invoke(fn)               # InvokeModel + InvokeModelWithResponseStream on that model only
    """

    def __init__(self, model: str) -> None:
        """:param model: a catalog model name (``gpt-oss-20b``, ``gpt-oss-120b``) or its Bedrock model id."""
        by_id = {m.bedrock_model_id: m for m in catalog.models().values()}
        if model in by_id:
            info = by_id[model]
        else:
            require_choice("model", model, catalog.model_names() + sorted(by_id))
            info = catalog.models()[model]
        self.name = info.name
        self.model_id = info.bedrock_model_id
        self.regions = info.bedrock_regions

    def model_arn(self, scope: Construct) -> str:
        """The model's ARN in ``scope``'s stack region (foundation models have no account in their ARN)."""
        stack = Stack.of(scope)
        return f"arn:{stack.partition}:bedrock:{stack.region}::foundation-model/{self.model_id}"

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Grants bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream on this model only."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
            resource_arns=[self.model_arn(grantee if isinstance(grantee, Construct) else grantee.grant_principal)],
        )
