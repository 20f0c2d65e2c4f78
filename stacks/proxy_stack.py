"""ProxyStack: the invoke proxy, its private front door and the platform roles of one region."""

from __future__ import annotations

from typing import Any, Mapping

from aws_cdk import CfnOutput, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from constructs import Construct

from gptoss_constructs._defaults import retention_from_days
from gptoss_constructs.bedrock_model import BedrockFoundationModel
from gptoss_constructs.invoke_proxy import ApplicableGuardrail, InvokableEndpoint, InvokeProxy, ProxyRoute
from gptoss_constructs.network import PrivateNetwork
from gptoss_constructs.roles import PlatformRoles
from stacks.base import PlatformStack
from stacks.config import RegionConfig
from stacks.proxy_config import ProxyConfig, default_fallbacks, route_names


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
        proxy_config: ProxyConfig,
        endpoints: Mapping[str, InvokableEndpoint],
        guardrail: ApplicableGuardrail | None,
        removal_policy: RemovalPolicy,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, availability_zones=region_config.availability_zones, **kwargs)
        fallbacks = {**default_fallbacks(region_config), **(proxy_config.fallbacks or {})}
        routes = []
        for name, (backend, model) in route_names(region_config).items():
            options = dict(
                fallback=fallbacks.get(name),
                max_tokens=(proxy_config.route_max_tokens or {}).get(name),
                max_reasoning_effort=(proxy_config.route_max_reasoning_effort or {}).get(name),
            )
            if backend == "sagemaker":
                routes.append(ProxyRoute.sagemaker(name, endpoints[model], **options))
            else:
                routes.append(ProxyRoute.bedrock(name, BedrockFoundationModel(model), **options))

        self.proxy = InvokeProxy(
            self,
            "Proxy",
            vpc=network.vpc,
            service_endpoints=network,
            routes=routes,
            guardrail=guardrail,
            guardrail_stream_mode=proxy_config.guardrail_stream_mode,
            streaming=proxy_config.streaming,
            timeout=Duration.seconds(proxy_config.timeout_seconds),
            memory_size=proxy_config.memory_mb,
            reserved_concurrent_executions=proxy_config.reserved_concurrency,
            max_body_bytes=proxy_config.max_body_bytes,
            escalate_principals=proxy_config.escalate_principals,
            log_retention=retention_from_days(proxy_config.log_retention_days),
            removal_policy=removal_policy,
        )
        door = self.proxy.add_private_api(
            # the endpoint object, not its id: across stacks this is a real reference that follows a replacement
            vpc_endpoint=network.add_interface_endpoint("execute-api"),
            throttling_rate_limit=proxy_config.api_throttle_rate_limit,
            throttling_burst_limit=proxy_config.api_throttle_burst_limit,
            require_api_keys=bool(proxy_config.api_consumers),
            configure_account_logging_role=proxy_config.configure_apigw_account_role,
            log_retention=retention_from_days(proxy_config.log_retention_days),
            removal_policy=removal_policy,
        )
        for plan in proxy_config.api_consumers:
            door.add_consumer(plan.name, rate_limit=plan.rate_limit, burst_limit=plan.burst_limit, quota_per_day=plan.quota_per_day)
        url, base_url = door.url, f"{door.url}v1"

        prefix = proxy_config.role_name_prefix or ""
        self.roles = PlatformRoles(
            self,
            "Roles",
            front_door=self.proxy,
            consumer_principals=[principal(p) for p in proxy_config.consumer_principals],
            operator_principals=[principal(p) for p in proxy_config.operator_principals],
            auditor_principals=[principal(p) for p in proxy_config.auditor_principals],
            role_name_pattern=f"{prefix}GptOss*",
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
