"""The reviewed gpt-oss catalog: which model runs where, and on what.

The data lives in ``catalog/gpt_oss.json`` (one reviewed file, every value with its source); this module
loads it once and answers typed questions about it. Nothing here calls AWS.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

_CATALOG_FILE = Path(__file__).parent / "catalog" / "gpt_oss.json"


@dataclass(frozen=True)
class ModelInfo:
    """Where one gpt-oss model is offered."""

    name: str
    jumpstart_model_id: str
    bedrock_model_id: str
    jumpstart_regions: tuple[str, ...]
    bedrock_regions: tuple[str, ...]
    inference_profiles: Mapping[str, "InferenceProfileInfo"] = None  # geography → profile

    def inference_profile(self, region: str) -> "InferenceProfileInfo | None":
        """The geographic cross-Region inference profile callable from ``region``, if the catalog has one."""
        return next((p for p in (self.inference_profiles or {}).values() if region in p.source_regions), None)


@dataclass(frozen=True)
class InferenceProfileInfo:
    """A system-defined geographic inference profile of a model (``us.openai.gpt-oss-120b-1:0``)."""

    geography: str
    profile_id: str
    source_regions: tuple[str, ...]
    destination_regions: tuple[str, ...] | None  # None: not known here (grant the model in any region)


@dataclass(frozen=True)
class InstanceInfo:
    """GPU facts of one SageMaker instance type."""

    instance_type: str
    gpus: int
    gpu: str
    gpu_memory_gib: int
    instance_storage: bool  # local NVMe: SageMaker rejects a storage-volume KmsKeyId


_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9][a-z0-9._/-]*)(?::(?P<tag>\w[\w.-]{0,127})|@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


@dataclass(frozen=True)
class EcrImage:
    """A parsed ECR image URI (``<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>``)."""

    account: str
    region: str
    repository: str

    def repository_arn(self, partition: str = "aws") -> str:
        return f"arn:{partition}:ecr:{self.region}:{self.account}:repository/{self.repository}"


def parse_ecr_image(image_uri: str) -> EcrImage | None:
    """The registry account, region and repository of an ECR image URI, or None for any other registry."""
    match = _ECR_IMAGE.match(image_uri)
    return EcrImage(match["account"], match["region"], match["repository"]) if match else None


@dataclass(frozen=True)
class HostingSpec:
    """How one model is hosted on SageMaker: container, host AMI, weights, instance types, environment, regions.

    The built-in gpt-oss models come from the reviewed catalog file (``hosting(model)``); any other model (a
    fine-tune with your weights, your own image) is described with ``HostingSpec.custom(...)`` and either passed to
    ``GptOssEndpoint(hosting=...)`` or registered for every endpoint with ``register_model(...)``.
    """

    model: str
    jumpstart_model_id: str | None
    repository: str
    image_tag: str
    registry_accounts: Mapping[str, str]
    artifact_bucket_pattern: str
    artifact_key: str
    default_instance_type: str
    supported_instance_types: tuple[str, ...]
    environment: Mapping[str, str]
    #: container directory holding o200k_base.tiktoken, when the image or artifacts are known to provide it
    tiktoken_encodings_base: str | None = None
    #: ProductionVariant ``InferenceAmiVersion`` the image needs (None: the instance family's default host)
    inference_ami_version: str | None = None
    #: regions where this hosting may be deployed (None: any region)
    regions: tuple[str, ...] | None = None
    #: a full image URI (``{region}`` becomes the stack's region); replaces repository, tag and registry accounts
    image: str | None = None

    @classmethod
    def custom(
        cls,
        *,
        model: str,
        image_uri: str,
        model_data_url: str,
        instance_types: Sequence[str],
        default_instance_type: str | None = None,
        inference_ami_version: str | None = None,
        environment: Mapping[str, str] | None = None,
        regions: Sequence[str] | None = None,
        tiktoken_encodings_base: str | None = None,
    ) -> "HostingSpec":
        """Describes a model the built-in catalog does not know (a fine-tune with your weights, your own image).

        :param model: the model's name (e.g. ``gpt-oss-20b-ft``): letters, digits, ``.``, ``_`` and ``-``.
        :param image_uri: the serving image; ``{region}`` in it becomes the stack's region (e.g.
            ``111122223333.dkr.ecr.{region}.amazonaws.com/my-lmi:1.0-cu130``). An ECR image gets an ECR pull grant on
            its repository.
        :param model_data_url: the weights as an uncompressed S3 prefix (``s3://bucket/path/``; ``{region}`` allowed).
        :param instance_types: the SageMaker instance types the model may run on (GPU facts of a type the catalog
            lacks: ``register_instance_type``).
        :param default_instance_type: Default: - the first of ``instance_types``.
        :param inference_ami_version: the host AMI the image needs (checked against the image's ``-cuXYZ`` tag).
            Default: - the instance family's default host.
        :param environment: the container environment. Default: - none.
        :param regions: where it may be deployed. Default: - any region.
        :param tiktoken_encodings_base: directory in the container holding ``o200k_base.tiktoken``. Default: - none.
        """
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}", model):
            raise ValueError(f"model must be 1-63 letters, digits, '.', '_' or '-' starting with a letter or digit, got {model!r}")
        if not instance_types:
            raise ValueError(f"instance_types must name at least one instance type, got {list(instance_types)!r}")
        default = default_instance_type or instance_types[0]
        if default not in instance_types:
            raise ValueError(f"default_instance_type must be one of {', '.join(instance_types)}, got {default!r}")
        bucket, key = split_s3_prefix(model_data_url)
        return cls(
            model=model,
            jumpstart_model_id=None,
            repository="",
            image_tag="",
            registry_accounts={},
            artifact_bucket_pattern=bucket,
            artifact_key=key,
            default_instance_type=default,
            supported_instance_types=tuple(instance_types),
            environment=dict(environment or {}),
            tiktoken_encodings_base=tiktoken_encodings_base,
            inference_ami_version=inference_ami_version,
            regions=tuple(regions) if regions is not None else None,
            image=image_uri,
        )

    def image_uri(self, region: str) -> str:
        if self.image is not None:
            return self.image.replace("{region}", region)
        account = self.registry_accounts[region]
        return f"{account}.dkr.ecr.{region}.amazonaws.com/{self.repository}:{self.image_tag}"

    def repository_arn(self, region: str, partition: str = "aws") -> str | None:
        """The ECR repository ARN of the image used in ``region`` (None when the image is not in ECR)."""
        parsed = parse_ecr_image(self.image_uri(region))
        return parsed.repository_arn(partition) if parsed else None

    def artifact_bucket(self, region: str) -> str:
        return self.artifact_bucket_pattern.replace("{region}", region)

    def model_data_s3_uri(self, region: str) -> str:
        return f"s3://{self.artifact_bucket(region)}/{self.artifact_key}"


def split_s3_prefix(url: str) -> tuple[str, str]:
    """``s3://bucket/path/`` -> (``bucket``, ``path/``); raises ValueError for anything but an S3 prefix."""
    if not url.startswith("s3://") or not url.endswith("/") or "/" not in url[len("s3://"):]:
        raise ValueError(f"model_data_url must be an S3 prefix like 's3://bucket/path/', got {url!r}")
    bucket, _, key = url[len("s3://"):].partition("/")
    return bucket, key


_REGISTERED_MODELS: dict[str, HostingSpec] = {}
_REGISTERED_INSTANCE_TYPES: dict[str, "InstanceInfo"] = {}


def register_model(spec: HostingSpec) -> HostingSpec:
    """Makes ``spec`` the hosting of ``spec.model`` for every ``GptOssEndpoint(model=...)`` built afterwards in
    this process (a registered name shadows a built-in one). The built-in catalog is the first registration; this
    adds others. Returns ``spec``."""
    _REGISTERED_MODELS[spec.model] = spec
    return spec


def register_instance_type(info: "InstanceInfo") -> None:
    """Adds the GPU facts of an instance type the catalog lacks (GPU count for inference components; local storage
    decides whether the endpoint config may carry a volume KmsKeyId)."""
    _REGISTERED_INSTANCE_TYPES[info.instance_type] = info


def hosted_model_names() -> list[str]:
    """Every model a ``GptOssEndpoint`` can host by name: the built-in catalog's and the registered ones."""
    return sorted(set(models()) | set(_REGISTERED_MODELS))


@functools.cache
def _raw() -> Mapping:
    return json.loads(_CATALOG_FILE.read_text(encoding="utf-8"))


@functools.cache
def models() -> Mapping[str, ModelInfo]:
    """All models in the catalog by short name (``gpt-oss-20b``, ``gpt-oss-120b``)."""
    return {
        name: ModelInfo(
            name=name,
            jumpstart_model_id=m["jumpstart_model_id"],
            bedrock_model_id=m["bedrock_model_id"],
            jumpstart_regions=tuple(m["jumpstart_regions"]),
            bedrock_regions=tuple(m["bedrock_regions"]),
            inference_profiles={
                geo: InferenceProfileInfo(
                    geography=geo,
                    profile_id=p["id"],
                    source_regions=tuple(p["source_regions"]),
                    destination_regions=tuple(p["destination_regions"]) if p.get("destination_regions") else None,
                )
                for geo, p in (m.get("bedrock_inference_profiles") or {}).items()
            },
        )
        for name, m in _raw()["models"].items()
    }


def model_names() -> list[str]:
    return sorted(models())


def jumpstart_regions() -> list[str]:
    """Regions where SageMaker JumpStart offers at least one gpt-oss model."""
    return sorted({r for m in models().values() for r in m.jumpstart_regions})


def bedrock_regions() -> list[str]:
    """Regions where Amazon Bedrock serves at least one gpt-oss model in-region."""
    return sorted({r for m in models().values() for r in m.bedrock_regions})


def supported_regions() -> list[str]:
    """Regions where the platform can serve some gpt-oss model (SageMaker or Bedrock)."""
    return sorted(set(jumpstart_regions()) | set(bedrock_regions()))


def default_availability_zones(region: str) -> list[str] | None:
    """AZ names to use when an explicit account is configured, or None when the catalog has none."""
    azs = _raw()["availability_zones"].get(region)
    return list(azs) if azs else None


def instance_info(instance_type: str) -> InstanceInfo | None:
    """GPU facts of ``instance_type`` (registered first, then the catalog's table), or None when unknown."""
    if instance_type in _REGISTERED_INSTANCE_TYPES:
        return _REGISTERED_INSTANCE_TYPES[instance_type]
    raw = _raw()["instance_types"].get(instance_type)
    return InstanceInfo(instance_type=instance_type, **raw) if isinstance(raw, dict) else None


def hosting(model: str) -> HostingSpec:
    """The hosting spec of ``model``: a registered one, else the built-in JumpStart spec (``gpt-oss-20b``,
    ``gpt-oss-120b``)."""
    if model in _REGISTERED_MODELS:
        return _REGISTERED_MODELS[model]
    m = _raw()["models"][model]
    container = _raw()["containers"][m["container"]]
    return HostingSpec(
        model=model,
        jumpstart_model_id=m["jumpstart_model_id"],
        repository=container["repository"],
        image_tag=container["tag"],
        registry_accounts=dict(container["registry_account"]),
        artifact_bucket_pattern=m["artifact_bucket_pattern"],
        artifact_key=m["artifact_key"],
        default_instance_type=m["default_instance_type"],
        supported_instance_types=tuple(m["supported_instance_types"]),
        environment=dict(m["environment"]),
        tiktoken_encodings_base=container.get("tokenizer_encodings", {}).get("tiktoken_encodings_base"),
        inference_ami_version=container.get("inference_ami_version"),
        regions=tuple(m["jumpstart_regions"]),
    )


def prompt_logging_off(spec: HostingSpec, environment: Mapping[str, str]) -> bool:
    """Whether the serving container is known not to log request bodies: the catalog's LMI image (not a
    ``HostingSpec.custom`` image) with the entrypoint whose prompt logging is off by construction (the
    ``request_logging`` record of the catalog's container, with its source). Anything else is unknown here, and
    ``make verify``'s ``container-logs-no-prompt`` check decides it on the deployed endpoint."""
    if spec.image is not None:
        return False
    for container in _raw()["containers"].values():
        record = container.get("request_logging") or {}
        if container["repository"] == spec.repository and record.get("prompt_logging") == "off":
            return environment.get("OPTION_ENTRYPOINT") == record["entrypoint"]
    return False


def validate_hosting(model: str, region: str, instance_type: str | None, spec: HostingSpec | None = None) -> tuple[HostingSpec, str]:
    """Checks model × region × instance type; returns the spec and the instance type to use.

    ``spec`` (a ``HostingSpec.custom(...)``) is used instead of the catalog's entry for ``model``. Raises
    ValueError naming the bad value and the allowed ones.
    """
    if spec is None:
        if model not in hosted_model_names():
            raise ValueError(
                f"model must be one of {', '.join(hosted_model_names())}, got {model!r}; describe another model with "
                "catalog.HostingSpec.custom(...) and pass it as hosting= or catalog.register_model(...)"
            )
        spec = hosting(model)
    if spec.regions is not None and region not in spec.regions:
        where = "SageMaker JumpStart" if spec.jumpstart_model_id else "its hosting spec"
        raise ValueError(f"model {model} is not offered by {where} in {region}; offered in: {', '.join(spec.regions)}")
    chosen = instance_type or spec.default_instance_type
    if chosen not in spec.supported_instance_types:
        raise ValueError(
            f"instance_type {chosen!r} is not supported for {model}; supported: {', '.join(spec.supported_instance_types)}"
        )
    return spec, chosen


@dataclass(frozen=True)
class InferenceAmi:
    """A SageMaker inference AMI (ProductionVariant ``InferenceAmiVersion``): its driver, CUDA and instance families."""

    version: str
    nvidia_driver: int
    cuda_version: str
    instance_families: tuple[str, ...]
    source: str


_REGISTERED_AMIS: dict[str, InferenceAmi] = {}


def register_inference_ami(ami: InferenceAmi) -> None:
    """Adds (or replaces) an inference AMI, e.g. a new ``InferenceAmiVersion`` or more instance families for a
    known one, for every endpoint synthesized afterwards in this process."""
    _REGISTERED_AMIS[ami.version] = ami


def inference_amis() -> Mapping[str, InferenceAmi]:
    """The inference AMIs the catalog knows (built-in, then registered), by ``InferenceAmiVersion``."""
    return {**_builtin_amis(), **_REGISTERED_AMIS}


@functools.cache
def _builtin_amis() -> Mapping[str, InferenceAmi]:
    return {
        name: InferenceAmi(
            version=name,
            nvidia_driver=raw["nvidia_driver"],
            cuda_version=raw["cuda_version"],
            instance_families=tuple(raw["instance_families"]),
            source=raw["source"],
        )
        for name, raw in _raw()["inference_amis"].items()
        if not name.startswith("_")
    }


def default_host_cuda(instance_family: str) -> str | None:
    """The host's CUDA version on ``instance_family`` when no AMI is set, or None when no source documents it."""
    return None if instance_family.startswith("_") else _raw()["default_host_cuda"].get(instance_family)


def instance_family(instance_type: str) -> str:
    """``ml.g6e.xlarge`` -> ``g6e``."""
    return instance_type.removeprefix("ml.").split(".")[0]


_CUDA_TAG = re.compile(r"(?:^|[-_.])cu(\d{2})(\d)(?:$|[-_.])")


def image_cuda_version(image_uri: str) -> str | None:
    """The CUDA version an image is built for, read from its tag (``...-cu130`` -> ``13.0``), or None."""
    tag = image_uri.rsplit("/", 1)[-1].partition(":")[2] or image_uri.rsplit("/", 1)[-1].partition("@")[0]
    match = _CUDA_TAG.search(tag)
    return f"{int(match.group(1))}.{match.group(2)}" if match else None


def _version(value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in value.split("."))


def validate_image_ami(image_uri: str, inference_ami_version: str | None, instance_type: str) -> list[str]:
    """Checks that ``image_uri`` can start on ``instance_type`` with ``inference_ami_version`` (None: the family's
    default host). Raises ValueError for a pair that cannot run; returns warnings for pairs no source confirms.

    The rule: the host's CUDA (the AMI's, else the family's documented default) must be at least the image's
    (a container built for a newer CUDA than the driver supports crashes before it logs: aws/sagemaker-python-sdk
    #6281), and the AMI must be known to run on the instance family.
    """
    warnings: list[str] = []
    family = instance_family(instance_type)
    image_cuda = image_cuda_version(image_uri)
    if inference_ami_version is not None:
        amis = inference_amis()
        if inference_ami_version not in amis:
            raise ValueError(
                f"inference_ami_version must be one of {', '.join(sorted(amis))}, got {inference_ami_version!r}"
            )
        ami = amis[inference_ami_version]
        if family not in ami.instance_families:
            raise ValueError(
                f"inference_ami_version {inference_ami_version!r} is not known to run on {instance_type} (family {family}); "
                f"known families: {', '.join(ami.instance_families)} (register more with catalog.register_inference_ami)"
            )
        host_cuda, host = ami.cuda_version, f"{inference_ami_version} (NVIDIA {ami.nvidia_driver}, CUDA {ami.cuda_version})"
    else:
        host_cuda = default_host_cuda(family)
        host = f"the default {family} host (no InferenceAmiVersion)"
        if image_cuda and host_cuda is None:
            raise ValueError(
                f"inference_ami_version is required for image {image_uri!r} (CUDA {image_cuda}) on {instance_type}: no source "
                f"documents the CUDA version of the default {family} host; allowed: {', '.join(sorted(inference_amis()))}"
            )
    if image_cuda is None or host_cuda is None:
        return warnings
    if _version(image_cuda) > _version(host_cuda):
        fits = sorted(n for n, a in inference_amis().items() if family in a.instance_families and _version(a.cuda_version) >= _version(image_cuda))
        raise ValueError(
            f"image {image_uri!r} needs CUDA {image_cuda} but {host} supports CUDA {host_cuda}: the container would crash "
            f"before it logs; set inference_ami_version to one of: {', '.join(fits) or '(none known for ' + family + ')'}"
        )
    if _version(image_cuda)[0] < _version(host_cuda)[0]:
        warnings.append(
            f"image {image_uri!r} is built for CUDA {image_cuda} and runs on {host}: a CUDA {image_cuda.split('.')[0]} "
            "container on a newer-major host did not start in aws/deep-learning-containers#6187 (UNCONFIRMED(verify:endpoint) for this image)"
        )
    return warnings


@dataclass(frozen=True)
class Price:
    usd_per_hour: float
    source: str


def price(instance_type: str) -> Price | None:
    """The reviewed (but unverified) on-demand price of an instance type, or None when the table lacks it."""
    raw = _raw()["prices"]["usd_per_hour"].get(instance_type)
    return Price(raw["price"], raw["source"]) if raw else None


def price_table_note() -> str:
    table = _raw()["prices"]
    return f"prices of {table['date']} for {table['region']}: {table['_comment']}"
