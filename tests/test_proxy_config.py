"""Proxy / front door / roles keys of the one platform config: construct defaults, route naming, fallbacks,
renamed keys, and one message per bad input (ranges and choices come from the constructs and the proxy core)."""

from __future__ import annotations

import pytest
from aws_cdk import Duration

from stacks.config import RENAMED_KEYS, ConfigError, load_config
from stacks.proxy_config import default_fallbacks, route_names
from tests.conftest import project_context


def config(**overrides):
    return load_config(project_context(**overrides).get)


def test_unset_keys_leave_the_construct_defaults():
    c = config()
    # cdk.json sets one front-door prop explicitly: the account-wide logging role (the construct's default is false)
    assert c.proxy_props() == {} and c.private_api_props() == {"configure_account_logging_role": True} and c.routes == {}
    assert config(configure_account_logging_role=None).private_api_props() == {}
    assert c.api_consumers == () and c.permissions_boundary is None and c.role_name_prefix is None


def test_keys_take_the_construct_props_names():
    c = config(streaming="false", guardrail_stream_mode="fast", memory_size="2048", timeout=20, reserved_concurrent_executions=5,
               throttling_rate_limit=7, throttling_burst_limit=9, configure_account_logging_role=False)
    props = c.proxy_props()
    assert props.pop("timeout").to_seconds() == 20
    assert props == {"streaming": False, "guardrail_stream_mode": "fast", "memory_size": 2048, "reserved_concurrent_executions": 5}
    assert c.private_api_props() == {"throttling_rate_limit": 7, "throttling_burst_limit": 9, "configure_account_logging_role": False}


def test_route_names_and_small_model_first_fallback():
    ctx = project_context(regions="us-east-1", sagemaker_models="gpt-oss-20b", region_overrides={})
    region = load_config(ctx.get).for_region("us-east-1")
    assert route_names(region) == {"gpt-oss-20b": ("sagemaker", "gpt-oss-20b")}
    assert default_fallbacks(region) == {}


def test_routes_carry_proxy_route_options():
    c = config(routes='{"gpt-oss-20b": {"max_tokens": "2048", "max_reasoning_effort": "low", "fallback": null}}')
    assert c.routes == {"gpt-oss-20b": {"max_tokens": 2048, "max_reasoning_effort": "low", "fallback": None}}


