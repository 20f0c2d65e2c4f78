"""The app's typed config: defaults, parsing of -c strings, and one clear message per bad input."""

from __future__ import annotations

import re

import pytest
from aws_cdk import RemovalPolicy

from stacks.config import ConfigError, load_config
from tests.conftest import project_context


def config(default_account: str | None = None, **overrides):
    ctx = project_context(**overrides)
    return load_config(ctx.get, default_account=default_account)


def test_defaults_from_cdk_json():
    c = config()
    assert c.regions == ("us-east-1",)
    assert c.account is None
    r = c.for_region("us-east-1")
    assert r.sagemaker_models == ("gpt-oss-20b",)
    assert r.bedrock_models == ()
    assert (r.autoscaling_min_capacity, r.autoscaling_max_capacity, r.scale_to_zero) == (1, 2, False)
    assert r.front_door == "private-api" and r.guardrail_policy == "baseline"
    assert r.availability_zones is None  # env-agnostic AZs: no lookup at synth
    assert c.vpc_cidr == "10.80.0.0/16" and c.flow_log_retention == 400
    assert c.removal_policy is RemovalPolicy.RETAIN  # a typed value, not a string
    assert c.interface_endpoints is None  # unset: the Network stack creates what each region calls


def test_two_regions_from_a_comma_string_take_their_catalog_defaults():
    """us-west-2 has no JumpStart gpt-oss and Bedrock serves both models there: no cdk.json override needed."""
    assert "region_overrides" not in project_context() and "sagemaker_models" not in project_context()
    c = config(regions="us-east-1,us-west-2")
    assert c.regions == ("us-east-1", "us-west-2")
    west = c.for_region("us-west-2")
    assert west.sagemaker_models == ()
    assert west.bedrock_models == ("gpt-oss-20b", "gpt-oss-120b")


def test_cli_strings_are_parsed():
    c = config(
        regions="us-east-2",
        autoscaling_min_capacity="0",
        autoscaling_max_capacity="4",
        scale_to_zero="true",
        instance_types='{"gpt-oss-20b": "ml.g6e.2xlarge"}',
        interface_endpoints="bedrock-runtime,sts",
    )
    r = c.for_region("us-east-2")
    assert (r.autoscaling_min_capacity, r.autoscaling_max_capacity, r.scale_to_zero) == (0, 4, True)
    assert r.instance_types == {"gpt-oss-20b": "ml.g6e.2xlarge"}
    assert c.interface_endpoints == ("bedrock-runtime", "sts")


def test_explicit_account_takes_azs_from_the_catalog():
    c = config(default_account="123456789012", regions="ap-northeast-1")
    assert c.account == "123456789012"
    assert c.for_region("ap-northeast-1").availability_zones == ("ap-northeast-1a", "ap-northeast-1c")


def test_account_key_wins_over_the_environment_default():
    assert config(default_account="111111111111", account="222222222222").account == "222222222222"


def test_existing_vpc_per_region():
    vpc = {
        "vpc_id": "vpc-0123456789abcdef0",
        "vpc_cidr": "10.20.0.0/16",
        "availability_zones": ["us-east-1a", "us-east-1b"],
        "isolated_subnet_ids": ["subnet-1", "subnet-2"],
        "route_table_ids": ["rtb-1", "rtb-2"],
    }
    c = config(region_overrides={"us-east-1": {"existing_vpc": vpc}})
    assert c.for_region("us-east-1").existing_vpc.vpc_id == "vpc-0123456789abcdef0"


