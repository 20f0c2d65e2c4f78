"""``make preflight``: read-only checks of the target account before the first ``cdk deploy``.

Usage (the same ``-c`` context as synth)::

    make preflight CDK_ARGS="-c regions=us-east-1"
    .venv/bin/python -m tools.preflight -c regions=us-east-1,us-west-2 [--profile NAME]

The config is loaded exactly as ``app.py`` loads it (``stacks.config.load_config`` over cdk.json +
cdk.context.json + ``-c``), then every check in ``CHECKS`` runs for every configured region. Each prints PASS / WARN / FAIL and,
unless PASS, the fix. Exit status 1 when any check FAILs, 2 without credentials or with a config error.

Adding a check is ~10 lines: a function ``(ctx: RegionContext) -> Iterable[Result]`` appended to ``CHECKS``;
call AWS only through ``ctx.client(service)`` (tests stub it with botocore's Stubber).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

ROOT = Path(__file__).resolve().parent.parent
PASS, WARN, FAIL = "PASS", "WARN", "FAIL"

#: Lambda keeps this much account concurrency unreserved (Lambda developer guide, "Configuring reserved
#: concurrency": "You can reserve up to the Unreserved account concurrency value that is shown, minus 100").
LAMBDA_UNRESERVED_MINIMUM = 100
#: the modern bootstrap's version parameter (default qualifier); CDK templates require version >= 6
BOOTSTRAP_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
BOOTSTRAP_MINIMUM = 6


@dataclass(frozen=True)
class Result:
    check: str
    region: str
    status: str
    message: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status:4}  {self.region:14} {self.check:22} {self.message}"
        return text + (f"\n      fix: {self.fix}" if self.fix and self.status != PASS else "")


@dataclass
class RegionContext:
    """What a check may look at: the region's typed config and an AWS client factory for that region."""

    region: str
    account: str
    config: Any  # stacks.config.PlatformConfig
    clients: Callable[[str, str], Any]
    _cache: dict = field(default_factory=dict)

    @property
    def rc(self):
        return self.config.for_region(self.region)

    def client(self, service: str):
        if service not in self._cache:
            self._cache[service] = self.clients(service, self.region)
        return self._cache[service]


def partition_of(region: str) -> str:
    """The AWS partition of a region (``aws-us-gov`` for GovCloud, ``aws-cn`` for China, else ``aws``)."""
    return "aws-us-gov" if region.startswith("us-gov-") else "aws-cn" if region.startswith("cn-") else "aws"


def error_code(err: Exception) -> str:
    """The service's error code of a botocore error (its class name for errors without a response)."""
    return getattr(err, "response", {}).get("Error", {}).get("Code", type(err).__name__)


# ---- checks ---------------------------------------------------------------------------------------------


def check_bootstrap(ctx: RegionContext) -> Iterable[Result]:
    """CDK bootstrap: ``ssm:GetParameter /cdk-bootstrap/hnb659fds/version`` (templates assert version >= 6)."""
    name = "cdk-bootstrap"
    fix = f"npx cdk bootstrap aws://{ctx.account}/{ctx.region}"
    try:
        version = int(ctx.client("ssm").get_parameter(Name=BOOTSTRAP_PARAMETER)["Parameter"]["Value"])
    except Exception as err:  # noqa: BLE001
        if error_code(err) == "ParameterNotFound":
            yield Result(name, ctx.region, FAIL, f"{BOOTSTRAP_PARAMETER} does not exist: the region is not bootstrapped", fix)
        else:
            yield Result(name, ctx.region, WARN, f"{BOOTSTRAP_PARAMETER} not readable ({error_code(err)})",
                         f"allow ssm:GetParameter on it to the preflight caller; if it is missing: {fix}")
        return
    if version < BOOTSTRAP_MINIMUM:
        yield Result(name, ctx.region, FAIL, f"bootstrap version {version} < {BOOTSTRAP_MINIMUM}", fix)
    else:
        yield Result(name, ctx.region, PASS, f"bootstrap version {version}")


def _quota_by_name(ctx: RegionContext) -> dict[str, dict]:
    quotas: dict[str, dict] = {}
    paginator = ctx.client("service-quotas").get_paginator("list_service_quotas")
    for page in paginator.paginate(ServiceCode="sagemaker"):
        for q in page.get("Quotas", []):
            quotas[q["QuotaName"]] = q
    return quotas


