"""Proxy / front door / roles config: defaults, route naming, fallbacks, and one message per bad input."""

from __future__ import annotations

import pytest

from stacks.config import ConfigError, load_config
from stacks.proxy_config import check_routes, default_fallbacks, load_proxy_config, route_names
from tests.conftest import project_context


def proxy_config(**overrides):
    return load_proxy_config(project_context(**overrides).get)


def test_defaults():
    c = proxy_config()
    assert (c.streaming, c.guardrail_stream_mode, c.memory_mb, c.timeout_seconds, c.reserved_concurrency) == (True, "safe", 1024, 300, None)
    assert (c.api_throttle_rate_limit, c.api_throttle_burst_limit, c.api_consumers) == (20, 40, ())
    assert c.permissions_boundary_arn is None and c.role_name_prefix is None


def test_reserved_concurrency_is_opt_in():
    """No reservation unless asked (Lambda developer guide, "Configuring reserved concurrency": the account keeps
    an unreserved minimum, so a default reservation can fail CREATE in a new account)."""
    assert proxy_config(proxy_reserved_concurrency="25").reserved_concurrency == 25
    with pytest.raises(ConfigError, match="context key 'proxy_reserved_concurrency': 0 is out of range; allowed: 1 to 1000"):
        proxy_config(proxy_reserved_concurrency=0)


def test_limits_escalation_and_log_retention():
    c = proxy_config()
    assert (c.max_body_bytes, c.escalate_principals, c.log_retention_days) == (262_144, (), 365)
    c = proxy_config(max_body_bytes="65536", escalate_principals="arn:aws:iam::111122223333:role/ops,444455556666", log_retention=2192)
    assert (c.max_body_bytes, c.escalate_principals, c.log_retention_days) == (65_536, ("arn:aws:iam::111122223333:role/ops", "444455556666"), 2192)
    assert proxy_config(escalate_principals="*").escalate_principals == ("*",)


def test_fails_when_a_buffered_proxy_outlives_the_29_second_integration():
    """API Gateway "Integration" reference: TimeoutInMillis is 50 to 29,000 ms by default, raisable only by
    quota for Regional/private REST APIs; a buffered proxy (proxy_streaming=false) answers only at the end."""
    with pytest.raises(ConfigError, match=r"context key 'proxy_timeout_seconds': 300 is longer than the 29 s a buffered private API integration waits \(proxy_streaming=false\)"):
        proxy_config(proxy_streaming="false")
    assert proxy_config(proxy_streaming="false", proxy_timeout_seconds=29).timeout_seconds == 29


def test_route_names_and_small_model_first_fallback():
    ctx = project_context(regions="us-east-1", sagemaker_models="gpt-oss-20b", region_overrides={})
    region = load_config(ctx.get).for_region("us-east-1")
    assert route_names(region) == {"gpt-oss-20b": ("sagemaker", "gpt-oss-20b")}
    assert default_fallbacks(region) == {}


