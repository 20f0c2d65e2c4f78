"""The proxy's one settings codec: ``Settings.to_env()`` → ``Settings.from_env()`` gives back the same settings,
defaults are not written, and every bad value is named."""

from __future__ import annotations

import dataclasses
import json

import pytest

from gptoss_proxy.core.settings import Route, Settings

ROUTES = {
    "small": Route(model="small", backend="sagemaker", target="ep-1", inference_component="ic-1", fallback="big", max_tokens=1000, max_reasoning_effort="medium", handoff="big"),
    "big": Route(model="big", backend="bedrock", target="openai.gpt-oss-120b-1:0"),
}


def test_round_trip_of_every_field_set_away_from_its_default():
    changed = {
        "guardrail_id": "gr-1",
        "guardrail_version": "7",
        "guardrail_stream_mode": "fast",
        "guardrail_batch_chars": 2000,
        "max_body_bytes": 2048,
        "context_tokens": 65536,
        "default_max_tokens": 512,
        "max_retries": 0,
        "backend_timeout_seconds": 12.5,
        "escalate_principals": ("arn:aws:iam::111122223333:role/ops", "444455556666"),
        "handoff_daily_cap": 50,
        "handoff_on_high_effort": True,
        "deadline_margin_seconds": 5.0,
        "guardrail_first_batch_chars": 0,
        "reasoning_key_id": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    }
    scalars = {f.name for f in dataclasses.fields(Settings)} - {"routes"}
    assert set(changed) == scalars  # a new field must join this test (and then round-trips for free)
    original = Settings(routes=ROUTES, **changed)
    env = original.to_env()
    assert Settings.from_env(env) == original
    assert env["GPTOSS_GUARDRAIL_STREAM_MODE"] == "fast" and env["GPTOSS_MAX_RETRIES"] == "0"


def test_defaults_are_not_written_and_are_read_back():
    original = Settings(routes=ROUTES)
    env = original.to_env()
    assert set(env) == {"GPTOSS_ROUTES"}
    assert Settings.from_env(env) == original
    assert (original.guardrail_stream_mode, original.guardrail_version, original.max_retries) == ("safe", "DRAFT", 2)


def test_routes_travel_under_their_backend_keys():
    assert json.loads(Settings(routes=ROUTES).to_env()["GPTOSS_ROUTES"]) == {
        "small": {"backend": "sagemaker", "endpoint_name": "ep-1", "inference_component": "ic-1", "fallback": "big", "max_tokens": 1000, "max_reasoning_effort": "medium", "handoff": "big"},
        "big": {"backend": "bedrock", "model_id": "openai.gpt-oss-120b-1:0"},
    }


def test_the_encoder_is_injectable_for_cdk_tokens():
    env = Settings(routes=ROUTES).to_env(dumps=lambda obj: "ENCODED")
    assert env == {"GPTOSS_ROUTES": "ENCODED"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"routes": {}}, "routes must name at least one model route, got none"),
        ({"routes": ROUTES, "guardrail_stream_mode": "turbo"}, "guardrail_stream_mode must be one of safe, fast, got 'turbo'"),
        ({"routes": {"a": Route(model="a", backend="bedrock", target="m", fallback="a")}}, "route 'a' fallback must be another route's model, one of (none); got 'a'"),
        ({"routes": {"a": Route(model="b", backend="bedrock", target="m")}}, "routes key 'a' must be its route's model, got 'b'"),
        ({"routes": ROUTES, "deadline_margin_seconds": -1}, "deadline_margin_seconds must be between 0 and 300, got -1"),
    ],
)
def test_fails_on_bad_settings(kwargs, message):
    with pytest.raises(ValueError) as err:
        Settings(**kwargs)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"backend": "ollama", "target": "x"}, "route 'a' backend must be one of sagemaker, bedrock, got 'ollama'"),
        ({"backend": "sagemaker", "target": ""}, "route 'a' needs endpoint_name (its sagemaker target)"),
        ({"backend": "bedrock", "target": "m", "max_tokens": 0}, "route 'a' max_tokens must be between 1 and 131072, got 0"),
        ({"backend": "bedrock", "target": "m", "max_tokens": "9"}, "route 'a' max_tokens must be a number, got '9'"),
        ({"backend": "bedrock", "target": "m", "max_reasoning_effort": "max"}, "route 'a' max_reasoning_effort must be one of low, medium, high, got 'max'"),
    ],
)
def test_fails_on_a_bad_route(kwargs, message):
    with pytest.raises(ValueError) as err:
        Route(model="a", **kwargs)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GPTOSS_ROUTES": "{nope"}, "GPTOSS_ROUTES is not valid JSON"),
        ({"GPTOSS_ROUTES": '{"a": {"backend": "bedrock", "model_id": "m", "colour": "red"}}'}, "route 'a' has unknown field(s) colour; allowed: backend, model_id"),
        ({"GPTOSS_ROUTES": '{"a": {"backend": "bedrock", "model_id": "m"}}', "GPTOSS_MAX_RETRIES": "two"}, "GPTOSS_MAX_RETRIES must be an integer, got 'two'"),
        ({"GPTOSS_ROUTES": '{"a": {"backend": "bedrock", "model_id": "m"}}', "GPTOSS_BACKEND_TIMEOUT_SECONDS": "soon"}, "GPTOSS_BACKEND_TIMEOUT_SECONDS must be a number, got 'soon'"),
    ],
)
def test_fails_on_a_bad_environment_naming_the_variable(env, message):
    with pytest.raises(ValueError) as err:
        Settings.from_env(env)
    assert message in str(err.value)