def check_endpoint_quotas(ctx: RegionContext) -> Iterable[Result]:
    """SageMaker "<type> for endpoint usage" quotas: a blue/green update runs the old and the new fleet at
    once, so the deploy needs twice the maximum instance count (SageMaker developer guide, "Blue/Green
    Deployments"; issue 13 item 15)."""
    from gptoss_constructs import catalog

    rc = ctx.rc
    if not rc.sagemaker_models:
        return
    needed: Counter = Counter()
    for model in rc.sagemaker_models:
        itype = rc.instance_types.get(model) or catalog.hosting(model).default_instance_type
        needed[itype] += 2 * rc.autoscaling_max_capacity
    quotas = _quota_by_name(ctx)
    for itype, count in sorted(needed.items()):
        name = f"{itype} for endpoint usage"
        q = quotas.get(name)
        if q is None:
            yield Result("endpoint-quota", ctx.region, WARN, f"no quota named {name!r} in Service Quotas (sagemaker)",
                         "check the SageMaker quotas in the Service Quotas console for this instance type")
            continue
        value = int(q["Value"])
        fix = (f"aws service-quotas request-service-quota-increase --service-code sagemaker --quota-code {q['QuotaCode']} "
               f"--desired-value {count} --region {ctx.region}")
        if value >= count:
            yield Result("endpoint-quota", ctx.region, PASS, f"{name}: {value} >= {count} (2 x max during blue/green)")
        elif value >= count // 2:
            yield Result("endpoint-quota", ctx.region, WARN, f"{name}: {value}, enough to create but not for a blue/green update ({count})", fix)
        else:
            yield Result("endpoint-quota", ctx.region, FAIL, f"{name}: {value} < {count // 2} instances at max capacity", fix)


def check_lambda_concurrency(ctx: RegionContext) -> Iterable[Result]:
    """``lambda:GetAccountSettings``: a reservation must leave ``LAMBDA_UNRESERVED_MINIMUM`` unreserved; without
    one, a small account limit (new accounts often have 10) caps concurrent streams."""
    limits = ctx.client("lambda").get_account_settings()["AccountLimit"]
    total, unreserved = limits["ConcurrentExecutions"], limits["UnreservedConcurrentExecutions"]
    reserved = ctx.config.reserved_concurrent_executions
    if not reserved:
        if total < LAMBDA_UNRESERVED_MINIMUM:
            yield Result("lambda-concurrency", ctx.region, WARN,
                         f"the account's concurrency limit is {total}: at most {unreserved} streams at once, shared with every other function",
                         "request a higher 'Concurrent executions' quota (service code lambda) before production traffic")
        else:
            yield Result("lambda-concurrency", ctx.region, PASS, f"no reservation; {unreserved} of {total} unreserved")
        return
    left = unreserved - reserved
    if left >= LAMBDA_UNRESERVED_MINIMUM:
        yield Result("lambda-concurrency", ctx.region, PASS, f"reserving {reserved} leaves {left} unreserved (limit {total})")
    else:
        yield Result(
            "lambda-concurrency", ctx.region, FAIL,
            f"reserving {reserved} would leave {left} of {total} unreserved; Lambda keeps {LAMBDA_UNRESERVED_MINIMUM}",
            f"drop -c reserved_concurrent_executions (or set it <= {max(unreserved - LAMBDA_UNRESERVED_MINIMUM, 0)}), "
            "or request a higher 'Concurrent executions' quota (service code lambda)",
        )