def test_consumers_principals_boundary_prefix_parsed():
    c = config(
        api_consumers='{"team-a": {"rate_limit": 2, "burst_limit": 4, "quota_per_day": 1000}}',
        consumer_principals="111122223333,arn:aws:iam::111122223333:role/app",
        permissions_boundary="arn:aws:iam::111122223333:policy/boundary",
        role_name_prefix="plat-",
    )
    assert c.api_consumers[0].name == "team-a" and c.api_consumers[0].quota_per_day == 1000
    assert c.consumer_principals == ("111122223333", "arn:aws:iam::111122223333:role/app")
    assert c.permissions_boundary == "arn:aws:iam::111122223333:policy/boundary" and c.role_name_prefix == "plat-"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        # ranges and choices: the construct's / proxy core's own message, under the context key
        ({"guardrail_stream_mode": "turbo"}, "context key 'guardrail_stream_mode': guardrail_stream_mode must be one of safe, fast, got 'turbo'"),
        ({"memory_size": 64}, "context key 'memory_size': memory_size must be between 128 and 10240, got 64"),
        ({"timeout": 901}, "context key 'timeout': timeout (seconds) must be between 10 and 900, got 901"),
        ({"reserved_concurrent_executions": 0}, "context key 'reserved_concurrent_executions': reserved_concurrent_executions must be between 1 and 1000, got 0"),
        ({"throttling_burst_limit": 6000}, "context key 'throttling_burst_limit': throttling_burst_limit must be between 1 and 5000, got 6000"),
        ({"routes": {"gpt-oss-20b": {"max_tokens": 0}}}, "context key 'routes.gpt-oss-20b.max_tokens': route 'gpt-oss-20b' max_tokens must be between 1 and 131072, got 0"),
        ({"routes": {"gpt-oss-20b": {"max_reasoning_effort": "max"}}}, "context key 'routes.gpt-oss-20b.max_reasoning_effort': route 'gpt-oss-20b' max_reasoning_effort must be one of low, medium, high, got 'max'"),
        # shapes and formats: the config's own
        ({"memory_size": "lots"}, "context key 'memory_size': expected an integer, got 'lots'"),
        ({"routes": {"gpt-oss-20b": {"cap": 1}}}, "context key 'routes.gpt-oss-20b': expected an object with fallback, max_tokens, max_reasoning_effort"),
        ({"routes": {"gpt-oss-20b": {"fallback": 5}}}, "context key 'routes.gpt-oss-20b.fallback': expected a route name or null, got 5"),
        ({"consumer_principals": "someone"}, "context key 'consumer_principals': consumer_principals must be 12-digit account ids or IAM role/user/root ARNs (e.g. arn:aws:iam::111122223333:role/app), got 'someone'"),
        ({"permissions_boundary": "boundary"}, "context key 'permissions_boundary': expected an IAM managed policy ARN"),
        ({"role_name_prefix": "bad prefix"}, "context key 'role_name_prefix': role_name_prefix must be 1 to 32 characters of letters, digits and +=,.@_-, got 'bad prefix'"),
        ({"api_consumers": {"a": {"rate": 1}}}, "context key 'api_consumers.a': expected an object with rate_limit, burst_limit, quota_per_day"),
        ({"alarm_emails": "ops"}, "context key 'alarm_emails': alarm_emails must be e-mail addresses, got 'ops'"),
        ({"max_body_bytes": 100}, "context key 'max_body_bytes': max_body_bytes must be between 1024 and 6291456, got 100"),
        ({"escalate_principals": "everyone"}, "context key 'escalate_principals': escalate_principals must be '*', 12-digit account ids or IAM role/user ARNs, got 'everyone'"),
        ({"log_retention": 42}, "context key 'log_retention': 42 is not a CloudWatch Logs retention (days); allowed: 1, 3, 5"),
    ],
)
def test_fails_with_a_message_naming_key_value_and_allowed(overrides, message):
    with pytest.raises(ConfigError) as err:
        config(**overrides)
    assert message in str(err.value)


@pytest.mark.parametrize(("old", "new"), sorted(RENAMED_KEYS.items()))
def test_fails_on_an_old_key_naming_the_new_one(old, new):
    with pytest.raises(ConfigError) as err:
        config(**{old: "1"})
    assert str(err.value).startswith(f"context key '{old}' was renamed: use '{new}'")


def test_the_new_keys_are_the_props_of_the_constructs():
    """Every new name is a keyword of the construct it sets (or, for ``routes``, the ProxyRoute options)."""
    import inspect

    from gptoss_constructs.front_door import PrivateApiFrontDoor
    from gptoss_constructs.governance import apply_role_governance
    from gptoss_constructs.invoke_proxy import InvokeProxy, ProxyRoute
    from gptoss_constructs.network import PrivateNetwork

    props = set()
    for target in (InvokeProxy.__init__, PrivateApiFrontDoor.__init__, apply_role_governance, PrivateNetwork.__init__):
        props |= set(inspect.signature(target).parameters)
    assert set(RENAMED_KEYS.values()) <= props
    assert {"fallback", "max_tokens", "max_reasoning_effort"} <= set(inspect.signature(ProxyRoute).parameters)


def test_fails_when_a_fallback_names_no_route_of_the_region():
    with pytest.raises(ConfigError, match=r"context key 'routes.gpt-oss-20b.fallback': 'gpt-oss-7b' is not another route in us-east-1; routes there: \(none\)"):
        config(regions="us-east-1,us-west-2", routes={"gpt-oss-20b": {"fallback": "gpt-oss-7b"}})


