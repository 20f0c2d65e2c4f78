"""GptOssEndpoint: a SageMaker real-time endpoint serving one gpt-oss model from the reviewed catalog."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import jsii
from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Tags, Token, Validations
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from gptoss_constructs import catalog
from gptoss_constructs._compliance import acknowledge_in_packs, skip_scanner_checks
from gptoss_constructs._defaults import encrypted_log_group, nag_resource, new_key, retention_from_days
from gptoss_constructs._validation import require_absolute_directory, require_range, require_s3_prefix

VARIANT_NAME = "AllTraffic"
#: every resource of a GptOssEndpoint carries this tag (value: the model); the operator role scopes by it
MODEL_TAG = "gpt-oss-model"
#: Application Auto Scaling's service-linked role for SageMaker (Application Auto Scaling user guide, "Amazon
#: SageMaker AI and Application Auto Scaling"; SageMaker guide, "Auto scaling prerequisites" gives its ARN path)
SAGEMAKER_SCALING_ROLE = "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"


#: o200k_base.tiktoken (the gpt-oss tokenizer vocabulary) in a reproducible tar.gz: tools/build_tokenizer_asset.py.
#: For a weights mirror (README, "Tokenizer encodings"): put the file at the root of your ``model_data_url`` prefix.
TOKENIZER_ASSET = Path(__file__).resolve().parent / "assets" / "tiktoken" / "o200k_base.tar.gz"
#: id of the synth warning while nothing provides the tokenizer encodings (acknowledge ``Annotation::<id>``)
TOKENIZER_WARNING = "gptoss-tokenizer-encodings"
#: where SageMaker puts uncompressed S3Prefix model data (S3ModelDataSource: "relative to /opt/ml/model")
MODEL_DIR = "/opt/ml/model"


def _type_slug(instance_type: str) -> str:
    """``ml.g6e.xlarge`` -> ``g6e-xlarge``: endpoint names allow only ``[a-zA-Z0-9](-*[a-zA-Z0-9])*``."""
    return instance_type.removeprefix("ml.").replace(".", "-")


@dataclass(frozen=True)
class _ScalingShape:
    """How Application Auto Scaling sees one endpoint shape: one row of ``_SCALING``."""

    dimension: str
    min_floor: int  # the smallest min_capacity allowed
    #: (construct id, predefined metric, add_autoscaling argument holding its target value)
    tracking: tuple[tuple[str, appscaling.PredefinedMetric, str], ...]
    wake_from_zero: bool  # a step policy on NoCapacityInvocationFailures adds the first copy


#: The one autoscaling table: the instance variant scales instances, the inference component scales copies.
_SCALING = {
    "instance": _ScalingShape(
        dimension="sagemaker:variant:DesiredInstanceCount",
        min_floor=1,
        tracking=(
            ("InvocationsTracking", appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE, "invocations_per_instance"),
            ("ConcurrencyTracking", appscaling.PredefinedMetric.SAGEMAKER_VARIANT_CONCURRENT_REQUESTS_PER_MODEL_HIGH_RESOLUTION, "concurrent_requests_per_model"),
        ),
        wake_from_zero=False,
    ),
    "inference-component": _ScalingShape(
        dimension="sagemaker:inference-component:DesiredCopyCount",
        min_floor=0,
        tracking=(
            ("ConcurrencyTracking", appscaling.PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_CONCURRENT_REQUESTS_PER_COPY_HIGH_RESOLUTION, "concurrent_requests_per_model"),
        ),
        wake_from_zero=True,
    ),
}


def validate_autoscaling(
    *, min_capacity: int, max_capacity: int, scale_to_zero: bool = False, max_instance_count: int | None = None
) -> None:
    """The capacity ranges of ``add_autoscaling``, written once: the endpoint checks its arguments with this, and the
    app's config calls it to name the context key of a bad value. Instances scale from 1, inference-component copies
    (scale-to-zero) from 0, both to 100; with scale-to-zero at most ``max_instance_count`` (a copy uses a whole
    instance)."""
    floor = _SCALING["inference-component" if scale_to_zero else "instance"].min_floor
    try:
        require_range("min_capacity", min_capacity, floor, 100)
    except ValueError as err:
        hint = " (0 needs scale_to_zero=True: an endpoint variant keeps at least one instance otherwise)" if min_capacity == 0 else ""
        raise ValueError(f"{err}{hint}") from None
    high = max_instance_count if scale_to_zero and max_instance_count is not None else 100
    require_range("max_capacity", max_capacity, max(min_capacity, 1), high)


class _InvokableEndpointBase(Construct):
    """What every gpt-oss endpoint offers callers, built or imported: names, ARNs, ``grant_invoke`` and metrics.

    Subclasses set ``endpoint_name``, ``endpoint_arn``, ``variant_name`` and ``inference_component_name``.
    """

    endpoint_name: str
    endpoint_arn: str
    variant_name: str
    inference_component_name: str | None

    @property
    def inference_component_arn(self) -> str | None:
        if not self.inference_component_name:
            return None
        stack = Stack.of(self)
        return f"arn:{stack.partition}:sagemaker:{stack.region}:{stack.account}:inference-component/{self.inference_component_name}"

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Grants sagemaker:InvokeEndpoint and InvokeEndpointWithResponseStream on this endpoint only (and its
        inference component when scale-to-zero is on)."""
        arns = [self.endpoint_arn] + ([self.inference_component_arn] if self.inference_component_name else [])
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
            resource_arns=arns,
        )

    def metric(self, metric_name: str, **options) -> cloudwatch.Metric:
        """A metric of this endpoint's variant (or inference component with scale-to-zero). Any
        ``cloudwatch.Metric`` option overrides the defaults (namespace ``AWS/SageMaker``, Sum over 5 minutes)."""
        options.setdefault("namespace", "AWS/SageMaker")
        options.setdefault("statistic", "Sum")
        options.setdefault("period", Duration.minutes(5))
        if options["period"] is None:
            options["period"] = Duration.minutes(5)
        if self.inference_component_name and options["namespace"] == "AWS/SageMaker":
            options.setdefault("dimensions_map", {"InferenceComponentName": self.inference_component_name})
        else:
            options.setdefault("dimensions_map", {"EndpointName": self.endpoint_name, "VariantName": self.variant_name})
        return cloudwatch.Metric(metric_name=metric_name, **options)

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
        options.setdefault("namespace", "/aws/sagemaker/Endpoints")
        return self.metric("GPUUtilization", **options)

    def metric_gpu_memory_utilization(self, **options) -> cloudwatch.Metric:
        options.setdefault("statistic", "Average")
        options.setdefault("namespace", "/aws/sagemaker/Endpoints")
        return self.metric("GPUMemoryUtilization", **options)