def check_bedrock_models(ctx: RegionContext) -> Iterable[Result]:
    """Routed Bedrock models: ``bedrock:GetFoundationModel`` (exists, ACTIVE) and
    ``bedrock:GetFoundationModelAvailability`` (authorized and entitled in this account)."""
    from gptoss_constructs import catalog

    bedrock = ctx.client("bedrock")
    for model in [m for m in ctx.rc.bedrock_models if m not in ctx.rc.bedrock_inference_profiles]:
        model_id = catalog.models()[model].bedrock_model_id
        name = f"bedrock:{model}"
        try:
            details = bedrock.get_foundation_model(modelIdentifier=model_id)["modelDetails"]
        except Exception as err:  # noqa: BLE001
            yield Result(name, ctx.region, FAIL, f"{model_id} not offered here ({error_code(err)})",
                         f"remove {model} from bedrock_models for {ctx.region}, or deploy to a region that lists it")
            continue
        status = details.get("modelLifecycle", {}).get("status")
        if status != "ACTIVE":
            yield Result(name, ctx.region, WARN, f"{model_id} lifecycle {status}", "plan a move before the model is retired")
        try:
            avail = bedrock.get_foundation_model_availability(modelId=model_id)
        except Exception as err:  # noqa: BLE001
            yield Result(name, ctx.region, WARN, f"availability of {model_id} unknown ({error_code(err)})",
                         "allow bedrock:GetFoundationModelAvailability to the preflight caller, or check Model access in the console")
            continue
        blocked = [k for k, ok in (("authorizationStatus", "AUTHORIZED"), ("entitlementAvailability", "AVAILABLE"),
                                   ("regionAvailability", "AVAILABLE")) if avail.get(k) != ok]
        if blocked:
            yield Result(name, ctx.region, FAIL, f"{model_id}: " + ", ".join(f"{k}={avail.get(k)}" for k in blocked),
                         f"enable access to {model_id} in the Bedrock console (Model access) for {ctx.region}")
        elif status == "ACTIVE":
            yield Result(name, ctx.region, PASS, f"{model_id} ACTIVE and authorized")


def check_inference_profiles(ctx: RegionContext) -> Iterable[Result]:
    """Opted-in geographic inference profiles: ``bedrock:GetInferenceProfile`` (ACTIVE), and its destination
    regions (``models[].modelArn``) against the catalog's, which the IAM grant is built from."""
    from gptoss_constructs import catalog

    for model in ctx.rc.bedrock_inference_profiles:
        profile = catalog.models()[model].inference_profile(ctx.region)
        name = f"inference-profile:{model}"
        try:
            got = ctx.client("bedrock").get_inference_profile(inferenceProfileIdentifier=profile.profile_id)
        except Exception as err:  # noqa: BLE001
            yield Result(name, ctx.region, FAIL, f"{profile.profile_id} not usable here ({error_code(err)})",
                         f"remove {model} from bedrock_inference_profiles for {ctx.region}")
            continue
        destinations = sorted({m["modelArn"].split(":")[3] for m in got.get("models", [])})
        if got.get("status") != "ACTIVE":
            yield Result(name, ctx.region, FAIL, f"{profile.profile_id} status {got.get('status')}", "do not route to this profile")
        elif profile.destination_regions is None or sorted(profile.destination_regions) != destinations:
            yield Result(name, ctx.region, WARN, f"{profile.profile_id} ACTIVE; prompts may be processed in {', '.join(destinations)}",
                         f"record \"destination_regions\": {json.dumps(destinations)} under models.{model}.bedrock_inference_profiles."
                         f"{profile.geography} in constructs/catalog/gpt_oss.json (the grant then names exactly these regions)")
        else:
            yield Result(name, ctx.region, PASS, f"{profile.profile_id} ACTIVE; destinations {', '.join(destinations)} as in the catalog")


def check_guardrail_profile(ctx: RegionContext) -> Iterable[Result]:
    """STANDARD tier needs the region's system-defined guardrail profile. There is no read API for guardrail
    profiles in the bedrock control plane (botocore's model has Get/ListGuardrails only), so this checks that
    the region maps to a known profile and leaves the rest UNCONFIRMED(verify:route-blocked-input)."""
    rc = ctx.rc
    if rc.guardrail.tier != "STANDARD":
        yield Result("guardrail-profile", ctx.region, PASS, f"tier {rc.guardrail.tier}: no guardrail profile needed")
        return
    from gptoss_constructs.guardrail import guardrail_profile_id

    try:
        profile = guardrail_profile_id(ctx.region)
    except ValueError as err:
        yield Result("guardrail-profile", ctx.region, FAIL, str(err), "use a CLASSIC-tier policy in this region")
        return
    yield Result("guardrail-profile", ctx.region, WARN, f"UNCONFIRMED(verify:route-blocked-input): {profile} (no read API); the guardrail's first ApplyGuardrail call confirms it",
                 "after deploy, run one request through the proxy; AccessDenied names the missing profile ARN")


def _hub_facts(ctx: RegionContext, model_id: str):
    """DescribeHubContent once per model and region (several checks read it)."""
    from tools import jumpstart

    key = ("hub", model_id)
    if key not in ctx._cache:
        ctx._cache[key] = jumpstart.facts_from_hub(jumpstart.describe_public_model(ctx.client("sagemaker"), model_id), ctx.region)
    return ctx._cache[key]


