"""GptOssEndpoint: catalog-driven model, network isolation in the VPC, scoped role, rollout, scaling, grants."""

from __future__ import annotations

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
        assert group["Properties"]["RetentionInDays"] == 365
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [stack.resolve(ep.encryption_key.node.default_child.logical_id), "Arn"]}
        assert group["DeletionPolicy"] == "Retain"
        (endpoint,) = t.find_resources("AWS::SageMaker::Endpoint").values()
        assert group_id in endpoint["DependsOn"]


class TestRole:
    def test_execution_role_policy_is_scoped_statement_by_statement(self, built):
        """Sources: AWS KMS developer guide, "kms:GrantIsForAWSResource" (grants only for AWS services that use the key
        on our behalf); Service Authorization Reference for Amazon EC2 (ec2:Vpc applies to Create/DeleteNetworkInterface
        and Create/DeleteNetworkInterfacePermission on network-interface, subnet and security-group; Describe* have no
        resource types), as generated in udondan/iam-floyd lib/generated/policy-statements/ec2.ts."""
        stack, net, ep, t = built
        spec = catalog.hosting("gpt-oss-20b")
        key = stack.resolve(ep.encryption_key.node.default_child.logical_id)
        (policy,) = [p for p in t.find_resources("AWS::IAM::ManagedPolicy").values()]
        statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
        assert set(statements) == {
            "ReadModelWeights", "ListModelWeights", "WriteEndpointLogs", "UseEndpointKey", "GrantEndpointKeyToAwsResources",
            "ManageInterfacesInThisVpc", "DescribeNetwork", "PullImage",
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
        eni = statements["ManageInterfacesInThisVpc"]
        assert sorted(eni["Action"]) == ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission"]
        assert eni["Condition"] == {"ArnEquals": {"ec2:Vpc": {"Fn::Join": ["", ["arn:aws:ec2:us-east-1:", {"Ref": "AWS::AccountId"}, ":vpc/", stack.resolve(net.vpc.vpc_id)]]}}}
        assert all("*" != r for r in eni["Resource"])
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
        sids = [s["Sid"] for s in policy["Properties"]["PolicyDocument"]["Statement"]]
        assert "PullImage" not in sids and "WriteDataCapture" in sids
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
