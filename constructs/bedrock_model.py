"""BedrockFoundationModel: a gpt-oss model served by Amazon Bedrock, as an object with a grant."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from constructs import Construct

from gptoss_constructs import catalog
from gptoss_constructs._defaults import nag_resource
from gptoss_constructs._validation import require_choice


class BedrockFoundationModel:
    """A Bedrock foundation model (not a resource: Bedrock owns it), with the grants to call it.

    Example::

        model = BedrockFoundationModel("gpt-oss-120b")
        model.grant_invoke(fn)               # InvokeModel + InvokeModelWithResponseStream on that model only
        BedrockFoundationModel("gpt-oss-120b", inference_profile="us")   # opt-in: the US geographic profile
    """

    def __init__(self, model: str, *, inference_profile: str | None = None) -> None:
        """:param model: a catalog model name (``gpt-oss-20b``, ``gpt-oss-120b``) or its Bedrock model id.
        :param inference_profile: call the model through the catalog's geographic cross-Region inference
            profile of this geography (``us``): Bedrock may then process prompts in any destination region of
            the profile. Default: - in-region calls only."""
        by_id = {m.bedrock_model_id: m for m in catalog.models().values()}
        if model in by_id:
            info = by_id[model]
        else:
            require_choice("model", model, catalog.model_names() + sorted(by_id))
            info = catalog.models()[model]
        self.name = info.name
        self.foundation_model_id = info.bedrock_model_id
        self.regions = info.bedrock_regions
        self.inference_profile = None
        if inference_profile is not None:
            profiles = info.inference_profiles or {}
            require_choice("inference_profile", inference_profile, sorted(profiles))
            self.inference_profile = profiles[inference_profile]
        #: the id the proxy sends as modelId: the profile id when one is used
        self.model_id = self.inference_profile.profile_id if self.inference_profile else self.foundation_model_id

    def model_arn(self, scope: Construct, region: str | None = None) -> str:
        """The foundation model's ARN in ``region`` (default: ``scope``'s stack region; no account in it)."""
        stack = Stack.of(scope)
        return f"arn:{stack.partition}:bedrock:{region or stack.region}::foundation-model/{self.foundation_model_id}"

    def inference_profile_arn(self, scope: Construct) -> str:
        """The system-defined profile's ARN in ``scope``'s region and account (a profile is called from its
        source region)."""
        stack = Stack.of(scope)
        return f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:inference-profile/{self.inference_profile.profile_id}"

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Grants bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream on this model only.

        Through an inference profile: on the profile, and on the foundation model in every destination region
        (any region when the catalog does not know them) only when the call comes through that profile
        (condition ``bedrock:InferenceProfileArn``). The Bedrock user guide's inference-profile prerequisites:
        a policy naming an inference profile "must also specify the foundation model in each Region associated
        with it"."""
        actions = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
        # the stack whose partition/region/account the ARNs use: the grantee, its principal, or the managed policy a
        # managed-policy grantee writes into (none of the last two need be a construct)
        candidates = (grantee, grantee.grant_principal, getattr(grantee, "policy", None))
        scope = next((c for c in candidates if isinstance(c, Construct)), grantee.grant_principal)
        if self.inference_profile is None:
            return iam.Grant.add_to_principal(grantee=grantee, actions=actions, resource_arns=[self.model_arn(scope)])
        profile_arn = self.inference_profile_arn(scope)
        grant = iam.Grant.add_to_principal(grantee=grantee, actions=actions, resource_arns=[profile_arn])
        regions = self.inference_profile.destination_regions or ("*",)
        model_arns = [self.model_arn(scope, r) for r in regions]
        grant = grant.combine(
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=actions,
                resource_arns=model_arns,
                conditions={"StringEquals": {"bedrock:InferenceProfileArn": profile_arn}},
            )
        )
        if "*" in regions and isinstance(grantee.grant_principal, Construct):
            Validations.of(grantee.grant_principal).acknowledge(
                Acknowledgment(
                    id=f"AwsSolutions::AwsSolutions-IAM5[{nag_resource(scope, model_arns[0])}]",
                    reason=f"the {self.inference_profile.profile_id} cross-Region inference profile may run the model in any "
                    "destination region, and InvokeModel is authorized on the foundation model in that region; the "
                    "destinations are not recorded in the catalog yet (make preflight prints them), so the region is "
                    "a wildcard while the model id is exact and the statement only applies to calls made through "
                    "this one profile (condition bedrock:InferenceProfileArn)",
                )
            )
        return grant