def check_jumpstart_hub(ctx: RegionContext) -> Iterable[Result]:
    """The catalog against the public hub: ``sagemaker:DescribeHubContent`` (HubName ``SageMakerPublicHub``,
    HubContentType ``Model``) — image, weights prefix, environment, EULA and instance type."""
    from gptoss_constructs import catalog
    from tools import jumpstart

    rc = ctx.rc
    for model in rc.sagemaker_models:
        spec = catalog.hosting(model)
        itype = rc.instance_types.get(model) or spec.default_instance_type
        name = f"jumpstart:{model}"
        try:
            facts = _hub_facts(ctx, spec.jumpstart_model_id)
        except Exception as err:  # noqa: BLE001
            yield Result(name, ctx.region, FAIL, f"{spec.jumpstart_model_id} not readable in {jumpstart.PUBLIC_HUB} ({error_code(err)})",
                         "allow sagemaker:DescribeHubContent to the preflight caller; if the model is missing, it is not offered here")
            continue
        drifts = jumpstart.drift(model, ctx.region, spec, itype, facts)
        if not drifts:
            yield Result(name, ctx.region, PASS, f"catalog matches {facts.source}")
        for d in drifts:
            yield Result(name, ctx.region, FAIL if d.blocking else WARN,
                         f"{d.field}: catalog {d.ours!r}, hub {d.theirs!r}", d.fix)


def check_tokenizer_encodings(ctx: RegionContext) -> Iterable[Result]:
    """vLLM / openai-harmony load o200k_base.tiktoken at start-up from ``$TIKTOKEN_ENCODINGS_BASE`` or download
    it (vllm-project/vllm#22525, openai/harmony#46, #95); our endpoints run with network isolation. UNCONFIRMED(verify:tokenizer-in-container)
    whether the JumpStart content provides it: PASS when the hub's container environment sets the variable."""
    from gptoss_constructs import catalog

    for model in ctx.rc.sagemaker_models:
        spec = catalog.hosting(model)
        try:
            facts = _hub_facts(ctx, spec.jumpstart_model_id)
        except Exception:  # noqa: BLE001 - check_jumpstart_hub reports the unreadable hub content
            continue
        value = facts.environment.get("TIKTOKEN_ENCODINGS_BASE")
        if value:
            yield Result(f"tokenizer:{model}", ctx.region, PASS, f"the hub content sets TIKTOKEN_ENCODINGS_BASE={value}")
        elif ctx.rc.tiktoken_encodings_base:
            yield Result(f"tokenizer:{model}", ctx.region, PASS, f"the endpoint ships the encodings (tiktoken_encodings_base={ctx.rc.tiktoken_encodings_base})")
        else:
            yield Result(f"tokenizer:{model}", ctx.region, WARN,
                         "UNCONFIRMED(verify:tokenizer-in-container): neither the hub content nor the config sets TIKTOKEN_ENCODINGS_BASE, so the container may "
                         "try to download o200k_base.tiktoken, which network isolation blocks",
                         "set -c tiktoken_encodings_base=... (README, Troubleshooting, 'Tokenizer encodings')")


def check_web_adapter_layer(ctx: RegionContext) -> Iterable[Result]:
    """Streaming runs the proxy under the AWS Lambda Web Adapter layer published in account 753240598075:
    ``lambda:GetLayerVersionByArn`` proves that exact layer version exists in this region (e.g. GovCloud)."""
    from gptoss_constructs import invoke_proxy

    if ctx.config.streaming is False:
        yield Result("web-adapter-layer", ctx.region, PASS, "buffered proxy: no Web Adapter layer")
        return
    arn = f"arn:{partition_of(ctx.region)}:lambda:{ctx.region}:753240598075:layer:LambdaAdapterLayerArm64:{invoke_proxy.LWA_LAYER_VERSION}"
    try:
        ctx.client("lambda").get_layer_version_by_arn(Arn=arn)
    except Exception as err:  # noqa: BLE001
        yield Result("web-adapter-layer", ctx.region, FAIL, f"{arn} not readable ({error_code(err)})",
                     "use -c streaming=false in this region, or publish the adapter layer in your account")
        return
    yield Result("web-adapter-layer", ctx.region, PASS, f"{arn} exists")


