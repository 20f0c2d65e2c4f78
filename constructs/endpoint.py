"""GptOssEndpoint: a SageMaker real-time endpoint serving one gpt-oss model from the reviewed catalog."""

from __future__ import annotations

from typing import Mapping

import jsii
from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Tags, Token, Validations
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from gptoss_constructs import catalog
from gptoss_constructs._compliance import acknowledge_in_packs, skip_scanner_checks
from gptoss_constructs._defaults import nag_resource, new_key
from gptoss_constructs._validation import require_range

VARIANT_NAME = "AllTraffic"


def _type_slug(instance_type: str) -> str:
    """``ml.g6e.xlarge`` -> ``g6e-xlarge``: endpoint names allow only ``[a-zA-Z0-9](-*[a-zA-Z0-9])*``."""
    return instance_type.removeprefix("ml.").replace(".", "-")


@jsii.implements(ec2.IConnectable)
class GptOssEndpoint(Construct):
    """A SageMaker real-time endpoint serving gpt-oss-20b or gpt-oss-120b in a private VPC.

    The container image, the S3 location of the weights, the instance type and the container environment come
    from the reviewed catalog (``catalog/gpt_oss.json``) and are validated for the stack's region at synth.
    The model runs with network isolation in the VPC's isolated subnets (weights arrive from S3 through the
    gateway endpoint), under an execution role scoped to exactly its weights prefix, its image repository, its
    log group and its key. Updates roll out blue/green and roll back on the endpoint's 5xx alarm.

    Example::

        ep = GptOssEndpoint(self, "Gpt20b", model="gpt-oss-20b", vpc=net.vpc)
        ep.add_autoscaling(min_capacity=1, max_capacity=4)
        ep.grant_invoke(proxy.function)
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model: str,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        instance_type: str | None = None,
        initial_instance_count: int = 1,
        scale_to_zero: bool = False,
        encryption_key: kms.IKey | None = None,
        image_uri: str | None = None,
        model_data_url: str | None = None,
        environment: Mapping[str, str] | None = None,
        container_startup_health_check_timeout: Duration | None = None,
        model_data_download_timeout: Duration | None = None,
        data_capture_bucket: s3.IBucket | None = None,
        data_capture_sampling_percentage: int = 100,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """
        :param model: ``gpt-oss-20b`` or ``gpt-oss-120b``.
        :param vpc: the private VPC (required: the endpoint never gets a public path).
        :param vpc_subnets: Default: - the isolated subnets.
        :param security_group: Default: - a new group with no ingress and HTTPS egress only.
        :param instance_type: validated against the catalog for the model. Default: - the catalog's default
            (``ml.g6e.xlarge`` for 20b, ``ml.p5.48xlarge`` for 120b).
        :param initial_instance_count: Default: - 1.
        :param scale_to_zero: host the model as an inference component on an endpoint with managed instance
            scaling (minimum 0 instances); the first request after idling waits for an instance (minutes).
            Default: - false.
        :param encryption_key: data-capture and (where the instance has no local storage) volume key.
            Default: - a new key with rotation.
        :param image_uri: override the catalog's container image. Default: - the catalog's LMI image.
        :param model_data_url: override the weights location (an ``s3://bucket/prefix/``). Default: - the
            catalog's JumpStart prefix for the region.
        :param environment: extra container environment, merged over the catalog's. Default: - none.
        :param container_startup_health_check_timeout: Default: - 30 minutes (large weights load slowly).
        :param model_data_download_timeout: Default: - 30 minutes.
        :param data_capture_bucket: capture requests and responses (they contain prompts!) to this bucket,
            encrypted with the key. Default: - no capture.
        :param data_capture_sampling_percentage: Default: - 100.
        :param removal_policy: for the key. Default: - RETAIN.
        :param tags: tags for every resource of this endpoint (cost allocation per model). Default: - none
            beyond the app's tags.
        """
        super().__init__(scope, id)
        stack = Stack.of(self)
        region = stack.region
        require_range("initial_instance_count", initial_instance_count, 1, 100)
        require_range("data_capture_sampling_percentage", data_capture_sampling_percentage, 1, 100)
        if Token.is_unresolved(region):
            raise ValueError("GptOssEndpoint needs a stack with a concrete region (env=Environment(region=...)) to pick its image and weights")
        spec, chosen_type = catalog.validate_hosting(model, region, instance_type)
        self.model = model
        self.instance_type = chosen_type
        self.instance_info = catalog.instance_info(chosen_type)
        self.scale_to_zero = scale_to_zero
        image = image_uri or spec.image_uri(region)
        data_url = model_data_url or spec.model_data_s3_uri(region)
        if not data_url.startswith("s3://") or not data_url.endswith("/"):
            raise ValueError(f"model_data_url must be an S3 prefix like 's3://bucket/path/', got {data_url!r}")
        data_bucket, _, data_prefix = data_url[len("s3://"):].partition("/")

        # A deterministic name: the role's log-group scope and the operator role's prefix need it before deploy.
        # It ends with the instance type, so changing the type changes the name, and CloudFormation REPLACES the
        # endpoint (EndpointName: "Update requires: Replacement") together with its scalable target (ResourceId:
        # replacement) instead of calling UpdateEndpoint, which fails for a variant registered with Application
        # Auto Scaling whose instance type changes (SageMaker guide, "Update endpoints that use auto scaling").
        self.endpoint_name = f"gptoss-{model.split('-')[-1]}-{self.node.addr[:10]}-{_type_slug(chosen_type)}"
        self.endpoint_arn = f"arn:{stack.partition}:sagemaker:{region}:{stack.account}:endpoint/{self.endpoint_name}"
        self.variant_name = VARIANT_NAME
        self.inference_component_name = f"{self.endpoint_name}-ic" if scale_to_zero else None

        self.encryption_key = encryption_key or new_key(
            self, "Key", description=f"gpt-oss-platform: {model} endpoint data", removal_policy=removal_policy
        )
        self.security_group = security_group or self._security_group(vpc)
        self.connections = ec2.Connections(security_groups=[self.security_group])
        selection = vpc_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        subnets = vpc.select_subnets(
            subnet_type=selection.subnet_type,
            subnet_group_name=selection.subnet_group_name,
            subnets=selection.subnets,
            availability_zones=selection.availability_zones,
        )

        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"), description=f"Runs the {model} endpoint"
        )
        self._role_policy = self._execution_policy(spec, region, data_bucket, data_prefix, image_uri is not None, data_capture_bucket)

        self.cfn_model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=self.role.role_arn,
            enable_network_isolation=True,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=image,
                mode="SingleModel",
                model_data_source=sagemaker.CfnModel.ModelDataSourceProperty(
                    s3_data_source=sagemaker.CfnModel.S3DataSourceProperty(
                        s3_uri=data_url, s3_data_type="S3Prefix", compression_type="None"
                    )
                ),
                environment={**spec.environment, **(environment or {})},
            ),
            vpc_config=sagemaker.CfnModel.VpcConfigProperty(
                security_group_ids=[self.security_group.security_group_id], subnets=subnets.subnet_ids
            ),
        )
        self.cfn_model.node.add_dependency(self._role_policy)

        startup = int((container_startup_health_check_timeout or Duration.minutes(30)).to_seconds())
        download = int((model_data_download_timeout or Duration.minutes(30)).to_seconds())
        require_range("container_startup_health_check_timeout (seconds)", startup, 60, 3600)
        require_range("model_data_download_timeout (seconds)", download, 60, 3600)
        volume_key = None if (self.instance_info and self.instance_info.instance_storage) else self.encryption_key.key_arn
        variant = sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=VARIANT_NAME,
            instance_type=chosen_type,
            initial_instance_count=initial_instance_count,
            model_name=None if scale_to_zero else self.cfn_model.attr_model_name,
            initial_variant_weight=None if scale_to_zero else 1,
            container_startup_health_check_timeout_in_seconds=None if scale_to_zero else startup,
            model_data_download_timeout_in_seconds=None if scale_to_zero else download,
            managed_instance_scaling=sagemaker.CfnEndpointConfig.ManagedInstanceScalingProperty(
                status="ENABLED", min_instance_count=0, max_instance_count=max(initial_instance_count, 1) * 4
            )
            if scale_to_zero
            else None,
            routing_config=sagemaker.CfnEndpointConfig.RoutingConfigProperty(routing_strategy="LEAST_OUTSTANDING_REQUESTS"),
        )
        self.cfn_endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            production_variants=[variant],
            kms_key_id=volume_key,
            execution_role_arn=self.role.role_arn if scale_to_zero else None,
            vpc_config=sagemaker.CfnEndpointConfig.VpcConfigProperty(
                security_group_ids=[self.security_group.security_group_id], subnets=subnets.subnet_ids
            )
            if scale_to_zero
            else None,
            enable_network_isolation=True if scale_to_zero else None,
            data_capture_config=self._data_capture(data_capture_bucket, data_capture_sampling_percentage),
        )
        if scale_to_zero:
            self.cfn_endpoint_config.node.add_dependency(self._role_policy)

        self.rollback_alarm = None if scale_to_zero else cloudwatch.Alarm(
            self,
            "RollbackAlarm",
            alarm_description=f"{self.endpoint_name}: model errors during or after a deployment (auto-rollback trigger)",
            metric=self.metric_invocation5xx_errors(period=Duration.minutes(1)),
            threshold=1,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.cfn_endpoint = sagemaker.CfnEndpoint(
            self,
            "Resource",
            endpoint_name=self.endpoint_name,
            endpoint_config_name=self.cfn_endpoint_config.attr_endpoint_config_name,
            deployment_config=None
            if scale_to_zero
            else sagemaker.CfnEndpoint.DeploymentConfigProperty(
                blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
                    traffic_routing_configuration=sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
                        type="LINEAR",
                        linear_step_size=sagemaker.CfnEndpoint.CapacitySizeProperty(type="CAPACITY_PERCENT", value=50),
                        wait_interval_in_seconds=600,
                    ),
                    termination_wait_in_seconds=600,
                    maximum_execution_timeout_in_seconds=7200,
                ),
                auto_rollback_configuration=sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
                    alarms=[sagemaker.CfnEndpoint.AlarmProperty(alarm_name=self.rollback_alarm.alarm_name)]
                ),
            ),
        )
        self.inference_component: sagemaker.CfnInferenceComponent | None = None
        if scale_to_zero:
            gpus = self.instance_info.gpus if self.instance_info else 1
            self.inference_component = sagemaker.CfnInferenceComponent(
                self,
                "InferenceComponent",
                endpoint_name=self.endpoint_name,
                inference_component_name=self.inference_component_name,
                variant_name=VARIANT_NAME,
                specification=sagemaker.CfnInferenceComponent.InferenceComponentSpecificationProperty(
                    model_name=self.cfn_model.attr_model_name,
                    compute_resource_requirements=sagemaker.CfnInferenceComponent.InferenceComponentComputeResourceRequirementsProperty(
                        number_of_accelerator_devices_required=gpus, min_memory_required_in_mb=8192
                    ),
                    startup_parameters=sagemaker.CfnInferenceComponent.InferenceComponentStartupParametersProperty(
                        container_startup_health_check_timeout_in_seconds=startup,
                        model_data_download_timeout_in_seconds=download,
                    ),
                ),
                runtime_config=sagemaker.CfnInferenceComponent.InferenceComponentRuntimeConfigProperty(copy_count=1),
            )
            self.inference_component.add_dependency(self.cfn_endpoint)
        self.scalable_target: appscaling.ScalableTarget | None = None
        Tags.of(self).add("gpt-oss-model", model)
        for key, value in (tags or {}).items():
            Tags.of(self).add(key, value)
        self._acknowledge_intrinsic_findings(volume_key is None)

    # ---- pieces ---------------------------------------------------------------------------------------

    def _security_group(self, vpc: ec2.IVpc) -> ec2.SecurityGroup:
        sg = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="gpt-oss endpoint: no ingress; HTTPS out to S3 (gateway endpoint) and VPC endpoints only",
        )
        # The isolated VPC has no route to the internet, so 443 reaches only the S3 gateway and interface endpoints.
        sg.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to S3 and VPC endpoints (no internet route)")
        return sg

    def _execution_policy(
        self, spec: catalog.HostingSpec, region: str, bucket: str, prefix: str, custom_image: bool, capture: s3.IBucket | None
    ) -> iam.ManagedPolicy:
        stack = Stack.of(self)
        log_group = f"arn:{stack.partition}:logs:{region}:{stack.account}:log-group:/aws/sagemaker/Endpoints/{self.endpoint_name}"
        statements = [
            iam.PolicyStatement(
                sid="ReadModelWeights",
                actions=["s3:GetObject"],
                resources=[f"arn:{stack.partition}:s3:::{bucket}/{prefix}*"],
            ),
            iam.PolicyStatement(
                sid="ListModelWeights",
                actions=["s3:ListBucket"],
                resources=[f"arn:{stack.partition}:s3:::{bucket}"],
                conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}},
            ),
            iam.PolicyStatement(
                sid="WriteEndpointLogs",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[log_group, f"{log_group}:*"],
            ),
            iam.PolicyStatement(
                sid="UseEndpointKey",
                actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"],
                resources=[self.encryption_key.key_arn],
            ),
            iam.PolicyStatement(
                sid="AttachToVpc",
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                    "ecr:GetAuthorizationToken",
                ],
                resources=["*"],
            ),
        ]
        if not custom_image:
            statements.append(
                iam.PolicyStatement(
                    sid="PullImage",
                    actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                    resources=[spec.repository_arn(region, stack.partition)],
                )
            )
        if capture is not None:
            statements.append(
                iam.PolicyStatement(sid="WriteDataCapture", actions=["s3:PutObject"], resources=[capture.arn_for_objects(f"{self.endpoint_name}/*")])
            )
        policy = iam.ManagedPolicy(
            self, "RolePolicy", description=f"{self.model} endpoint: its weights, image, logs and key", roles=[self.role], statements=statements
        )
        self._acknowledge_policy(policy, bucket, prefix, log_group, capture)
        return policy

    def _data_capture(self, bucket: s3.IBucket | None, percent: int):
        if bucket is None:
            return None
        return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
            capture_options=[
                sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Input"),
                sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Output"),
            ],
            destination_s3_uri=bucket.s3_url_for_object(self.endpoint_name),
            initial_sampling_percentage=percent,
            enable_capture=True,
            kms_key_id=self.encryption_key.key_arn,
        )

    def _acknowledge_policy(self, policy: iam.ManagedPolicy, bucket: str, prefix: str, log_group: str, capture: s3.IBucket | None) -> None:
        stack = Stack.of(self)
        reasons = {
            f"arn:{stack.partition}:s3:::{bucket}/{prefix}*": "the model's weights are many objects under one JumpStart prefix; read-only GetObject on exactly that prefix",
            f"{log_group}:*": "SageMaker writes one log stream per instance and container into this endpoint's own log group; the wildcard covers only its streams",
            "*": "ecr:GetAuthorizationToken and the EC2 network-interface actions SageMaker uses to attach the model to the isolated subnets have no resource-level permissions; image pulls are scoped to one repository",
        }
        if capture is not None:
            reasons[capture.arn_for_objects(f"{self.endpoint_name}/*")] = "data capture writes objects named by date and hour under this endpoint's own prefix of the capture bucket"
        skip_scanner_checks(
            policy.node.default_child,
            checkov={
                "CKV_AWS_111": "the unconstrained write actions are the EC2 network-interface actions SageMaker uses to "
                "attach the model to the isolated subnets; they have no resource-level scope",
                "CKV_AWS_109": "ec2:Create/DeleteNetworkInterfacePermission let SageMaker manage the interfaces of this "
                "model in the VPC; they grant no IAM permission management",
            },
        )
        for resource, reason in reasons.items():
            Validations.of(policy).acknowledge(
                Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[{nag_resource(self, resource)}]", reason=reason)
            )

    def _acknowledge_intrinsic_findings(self, no_volume_key: bool) -> None:
        if no_volume_key:
            acknowledge_in_packs(
                self.cfn_endpoint_config,
                "SageMakerEndpointConfigurationKMSKeyConfigured",
                f"{self.instance_type} has local NVMe instance storage, for which SageMaker rejects a storage-volume "
                "KmsKeyId; those volumes are encrypted by the instance's hardware module, and data capture (when "
                "enabled) uses this endpoint's customer-managed key",
            )
        if self.rollback_alarm is None:
            return
        acknowledge_in_packs(
            self.rollback_alarm,
            "CloudWatchAlarmAction",
            "this alarm's consumer is SageMaker's deployment auto-rollback (AutoRollbackConfiguration), which watches "
            "its state; people are notified by the platform's monitoring alarms instead",
            packs=("HIPAA.Security", "NIST.800.53.R5"),
        )

    # ---- scaling ---------------------------------------------------------------------------------------

    def add_autoscaling(
        self,
        *,
        min_capacity: int = 1,
        max_capacity: int = 2,
        invocations_per_instance: int = 20,
        concurrent_requests_per_model: int = 8,
        scale_in_cooldown: Duration | None = None,
        scale_out_cooldown: Duration | None = None,
    ) -> appscaling.ScalableTarget:
        """Target-tracking autoscaling on invocations per instance and on the high-resolution concurrent-requests
        metric (the sooner signal for long LLM requests). With scale-to-zero, copies of the inference component
        scale (min may be 0) and a step policy wakes a copy on NoCapacityInvocationFailures.

        :param min_capacity: instances (or copies with scale-to-zero). Default: - 1.
        :param max_capacity: Default: - 2.
        :param invocations_per_instance: target invocations per instance per minute. Default: - 20.
        :param concurrent_requests_per_model: target concurrent requests per model copy. Default: - 8.
        :param scale_in_cooldown: Default: - 15 minutes (GPU instances are slow to come back).
        :param scale_out_cooldown: Default: - 5 minutes.
        """
        if self.scalable_target is not None:
            raise ValueError("add_autoscaling was already called for this endpoint")
        require_range("min_capacity", min_capacity, 0 if self.scale_to_zero else 1, 100)
        require_range("max_capacity", max_capacity, max(min_capacity, 1), 100)
        require_range("invocations_per_instance", invocations_per_instance, 1, 100000)
        require_range("concurrent_requests_per_model", concurrent_requests_per_model, 1, 1000)
        scale_in = scale_in_cooldown or Duration.minutes(15)
        scale_out = scale_out_cooldown or Duration.minutes(5)
        if self.scale_to_zero:
            resource_id = f"inference-component/{self.inference_component_name}"
            dimension = "sagemaker:inference-component:DesiredCopyCount"
        else:
            resource_id = f"endpoint/{self.endpoint_name}/variant/{VARIANT_NAME}"
            dimension = "sagemaker:variant:DesiredInstanceCount"
        target = appscaling.ScalableTarget(
            self,
            "ScalableTarget",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=resource_id,
            scalable_dimension=dimension,
            min_capacity=min_capacity,
            max_capacity=max_capacity,
        )
        target.node.add_dependency(self.inference_component or self.cfn_endpoint)
        if self.scale_to_zero:
            target.scale_to_track_metric(
                "ConcurrencyTracking",
                predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_CONCURRENT_REQUESTS_PER_COPY_HIGH_RESOLUTION,
                target_value=concurrent_requests_per_model,
                scale_in_cooldown=scale_in,
                scale_out_cooldown=scale_out,
            )
            target.scale_on_metric(
                "WakeFromZero",
                metric=self.metric_no_capacity_invocation_failures(period=Duration.minutes(1)),
                scaling_steps=[appscaling.ScalingInterval(upper=0, change=0), appscaling.ScalingInterval(lower=1, change=1)],
                adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
                cooldown=scale_out,
                evaluation_periods=1,
            )
        else:
            target.scale_to_track_metric(
                "InvocationsTracking",
                predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
                target_value=invocations_per_instance,
                scale_in_cooldown=scale_in,
                scale_out_cooldown=scale_out,
            )
            target.scale_to_track_metric(
                "ConcurrencyTracking",
                predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_CONCURRENT_REQUESTS_PER_MODEL_HIGH_RESOLUTION,
                target_value=concurrent_requests_per_model,
                scale_in_cooldown=scale_in,
                scale_out_cooldown=scale_out,
            )
        if not self.scale_to_zero:
            # Config updates (new image, environment, timeouts) keep the instance count autoscaling reached instead of
            # resetting the fleet to InitialInstanceCount (UpdateEndpoint RetainAllVariantProperties).
            self.cfn_endpoint.retain_all_variant_properties = True
        self.scalable_target = target
        return target

    # ---- grants and metrics ----------------------------------------------------------------------------

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Grants sagemaker:InvokeEndpoint and InvokeEndpointWithResponseStream on this endpoint only (and its
        inference component when scale-to-zero is on)."""
        stack = Stack.of(self)
        arns = [self.endpoint_arn]
        if self.inference_component_name:
            arns.append(f"arn:{stack.partition}:sagemaker:{stack.region}:{stack.account}:inference-component/{self.inference_component_name}")
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
            resource_arns=arns,
        )

    def metric(self, metric_name: str, *, namespace: str = "AWS/SageMaker", statistic: str = "Sum", period: Duration | None = None, **options) -> cloudwatch.Metric:
        """A metric of this endpoint's variant (or inference component with scale-to-zero)."""
        dims = (
            {"InferenceComponentName": self.inference_component_name}
            if self.inference_component_name and namespace == "AWS/SageMaker"
            else {"EndpointName": self.endpoint_name, "VariantName": VARIANT_NAME}
        )
        return cloudwatch.Metric(namespace=namespace, metric_name=metric_name, dimensions_map=dims, statistic=statistic, period=period or Duration.minutes(5), **options)

    def metric_invocations(self, **options) -> cloudwatch.Metric:
        return self.metric("Invocations", **options)

    def metric_model_latency(self, **options) -> cloudwatch.Metric:
        """Microseconds the model took to respond (p90 by default)."""
        options.setdefault("statistic", "p90")
        return self.metric("ModelLatency", **options)

    def metric_invocation4xx_errors(self, **options) -> cloudwatch.Metric:
        return self.metric("Invocation4XXErrors", **options)

    def metric_invocation5xx_errors(self, **options) -> cloudwatch.Metric:
        return self.metric("Invocation5XXErrors", **options)

    def metric_concurrent_requests(self, **options) -> cloudwatch.Metric:
        """High-resolution concurrent requests per model copy (the autoscaling signal)."""
        options.setdefault("statistic", "Maximum")
        return self.metric("ConcurrentRequestsPerModel" if not self.inference_component_name else "ConcurrentRequestsPerCopy", **options)

    def metric_no_capacity_invocation_failures(self, **options) -> cloudwatch.Metric:
        """Requests refused because no copy was running (scale-to-zero wake-up signal)."""
        return self.metric("NoCapacityInvocationFailures", **options)

    def metric_gpu_utilization(self, **options) -> cloudwatch.Metric:
        options.setdefault("statistic", "Average")
        return self.metric("GPUUtilization", namespace="/aws/sagemaker/Endpoints", **options)

    def metric_gpu_memory_utilization(self, **options) -> cloudwatch.Metric:
        options.setdefault("statistic", "Average")
        return self.metric("GPUMemoryUtilization", namespace="/aws/sagemaker/Endpoints", **options)
