"""PrivateNetwork: the private VPC every gpt-oss-platform resource lives in."""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

import jsii
from aws_cdk import Acknowledgment, CfnResource, RemovalPolicy, Stack, Token, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from gptoss_constructs._compliance import skip_scanner_checks
from gptoss_constructs._defaults import encrypted_log_group, new_key
from gptoss_constructs._endpoint_policies import INTERFACE_ENDPOINT_POLICIES, s3_gateway_statements
from gptoss_constructs._validation import (
    require_availability_zones,
    require_choices,
    require_private_cidr,
    require_range,
)

#: Interface endpoints the platform can create, by the name used in props and config.
INTERFACE_ENDPOINT_SERVICES: Mapping[str, ec2.InterfaceVpcEndpointAwsService] = {
    "sagemaker.runtime": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
    "sagemaker.api": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
    "bedrock-runtime": ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME,
    "bedrock": ec2.InterfaceVpcEndpointAwsService.BEDROCK,
    "logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
    "sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "kms": ec2.InterfaceVpcEndpointAwsService.KMS,
    "execute-api": ec2.InterfaceVpcEndpointAwsService.APIGATEWAY,
    "xray": ec2.InterfaceVpcEndpointAwsService.XRAY,
}
ALL_INTERFACE_ENDPOINTS: tuple[str, ...] = tuple(INTERFACE_ENDPOINT_SERVICES)
#: What the platform calls from inside the VPC, so what a new VPC gets by default (issue 16: no endpoint nothing
#: uses). The proxy Lambda calls sagemaker-runtime (InvokeEndpoint*) and bedrock-runtime (InvokeModel*,
#: ApplyGuardrail) and nothing else (lambda/invoke_proxy/gptoss_proxy/adapters/aws.py); consumers reach the private
#: API through execute-api; the proxy runs with active X-Ray tracing, so xray stays (UNCONFIRMED(manual:xray-endpoint) whether Lambda's
#: own trace segments need it when the function uses no X-Ray SDK: the cost of keeping it is one endpoint).
#: Not needed: sagemaker.api / bedrock (control planes: CloudFormation and operators call them from outside the
#: VPC), logs (Lambda ships the function's stdout itself; SageMaker ships container logs itself; flow logs are
#: delivered by the service), monitoring (the proxy emits metrics as embedded-metric-format log lines), sts
#: (Lambda hands the function its role's credentials). kms: the proxy seals and opens reasoning for the Responses
#: API's `reasoning.encrypted_content` with KMS Encrypt/Decrypt from its own code (adapters/aws.py KmsSealer); Lambda
#: decrypts environment variables itself.
#: UNCONFIRMED(verify:route-chat) offline for logs/sts (no AWS page found that says it for VPC-attached functions; README,
#: Troubleshooting): the first request through the deployed API shows the proxy's log lines if it holds.
DEFAULT_INTERFACE_ENDPOINTS: tuple[str, ...] = ("sagemaker.runtime", "bedrock-runtime", "execute-api", "xray", "kms")

DEFAULT_VPC_CIDR = "10.80.0.0/16"
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def endpoint_service_name(name: str, region: str) -> str:
    """The VPC endpoint service name of interface endpoint ``name`` in ``region``, as
    ``DescribeVpcEndpointServices`` reports it: ``endpoint_service_name("sagemaker.runtime", "us-east-1")`` →
    ``com.amazonaws.us-east-1.sagemaker.runtime`` (our endpoint names are the service-name suffixes)."""
    require_choices("interface endpoint", [name], ALL_INTERFACE_ENDPOINTS)
    return f"com.amazonaws.{region}.{name}"


class MissingEndpointAz(NamedTuple):
    """An interface endpoint service that is not offered in an AZ we would put the endpoint in."""

    service_name: str
    availability_zone: str