class ImportedEndpoint(_InvokableEndpointBase):
    """An endpoint deployed elsewhere, made invokable here (``GptOssEndpoint.from_endpoint_attributes``)."""

    def __init__(self, scope: Construct, id: str, *, endpoint_name: str, inference_component_name: str | None, variant_name: str) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.endpoint_name = endpoint_name
        self.endpoint_arn = f"arn:{stack.partition}:sagemaker:{stack.region}:{stack.account}:endpoint/{endpoint_name}"
        self.inference_component_name = inference_component_name
        self.variant_name = variant_name


@jsii.implements(ec2.IConnectable)
class GptOssEndpoint(_InvokableEndpointBase):
    """A SageMaker real-time endpoint serving gpt-oss-20b or gpt-oss-120b in a private VPC.

    The container image, the S3 location of the weights, the instance type and the container environment come
    from the reviewed catalog (``catalog/gpt_oss.json``) and are validated for the stack's region at synth.
    The model runs with network isolation in the VPC's isolated subnets (weights arrive from S3 through the
    gateway endpoint), under an execution role scoped to exactly its weights prefix, its image repository, its
    log group and its key. Two shapes share everything but the hosting: an instance production variant (updates
    roll out blue/green and roll back on the endpoint's 5xx alarm) or, with ``scale_to_zero``, an inference
    component on an endpoint with managed instance scaling.

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
        interface_endpoints: ec2.IConnectable | None = None,
        s3_prefix_list_id: str | None = None,
        instance_type: str | None = None,
        initial_instance_count: int = 1,
        scale_to_zero: bool = False,
        max_instance_count: int | None = None,
        encryption_key: kms.IKey | None = None,
        image_uri: str | None = None,
        model_data_url: str | None = None,
        environment: Mapping[str, str] | None = None,
        tiktoken_encodings_base: str | None = None,
        container_startup_health_check_timeout: Duration | None = None,
        model_data_download_timeout: Duration | None = None,
        data_capture_bucket: s3.IBucket | None = None,
        data_capture_sampling_percentage: int = 100,
        log_retention_days: int = 365,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """
        :param model: ``gpt-oss-20b`` or ``gpt-oss-120b``.
        :param vpc: the private VPC (required: the endpoint never gets a public path).
        :param vpc_subnets: Default: - the isolated subnets.
        :param security_group: Default: - a new group with no ingress and HTTPS egress only (see
            ``interface_endpoints`` and ``s3_prefix_list_id``).
        :param interface_endpoints: the VPC's interface endpoints (e.g. ``PrivateNetwork``): the new security group
            sends HTTPS only to their security groups. Default: - HTTPS to the VPC's CIDR.
        :param s3_prefix_list_id: id of the region's AWS-managed prefix list ``com.amazonaws.<region>.s3`` (the S3
            gateway endpoint's destinations). Default: - HTTPS to any IPv4 address, which in isolated subnets reaches
            only the S3 gateway endpoint (CloudFormation cannot look the id up; see README).
        :param instance_type: validated against the catalog for the model. Changing it replaces the endpoint (its
            name carries the type). Default: - the catalog's default (``ml.g6e.xlarge`` for 20b, ``ml.p5.48xlarge``
            for 120b).
        :param initial_instance_count: Default: - 1.
        :param scale_to_zero: host the model as an inference component on an endpoint with managed instance
            scaling (minimum 0 instances); the first request after idling waits for an instance (minutes).
            Default: - false.
        :param max_instance_count: with ``scale_to_zero``, the most instances managed instance scaling may start
            (one model copy uses all GPUs of an instance). Default: - 4 × ``initial_instance_count``.
        :param encryption_key: data-capture, log-group and (where the instance has no local storage) volume key.
            Default: - a new key with rotation.
        :param image_uri: override the catalog's container image. Default: - the catalog's LMI image.
        :param model_data_url: override the weights location (an ``s3://bucket/prefix/``). Default: - the
            catalog's JumpStart prefix for the region.
        :param environment: extra container environment, merged over the catalog's. Default: - none.
        :param tiktoken_encodings_base: directory in the container that holds ``o200k_base.tiktoken``, the
            tokenizer vocabulary vLLM's harmony loader otherwise downloads at start-up (impossible with network
            isolation); sets ``TIKTOKEN_ENCODINGS_BASE``. With a weights mirror that has the file at the root of
            ``model_data_url``, pass ``"/opt/ml/model"``. Default: - the catalog's value for the container (none
            confirmed yet: synth warns, and ``make preflight`` checks the JumpStart hub content).
        :param container_startup_health_check_timeout: Default: - 30 minutes (large weights load slowly).
        :param model_data_download_timeout: Default: - 30 minutes.
        :param data_capture_bucket: capture requests and responses (they contain prompts!) to this bucket,
            encrypted with the key. Default: - no capture.
        :param data_capture_sampling_percentage: Default: - 100.
        :param log_retention_days: retention of the endpoint's log group ``/aws/sagemaker/Endpoints/<name>``.
            Default: - 365.
        :param removal_policy: for the key and the log group. Default: - RETAIN.
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
        self.max_instance_count = max_instance_count if max_instance_count is not None else initial_instance_count * 4
        if scale_to_zero:
            require_range("max_instance_count", self.max_instance_count, initial_instance_count, 100)
        elif max_instance_count is not None:
            raise ValueError(f"max_instance_count applies only with scale_to_zero=True, got {max_instance_count!r}")
        image = image_uri or spec.image_uri(region)
        data_url = model_data_url or spec.model_data_s3_uri(region)
        require_s3_prefix("model_data_url", data_url)
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
        self._shape = _SCALING["inference-component" if scale_to_zero else "instance"]

        self.encryption_key = encryption_key or new_key(
            self, "Key", description=f"gpt-oss-platform: {model} endpoint data", removal_policy=removal_policy
        )
        # SageMaker writes the container's stdout/stderr to /aws/sagemaker/Endpoints/<EndpointName> and creates
        # that group itself, unencrypted and kept forever, unless it exists (SageMaker developer guide, "Log groups
        # and streams that Amazon SageMaker AI sends to Amazon CloudWatch Logs"). We create it first, with our key.
        self.log_group = encrypted_log_group(
            self,
            "LogGroup",
            key=self.encryption_key,
            retention=retention_from_days(log_retention_days),
            removal_policy=removal_policy,
            log_group_name=f"/aws/sagemaker/Endpoints/{self.endpoint_name}",
        )
        self.security_group = security_group or self._security_group(vpc, interface_endpoints, s3_prefix_list_id)
        self.connections = ec2.Connections(security_groups=[self.security_group])
        selection = vpc_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        subnets = vpc.select_subnets(
            subnet_type=selection.subnet_type,
            subnet_group_name=selection.subnet_group_name,
            subnets=selection.subnets,
            availability_zones=selection.availability_zones,
        )

        # Confused-deputy guard: SageMaker assumes this role only on behalf of this account (SageMaker developer
        # guide, "Cross-service confused deputy prevention", aws:SourceAccount).
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "sagemaker.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description=f"Runs the {model} endpoint",
        )
        container_env = {**spec.environment}
        encodings = tiktoken_encodings_base or spec.tiktoken_encodings_base
        if encodings:
            require_absolute_directory("tiktoken_encodings_base", encodings)
            if encodings.startswith(MODEL_DIR) and model_data_url is None:
                raise ValueError(
                    f"tiktoken_encodings_base {encodings!r} reads o200k_base.tiktoken from the model data, but the JumpStart "
                    "prefix cannot hold it: set model_data_url to your mirror of the weights that includes the file (README, "
                    "'Tokenizer encodings')"
                )
            container_env["TIKTOKEN_ENCODINGS_BASE"] = encodings
        container_env.update(environment or {})
        if "TIKTOKEN_ENCODINGS_BASE" not in container_env:
            Validations.of(self).add_warning(
                TOKENIZER_WARNING,
                f"{model}: TIKTOKEN_ENCODINGS_BASE is not set. vLLM's harmony loader downloads o200k_base.tiktoken at "
                "start-up unless the image or the JumpStart artifacts provide it (UNCONFIRMED; `make preflight` checks "
                "the hub content), and this endpoint has network isolation. Set tiktoken_encodings_base (README, "
                "'Tokenizer encodings').",
            )
        self._role_policy = self._execution_policy(
            spec, region, data_bucket, data_prefix, image_uri is not None, data_capture_bucket, vpc, subnets, self.security_group
        )

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
                environment=container_env,
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
        capture = self._data_capture(data_capture_bucket, data_capture_sampling_percentage)

        self.rollback_alarm: cloudwatch.Alarm | None = None
        self.inference_component: sagemaker.CfnInferenceComponent | None = None
        if scale_to_zero:
            self._build_inference_component_shape(initial_instance_count, volume_key, capture, subnets, startup, download)
        else:
            self._build_instance_variant_shape(initial_instance_count, volume_key, capture, startup, download)
        # The endpoint writes its logs only into the group we created (it must exist first).
        self.cfn_endpoint.node.add_dependency(self.log_group)
        #: the generated name and ARN of the endpoint configuration (a new one on every config change)
        self.endpoint_config_name = self.cfn_endpoint_config.attr_endpoint_config_name
        self.endpoint_config_arn = self.cfn_endpoint_config.ref

        self.scalable_target: appscaling.ScalableTarget | None = None
        Tags.of(self).add(MODEL_TAG, model)
        for key, value in (tags or {}).items():
            Tags.of(self).add(key, value)
        self._acknowledge_intrinsic_findings(volume_key is None)

    @classmethod
    def from_endpoint_attributes(
        cls,
        scope: Construct,
        id: str,
        *,
        endpoint_name: str,
        inference_component_name: str | None = None,
        variant_name: str = VARIANT_NAME,
    ) -> ImportedEndpoint:
        """An endpoint deployed elsewhere (e.g. by another stack or team) with the same invokable surface:
        ``endpoint_name``, ``endpoint_arn``, ``inference_component_name``, ``grant_invoke`` and the ``metric_*``
        helpers. The ARN uses the partition, region and account of ``scope``'s stack.

        :param endpoint_name: the SageMaker endpoint name.
        :param inference_component_name: for a scale-to-zero endpoint: the inference component to invoke.
            Default: - none (an instance-variant endpoint).
        :param variant_name: Default: - ``AllTraffic``.
        """
        return ImportedEndpoint(scope, id, endpoint_name=endpoint_name, inference_component_name=inference_component_name, variant_name=variant_name)

    # ---- the two shapes --------------------------------------------------------------------------------

    def _build_instance_variant_shape(self, count: int, volume_key: str | None, capture, startup: int, download: int) -> None:
        """Instance production variant: the model on ``count`` instances, blue/green updates with auto-rollback."""
        variant = sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=VARIANT_NAME,
            instance_type=self.instance_type,
            initial_instance_count=count,
            model_name=self.cfn_model.attr_model_name,
            initial_variant_weight=1,
            container_startup_health_check_timeout_in_seconds=startup,
            model_data_download_timeout_in_seconds=download,
            routing_config=sagemaker.CfnEndpointConfig.RoutingConfigProperty(routing_strategy="LEAST_OUTSTANDING_REQUESTS"),
        )
        self.cfn_endpoint_config = sagemaker.CfnEndpointConfig(
            self, "EndpointConfig", production_variants=[variant], kms_key_id=volume_key, data_capture_config=capture
        )
        self.rollback_alarm = cloudwatch.Alarm(
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
            deployment_config=sagemaker.CfnEndpoint.DeploymentConfigProperty(
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

    def _build_inference_component_shape(self, count: int, volume_key: str | None, capture, subnets: ec2.SelectedSubnets, startup: int, download: int) -> None:
        """Inference component on an endpoint with managed instance scaling between 0 and ``max_instance_count``."""
        variant = sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=VARIANT_NAME,
            instance_type=self.instance_type,
            initial_instance_count=count,
            managed_instance_scaling=sagemaker.CfnEndpointConfig.ManagedInstanceScalingProperty(
                status="ENABLED", min_instance_count=0, max_instance_count=self.max_instance_count
            ),
            routing_config=sagemaker.CfnEndpointConfig.RoutingConfigProperty(routing_strategy="LEAST_OUTSTANDING_REQUESTS"),
        )
        self.cfn_endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            production_variants=[variant],
            kms_key_id=volume_key,
            execution_role_arn=self.role.role_arn,
            vpc_config=sagemaker.CfnEndpointConfig.VpcConfigProperty(
                security_group_ids=[self.security_group.security_group_id], subnets=subnets.subnet_ids
            ),
            enable_network_isolation=True,
            data_capture_config=capture,
        )
        self.cfn_endpoint_config.node.add_dependency(self._role_policy)
        self.cfn_endpoint = sagemaker.CfnEndpoint(
            self, "Resource", endpoint_name=self.endpoint_name, endpoint_config_name=self.cfn_endpoint_config.attr_endpoint_config_name
        )
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

    # ---- pieces ---------------------------------------------------------------------------------------

    def _security_group(self, vpc: ec2.IVpc, interface_endpoints: ec2.IConnectable | None, s3_prefix_list_id: str | None) -> ec2.SecurityGroup:
        sg = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="gpt-oss endpoint: no ingress; HTTPS out to S3 (gateway endpoint) and VPC endpoints only",
        )
        if s3_prefix_list_id:
            sg.add_egress_rule(ec2.Peer.prefix_list(s3_prefix_list_id), ec2.Port.tcp(443), "HTTPS to S3 (gateway endpoint prefix list)")
        else:
            # The isolated VPC has no route to the internet, so 443 reaches only the S3 gateway and interface endpoints.
            sg.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to S3 and VPC endpoints (no internet route)")
        if interface_endpoints is not None:
            for group in interface_endpoints.connections.security_groups:
                sg.add_egress_rule(ec2.Peer.security_group_id(group.security_group_id), ec2.Port.tcp(443), "HTTPS to the VPC interface endpoints")
        elif s3_prefix_list_id:
            sg.add_egress_rule(ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.tcp(443), "HTTPS to the VPC interface endpoints (VPC CIDR)")
        return sg

    def _execution_policy(
        self,
        spec: catalog.HostingSpec,
        region: str,
        bucket: str,
        prefix: str,
        custom_image: bool,
        capture: s3.IBucket | None,
        vpc: ec2.IVpc,
        subnets: ec2.SelectedSubnets,
        security_group: ec2.ISecurityGroup,
    ) -> iam.ManagedPolicy:
        stack = Stack.of(self)
        log_group = f"arn:{stack.partition}:logs:{region}:{stack.account}:log-group:/aws/sagemaker/Endpoints/{self.endpoint_name}"
        ec2_arn = f"arn:{stack.partition}:ec2:{region}:{stack.account}"
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
            # No logs:CreateLogGroup: the construct creates the group (with our key and retention).
            iam.PolicyStatement(
                sid="WriteEndpointLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[log_group, f"{log_group}:*"],
            ),
            iam.PolicyStatement(
                sid="UseEndpointKey",
                actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[self.encryption_key.key_arn],
            ),
            # Grants only for AWS resources (SageMaker's volumes), never for a principal of the caller's choosing
            # (AWS KMS developer guide, "kms:GrantIsForAWSResource").
            iam.PolicyStatement(
                sid="GrantEndpointKeyToAwsResources",
                actions=["kms:CreateGrant"],
                resources=[self.encryption_key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
            # ENIs only in this VPC: ec2:Vpc applies to CreateNetworkInterface(Permission) and
            # DeleteNetworkInterface(Permission) on network-interface, subnet and security-group (Service
            # Authorization Reference for Amazon EC2, as generated in udondan/iam-floyd
            # lib/generated/policy-statements/ec2.ts, ifVpc).
            iam.PolicyStatement(
                sid="ManageInterfacesInThisVpc",
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                ],
                resources=[f"{ec2_arn}:network-interface/*", f"{ec2_arn}:subnet/*", f"{ec2_arn}:security-group/*"],
                conditions={"ArnEquals": {"ec2:Vpc": f"{ec2_arn}:vpc/{vpc.vpc_id}"}},
            ),
            iam.PolicyStatement(
                sid="DescribeNetwork",
                actions=[
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
        self._acknowledge_policy(policy, bucket, prefix, log_group, capture, ec2_arn)
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

    def _acknowledge_policy(self, policy: iam.ManagedPolicy, bucket: str, prefix: str, log_group: str, capture: s3.IBucket | None, ec2_arn: str) -> None:
        stack = Stack.of(self)
        reasons = {
            f"arn:{stack.partition}:s3:::{bucket}/{prefix}*": "the model's weights are many objects under one JumpStart prefix; read-only GetObject on exactly that prefix",
            f"{log_group}:*": "SageMaker writes one log stream per instance and container into this endpoint's own log group; the wildcard covers only its streams",
            f"{ec2_arn}:network-interface/*": "SageMaker creates the model's network interfaces with generated ids; the statement is conditioned on ec2:Vpc = this VPC",
            f"{ec2_arn}:subnet/*": "CreateNetworkInterface also authorizes the subnet; conditioned on ec2:Vpc = this VPC, so only this VPC's subnets match",
            f"{ec2_arn}:security-group/*": "CreateNetworkInterface also authorizes the security group; conditioned on ec2:Vpc = this VPC",
            "*": "ecr:GetAuthorizationToken and the EC2 Describe* calls SageMaker makes to attach the model to the VPC have no resource-level permissions (read-only); image pulls are scoped to one repository",
        }
        if capture is not None:
            reasons[capture.arn_for_objects(f"{self.endpoint_name}/*")] = "data capture writes objects named by date and hour under this endpoint's own prefix of the capture bucket"
        skip_scanner_checks(
            policy.node.default_child,
            checkov={
                "CKV_AWS_111": "the write actions on network interfaces are conditioned on ec2:Vpc = this VPC; the "
                "resource ARNs carry generated interface ids",
                "CKV_AWS_109": "ec2:Create/DeleteNetworkInterfacePermission let SageMaker manage the interfaces of this "
                "model in this VPC (ec2:Vpc condition); they grant no IAM permission management",
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
        scale (min may be 0) and a step policy wakes a copy on NoCapacityInvocationFailures. The scalable target
        uses Application Auto Scaling's service-linked role for SageMaker (no role of ours to trust).

        :param min_capacity: instances (or copies with scale-to-zero). Default: - 1.
        :param max_capacity: with scale-to-zero at most ``max_instance_count`` (a copy uses a whole instance).
            Default: - 2.
        :param invocations_per_instance: target invocations per instance per minute. Default: - 20.
        :param concurrent_requests_per_model: target concurrent requests per model copy. Default: - 8.
        :param scale_in_cooldown: Default: - 15 minutes (GPU instances are slow to come back).
        :param scale_out_cooldown: Default: - 5 minutes.
        """
        if self.scalable_target is not None:
            raise ValueError("add_autoscaling was already called for this endpoint")
        shape = self._shape
        validate_autoscaling(min_capacity=min_capacity, max_capacity=max_capacity, scale_to_zero=self.scale_to_zero, max_instance_count=self.max_instance_count)
        require_range("invocations_per_instance", invocations_per_instance, 1, 100000)
        require_range("concurrent_requests_per_model", concurrent_requests_per_model, 1, 1000)
        targets = {"invocations_per_instance": invocations_per_instance, "concurrent_requests_per_model": concurrent_requests_per_model}
        scale_in = scale_in_cooldown or Duration.minutes(15)
        scale_out = scale_out_cooldown or Duration.minutes(5)
        stack = Stack.of(self)
        resource_id = (
            f"inference-component/{self.inference_component_name}"
            if self.scale_to_zero
            else f"endpoint/{self.endpoint_name}/variant/{VARIANT_NAME}"
        )
        target = appscaling.ScalableTarget(
            self,
            "ScalableTarget",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=resource_id,
            scalable_dimension=shape.dimension,
            min_capacity=min_capacity,
            max_capacity=max_capacity,
            role=iam.Role.from_role_arn(
                self, "ScalingServiceLinkedRole", f"arn:{stack.partition}:iam::{stack.account}:role/{SAGEMAKER_SCALING_ROLE}", mutable=False
            ),
        )
        target.node.add_dependency(self.inference_component or self.cfn_endpoint)
        for construct_id, predefined, target_arg in shape.tracking:
            target.scale_to_track_metric(
                construct_id,
                predefined_metric=predefined,
                target_value=targets[target_arg],
                scale_in_cooldown=scale_in,
                scale_out_cooldown=scale_out,
            )
        if shape.wake_from_zero:
            target.scale_on_metric(
                "WakeFromZero",
                metric=self.metric_no_capacity_invocation_failures(period=Duration.minutes(1)),
                scaling_steps=[appscaling.ScalingInterval(upper=0, change=0), appscaling.ScalingInterval(lower=1, change=1)],
                adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
                cooldown=scale_out,
                evaluation_periods=1,
            )
        else:
            # Config updates (new image, environment, timeouts) keep the instance count autoscaling reached instead of
            # resetting the fleet to InitialInstanceCount (UpdateEndpoint RetainAllVariantProperties).
            self.cfn_endpoint.retain_all_variant_properties = True
        self.scalable_target = target
        return target