def test_guardrail_policy_preset_or_file(tmp_path, monkeypatch):
    assert config(guardrail_policy="strict").for_region("us-east-1").guardrail.tier == "STANDARD"
    (tmp_path / "mine.yaml").write_text("blocked_input_message: a\nblocked_output_message: b\nprofanity_filter: true\n")
    monkeypatch.chdir(tmp_path)
    assert config(guardrail_policy="mine.yaml").for_region("us-east-1").guardrail.profanity_filter is True


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"guardrail_policy": "lenient"}, "context key 'guardrail_policy': unknown guardrail preset 'lenient'; presets: baseline, pii-redact, strict"),
        ({"guardrail_policy": "policies/missing.yaml"}, "context key 'guardrail_policy': guardrail policy file 'policies/missing.yaml' does not exist"),
        (
            {"region_overrides": {"us-east-1": {"guardrail_policy": "nope"}}},
            "context key 'region_overrides.us-east-1.guardrail_policy': unknown guardrail preset 'nope'",
        ),
        (
            {"regions": "mars-1"},
            "context key 'regions': 'mars-1' is not a supported region; valid regions: ap-northeast-1, ap-south-1, us-east-1, us-east-2, us-gov-east-1, us-gov-west-1, us-west-2",
        ),
        ({"regions": "us-east-1,us-east-1"}, "context key 'regions': a region is listed twice"),
        ({"regions": " , "}, "context key 'regions': no region given"),
        (
            {"regions": "us-west-2", "sagemaker_models": "gpt-oss-20b"},
            "context key 'sagemaker_models': gpt-oss-20b is not offered by SageMaker JumpStart in us-west-2; it is offered in: us-east-1, us-east-2, ap-south-1, ap-northeast-1",
        ),
        ({"sagemaker_models": "gpt-oss-7b"}, "context key 'sagemaker_models': unknown model 'gpt-oss-7b'; allowed: gpt-oss-120b, gpt-oss-20b"),
        ({"bedrock_models": ["gpt-oss-120b"]}, "context key 'bedrock_models': gpt-oss-120b is not offered by Amazon Bedrock in us-east-1"),
        ({"sagemaker_models": []}, "region us-east-1 serves no model"),
        ({"account": "12345"}, "context key 'account': expected a 12-digit AWS account id, got '12345'"),
        ({"front_door": "public"}, "context key 'front_door': 'public' is not allowed; allowed: private-api"),
        ({"max_azs": 7}, "context key 'max_azs': max_azs must be between 2 and 6, got 7"),
        ({"autoscaling_max_capacity": "lots"}, "context key 'autoscaling_max_capacity': expected an integer, got 'lots'"),
        ({"autoscaling_max_capacity": 1000}, "context key 'autoscaling_max_capacity': max_capacity must be between 1 and 100, got 1000"),
        ({"autoscaling_min_capacity": 3}, "context key 'autoscaling_max_capacity': max_capacity must be between 3 and 100, got 2"),
        ({"autoscaling_min_capacity": 0}, "context key 'autoscaling_min_capacity': min_capacity must be between 1 and 100, got 0 (0 needs scale_to_zero=True"),
        ({"scale_to_zero": "yes"}, "context key 'scale_to_zero': expected true or false, got 'yes'"),
        ({"instance_types": {"gpt-oss-120b": "ml.p5.48xlarge"}}, "context key 'instance_types': 'gpt-oss-120b' is not a SageMaker model in us-east-1; allowed: gpt-oss-20b"),
        ({"instance_types": {"gpt-oss-20b": "g6e.2xlarge"}}, "context key 'instance_types': 'g6e.2xlarge' for gpt-oss-20b is not a SageMaker instance type"),
        ({"instance_types": "{not json"}, "context key 'instance_types': '{not json' is not valid JSON"),
        ({"instance_types": {"gpt-oss-20b": "ml.g4dn.xlarge"}}, "context key 'instance_types': instance_type 'ml.g4dn.xlarge' is not supported for gpt-oss-20b; supported: ml.g5.12xlarge"),
        ({"vpc_cidr": "192.168.0.0/30"}, "context key 'vpc_cidr': vpc_cidr prefix length must be between /16 and /24, got '192.168.0.0/30'"),
        ({"interface_endpoints": "sts,ecr"}, "context key 'interface_endpoints': interface_endpoints has unknown value(s) ecr; allowed: sagemaker.runtime"),
        ({"interface_endpoints": "sts,sts"}, "context key 'interface_endpoints': interface_endpoints lists a value twice: sts, sts"),
        ({"flow_log_retention": 100}, "context key 'flow_log_retention': 100 is not a CloudWatch Logs retention (days); allowed: 1, 3, 5"),
        ({"removal_policy": "snapshot"}, "context key 'removal_policy': 'snapshot' is not allowed; allowed: retain, destroy"),
        ({"availability_zones": "us-west-2a,us-west-2b"}, "context key 'availability_zones': availability_zones must be AZs of the stack's region us-east-1 (e.g. us-east-1a), got us-west-2a, us-west-2b"),
        ({"region_overrides": {"moon-1": {}}}, "context key 'region_overrides': 'moon-1' is not a supported region"),
        ({"region_overrides": {"us-east-1": {"colour": "red"}}}, "context key 'region_overrides.us-east-1': unknown key(s) colour; allowed: sagemaker_models"),
        (
            {"region_overrides": {"us-east-1": {"front_door": "public"}}},
            "context key 'region_overrides.us-east-1.front_door': 'public' is not allowed",
        ),
        (
            {"region_overrides": {"us-east-1": {"existing_vpc": {"vpc_id": "vpc-1"}}}},
            "context key 'region_overrides.us-east-1.existing_vpc': missing field(s) vpc_cidr, availability_zones, isolated_subnet_ids, route_table_ids",
        ),
    ],
)
def test_fails_with_a_message_naming_key_value_and_allowed(overrides, message):
    with pytest.raises(ConfigError) as err:
        config(**overrides)
    assert message in str(err.value)
    assert_well_formed(str(err.value))