def test_consumers_principals_boundary_prefix_parsed():
    c = proxy_config(
        api_consumers='{"team-a": {"rate_limit": 2, "burst_limit": 4, "quota_per_day": 1000}}',
        consumer_principals="111122223333,arn:aws:iam::111122223333:role/app",
        permissions_boundary_arn="arn:aws:iam::111122223333:policy/boundary",
        role_name_prefix="plat-",
        proxy_streaming="false",
        proxy_timeout_seconds=20,
    )
    assert c.api_consumers[0].name == "team-a" and c.api_consumers[0].quota_per_day == 1000
    assert c.consumer_principals == ("111122223333", "arn:aws:iam::111122223333:role/app")
    assert c.streaming is False and c.role_name_prefix == "plat-"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"guardrail_stream_mode": "turbo"}, "context key 'guardrail_stream_mode': 'turbo' is not allowed; allowed: safe, fast"),
        ({"proxy_memory_mb": 64}, "context key 'proxy_memory_mb': 64 is out of range; allowed: 128 to 10240"),
        ({"proxy_timeout_seconds": 901}, "context key 'proxy_timeout_seconds': 901 is out of range; allowed: 10 to 900"),
        ({"route_max_tokens": {"gpt-oss-20b": 0}}, "context key 'route_max_tokens.gpt-oss-20b': 0 is out of range; allowed: 1 to 131072"),
        ({"route_max_reasoning_effort": {"gpt-oss-20b": "max"}}, "context key 'route_max_reasoning_effort.gpt-oss-20b': 'max' is not allowed; allowed: low, medium, high"),
        ({"consumer_principals": "someone"}, "context key 'consumer_principals': 'someone' is not a 12-digit account id or an IAM role/user/root ARN"),
        ({"permissions_boundary_arn": "boundary"}, "context key 'permissions_boundary_arn': expected an IAM managed policy ARN"),
        ({"role_name_prefix": "bad prefix"}, "context key 'role_name_prefix': expected 1 to 32 letters"),
        ({"api_consumers": {"a": {"rate": 1}}}, "context key 'api_consumers.a': expected an object with rate_limit, burst_limit, quota_per_day"),
        ({"fallbacks": {"gpt-oss-20b": 5}}, "context key 'fallbacks.gpt-oss-20b': expected a route name or null, got 5"),
        ({"max_body_bytes": 100}, "context key 'max_body_bytes': 100 is out of range; allowed: 1024 to 6291456"),
        ({"escalate_principals": "everyone"}, "context key 'escalate_principals': 'everyone' is not a 12-digit account id or an IAM role/user/root ARN"),
        ({"log_retention": 42}, "context key 'log_retention': 42 is not a CloudWatch Logs retention (days); allowed: 1, 3, 5"),
    ],
)
def test_fails_with_a_message_naming_key_value_and_allowed(overrides, message):
    with pytest.raises(ConfigError) as err:
        proxy_config(**overrides)
    assert message in str(err.value)


def test_fails_when_a_fallback_names_no_route_of_the_region():
    ctx = project_context(regions="us-east-1,us-west-2", fallbacks={"gpt-oss-20b": "gpt-oss-7b"})
    with pytest.raises(ConfigError, match=r"context key 'fallbacks.gpt-oss-20b': 'gpt-oss-7b' is not another route in us-east-1; routes there: \(none\)"):
        check_routes(load_proxy_config(ctx.get), load_config(ctx.get).region_configs)


def test_fails_when_a_cap_names_an_unknown_route():
    ctx = project_context(route_max_tokens={"gpt-oss-999b": 10})
    with pytest.raises(ConfigError, match="context key 'route_max_tokens': 'gpt-oss-999b' is not a route in any configured region; routes: gpt-oss-20b"):
        check_routes(load_proxy_config(ctx.get), load_config(ctx.get).region_configs)


def test_log_retention_and_limits_reach_the_proxy_stack():
    """``log_retention`` sets the proxy's log group and the API's access and execution log groups (HIPAA
    programmes often keep six years: 2192 days); ``max_body_bytes`` and ``escalate_principals`` reach the proxy."""
    import json

    from aws_cdk.assertions import Template

    from stacks.platform import build_region
    from tests.conftest import make_app

    ctx = project_context(regions="us-west-2", log_retention=2192, max_body_bytes=65536, escalate_principals="111122223333")
    app = make_app(**ctx)
    stacks = build_region(app, load_config(ctx.get), load_proxy_config(ctx.get), "us-west-2")
    t = Template.from_stack(stacks.proxy)
    groups = t.find_resources("AWS::Logs::LogGroup")
    assert len(groups) == 3 and {g["Properties"]["RetentionInDays"] for g in groups.values()} == {2192}
    (fn,) = t.find_resources("AWS::Lambda::Function", {"Properties": {"Runtime": "python3.14"}}).values()
    env = fn["Properties"]["Environment"]["Variables"]
    assert (env["GPTOSS_MAX_BODY_BYTES"], env["GPTOSS_ESCALATE_PRINCIPALS"]) == ("65536", "111122223333")
    assert "execute-api" in json.dumps(t.to_json()["Outputs"]["HowToCall"])
    # issue 13 item 13: the API 5xx alarm filters on the API's own (distinctive) name, not "Resource"
    name = stacks.proxy.proxy.front_doors[0].rest_api_name
    alarms = Template.from_stack(stacks.monitoring).find_resources("AWS::CloudWatch::Alarm", {"Properties": {"MetricName": "5XXError"}})
    assert len(alarms) == 1 and list(alarms.values())[0]["Properties"]["Dimensions"] == [{"Name": "ApiName", "Value": name}]
    (rest,) = t.find_resources("AWS::ApiGateway::RestApi").values()
    assert rest["Properties"]["Name"] == name