def missing_endpoint_azs(
    service_details: Iterable[Mapping[str, Any]], wanted_services: Iterable[str], azs: Iterable[str]
) -> list[MissingEndpointAz]:
    """Which (service, AZ) pairs would fail: each wanted service that ``DescribeVpcEndpointServices`` does not
    offer in each AZ (a service missing from the response is missing in every AZ).

    Not every interface endpoint service is offered in every AZ, and CloudFormation fails creating an endpoint
    with a subnet in an AZ the service lacks. Pure: pass the ``ServiceDetails`` list of the EC2 API's
    ``DescribeVpcEndpointServices`` response (each item has ``ServiceName`` and ``AvailabilityZones``, the AZ
    *names* of the caller's account), the full service names (:func:`endpoint_service_name`) and the AZ names
    of the subnets. Pass the details of every page (the call pages with ``NextToken``; filter it with
    ``ServiceNames=wanted_services``). ``tools/preflight.py`` calls it; no boto3 here.
    """
    offered: dict[str, set[str]] = {}
    for detail in service_details:
        offered.setdefault(detail["ServiceName"], set()).update(detail.get("AvailabilityZones") or ())
    return [
        MissingEndpointAz(service, az)
        for service in wanted_services
        for az in azs
        if az not in offered.get(service, set())
    ]


def azs_offering_all(
    service_details: Iterable[Mapping[str, Any]], wanted_services: Iterable[str], candidate_azs: Iterable[str]
) -> list[str]:
    """The candidate AZs (in their order) where every wanted service is offered: what to put in
    ``availability_zones`` when :func:`missing_endpoint_azs` finds a gap. Pure, like it."""
    candidates = list(candidate_azs)
    gaps = {m.availability_zone for m in missing_endpoint_azs(service_details, list(wanted_services), candidates)}
    return [az for az in candidates if az not in gaps]


def validate_network_props(
    *, max_azs: int | None = None, subnet_cidr_mask: int | None = None, vpc_cidr: str | None = None, azs: int | None = None
) -> None:
    """The new VPC's ranges, written once: ``PrivateNetwork`` checks its props with this, and the app's config calls
    it to name the context key of a bad value. With ``vpc_cidr``, the VPC must hold one isolated subnet of
    ``subnet_cidr_mask`` (default 20) per AZ (``azs``, default ``max_azs`` or 2)."""
    if max_azs is not None:
        require_range("max_azs", max_azs, 2, 6)
    if subnet_cidr_mask is not None:
        require_range("subnet_cidr_mask", subnet_cidr_mask, 16, 28)
    if vpc_cidr is not None and not Token.is_unresolved(vpc_cidr):
        import ipaddress

        prefix = ipaddress.IPv4Network(vpc_cidr, strict=False).prefixlen
        mask = subnet_cidr_mask or 20
        count = azs or max_azs or 2
        if mask < prefix or 2 ** (mask - prefix) < count:
            longest = mask - max(1, (count - 1).bit_length())
            raise ValueError(
                f"vpc_cidr {vpc_cidr} cannot hold {count} isolated subnets of /{mask} (one per AZ); use a /{longest} "
                f"or larger range, or a longer subnet_cidr_mask"
            )


#: endpoint-policy statements without the identity perimeter (aws:PrincipalAccount / aws:PrincipalOrgID):
#: execute-api, whose consumers may be other accounts' principals (consumer roles elsewhere) or no principal at all
#: (API-key requests are not signed), so the API's own resource policy and keys decide who calls it
NO_PRINCIPAL_PERIMETER = frozenset({"InvokeThisAccountsApisOnly"})
#: what the platform does with its own buckets through the S3 gateway: read model data and reports, write data
#: capture (SageMaker's data capture and multipart uploads); nothing else (no bucket policy, ACL or delete)
THIS_ACCOUNTS_BUCKET_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListBucket", "s3:GetBucketLocation")