#: every config error starts by naming its key(s), quoted, then a colon (issue 24 item 7: two messages read
#: ``context key 'vpc_cidr prefix length must be ...`` — the construct's message pasted inside the key's quotes)
WELL_FORMED = re.compile(r"context keys? '[a-z0-9_.\-]+'( and '[a-z0-9_.\-]+')?( was renamed)?: \S")


def assert_well_formed(message: str) -> None:
    assert WELL_FORMED.match(message), message


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"vpc_cidr": "192.168.0.0/30"}, "vpc_cidr"),
        ({"vpc_cidr": "8.8.0.0/16"}, "vpc_cidr"),
        (
            {"existing_vpc": {"vpc_id": "vpc-0123456789abcdef0", "vpc_cidr": "10.0.0.0/30", "availability_zones": ["us-east-1a", "us-east-1b"],
                              "isolated_subnet_ids": ["subnet-1", "subnet-2"], "route_table_ids": ["rtb-1", "rtb-2"]}},
            "existing_vpc.vpc_cidr",
        ),
    ],
)
def test_fails_when_a_cidr_is_bad_with_the_key_quoted_then_the_constructs_message(overrides, key):
    """The two places that built ``context key '{err}`` (vpc_cidr and existing_vpc.vpc_cidr) now name the key, then
    give require_private_cidr's own message."""
    with pytest.raises(ConfigError) as err:
        config(**overrides)
    assert str(err.value).startswith(f"context key '{key}': vpc_cidr ")
    assert_well_formed(str(err.value))


def test_removal_policy_destroy_is_the_cdk_value():
    assert config(removal_policy="destroy").removal_policy is RemovalPolicy.DESTROY


def test_builtin_cloudformation_validation_is_off_unless_asked():
    """The App prop ``builtin_cloud_formation_validation`` (aws-cdk-lib 2.275 ``core/lib/app.d.ts``: "Whether to
    enable built-in CloudFormation template validation ... @default true") is passed from this key; the app turns it
    off by default because cfn-lint runs on every template in `make lint` and tests/test_lint.py."""
    assert config().builtin_cloud_formation_validation is False
    assert config(builtin_cloud_formation_validation="true").builtin_cloud_formation_validation is True
    with pytest.raises(ConfigError, match="context key 'builtin_cloud_formation_validation': expected true or false, got 'maybe'"):
        config(builtin_cloud_formation_validation="maybe")


def test_endpoint_keys_reach_the_region_config():
    r = config(
        model_data_urls='{"gpt-oss-20b": "s3://my-mirror/gpt-oss-20b/"}', tiktoken_encodings_base="/opt/ml/model", s3_prefix_list_id="pl-63a5400a"
    ).for_region("us-east-1")
    assert (r.model_data_urls, r.tiktoken_encodings_base, r.s3_prefix_list_id) == ({"gpt-oss-20b": "s3://my-mirror/gpt-oss-20b/"}, "/opt/ml/model", "pl-63a5400a")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"model_data_urls": '{"gpt-oss-20b": "https://x"}'}, "context key 'model_data_urls': model_data_url of gpt-oss-20b must be an S3 prefix like 's3://bucket/path/', got 'https://x'"),
        ({"model_data_urls": '{"gpt-oss-120b": "s3://b/p/"}'}, "context key 'model_data_urls': 'gpt-oss-120b' is not a SageMaker model in us-east-1"),
        ({"tiktoken_encodings_base": "model"}, "context key 'tiktoken_encodings_base': tiktoken_encodings_base must be an absolute directory in the container, got 'model'"),
        ({"s3_prefix_list_id": "s3"}, "context key 's3_prefix_list_id': expected the id of com.amazonaws.us-east-1.s3"),
    ],
)
def test_fails_on_bad_endpoint_keys(overrides, message):
    with pytest.raises(ConfigError) as err:
        config(**overrides)
    assert message in str(err.value)
    assert_well_formed(str(err.value))


