"""Handoff (seed 002) from config to the function: default routes (gpt-oss-20b → gpt-oss-120b where a region has
both), the context keys named after the InvokeProxy props, and the environment the Lambda reads back."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace

import pytest
from aws_cdk.assertions import Template

from gptoss_constructs.bedrock_model import BedrockFoundationModel
from gptoss_constructs.invoke_proxy import ProxyRoute
from stacks.config import ConfigError, load_config
from stacks.proxy_config import default_handoffs
from tests.conftest import project_context
from tests.fakes import imported_endpoint
from tests.test_invoke_proxy import _build, _function


def _region(region: str, **models):
    return load_config(project_context(regions=region, region_overrides={}, **models).get).for_region(region)


def test_default_handoff_is_20b_to_120b_where_a_region_has_both():
    both_bedrock = _region("us-west-2", sagemaker_models=[], bedrock_models=["gpt-oss-20b", "gpt-oss-120b"])
    assert default_handoffs(both_bedrock) == {"gpt-oss-20b": "gpt-oss-120b"}
    only_small = _region("us-east-1", sagemaker_models=["gpt-oss-20b"], bedrock_models=[])
    assert default_handoffs(only_small) == {}


def test_default_handoff_prefers_the_same_backend():
    # no catalog region serves both backends today; route naming only reads the two model lists
    region = SimpleNamespace(sagemaker_models=("gpt-oss-20b", "gpt-oss-120b"), bedrock_models=("gpt-oss-20b", "gpt-oss-120b"))
    assert default_handoffs(region) == {"gpt-oss-20b": "gpt-oss-120b", "gpt-oss-20b-bedrock": "gpt-oss-120b-bedrock"}
    mixed = SimpleNamespace(sagemaker_models=("gpt-oss-20b",), bedrock_models=("gpt-oss-120b",))
    assert default_handoffs(mixed) == {"gpt-oss-20b": "gpt-oss-120b"}


def test_keys_take_the_props_names():
    c = load_config(project_context(handoff_daily_cap="20", handoff_on_high_effort="true", routes='{"gpt-oss-20b": {"handoff": null}}').get)
    assert c.proxy_props() == {"handoff_daily_cap": 20, "handoff_on_high_effort": True}
    assert c.routes == {"gpt-oss-20b": {"handoff": None}}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"handoff_daily_cap": -1}, "context key 'handoff_daily_cap': handoff_daily_cap must be between 0 and 1000000000, got -1"),
        ({"routes": {"gpt-oss-20b": {"handoff": 5}}}, "context key 'routes.gpt-oss-20b.handoff': expected a route name or null, got 5"),
        ({"routes": {"gpt-oss-20b": {"handoff": "gpt-oss-7b"}}}, "context key 'routes.gpt-oss-20b.handoff': 'gpt-oss-7b' is not another route in us-east-1"),
    ],
)
def test_bad_values_name_the_key(overrides, message):
    with pytest.raises(ConfigError) as err:
        load_config(project_context(**overrides).get)
    assert message in str(err.value)


def test_the_function_environment_carries_the_handoff_and_reads_back():
    from gptoss_invoke_proxy_asset.gptoss_proxy.core.settings import Settings

    routes = [
        ProxyRoute.sagemaker("gpt-oss-20b", imported_endpoint(), handoff="gpt-oss-120b"),
        ProxyRoute.bedrock("gpt-oss-120b", BedrockFoundationModel("gpt-oss-120b")),
    ]
    stack, _, proxy = _build(routes=routes, handoff_daily_cap=10, handoff_on_high_effort=True)
    env = _function(Template.from_stack(stack))["Environment"]["Variables"]
    assert (env["GPTOSS_HANDOFF_DAILY_CAP"], env["GPTOSS_HANDOFF_ON_HIGH_EFFORT"]) == ("10", "true")
    assert Settings.from_env(env) == dataclasses.replace(proxy.settings, reasoning_key_id=env["GPTOSS_REASONING_KEY_ID"])  # the key ARN: a token here, a reference there
    assert proxy.settings.routes["gpt-oss-20b"].handoff == "gpt-oss-120b"
    assert "handoff" in json.dumps(env["GPTOSS_ROUTES"])


def test_a_handoff_to_an_unknown_route_fails_at_construction():
    routes = [ProxyRoute.sagemaker("gpt-oss-20b", imported_endpoint(), handoff="gpt-oss-7b")]
    with pytest.raises(ValueError, match="route 'gpt-oss-20b' handoff must be another route's model, one of \\(none\\); got 'gpt-oss-7b'"):
        _build(routes=routes)


def test_route_budget_options_from_config_to_the_function():
    """Seed 003: routes.<r>.max_reasoning_tokens / reasoning_tokens are ProxyRoute options the Lambda reads back."""
    from gptoss_invoke_proxy_asset.gptoss_proxy.core.settings import Settings

    c = load_config(project_context(routes='{"gpt-oss-20b": {"max_reasoning_tokens": "4096", "reasoning_tokens": 1024, "budget_mode": "harmony"}}').get)
    assert c.routes == {"gpt-oss-20b": {"max_reasoning_tokens": 4096, "reasoning_tokens": 1024, "budget_mode": "harmony"}}
    with pytest.raises(ConfigError, match=r"context key 'routes.gpt-oss-20b.budget_mode': .*must be one of chat, harmony, got 'exact'"):
        load_config(project_context(routes='{"gpt-oss-20b": {"budget_mode": "exact"}}').get)
    with pytest.raises(ConfigError, match=r"context key 'routes.gpt-oss-20b.reasoning_tokens': .*between 1 and 131072, got 0"):
        load_config(project_context(routes='{"gpt-oss-20b": {"reasoning_tokens": 0}}').get)
    routes = [ProxyRoute.sagemaker("gpt-oss-20b", imported_endpoint(), **c.routes["gpt-oss-20b"])]
    stack, _, proxy = _build(routes=routes)
    env = _function(Template.from_stack(stack))["Environment"]["Variables"]
    assert Settings.from_env(env).routes["gpt-oss-20b"].max_reasoning_tokens == 4096
    assert proxy.settings.routes["gpt-oss-20b"].reasoning_tokens == 1024 and proxy.settings.routes["gpt-oss-20b"].budget_mode == "harmony"
