"""ProxyStack: the invoke proxy, its private front door and the platform roles of one region."""

from __future__ import annotations

from typing import Any, Mapping

from aws_cdk import CfnOutput, RemovalPolicy
from aws_cdk import aws_iam as iam
from constructs import Construct

from gptoss_constructs import catalog
from gptoss_constructs.bedrock_model import BedrockFoundationModel
from gptoss_constructs.model_access import ModelAccessGuard, ModelAccessThroughVpcEndpoints
from gptoss_constructs.invoke_proxy import ApplicableGuardrail, InvokableEndpoint, InvokeProxy, ProxyRoute
from gptoss_constructs.network import PrivateNetwork
from gptoss_constructs.roles import PlatformRoles
from stacks.base import PlatformStack
from stacks.config import PlatformConfig, RegionConfig
from stacks.proxy_config import default_fallbacks, default_handoffs, route_names


def principal(value: str) -> iam.IPrincipal:
    """A 12-digit account id or an IAM ARN from config, as a principal."""
    return iam.AccountPrincipal(value) if value.isdigit() else iam.ArnPrincipal(value)


class ProxyStack(PlatformStack):
    """One region's way in: the proxy Lambda with a route per configured model, its private REST API front door
    and the consumer/operator/auditor roles."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        network: PrivateNetwork,
        region_config: RegionConfig,
        config: PlatformConfig,
        endpoints: Mapping[str, InvokableEndpoint],
        guardrail: ApplicableGuardrail | None,
        removal_policy: RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, availability_zones=region_config.availability_zones, **kwargs)
        fallbacks, handoffs = default_fallbacks(region_config), default_handoffs(region_config)
        routes = []
        for name, (backend, model) in route_names(region_config).items():
            options = {"fallback": fallbacks.get(name), "handoff": handoffs.get(name), **config.routes.get(name, {})}  # config wins, null included
            if backend == "sagemaker":
                routes.append(ProxyRoute.sagemaker(name, endpoints[model], **options))
            else:
                profile = catalog.models()[model].inference_profile(self.region) if model in region_config.bedrock_inference_profiles else None
                routes.append(ProxyRoute.bedrock(name, BedrockFoundationModel(model, inference_profile=profile.geography if profile else None), **options))

        self.proxy = InvokeProxy(
            self,
            "Proxy",
            vpc=network.vpc,
            service_endpoints=network,
            routes=routes,
            guardrail=guardrail,
            **config.proxy_props(),
            removal_policy=removal_policy,
        )
        # model access only through the platform: the proxy's model/guardrail grants hold only through our own
        # runtime endpoints, and the guard policy (stack output) is ready for a boundary or an SCP
        self.model_access = ModelAccessThroughVpcEndpoints(
            self,
            "ModelAccess",
            role=self.proxy.role,
            sagemaker_runtime=network.interface_endpoints.get("sagemaker.runtime") if endpoints else None,
            bedrock_runtime=network.interface_endpoints.get("bedrock-runtime"),
        )
        ModelAccessGuard(
            self,
            "ModelAccessGuard",
            endpoint_arns=[f"arn:{self.partition}:sagemaker:{self.region}:{self.account}:endpoint/{e.endpoint_name}" for e in endpoints.values()],
            proxy_role=self.proxy.role,
            guardrail=guardrail,  # a direct gpt-oss call on Bedrock must name this guardrail version
            proxy_function=self.proxy.function,  # no direct invoke, function URL or non-API-Gateway permission
        )
        door = self.proxy.add_private_api(
            # the endpoint object, not its id: across stacks this is a real reference that follows a replacement
            vpc_endpoint=network.add_interface_endpoint("execute-api"),
            require_api_keys=bool(config.api_consumers),
            **config.private_api_props(),
            removal_policy=removal_policy,
        )
        for plan in config.api_consumers:
            door.add_consumer(plan.name, rate_limit=plan.rate_limit, burst_limit=plan.burst_limit, quota_per_day=plan.quota_per_day)
        url, base_url = door.url, f"{door.url}v1"

        prefix = config.role_name_prefix or ""
        self.roles = PlatformRoles(
            self,
            "Roles",
            front_door=self.proxy,
            consumer_principals=[principal(p) for p in config.consumer_principals],
            operator_principals=[principal(p) for p in config.operator_principals],
            auditor_principals=[principal(p) for p in config.auditor_principals],
            role_name_pattern=f"{prefix}GptOss*",
            rest_api_ids=[door.rest_api_id],
            endpoint_names=[e.endpoint_name for e in endpoints.values()],
            principal_org_id=config.principal_org_id,
            principal_arns=config.principal_arns,
            **({"operator_require_mfa": config.operator_require_mfa} if config.operator_require_mfa is not None else {}),
            **({"auditor_require_mfa": config.auditor_require_mfa} if config.auditor_require_mfa is not None else {}),
            operator_principal_arns=config.operator_principal_arns,
            auditor_principal_arns=config.auditor_principal_arns,
        )

        CfnOutput(self, "Url", value=url, description="Front door URL (SigV4-signed requests from inside the VPC)")
        CfnOutput(self, "OpenAIBaseUrl", value=base_url, description="base_url for the OpenAI SDK / Strands OpenAIModel")
        CfnOutput(self, "Models", value=",".join(r.model for r in routes), description="Model names this region routes")
        if guardrail is not None:
            CfnOutput(self, "GuardrailVersion", value=guardrail.guardrail_version, description="Guardrail version the proxy applies")
        for role_name, role in (("Consumer", self.roles.consumer_role), ("Operator", self.roles.operator_role), ("Auditor", self.roles.auditor_role)):
            if role is not None:
                CfnOutput(self, f"{role_name}RoleArn", value=role.role_arn)
        CfnOutput(
            self,
            "HowToCall",
            value=f"curl --aws-sigv4 aws:amz:{self.region}:execute-api --user $AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY "
            f"-H \"x-amz-security-token: $AWS_SESSION_TOKEN\" -H 'content-type: application/json' "
            f"{base_url}/chat/completions -d '{{\"model\": \"{routes[0].model}\", \"messages\": [{{\"role\": \"user\", \"content\": \"hi\"}}]}}'",
            description="Example call (from inside the VPC or a peered network)",
        )
