"""A platform team's own CDK app that uses gpt-oss-platform only as a library (the wheel), with all five
cdk-nag packs attached and only public imports (no ``gptoss_constructs._*``, no ``stacks``):

- ``TeamImportedVpc``: an imported VPC (no lookup) with one gpt-oss endpoint;
- ``TeamGuardrail``: a guardrail used alone, with the team's name for it;
- ``TeamOwnApi``: the proxy on the team's own PRIVATE REST API, with the team's role, security group and name;
- ``TeamFineTune``: a model the catalog does not know (the team's image and weights), served by the proxy;
- ``TeamDefaults``: changed defaults everywhere (network, proxy, private API, monitoring on the team's topic).

    python -m pip wheel --no-deps ../.. -w dist && python -m pip install --no-deps dist/gpt_oss_platform-*.whl
    python app.py        # or: npx cdk synth (its own cdk.json)
"""

from __future__ import annotations

import json

from aws_cdk import Acknowledgment, App, Duration, Environment, RemovalPolicy, Stack, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks
from constructs import Construct

from gptoss_constructs.bedrock_model import BedrockFoundationModel
from gptoss_constructs import catalog
from gptoss_constructs.endpoint import GptOssEndpoint
from gptoss_constructs.front_door import ACCESS_LOG_FIELDS
from gptoss_constructs.guardrail import ModelGuardrail
from gptoss_constructs.invoke_proxy import InvokeProxy, ProxyRoute
from gptoss_constructs.monitoring import PlatformMonitoring
from gptoss_constructs.network import PrivateNetwork

REGION = "us-east-1"
#: the team's build of the LMI container and its fine-tuned weights (the catalog knows neither)
FINE_TUNE_IMAGE = "111122223333.dkr.ecr.us-east-1.amazonaws.com/team/gpt-oss-lmi:0.38.0-lmi29.0.0-cu130-ft"
FINE_TUNE_WEIGHTS = "s3://team-models-111122223333/gpt-oss-20b-ft/v3/"