def check_endpoint_services(ctx: RegionContext) -> Iterable[Result]:
    """Interface endpoints exist only in some AZs: ``ec2:DescribeVpcEndpointServices`` (every page) for the
    chosen AZs, through constructs/network.py's pure ``missing_endpoint_azs`` / ``azs_offering_all``."""
    from gptoss_constructs.network import azs_offering_all, endpoint_service_name, missing_endpoint_azs

    rc = ctx.rc
    azs = list(rc.existing_vpc.availability_zones if rc.existing_vpc else rc.availability_zones or [])
    from stacks.network_stack import platform_interface_endpoints

    # exactly what NetworkStack creates: the configured list, else what the region's platform calls
    names = list(ctx.config.interface_endpoints if ctx.config.interface_endpoints is not None else platform_interface_endpoints(rc))
    if rc.front_door == "private-api" and "execute-api" not in names:
        names.append("execute-api")
    services = [endpoint_service_name(n, ctx.region) for n in names]
    details: list = []
    paginator = ctx.client("ec2").get_paginator("describe_vpc_endpoint_services")
    for page in paginator.paginate(ServiceNames=services):
        details += page.get("ServiceDetails", [])
    if not azs:
        offered = sorted({z for d in details for z in d.get("AvailabilityZones", [])})
        common = azs_offering_all(details, services, offered)
        if len(common) >= ctx.config.max_azs:
            yield Result("endpoint-services", ctx.region, WARN, f"AZs are chosen at deploy; every endpoint service is in {', '.join(common)}",
                         f"pin them: -c availability_zones={','.join(common[:ctx.config.max_azs])}")
        else:
            yield Result("endpoint-services", ctx.region, FAIL, f"only {len(common)} AZ(s) offer every endpoint service: {', '.join(common) or 'none'}",
                         "drop the service from -c interface_endpoints, or use fewer max_azs")
        return
    missing = missing_endpoint_azs(details, services, azs)
    if not missing:
        yield Result("endpoint-services", ctx.region, PASS, f"{len(services)} endpoint services offered in {', '.join(azs)}")
        return
    by_service: dict[str, list[str]] = {}
    for m in missing:
        by_service.setdefault(m.service_name, []).append(m.availability_zone)
    offered = sorted({z for d in details for z in d.get("AvailabilityZones", [])})
    better = azs_offering_all(details, services, offered)
    for service, zones in sorted(by_service.items()):
        yield Result("endpoint-services", ctx.region, FAIL, f"{service} not offered in {', '.join(zones)}",
                     (f"choose AZs that offer every service, e.g. -c availability_zones={','.join(better[:max(len(azs), 2)])}"
                      if len(better) >= 2 else "drop the service from -c interface_endpoints"))


def check_apigateway_account(ctx: RegionContext) -> Iterable[Result]:
    """``apigateway:GetAccount``: the account-wide CloudWatch role we would set (configure_apigw_account_role)."""
    if ctx.rc.front_door != "private-api" or ctx.config.configure_account_logging_role is False:
        yield Result("apigateway-account", ctx.region, PASS, "the stack does not set the account CloudWatch role")
        return
    current = ctx.client("apigateway").get_account().get("cloudwatchRoleArn")
    if current:
        yield Result("apigateway-account", ctx.region, WARN, f"the account already uses {current}; our stack would replace it",
                     "keep it with -c configure_account_logging_role=false (the stage only needs some role set)")
    else:
        yield Result("apigateway-account", ctx.region, PASS, "no account CloudWatch role yet; the stack sets (and retains) one")


def check_model_invocation_logging(ctx: RegionContext) -> Iterable[Result]:
    """Bedrock model-invocation logging is an account setting per region that, when on with text delivery, stores
    every prompt and completion (``bedrock:GetModelInvocationLoggingConfiguration``; botocore's bedrock model:
    ``loggingConfig`` with ``textDataDeliveryEnabled``, ``cloudWatchConfig``, ``s3Config``). The platform keeps
    prompts out of its own logs; this setting would copy them into the account's log group or bucket."""
    name = "bedrock-invocation-logs"
    if not ctx.rc.bedrock_models:
        yield Result(name, ctx.region, PASS, "no Bedrock route in this region")
        return
    try:
        config = ctx.client("bedrock").get_model_invocation_logging_configuration().get("loggingConfig") or {}
    except Exception as err:  # noqa: BLE001
        yield Result(name, ctx.region, WARN, f"model-invocation logging setting unknown ({error_code(err)})",
                     "grant the preflight caller bedrock:GetModelInvocationLoggingConfiguration")
        return
    destinations = [d for d in ((config.get("cloudWatchConfig") or {}).get("logGroupName"), (config.get("s3Config") or {}).get("bucketName")) if d]
    if not config:
        yield Result(name, ctx.region, PASS, "model-invocation logging is off: Bedrock stores no prompt or completion")
    elif config.get("textDataDeliveryEnabled"):
        yield Result(name, ctx.region, WARN, f"model-invocation logging is on with text: every prompt and completion is stored in {', '.join(destinations) or 'its destination'}",
                     "treat those destinations as holding prompt data (KMS, access, retention per your data policy), or turn it off: "
                     f"aws bedrock delete-model-invocation-logging-configuration --region {ctx.region}")
    else:
        yield Result(name, ctx.region, PASS, "model-invocation logging is on without text delivery")


