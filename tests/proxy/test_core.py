"""The pure core, without boto3 or sockets: reasoning split, validation and caps, settings, guard batching,
retries with jitter bounded by the deadline, and the fallback chain."""

from __future__ import annotations

import ast
import json
import random
import sys

import pytest

from gptoss_proxy.core.errors import BackendCapacity, BackendFailure, BackendThrottled, ProxyError
from gptoss_proxy.core.reasoning import ReasoningSplitter, split_reasoning
from gptoss_proxy.core.request import validate
from gptoss_proxy.core.service import ProxyService
from gptoss_proxy.core.settings import Settings

ROUTES = {
    "small": {"backend": "sagemaker", "endpoint_name": "ep", "fallback": "big", "max_tokens": 1000, "max_reasoning_effort": "medium"},
    "big": {"backend": "bedrock", "model_id": "openai.gpt-oss-120b-1:0"},
}
SETTINGS = Settings.from_env({"GPTOSS_ROUTES": json.dumps(ROUTES)})
MSG = [{"role": "user", "content": "hi"}]


def test_core_imports_no_boto3():
    import gptoss_proxy.core.service  # noqa: F401

    core_modules = [m for m in sys.modules if m.startswith("gptoss_proxy.core")]
    assert len(core_modules) >= 7
    for name in core_modules:
        tree = ast.parse(open(sys.modules[name].__file__).read())
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not {m for m in imported if m.split(".")[0] in ("boto3", "botocore")}, name


class TestReasoningSplitter:
    TEXT = "<reasoning>think hard</reasoning>The answer is 42."

    def test_whole_text(self):
        assert split_reasoning(self.TEXT) == ("think hard", "The answer is 42.")

    def test_every_cut_position_and_chunk_size_gives_the_same_split(self):
        for size in range(1, len(self.TEXT) + 1):
            splitter, reasoning, content = ReasoningSplitter(), "", ""
            for i in range(0, len(self.TEXT), size):
                r, c = splitter.feed(self.TEXT[i:i + size])
                reasoning, content = reasoning + r, content + c
            r, c = splitter.finish()
            assert (reasoning + r, content + c) == ("think hard", "The answer is 42."), size

    def test_text_that_only_looks_like_a_tag_start_is_released_at_the_end(self):
        splitter = ReasoningSplitter()
        assert splitter.feed("a <rea") == ("", "a ")
        assert splitter.feed("l thing") == ("", "<real thing")
        assert splitter.finish() == ("", "")