def this_accounts_buckets(stack: Stack, principal_perimeter: Mapping[str, str]) -> iam.PolicyStatement:
    """The S3 gateway's statement for the platform's own buckets: the read/write actions it uses, by principals
    of this account (or organization) on resources of this account (aws-samples/data-perimeter-policy-examples
    ``vpc_endpoint_policies/s3_endpoint_policy.json``, "AllowRequestsByOrgsIdentitiesToOrgsResources", with the
    account for the organization). The AWS-owned buckets (JumpStart weights, ECR layers) keep their own
    statements without an identity condition, as that example's "AllowRequestsToAWSOwnedResources" does: ECR
    serves layers through URLs it signs itself."""
    return iam.PolicyStatement(
        sid="ThisAccountsBuckets",
        principals=[iam.StarPrincipal()],
        actions=list(THIS_ACCOUNTS_BUCKET_ACTIONS),
        resources=["*"],
        conditions={"StringEquals": {"aws:ResourceAccount": stack.account, **principal_perimeter}},
    )


@jsii.implements(ec2.IConnectable)
class PrivateNetwork(Construct):
    """A private VPC for model hosting: isolated subnets only, AWS services through VPC endpoints.

    By default it creates a VPC with isolated subnets in two AZs (no internet gateway, no NAT), VPC flow logs
    to a KMS-encrypted log group, an S3 gateway endpoint (model weights come from S3), interface endpoints with
    private DNS for every service the platform calls from inside the VPC, each with an endpoint policy that
    admits only this account's resources and the AWS-owned ones the platform needs, one security group for
    those endpoints admitting HTTPS from the VPC CIDR only (the execute-api endpoint has its own, which also
    admits the configured API clients), and a default security group with every rule removed.

    Pass ``vpc`` to wrap an existing VPC instead: then only the endpoints you list (and flow logs, unless
    ``flow_logs=False``) are added, and ``vpc_cidr`` must give its CIDR as a literal.

    Example (run by tests/test_network.py)::

        net = PrivateNetwork(self, "Network", availability_zones=["us-east-1a", "us-east-1c"])
        worker = ec2.SecurityGroup(self, "Worker", vpc=net.vpc, allow_all_outbound=False)
        worker.connections.allow_to(net, ec2.Port.tcp(443))  # HTTPS to the VPC endpoints: net is IConnectable
        api = net.add_interface_endpoint("execute-api")      # idempotent; its policy invokes this account's APIs only
        net.vpc, net.isolated_subnets, net.endpoint_security_group, net.api_endpoint_security_group

    ``InvokeProxy(..., service_endpoints=net)`` does the ``allow_to`` for the proxy. A SageMaker endpoint needs no
    ingress from the proxy: the proxy calls SageMaker Runtime through its VPC endpoint, not the model's network
    interfaces.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc | None = None,
        vpc_cidr: str | None = None,
        max_azs: int = 2,
        availability_zones: Sequence[str] | None = None,
        subnet_cidr_mask: int = 20,
        interface_endpoints: Sequence[str] | None = None,
        s3_gateway_endpoint: bool = True,
        s3_read_buckets: Sequence[str] = (),
        api_client_cidrs: Sequence[str] = (),
        api_client_security_groups: Sequence[ec2.ISecurityGroup] = (),
        flow_logs: bool = True,
        flow_log_retention: logs.RetentionDays = logs.RetentionDays.THIRTEEN_MONTHS,
        encryption_key: kms.IKey | None = None,
        endpoint_principal_org_id: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param vpc: an existing VPC to wrap. Default: - a new VPC with isolated subnets only.
        :param vpc_cidr: the VPC's IPv4 CIDR, a literal private range. Default: - ``10.80.0.0/16`` for a new
            VPC; required with ``vpc`` when the VPC's CIDR is a token (e.g. ``Vpc.from_vpc_attributes``).
        :param max_azs: AZs for a new VPC, at least 2. Default: - 2. Ignored when ``availability_zones`` is given.
        :param availability_zones: explicit AZ names of the stack's region for a new VPC (at least two): its
            subnets, and so every interface endpoint, go there. Choose AZs where every endpoint service you
            list is offered (not all are offered in every AZ; :func:`missing_endpoint_azs` checks a
            ``DescribeVpcEndpointServices`` answer). Also needed when the stack has an explicit account and no
            AZ lookup is wanted. Default: - the stack's first ``max_azs`` AZs (``Fn::GetAZs`` when env-agnostic).
        :param subnet_cidr_mask: prefix length of each isolated subnet. Default: - 20 (4,091 addresses).
        :param interface_endpoints: names from ``ALL_INTERFACE_ENDPOINTS`` to create, each with a scoped
            endpoint policy. Default: - ``DEFAULT_INTERFACE_ENDPOINTS`` (what the platform calls from the VPC:
            sagemaker.runtime, bedrock-runtime, execute-api, xray) for a new VPC, none for an existing one (list
            the ones it lacks).
        :param s3_gateway_endpoint: add an S3 gateway endpoint. Default: - true for a new VPC.
        :param s3_read_buckets: names of other accounts' buckets the VPC may read through the S3 gateway
            endpoint (e.g. a ``model_data_url`` bucket elsewhere). Default: - none: only this account's buckets,
            the region's JumpStart bucket and ECR's layer bucket.
        :param api_client_cidrs: private (RFC 1918) CIDRs of peered networks / VPNs whose clients call the
            private API through this VPC's execute-api endpoint: admitted on 443 to that endpoint only (not to
            the other service endpoints). Such clients cannot resolve the VPC's private DNS names; they call the
            API at ``https://{rest-api-id}-{vpce-id}.execute-api.{region}.amazonaws.com/{stage}`` (see README,
            "Calling from a peered network or VPN"). Default: - none: the VPC CIDR only.
        :param api_client_security_groups: security groups (e.g. of a peered VPC in this region) whose members
            may call the execute-api endpoint on 443. Default: - none.
        :param flow_logs: record VPC flow logs (all traffic) to CloudWatch Logs. Default: - true.
        :param flow_log_retention: retention of the flow log group (and of the default-security-group
            provider's log group). Default: - 400 days (13 months: PCI DSS v4.0 10.5.1 keeps 12 months of audit logs).
        :param encryption_key: KMS key for the flow log group and the log group of aws-cdk-lib's
            default-security-group provider Lambda. Default: - a new key with rotation enabled.
        :param endpoint_principal_org_id: the identity perimeter of the endpoint policies: when set, callers must
            belong to this AWS Organization (``aws:PrincipalOrgID``) instead of this account. Default: - this
            account (``aws:PrincipalAccount``).
        :param removal_policy: what happens to the key and log group when removed from the stack.
            Default: - RETAIN (flow logs are audit evidence).
        """
        super().__init__(scope, id)
        validate_network_props(max_azs=max_azs, subnet_cidr_mask=subnet_cidr_mask)
        if availability_zones is not None:
            availability_zones = require_availability_zones("availability_zones", availability_zones, Stack.of(self).region)
        existing = vpc is not None
        endpoint_names = require_choices(
            "interface_endpoints",
            list(interface_endpoints if interface_endpoints is not None else (() if existing else DEFAULT_INTERFACE_ENDPOINTS)),
            ALL_INTERFACE_ENDPOINTS,
        )

        if vpc is None:
            self.vpc_cidr = require_private_cidr("vpc_cidr", vpc_cidr or DEFAULT_VPC_CIDR)
            validate_network_props(vpc_cidr=self.vpc_cidr, subnet_cidr_mask=subnet_cidr_mask,
                                   azs=len(availability_zones) if availability_zones else max_azs)
            vpc = self._new_vpc(self.vpc_cidr, max_azs, availability_zones, subnet_cidr_mask)
        else:
            cidr = vpc_cidr if vpc_cidr is not None else vpc.vpc_cidr_block
            self.vpc_cidr = require_private_cidr("vpc_cidr", cidr, min_prefix=8, max_prefix=28)
        self.vpc: ec2.IVpc = vpc
        self.isolated_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        if endpoint_principal_org_id is not None and not re.fullmatch(r"o-[a-z0-9]{10,32}", endpoint_principal_org_id):
            raise ValueError(f"endpoint_principal_org_id must look like o-abcdef1234 (o- and 10 to 32 lowercase letters or digits), got {endpoint_principal_org_id!r}")
        self._principal_perimeter = (
            {"aws:PrincipalOrgID": endpoint_principal_org_id} if endpoint_principal_org_id else {"aws:PrincipalAccount": Stack.of(self).account}
        )

        self.encryption_key: kms.IKey | None = encryption_key
        self.flow_log_group: logs.ILogGroup | None = None
        if flow_logs:
            self._add_flow_logs(encryption_key, flow_log_retention, removal_policy)
        self.default_sg_provider_log_group: logs.ILogGroup | None = None
        if not existing:
            self.default_sg_provider_log_group = self._default_sg_provider_log_group(flow_log_retention, removal_policy)

        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=vpc,
            description="VPC interface endpoints: HTTPS from inside the VPC only",
            allow_all_outbound=False,
        )
        self.endpoint_security_group.add_ingress_rule(
            ec2.Peer.ipv4(self.vpc_cidr), ec2.Port.tcp(443), "HTTPS from the VPC CIDR"
        )
        self._connections = ec2.Connections(security_groups=[self.endpoint_security_group])
        self._api_client_cidrs = [
            require_private_cidr("api_client_cidrs", c, min_prefix=8, max_prefix=32) for c in api_client_cidrs
        ]
        self._api_client_security_groups = list(api_client_security_groups)
        self.api_endpoint_security_group: ec2.SecurityGroup | None = None

        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        for name in endpoint_names:
            self.add_interface_endpoint(name)

        bad_buckets = [b for b in s3_read_buckets if not _BUCKET.fullmatch(b)]
        if bad_buckets:
            raise ValueError(f"s3_read_buckets must be S3 bucket names (not ARNs or URLs), got {', '.join(map(repr, bad_buckets))}")
        self.s3_endpoint: ec2.GatewayVpcEndpoint | None = None
        if s3_gateway_endpoint:
            self.s3_endpoint = ec2.GatewayVpcEndpoint(
                self,
                "S3Endpoint",
                vpc=vpc,
                service=ec2.GatewayVpcEndpointAwsService.S3,
                subnets=[self.isolated_subnets],
            )
            stack = Stack.of(self)
            for statement in s3_gateway_statements(stack, stack.region, list(s3_read_buckets)):
                if statement.sid == "ThisAccountsBuckets":
                    statement = this_accounts_buckets(stack, self._principal_perimeter)
                self.s3_endpoint.add_to_policy(statement)

    def _new_vpc(
        self, cidr: str, max_azs: int, availability_zones: Sequence[str] | None, mask: int
    ) -> ec2.Vpc:
        vpc = self._vpc(cidr, max_azs, availability_zones, mask)
        if availability_zones:
            Validations.of(vpc).acknowledge(
                Acknowledgment(
                    id="CloudFormation-Validate::W3010",
                    reason="the AZ names are given explicitly (config availability_zones, or the catalog's names when "
                    "an explicit account is set) so synth needs no AWS lookup; each account maps them to its own AZ IDs",
                )
            )
        return vpc

    def _vpc(
        self, cidr: str, max_azs: int, availability_zones: Sequence[str] | None, mask: int
    ) -> ec2.Vpc:
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            max_azs=None if availability_zones else max_azs,
            availability_zones=list(availability_zones) if availability_zones else None,
            nat_gateways=0,
            create_internet_gateway=False,
            restrict_default_security_group=True,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=mask)
            ],
        )
        self._skip_scanners_on_restrict_sg_provider()
        return vpc

    def _skip_scanners_on_restrict_sg_provider(self) -> None:
        """restrict_default_security_group adds aws-cdk-lib's own provider Lambda (one per stack) that strips
        the default security group's rules at deploy; checkov and cfn-lint see it in the template."""
        provider = Stack.of(self).node.try_find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
        handler = provider.node.try_find_child("Handler") if provider is not None else None
        if not isinstance(handler, CfnResource) or handler.get_metadata("checkov") is not None:
            return
        skip_scanner_checks(
            handler,
            checkov={
                "CKV_AWS_115": "aws-cdk-lib's VpcRestrictDefaultSG provider runs only on stack create/update (a few "
                "invocations per deploy); reserved concurrency would only take from the account's pool",
                "CKV_AWS_116": "invoked by CloudFormation for a custom resource; a failed invocation fails the stack "
                "operation and is retried by redeploying, so a dead-letter queue would hold nothing to replay",
                "CKV_AWS_117": "must reach the EC2 API and the CloudFormation response URL (S3) at deploy; this VPC "
                "has no EC2 endpoint or egress by design, so the provider runs outside it; its role may only revoke and "
                "authorize rules of this VPC's default security group, plus AWSLambdaBasicExecutionRole for its own logs",
            },
            cfn_lint={
                "W3005": "aws-cdk-lib's provider declares DependsOn on its role as well as GetAtt; redundant, not "
                "wrong, and the resource is generated by aws-cdk-lib, not by us",
            },
        )

    def _add_flow_logs(
        self, key: kms.IKey | None, retention: logs.RetentionDays, removal_policy: RemovalPolicy
    ) -> None:
        if key is None:
            key = new_key(
                self, "Key", description="gpt-oss-platform: encrypts the VPC flow log group", removal_policy=removal_policy
            )
        self.encryption_key = key
        self.flow_log_group = encrypted_log_group(
            self, "FlowLogGroup", key=key, retention=retention, removal_policy=removal_policy
        )
        # A role whose only permissions sit in a customer-managed policy (HIPAA/NIST/PCI IAMNoInlinePolicy):
        # FlowLog's own grants would land in an inline DefaultPolicy, so it gets a view that ignores them.
        # confused deputy (Amazon VPC user guide, "Publish flow logs to CloudWatch Logs", IAM role: "We recommend
        # that you use the aws:SourceAccount and aws:SourceArn condition keys"; the flow-log id is not known before
        # the flow log exists, so its ARN ends in a wildcard, as the guide allows)
        stack = Stack.of(self)
        role = iam.Role(
            self,
            "FlowLogRole",
            assumed_by=iam.ServicePrincipal(
                "vpc-flow-logs.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:ec2:{stack.region}:{stack.account}:vpc-flow-log/*"},
                },
            ),
            description="Delivers this VPC's flow logs to its encrypted log group",
        )
        policy = iam.ManagedPolicy(
            self,
            "FlowLogPolicy",
            description="Write VPC flow log streams to one log group",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    resources=[self.flow_log_group.log_group_arn],
                ),
                iam.PolicyStatement(actions=["iam:PassRole"], resources=[role.role_arn]),
            ],
        )
        self.flow_log = ec2.FlowLog(
            self,
            "FlowLog",
            resource_type=ec2.FlowLogResourceType.from_vpc(self.vpc),
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group, role.without_policy_updates()),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        # The flow log names only the role, so CloudFormation could create it before the policy is attached and
        # the first deliveries fail (CDK developer guide, "Permissions": "the deployment may fail if the
        # permissions are applied too late"; aws-cdk PR #1966 made CloudTrail wait for its log policy the same way).
        self.flow_log.node.add_dependency(policy)

    def _default_sg_provider_log_group(self, retention: logs.RetentionDays, removal_policy: RemovalPolicy) -> logs.ILogGroup | None:
        """The log group of aws-cdk-lib's default-security-group provider Lambda, created by us (KMS, retention).

        ``restrict_default_security_group`` adds one provider per stack (aws-cdk-lib
        ``aws-ec2/lib/vpc.ts`` ``restrictDefaultSecurityGroup()`` → ``RestrictDefaultSgProvider.getOrCreateProvider``,
        construct ``<stack>/Custom::VpcRestrictDefaultSGCustomResourceProvider`` with children ``Role`` and
        ``Handler``, an ``AWS::Lambda::Function`` without ``FunctionName``: core ``custom-resource-provider-base.ts``).
        Lambda writes to ``/aws/lambda/<function name>`` and creates that group itself, unencrypted and kept forever,
        unless it exists (Lambda developer guide, "Configuring CloudWatch log groups": "CloudWatch automatically creates a
        log group named /aws/lambda/<function name> ... when it's first invoked"). The function's ``Ref`` is its
        generated name, so the group is ``/aws/lambda/{Ref Handler}``, and the custom resource waits for it, so the
        first invocation already writes into it. One per stack, like the provider (a second network reuses it).
        """
        stack = Stack.of(self)
        provider = stack.node.try_find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
        handler = provider.node.try_find_child("Handler") if provider is not None else None
        if not isinstance(handler, CfnResource):
            return None
        group = provider.node.try_find_child("LogGroup")
        if group is None:
            key = self.encryption_key or new_key(
                self, "ProviderLogKey", description="gpt-oss-platform: encrypts the default-security-group provider's log group",
                removal_policy=removal_policy,
            )
            group = encrypted_log_group(
                provider, "LogGroup", key=key, retention=retention, removal_policy=removal_policy,
                log_group_name=f"/aws/lambda/{handler.ref}",
            )
        custom = self.vpc.node.try_find_child("RestrictDefaultSecurityGroupCustomResource")
        if custom is not None:
            custom.node.add_dependency(group)
        return group

    def _api_security_group(self) -> ec2.SecurityGroup:
        """The execute-api endpoint's own group: the VPC CIDR plus the configured clients (peered networks, VPN),
        who thereby reach the private API and nothing else in the VPC."""
        if self.api_endpoint_security_group is None:
            sg = ec2.SecurityGroup(
                self,
                "ApiEndpointSecurityGroup",
                vpc=self.vpc,
                description="execute-api VPC endpoint: HTTPS from the VPC and the configured API clients only",
                allow_all_outbound=False,
            )
            sg.add_ingress_rule(ec2.Peer.ipv4(self.vpc_cidr), ec2.Port.tcp(443), "HTTPS from the VPC CIDR")
            for cidr in self._api_client_cidrs:
                sg.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), f"HTTPS from API clients in {cidr}")
            for client in self._api_client_security_groups:
                sg.add_ingress_rule(client, ec2.Port.tcp(443), "HTTPS from an API client security group")
            self.api_endpoint_security_group = sg
        return self.api_endpoint_security_group

    @property
    def connections(self) -> ec2.Connections:
        """The VPC endpoints' security group: ``proxy.connections.allow_to(network, ec2.Port.tcp(443))``."""
        return self._connections

    def add_interface_endpoint(self, name: str) -> ec2.InterfaceVpcEndpoint:
        """Adds (once) the interface endpoint ``name`` (one of ``ALL_INTERFACE_ENDPOINTS``) with its scoped
        endpoint policy (``_endpoint_policies.INTERFACE_ENDPOINT_POLICIES``) and returns it; widen it with
        ``endpoint.add_to_policy(...)`` when a workload in the VPC needs more."""
        require_choices("interface endpoint", [name], ALL_INTERFACE_ENDPOINTS)
        if name not in self.interface_endpoints:
            construct_id = "".join(part.capitalize() for part in name.replace("-", ".").split(".")) + "Endpoint"
            self.interface_endpoints[name] = ec2.InterfaceVpcEndpoint(
                self,
                construct_id,
                vpc=self.vpc,
                service=INTERFACE_ENDPOINT_SERVICES[name],
                private_dns_enabled=True,
                subnets=self.isolated_subnets,
                security_groups=[self._api_security_group() if name == "execute-api" else self.endpoint_security_group],
                open=False,
            )
            for statement in INTERFACE_ENDPOINT_POLICIES[name](Stack.of(self)):
                if statement.sid not in NO_PRINCIPAL_PERIMETER:
                    statement.add_condition("StringEquals", self._principal_perimeter)
                self.interface_endpoints[name].add_to_policy(statement)
        return self.interface_endpoints[name]