def app_role(scope: Construct, id: str) -> iam.Role:
    return iam.Role(scope, id, assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"), description="team app calling gpt-oss")


class TeamImportedVpc(Stack):
    """The corporate VPC, imported by attributes (no lookup), gets the one interface endpoint it lacks and a
    gpt-oss-20b endpoint in its isolated subnets."""

    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        vpc = ec2.Vpc.from_vpc_attributes(
            self, "CorpVpc", vpc_id="vpc-0abc1234def567890", vpc_cidr_block="10.20.0.0/16",
            availability_zones=[f"{REGION}a", f"{REGION}b"],
            isolated_subnet_ids=["subnet-0aaa1111", "subnet-0bbb2222"],
            isolated_subnet_route_table_ids=["rtb-0aaa1111", "rtb-0bbb2222"],
        )
        net = PrivateNetwork(self, "Additions", vpc=vpc, vpc_cidr="10.20.0.0/16", interface_endpoints=["sagemaker.runtime"], flow_logs=False)
        self.endpoint = GptOssEndpoint(
            self, "Gpt20b", model="gpt-oss-20b", vpc=vpc, interface_endpoints=net, instance_type="ml.g6e.2xlarge",
            model_data_url="s3://team-mirror-111122223333/gpt-oss-20b/", tiktoken_encodings_base="/opt/ml/model",
            log_retention=logs.RetentionDays.SIX_MONTHS,
        )
        self.endpoint.add_autoscaling(min_capacity=1, max_capacity=2)


class TeamGuardrail(Stack):
    """Only the guardrail: the team calls Bedrock itself and grants its own role ApplyGuardrail."""

    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        guardrail = ModelGuardrail(self, "Guardrail", policy="pii-redact", guardrail_name="team-support-bot")
        guardrail.grant_apply(app_role(self, "Worker"), managed_policy=True)


class TeamOwnApi(Stack):
    """The proxy on the team's own PRIVATE REST API, running with the team's role, security group and name."""

    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        net = PrivateNetwork(self, "Network", vpc_cidr="10.92.0.0/16", interface_endpoints=["bedrock-runtime", "execute-api"])
        role = iam.Role(self, "ProxyRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), role_name="team-gptoss-proxy")
        sg = ec2.SecurityGroup(self, "ProxySg", vpc=net.vpc, allow_all_outbound=False, description="team gpt-oss proxy")
        proxy = InvokeProxy(
            self, "Proxy", vpc=net.vpc, service_endpoints=net, role=role, security_groups=[sg], function_name="team-gptoss-proxy",
            routes=[ProxyRoute.bedrock("gpt-oss-120b", BedrockFoundationModel("gpt-oss-120b"))],
            guardrail=ModelGuardrail(self, "Guardrail", guardrail_name="team-proxy-guardrail"),
        )
        api = self._private_api(net)
        routes = proxy.add_routes_to(api)
        routes.grant_invoke(app_role(self, "Caller"), managed_policy=True)

    def _private_api(self, net: PrivateNetwork) -> apigw.RestApi:
        """The team's API: PRIVATE behind its execute-api endpoint, SigV4 only, its own logs, stage and limits."""
        endpoint = net.interface_endpoints["execute-api"]
        key = kms.Key(self, "ApiLogKey", enable_key_rotation=True, removal_policy=RemovalPolicy.RETAIN)
        key.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{self.region}.amazonaws.com")],
            actions=["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:DescribeKey"],
            resources=["*"],
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{self.partition}:logs:{self.region}:{self.account}:log-group:*"}},
        ))
        access_logs = logs.LogGroup(self, "ApiAccessLogs", encryption_key=key, retention=logs.RetentionDays.TWO_YEARS, removal_policy=RemovalPolicy.RETAIN)
        vpce = endpoint.vpc_endpoint_id
        api = apigw.RestApi(
            self, "TeamApi", rest_api_name="team-llm-api", cloud_watch_role=False,
            endpoint_configuration=apigw.EndpointConfiguration(types=[apigw.EndpointType.PRIVATE], vpc_endpoints=[endpoint]),
            policy=iam.PolicyDocument(statements=[
                iam.PolicyStatement(effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()], actions=["execute-api:Invoke"],
                                    resources=["execute-api:/*"], conditions={"StringNotEquals": {"aws:SourceVpce": vpce}}),
                iam.PolicyStatement(principals=[iam.AccountRootPrincipal()], actions=["execute-api:Invoke"],
                                    resources=["execute-api:/*"], conditions={"StringEquals": {"aws:SourceVpce": vpce}}),
            ]),
            deploy_options=apigw.StageOptions(
                stage_name="llm", tracing_enabled=True, metrics_enabled=True, logging_level=apigw.MethodLoggingLevel.ERROR,
                throttling_rate_limit=10, throttling_burst_limit=20,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
            ),
        )
        # the team's own reasons for its own API's stage (the library acknowledges only what it builds)
        stage = api.deployment_stage
        reasons = {
            "AwsSolutions::AwsSolutions-APIG3": "PRIVATE API reachable only through the team VPC's execute-api endpoint (resource policy denies any other source) with SigV4 on every method; no internet path for a WAF to filter",
            "NIST.800.53.R5::NIST.800.53.R5-APIGWAssociatedWithWAF": "PRIVATE API, no internet path (resource policy: only the team VPC endpoint), SigV4 on every method",
            "PCI.DSS.321::PCI.DSS.321-APIGWAssociatedWithWAF": "PRIVATE API, no internet path (resource policy: only the team VPC endpoint), SigV4 on every method",
        }
        for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321"):
            reasons[f"{pack}::{pack}-APIGWCacheEnabledAndEncrypted"] = "responses are per-caller model completions to POST requests; a stage cache would serve one caller's answer to another"
            reasons[f"{pack}::{pack}-APIGWSSLEnabled"] = "the only integration is the Lambda proxy integration over the AWS API; no HTTP backend could check a client certificate"
        for finding, reason in reasons.items():
            Validations.of(stage).acknowledge(Acknowledgment(id=finding, reason=reason))
        return api