# ---- per-region defaults from the catalog (issue 21 item 6) -------------------------------------------------


def _expected_defaults(region: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What the catalog says a region gets with ``-c regions=X`` alone: gpt-oss-20b on SageMaker where JumpStart
    offers it (plus gpt-oss-120b on Bedrock when Bedrock serves it in-region), else every in-region Bedrock model."""
    from gptoss_constructs import catalog

    models = catalog.models()
    bedrock = tuple(m for m, info in models.items() if region in info.bedrock_regions)
    if region in models["gpt-oss-20b"].jumpstart_regions:
        return ("gpt-oss-20b",), tuple(m for m in bedrock if m == "gpt-oss-120b")
    return (), bedrock


@pytest.mark.parametrize("region", __import__("gptoss_constructs.catalog").catalog.supported_regions())
def test_every_catalog_region_loads_with_regions_alone(region):
    rc = config(regions=region).for_region(region)
    assert (rc.sagemaker_models, rc.bedrock_models) == _expected_defaults(region)
    assert rc.sagemaker_models or rc.bedrock_models


def test_defaults_follow_the_catalog_not_a_fixed_list():
    """GovCloud (Bedrock only in the catalog) and a JumpStart region pin the two branches of the rule."""
    assert _expected_defaults("us-gov-west-1") == ((), ("gpt-oss-20b", "gpt-oss-120b"))
    assert _expected_defaults("us-east-1") == (("gpt-oss-20b",), ())
    # an explicit value still wins over the default, and an explicit empty list means none
    assert config(regions="us-east-1", bedrock_models="").for_region("us-east-1").bedrock_models == ()
    west = config(regions="us-gov-west-1", bedrock_models="gpt-oss-120b").for_region("us-gov-west-1")
    assert (west.sagemaker_models, west.bedrock_models) == ((), ("gpt-oss-120b",))


@pytest.mark.slow  # a whole stack set per region, in-process (~4 s alone)
def test_every_catalog_region_synthesizes_with_regions_alone():
    """Each region the catalog lists builds its whole stack set from ``-c regions=X`` alone (in-process, one App,
    no nag packs: the option sweep runs those). Stack names carry the region, so the sets share one App."""
    from aws_cdk import App

    from gptoss_constructs import catalog
    from stacks.platform import build_app

    app = App(context=project_context())
    built = {}
    for region in catalog.supported_regions():
        built.update(build_app(app, config(regions=region)))
    assembly = app.synth()
    for region, stacks in built.items():
        models_stack = f"GptOss-Models-{region}"
        names = {s.stack_name for s in assembly.stacks}
        assert f"GptOss-Proxy-{region}" in names
        assert (models_stack in names) == bool(_expected_defaults(region)[0]), region


# ---- one home per rule, no import cycle (issue 24 items 8 and 9) ---------------------------------------------


def _construct_message(rule) -> str:
    with pytest.raises(ValueError) as err:
        rule()
    return str(err.value)


def test_each_rule_has_one_home_the_config_names_the_key_of_the_constructs_error():
    """The config keeps no copy of a construct's rule: for each value the two old copies judged differently
    (``ops@localhost`` passed PlatformMonitoring's "@" test but not the config's regex; ``us-isob-east-1a``-style
    AZ names, duplicated zones; ``*`` principals), the config's message is the construct's, after the key."""
    from gptoss_constructs._validation import require_availability_zones, require_email_addresses, require_principals
    from gptoss_constructs.endpoint import validate_autoscaling

    cases = [
        ({"alarm_emails": "ops@localhost"}, "alarm_emails", lambda: require_email_addresses("alarm_emails", ["ops@localhost"])),
        ({"consumer_principals": "*"}, "consumer_principals", lambda: require_principals("consumer_principals", ["*"])),
        (
            {"availability_zones": "us-east-1a,us-east-1a"},
            "availability_zones",
            lambda: require_availability_zones("availability_zones", ["us-east-1a", "us-east-1a"], "us-east-1"),
        ),
        (
            {"autoscaling_min_capacity": 0, "scale_to_zero": "false"},
            "autoscaling_min_capacity",
            lambda: validate_autoscaling(min_capacity=0, max_capacity=2),
        ),
        (
            {"autoscaling_max_capacity": 101},
            "autoscaling_max_capacity",
            lambda: validate_autoscaling(min_capacity=1, max_capacity=101),
        ),
    ]
    for overrides, key, rule in cases:
        with pytest.raises(ConfigError) as err:
            config(**overrides)
        assert str(err.value) == f"context key '{key}': {_construct_message(rule)}"


def test_the_construct_applies_the_same_rule_the_config_names():
    """PlatformMonitoring and GptOssEndpoint.add_autoscaling reject what the config rejects (same function)."""
    from aws_cdk import Environment, Stack

    from gptoss_constructs.monitoring import PlatformMonitoring
    from tests.conftest import make_app

    stack = Stack(make_app(), "T", env=Environment(region="us-east-1"))
    with pytest.raises(ValueError, match="alarm_emails must be e-mail addresses, got 'ops@localhost'"):
        PlatformMonitoring(stack, "M", alarm_emails=["ops@localhost"])


def _stacks_imports() -> dict[str, set[str]]:
    """module → the ``stacks.*`` modules it imports (at any level, TYPE_CHECKING included). Importing
    ``stacks.config.x`` counts as importing ``stacks.config.x`` only: a package's own ``__init__`` re-exporting its
    submodules is not a cycle."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    graph: dict[str, set[str]] = {}
    for path in (root / "stacks").rglob("*.py"):
        module = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("stacks"):
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names if a.name.startswith("stacks")}
        graph[module] = imported - {module}
    return graph