def test_fails_when_a_route_option_names_an_unknown_route():
    with pytest.raises(ConfigError, match="context key 'routes': 'gpt-oss-999b' is not a route in any configured region; routes: gpt-oss-20b"):
        config(routes={"gpt-oss-999b": {"max_tokens": 10}})


def test_timeout_is_a_duration():
    assert isinstance(config(timeout=60).timeout, Duration)


def test_reserved_concurrency_is_opt_in():
    """No reservation unless asked (Lambda developer guide, "Configuring reserved concurrency": the account keeps
    an unreserved minimum, so a default reservation can fail CREATE in a new account)."""
    assert "reserved_concurrent_executions" not in config().proxy_props()
    assert config(reserved_concurrent_executions="25").proxy_props()["reserved_concurrent_executions"] == 25


def test_limits_escalation_and_log_retention():
    from aws_cdk import aws_logs as logs

    c = config(max_body_bytes="65536", escalate_principals="arn:aws:iam::111122223333:role/ops,444455556666", log_retention=2192)
    props = c.proxy_props()
    assert (props["max_body_bytes"], props["escalate_principals"]) == (65_536, ("arn:aws:iam::111122223333:role/ops", "444455556666"))
    assert props["log_retention"] == c.private_api_props()["log_retention"] == logs.RetentionDays.SIX_YEARS
    assert config(escalate_principals="*").proxy_props()["escalate_principals"] == ("*",)


def test_fails_when_a_buffered_proxy_outlives_the_29_second_integration():
    """API Gateway "Integration" reference: TimeoutInMillis is 50 to 29,000 ms by default, raisable only by
    quota for Regional/private REST APIs; a buffered proxy (streaming=false) answers only at the end, so its
    timeout (default 300 s) must fit."""
    with pytest.raises(ConfigError, match=r"context key 'timeout': timeout of 300 s is longer than the 29 s a buffered \(streaming=False\) private API integration waits"):
        config(streaming="false")
    assert config(streaming="false", timeout=29).proxy_props()["timeout"].to_seconds() == 29


def test_log_retention_and_limits_reach_the_proxy_stack():
    """``log_retention`` sets the proxy's log group and the API's access and execution log groups (HIPAA
    programmes often keep six years: 2192 days); ``max_body_bytes`` and ``escalate_principals`` reach the proxy;
    the API 5xx alarm filters on the API's own distinctive name (issue 13 item 13), not "Resource"."""
    import json

    from aws_cdk.assertions import Template

    from stacks.platform import build_region
    from tests.conftest import make_app

    ctx = project_context(regions="us-west-2", log_retention=2192, max_body_bytes=65536, escalate_principals="111122223333")
    app = make_app(**ctx)
    stacks = build_region(app, load_config(ctx.get), "us-west-2")
    t = Template.from_stack(stacks.proxy)
    groups = t.find_resources("AWS::Logs::LogGroup")
    assert len(groups) == 3 and {g["Properties"]["RetentionInDays"] for g in groups.values()} == {2192}
    (fn,) = t.find_resources("AWS::Lambda::Function", {"Properties": {"Runtime": "python3.14"}}).values()
    env = fn["Properties"]["Environment"]["Variables"]
    assert (env["GPTOSS_MAX_BODY_BYTES"], env["GPTOSS_ESCALATE_PRINCIPALS"]) == ("65536", "111122223333")
    assert "execute-api" in json.dumps(t.to_json()["Outputs"]["HowToCall"])
    name = stacks.proxy.proxy.front_doors[0].rest_api_name
    alarms = Template.from_stack(stacks.monitoring).find_resources("AWS::CloudWatch::Alarm", {"Properties": {"MetricName": "5XXError"}})
    assert len(alarms) == 1 and list(alarms.values())[0]["Properties"]["Dimensions"] == [{"Name": "ApiName", "Value": name}]
    (rest,) = t.find_resources("AWS::ApiGateway::RestApi").values()
    assert rest["Properties"]["Name"] == name