def check_s3_prefix_list(ctx: RegionContext) -> Iterable[Result]:
    """The model security group's HTTPS egress is narrowed to S3 only with the region's AWS-managed prefix list
    ``com.amazonaws.<region>.s3``, whose id differs per region and cannot be looked up offline:
    ``ec2:DescribeManagedPrefixLists`` with the ``prefix-list-name`` filter (botocore's EC2 model) finds it, so the
    fix prints the exact ``-c s3_prefix_list_id`` to set (unset: WARN, the rule stays 0.0.0.0/0; wrong id: FAIL)."""
    name = "s3-prefix-list"
    wanted = f"com.amazonaws.{ctx.region}.s3"
    lists = ctx.client("ec2").describe_managed_prefix_lists(Filters=[{"Name": "prefix-list-name", "Values": [wanted]}]).get("PrefixLists", [])
    found = [pl["PrefixListId"] for pl in lists if pl.get("PrefixListName") == wanted and pl.get("PrefixListId")]
    configured = ctx.rc.s3_prefix_list_id
    if not found:
        key = ""
    elif len(ctx.config.regions) == 1:
        key = f"-c s3_prefix_list_id={found[0]}"
    else:  # ids differ per region: one entry per region (merge them into one region_overrides value)
        key = f"-c region_overrides='{{\"{ctx.region}\": {{\"s3_prefix_list_id\": \"{found[0]}\"}}}}'"
    if not found:
        yield Result(name, ctx.region, WARN if not configured else FAIL, f"no prefix list named {wanted} in this region",
                     "keep s3_prefix_list_id unset (HTTPS egress stays 0.0.0.0/0 in isolated subnets)")
    elif configured == found[0]:
        yield Result(name, ctx.region, PASS, f"the model security group's S3 egress is {configured} ({wanted})")
    elif configured:
        yield Result(name, ctx.region, FAIL, f"s3_prefix_list_id is {configured}, but {wanted} is {found[0]}",
                     f"set it per region: {key}")
    else:
        yield Result(name, ctx.region, WARN, f"s3_prefix_list_id is unset: the model security group sends HTTPS to 0.0.0.0/0 ({wanted} is {found[0]})",
                     f"narrow it to S3: {key}")


CHECKS: list[Callable[[RegionContext], Iterable[Result]]] = [
    check_bootstrap,
    check_endpoint_quotas,
    check_lambda_concurrency,
    check_bedrock_models,
    check_inference_profiles,
    check_guardrail_profile,
    check_jumpstart_hub,
    check_tokenizer_encodings,
    check_endpoint_services,
    check_web_adapter_layer,
    check_apigateway_account,
    check_model_invocation_logging,
    check_s3_prefix_list,
]


def run_checks(config, account: str, clients: Callable[[str, str], Any], checks=None) -> list[Result]:
    results: list[Result] = []
    for region in config.regions:
        ctx = RegionContext(region=region, account=account, config=config, clients=clients)
        for check in checks or CHECKS:
            try:
                results.extend(check(ctx))
            except Exception as err:  # noqa: BLE001 - one broken check must not hide the others
                name = check.__name__.removeprefix("check_").replace("_", "-")
                results.append(Result(name, region, FAIL, f"could not run ({error_code(err)}: {err})",
                                      "grant the preflight caller read access for this check"))
    return results


# ---- context and credentials ----------------------------------------------------------------------------