def test_no_import_cycle_in_stacks():
    """issue 24 item 8: ``stacks/config.py`` imported ``stacks.proxy_config``, which imported it back. The config
    package owns route naming now; ``stacks.proxy_config`` only re-exports it."""
    graph = _stacks_imports()
    assert not any(m == "stacks.proxy_config" for deps in (graph[k] for k in graph if k.startswith("stacks.config")) for m in deps)

    def visit(module: str, trail: tuple[str, ...]) -> None:
        for dep in graph.get(module, ()):
            if dep == "stacks.config" and module.startswith("stacks.config."):
                continue  # a submodule's parent package
            assert dep not in trail, " -> ".join((*trail, dep))
            visit(dep, (*trail, dep))

    for module in graph:
        visit(module, (module,))


def test_existing_imports_of_stacks_config_keep_working():
    import stacks.config as config_package
    from stacks import proxy_config

    for name in ("ConfigError", "RENAMED_KEYS", "RegionConfig", "PlatformConfig", "ExistingVpc", "load_config", "load_cost_assumptions", "check_routes", "default_bedrock_models"):
        assert hasattr(config_package, name), name
    assert proxy_config.route_names is config_package.route_names


def test_the_account_wide_logging_role_is_opt_in_in_the_library_and_explicit_in_the_app():
    """issue 24 item 7: PrivateApiFrontDoor changes the account-wide API Gateway CloudWatch role setting only when
    asked; the app asks in cdk.json, visibly (README "Configuration")."""
    import inspect

    from gptoss_constructs.front_door import PrivateApiFrontDoor

    assert inspect.signature(PrivateApiFrontDoor.__init__).parameters["configure_account_logging_role"].default is False
    assert project_context()["configure_account_logging_role"] is True
    assert config().private_api_props()["configure_account_logging_role"] is True


@pytest.mark.parametrize("target", ["pci", "hipaa", "pci,hipaa"])
@pytest.mark.parametrize("policy", ["pii-redact", "strict"])
def test_compliance_targets_accept_the_redacting_presets(target, policy):
    c = config(compliance=target, guardrail_policy=policy)
    assert c.for_region("us-east-1").guardrail_policy == policy


@pytest.mark.parametrize(("target", "missing"), [("pci", "CREDIT_DEBIT_CARD_CVV, CREDIT_DEBIT_CARD_EXPIRY"), ("hipaa", "NAME, ADDRESS")])
def test_fails_when_the_guardrail_does_not_cover_the_compliance_target(target, missing):
    """Issue 22 (Medium): the default baseline masks no CVV and no HIPAA identifiers; a compliance target says so."""
    with pytest.raises(ConfigError, match=rf"context key 'compliance': {target} needs the guardrail to mask or block {missing}.*'baseline' in us-east-1 does not; set guardrail_policy=pii-redact or strict"):
        config(compliance=target)


def test_fails_when_the_compliance_target_is_unknown():
    with pytest.raises(ConfigError, match=r"context key 'compliance': 'sox' is not a compliance target; allowed: pci, hipaa"):
        config(compliance="sox")