class TestValidation:
    def test_caps_apply_the_operators_budget(self):
        req = validate({"model": "small", "messages": MSG, "max_tokens": 5000, "reasoning_effort": "high"}, SETTINGS)
        assert req.body["max_tokens"] == 1000 and req.body["reasoning_effort"] == "medium"

    def test_defaults(self):
        req = validate({"model": "big", "messages": MSG}, SETTINGS)
        assert req.body["max_tokens"] == 4096 and req.body["reasoning_effort"] == "medium" and not req.stream

    @pytest.mark.parametrize(
        ("body", "status", "param", "code"),
        [
            ({"messages": MSG}, 400, "model", "missing_required_parameter"),
            ({"model": "small"}, 400, "messages", "missing_required_parameter"),
            ({"model": "small", "messages": []}, 400, "messages", "invalid_value"),
            ({"model": "nope", "messages": MSG}, 404, "model", "model_not_found"),
            ({"model": "small", "messages": [{"role": "robot", "content": "x"}]}, 400, "messages[0].role", "invalid_value"),
            ({"model": "small", "messages": [{"role": "tool", "content": "x"}]}, 400, "messages[0].tool_call_id", "missing_required_parameter"),
            ({"model": "small", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, 400, "messages[0].content[0]", "invalid_value"),
            ({"model": "small", "messages": MSG, "temperature": 3}, 400, "temperature", "invalid_value"),
            ({"model": "small", "messages": MSG, "top_p": "1"}, 400, "top_p", "invalid_type"),
            ({"model": "big", "messages": MSG, "n": 2}, 400, "n", "unsupported_parameter"),
            ({"model": "small", "messages": MSG, "n": 2, "stream": True}, 400, "n", "unsupported_value"),
            ({"model": "small", "messages": MSG, "stop": ["a"] * 5}, 400, "stop", "invalid_value"),
            ({"model": "small", "messages": MSG, "reasoning_effort": "extreme"}, 400, "reasoning_effort", "invalid_value"),
            ({"model": "small", "messages": MSG, "stream_options": {"include_usage": True}}, 400, "stream_options", "invalid_value"),
            ({"model": "small", "messages": MSG, "tools": [{"type": "web"}]}, 400, "tools[0]", "invalid_value"),
            ({"model": "small", "messages": MSG, "response_format": {"type": "xml"}}, 400, "response_format.type", "invalid_value"),
            ({"model": "small", "messages": MSG, "max_tokens": 0}, 400, "max_tokens", "invalid_value"),
            ({"model": "small", "messages": MSG, "colour": "red"}, 400, "colour", "unknown_parameter"),
        ],
    )
    def test_fails_with_openai_status_param_and_code(self, body, status, param, code):
        with pytest.raises(ProxyError) as err:
            validate(body, SETTINGS)
        assert (err.value.status, err.value.param, err.value.code) == (status, param, code)
        assert set(err.value.body()["error"]) == {"message", "type", "param", "code"}


class TestSettings:
    def test_body_limit_defaults_to_256_kib_and_escalation_to_nobody(self):
        """A 1 MiB prompt costs ~1,000 guardrail text units (Bedrock bills ApplyGuardrail per 1,000 characters),
        so the default body limit is 256 KiB; escalation is off unless principals are configured."""
        assert (SETTINGS.max_body_bytes, SETTINGS.escalate_principals) == (262_144, ())
        with pytest.raises(ProxyError) as err:
            validate(json.loads(json.dumps({"model": "small", "messages": MSG})), SETTINGS, escalate_header=True, consumer="arn:aws:iam::111122223333:user/u")
        assert err.value.status == 403
        env = {"GPTOSS_ROUTES": json.dumps(ROUTES), "GPTOSS_MAX_BODY_BYTES": "2048", "GPTOSS_ESCALATE_PRINCIPALS": "111122223333, arn:aws:iam::444455556666:role/x"}
        settings = Settings.from_env(env)
        assert (settings.max_body_bytes, settings.escalate_principals) == (2048, ("111122223333", "arn:aws:iam::444455556666:role/x"))

    @pytest.mark.parametrize(
        ("consumer", "allowed", "expected"),
        [
            ("arn:aws:sts::111122223333:assumed-role/app/s", ("arn:aws:iam::111122223333:role/path/app",), True),
            ("arn:aws:sts::111122223333:assumed-role/app/s", ("arn:aws:iam::111122223333:role/apps",), False),
            ("arn:aws:sts::111122223333:assumed-role/app/s", ("111122223333",), True),
            ("arn:aws:iam::111122223333:user/alice", ("arn:aws:iam::111122223333:user/alice",), True),
            ("arn:aws-us-gov:sts::111122223333:assumed-role/app/s", ("arn:aws:iam::111122223333:role/app",), False),
            ("local", ("*",), True),
            ("unknown", (), False),
        ],
    )
    def test_who_may_escalate(self, consumer, allowed, expected):
        from gptoss_proxy.core.request import may_escalate

        assert may_escalate(consumer, allowed) is expected

    @pytest.mark.parametrize(
        ("env", "message"),
        [
            ({}, "GPTOSS_ROUTES must be a JSON object"),
            ({"GPTOSS_ROUTES": '{"a": {"backend": "ollama"}}'}, "route 'a' backend must be one of sagemaker, bedrock, got 'ollama'"),
            ({"GPTOSS_ROUTES": '{"a": {"backend": "bedrock"}}'}, "route 'a' needs model_id"),
            ({"GPTOSS_ROUTES": '{"a": {"backend": "bedrock", "model_id": "m", "fallback": "b"}}'}, "route 'a' fallback must be another route's model, one of (none); got 'b'"),
            ({"GPTOSS_ROUTES": '{"a": {"backend": "bedrock", "model_id": "m"}}', "GPTOSS_GUARDRAIL_STREAM_MODE": "x"}, "guardrail_stream_mode must be one of safe, fast, got 'x'"),
        ],
    )
    def test_fails_on_a_bad_environment(self, env, message):
        with pytest.raises(ValueError) as err:
            Settings.from_env(env)
        assert message in str(err.value)


class FakeBackend:
    def __init__(self, script):
        self.script = list(script)
        self.calls = []

    def complete(self, route, body, timeout):
        self.calls.append(route.model)
        outcome = self.script.pop(0) if self.script else "ok"
        if isinstance(outcome, Exception):
            raise outcome
        return {"choices": [{"message": {"content": f"<reasoning>r</reasoning>from {route.model}"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 1, "completion_tokens": 2}}

    def stream(self, route, body, timeout):
        raise NotImplementedError


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


APP_ROLE = "arn:aws:iam::111122223333:role/teams/app"
APP_SESSION = "arn:aws:sts::111122223333:assumed-role/app/i-0123"


def _service(sagemaker, bedrock, clock, retries=2):
    settings = Settings.from_env(
        {"GPTOSS_ROUTES": json.dumps(ROUTES), "GPTOSS_MAX_RETRIES": str(retries), "GPTOSS_ESCALATE_PRINCIPALS": APP_ROLE}
    )
    return ProxyService(settings, {"sagemaker": sagemaker, "bedrock": bedrock}, clock=clock, sleep=clock.sleep, rng=random.Random(7))


def _chat(service, deadline=None, consumer=APP_SESSION, **extra):
    body = json.dumps({"model": "small", "messages": MSG, **extra}).encode()
    response = service.handle("POST", "/v1/chat/completions", {}, body, deadline=deadline, consumer=consumer)
    return response.status, json.loads(response.body), response.headers


class TestRetriesAndFallback:
    def test_throttles_are_retried_with_backoff_and_jitter_then_fall_back(self):
        clock, sm, br = Clock(), FakeBackend([BackendThrottled()] * 3), FakeBackend([])
        status, body, headers = _chat(_service(sm, br, clock), deadline=100)
        assert status == 200 and body["model"] == "big" and headers["x-gptoss-model"] == "big"
        assert sm.calls == ["small"] * 3 and br.calls == ["big"]
        assert len(clock.sleeps) == 2
        assert 0.125 <= clock.sleeps[0] <= 0.375 and 0.25 <= clock.sleeps[1] <= 0.75  # exponential, +-50% jitter

    def test_retries_stop_at_the_deadline_less_the_margin(self):
        clock, sm, br = Clock(), FakeBackend([BackendThrottled()] * 9), FakeBackend([BackendThrottled()] * 9)
        status, body, headers = _chat(_service(sm, br, clock, retries=8), deadline=12.5)  # margin 10 s: plan within 2.5 s
        assert status == 429 and headers["Retry-After"]
        assert clock.now < 2.5

    def test_capacity_errors_fall_back_without_retrying(self):
        clock, sm, br = Clock(), FakeBackend([BackendCapacity("zero copies")]), FakeBackend([])
        status, body, _ = _chat(_service(sm, br, clock), deadline=100)
        assert status == 200 and body["model"] == "big" and sm.calls == ["small"] and clock.sleeps == []

    def test_a_model_error_does_not_fall_back(self):
        clock, sm, br = Clock(), FakeBackend([BackendFailure("boom")]), FakeBackend([])
        status, body, _ = _chat(_service(sm, br, clock), deadline=100)
        assert status == 502 and br.calls == [] and body["error"]["message"] == "boom"

    def test_escalation_skips_the_small_model(self):
        clock, sm, br = Clock(), FakeBackend([]), FakeBackend([])
        status, body, _ = _chat(_service(sm, br, clock), deadline=100, escalate=True)
        assert status == 200 and sm.calls == [] and body["choices"][0]["message"] == {"role": "assistant", "content": "from big", "reasoning_content": "r"}

    @pytest.mark.parametrize("consumer", ["arn:aws:sts::111122223333:assumed-role/other/i-0123", "arn:aws:sts::444455556666:assumed-role/app/s", "unknown", ""])
    def test_escalation_is_refused_for_principals_not_allowed(self, consumer):
        clock, sm, br = Clock(), FakeBackend([]), FakeBackend([])
        status, body, _ = _chat(_service(sm, br, clock), deadline=100, consumer=consumer, escalate=True)
        assert status == 403 and body["error"]["code"] == "escalate_not_allowed" and sm.calls == br.calls == []
        service = _service(FakeBackend([]), FakeBackend([]), clock)
        response = service.handle("POST", "/v1/chat/completions", {"x-gptoss-escalate": "true"}, json.dumps({"model": "small", "messages": MSG}).encode(), deadline=100, consumer=consumer)
        assert response.status == 403

    def test_an_unexpected_exception_is_a_500_openai_error(self):
        class Exploding(FakeBackend):
            def complete(self, route, body, timeout):
                raise KeyError("surprise")

        status, body, _ = _chat(_service(Exploding([]), FakeBackend([]), Clock()), deadline=100)
        assert status == 500 and body["error"]["code"] == "internal_error"


def test_log_lines_are_emf_without_prompt_text(capsys):
    from gptoss_proxy.wiring import emit

    emit({"request_id": "r1", "status": 200, "cold_start": True, "model": "small", "consumer": "arn:aws:iam::1:role/a", "prompt_tokens": 3, "completion_tokens": 5, "reasoning_tokens": 2, "guardrail_calls": 2})
    emit({"request_id": "r2", "status": 404})
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    directives = first["_aws"]["CloudWatchMetrics"]
    assert [d["Dimensions"] for d in directives] == [[["Status"]], [[]], [["Model"], ["Model", "Consumer"]]]
    assert (first["Status"], first["Requests"], first["ColdStart"], first["PromptTokens"], first["Model"]) == ("200", 1, 1, 3, "small")
    assert second["ColdStart"] == 0 and len(second["_aws"]["CloudWatchMetrics"]) == 2 and "PromptTokens" not in second


def test_only_the_first_request_is_a_cold_start():
    records = []
    service = ProxyService(SETTINGS, {}, log=records.append)
    for _ in range(2):
        service.handle("GET", "/health", {}, b"")
    assert [r.get("cold_start", False) for r in records] == [True, False]