class TeamFineTune(Stack):
    """A fine-tune the catalog does not know, described with the public hosting spec
    (``catalog.HostingSpec.custom``): its own name, the team's image and weights, the instance types it may run
    on and the host AMI its CUDA 13 image needs. The endpoint grants ECR pull on the team's repository and read on
    the weights, and the proxy serves it under the same name."""

    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        net = PrivateNetwork(self, "Network", vpc_cidr="10.93.0.0/16", interface_endpoints=["sagemaker.runtime", "execute-api"])
        hosting = catalog.HostingSpec.custom(
            model="gpt-oss-20b-ft", image_uri=FINE_TUNE_IMAGE, model_data_url=FINE_TUNE_WEIGHTS,
            instance_types=["ml.g6e.xlarge", "ml.g6e.2xlarge"], inference_ami_version="al2023-ami-sagemaker-inference-gpu-4-1",
            tiktoken_encodings_base="/opt/ml/model",
        )
        endpoint = GptOssEndpoint(self, "FineTune", model="gpt-oss-20b-ft", hosting=hosting, vpc=net.vpc, interface_endpoints=net)
        proxy = InvokeProxy(self, "Proxy", vpc=net.vpc, service_endpoints=net, routes=[ProxyRoute.sagemaker("gpt-oss-20b-ft", endpoint)],
                            guardrail=ModelGuardrail(self, "Guardrail"))
        endpoint.connections.allow_from(proxy, ec2.Port.tcp(443))
        proxy.add_private_api(vpc_endpoint=net.interface_endpoints["execute-api"], configure_account_logging_role=False)
        proxy.grant_invoke(app_role(self, "Caller"), managed_policy=True)


class TeamDefaults(Stack):
    """Changed defaults: network, guardrail, proxy, private API and monitoring on the team's own alarm topic."""

    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        net = PrivateNetwork(self, "Network", vpc_cidr="10.94.0.0/16", max_azs=3, flow_log_retention=logs.RetentionDays.TWO_YEARS,
                             interface_endpoints=["bedrock-runtime", "execute-api", "xray"])
        guardrail = ModelGuardrail(self, "Guardrail", policy="strict", guardrail_name="team-strict")
        proxy = InvokeProxy(
            self, "Proxy", vpc=net.vpc, service_endpoints=net, guardrail=guardrail, guardrail_stream_mode="fast",
            routes=[ProxyRoute.bedrock("gpt-oss-120b", BedrockFoundationModel("gpt-oss-120b"), max_tokens=4096, max_reasoning_effort="medium")],
            memory_size=2048, timeout=Duration.minutes(10), architecture=lambda_.Architecture.X86_64,
            log_retention=logs.RetentionDays.THREE_MONTHS, max_body_bytes=1_048_576,
        )
        proxy.add_private_api(
            vpc_endpoint=net.interface_endpoints["execute-api"], stage_name="v1", throttling_rate_limit=50, throttling_burst_limit=100,
            integration_timeout=Duration.minutes(10), log_retention=logs.RetentionDays.THREE_MONTHS, configure_account_logging_role=False,
        )
        proxy.grant_invoke(app_role(self, "Caller"), managed_policy=True)
        topic_key = kms.Key(self, "AlarmKey", enable_key_rotation=True)
        topic = sns.Topic(self, "TeamAlarms", master_key=topic_key, enforce_ssl=True)
        PlatformMonitoring(self, "Monitoring", proxy=proxy, guardrail=guardrail, alarm_topic=topic,
                           proxy_error_threshold=10, proxy_throttle_threshold=5)  # the team subscribes its own on-call to its topic


def build(app: App) -> list[Stack]:
    env = Environment(region=REGION)
    return [cls(app, cls.__name__, env=env) for cls in (TeamImportedVpc, TeamGuardrail, TeamOwnApi, TeamFineTune, TeamDefaults)]


if __name__ == "__main__":
    app = App()
    Validations.of(app).add_plugins(AwsSolutionsChecks(verbose=True), HIPAASecurityChecks(verbose=True), NIST80053R5Checks(verbose=True),
                                    PCIDSS321Checks(verbose=True), ServerlessChecks(verbose=True))
    build(app)
    app.synth()