def context_from_args(cdk_args: Sequence[str], root: Path = ROOT) -> dict[str, Any]:
    """The context ``cdk synth`` would see: cdk.json's, cdk.context.json's, then each ``-c key=value``."""
    context: dict[str, Any] = {}
    for name in ("cdk.json", "cdk.context.json"):
        path = root / name
        if path.exists():
            data = json.loads(path.read_text())
            context.update(data.get("context", {}) if name == "cdk.json" else data)
    args = list(cdk_args)
    for i, arg in enumerate(args):
        value = None
        if arg in ("-c", "--context") and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--context="):
            value = arg.split("=", 1)[1]
        if value is not None:
            key, sep, val = value.partition("=")
            if not sep:
                raise SystemExit(f"preflight: context argument {value!r} is not key=value")
            context[key] = val
    return context


def config_from_args(cdk_args: Sequence[str], tool: str):
    """The validated ``PlatformConfig`` for ``-c`` arguments, or None after printing ``<tool>: config error: ...``
    (one line, for exit status 2): the config step every command of ``tools/`` shares."""
    sys.path.insert(0, str(ROOT))
    from stacks.config import ConfigError, load_config

    try:
        return load_config(context_from_args(cdk_args).get, None)
    except ConfigError as err:
        print(f"{tool}: config error: {err}", file=sys.stderr)
    except SystemExit as err:  # a malformed -c argument
        print(str(err).replace("preflight:", f"{tool}:"), file=sys.stderr)
    return None


def no_credentials(tool: str) -> str:
    """The one line a command of ``tools/`` prints when no credentials are found."""
    return (f"{tool}: no AWS credentials found: set AWS_PROFILE (or pass --profile), or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or run 'aws sso login'")


NO_CREDENTIALS = no_credentials("preflight")


def open_session(profile: str | None, tool: str):
    """A boto3 session for ``--profile`` (or the SDK's default chain), or None after printing the one line that
    says the profile is unknown."""
    import boto3
    import botocore.exceptions

    try:
        return boto3.Session(profile_name=profile) if profile else boto3.Session()
    except botocore.exceptions.ProfileNotFound:
        print(f"{tool}: AWS profile {profile!r} not found in ~/.aws/config or ~/.aws/credentials", file=sys.stderr)
        return None


def caller_account(session, region: str | None = None, tool: str = "preflight") -> tuple[str | None, str]:
    """(account, "") for usable credentials, else (None, the one line that says what is missing or wrong).

    ``region``: where to call STS. Preflight passes the first region it checks, so credentials from environment
    variables without a default region (no AWS_REGION / AWS_DEFAULT_REGION, no profile region) work: botocore
    raises NoRegionError for a client created without one."""
    import botocore.exceptions

    try:
        if session.get_credentials() is None:
            return None, no_credentials(tool)
        return session.client("sts", region_name=region).get_caller_identity()["Account"], ""
    except (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError):
        return None, no_credentials(tool)
    except botocore.exceptions.ClientError as err:
        return None, f"{tool}: the AWS credentials were rejected by sts:GetCallerIdentity ({error_code(err)}); refresh them"
    except botocore.exceptions.BotoCoreError as err:
        return None, f"{tool}: could not use the AWS credentials ({type(err).__name__}: {err})"


def main(argv: Sequence[str] | None = None, session=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", help="AWS profile (default: the SDK's default chain)")
    args, cdk_args = parser.parse_known_args(argv)
    if session is None:
        session = open_session(args.profile, "preflight")
        if session is None:
            return 2
    import botocore.exceptions

    try:  # first: without credentials, stop before loading anything else
        missing = session.get_credentials() is None
    except (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError):
        missing = True
    if missing:
        print(NO_CREDENTIALS, file=sys.stderr)
        return 2
    config = config_from_args(cdk_args, "preflight")
    if config is None:
        return 2
    # every client gets a region: STS the first region checked, the checks their own (never the SDK default)
    account, problem = caller_account(session, config.regions[0])
    if account is None:
        print(problem, file=sys.stderr)
        return 2
    results = run_checks(config, account, lambda service, region: session.client(service, region_name=region))
    for r in results:
        print(r.line())
    counts = Counter(r.status for r in results)
    print(f"preflight: {counts[PASS]} pass, {counts[WARN]} warn, {counts[FAIL]} fail (account {account}, regions {', '.join(config.regions)})")
    return 1 if counts[FAIL] else 0


if __name__ == "__main__":
    sys.exit(main())
