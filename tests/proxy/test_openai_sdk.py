"""The proxy through the real OpenAI SDK, against the SageMaker/Bedrock emulators."""

from __future__ import annotations

import json
import math
import time

import openai
import pytest

from tests.proxy.conftest import post

USER = [{"role": "user", "content": "hello there"}]


def _collect(stream):
    content, reasoning, finish, usage, chunks = "", "", None, None, []
    for c in stream:
        chunks.append(c)
        if c.usage:
            usage = c.usage
        for ch in c.choices:
            content += ch.delta.content or ""
            reasoning += (ch.delta.model_extra or {}).get("reasoning_content") or ""
            finish = ch.finish_reason or finish
    return content, reasoning, finish, usage, chunks


class TestCompletions:
    @pytest.mark.parametrize("model", ["gpt-oss-20b", "gpt-oss-120b"])
    def test_non_stream_separates_reasoning_and_reports_usage(self, client, model):
        r = client.chat.completions.create(model=model, messages=USER)
        message = r.choices[0].message
        assert message.content == "Echo: hello there"
        assert "<reasoning>" not in message.content
        assert message.model_extra["reasoning_content"].startswith("The user asked something")
        assert r.model == model and r.object == "chat.completion" and r.choices[0].finish_reason == "stop"
        assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
        assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
        assert r.usage.completion_tokens_details.reasoning_tokens > 0

    @pytest.mark.parametrize("model", ["gpt-oss-20b", "gpt-oss-120b"])
    def test_stream_matches_non_stream_with_usage_last(self, client, model):
        stream = client.chat.completions.create(model=model, messages=USER, stream=True, stream_options={"include_usage": True})
        content, reasoning, finish, usage, chunks = _collect(stream)
        assert content == "Echo: hello there" and finish == "stop"
        assert reasoning.startswith("The user asked something") and "<reasoning" not in content + reasoning
        assert chunks[-1].usage is not None and chunks[-1].choices == []
        assert usage.completion_tokens_details.reasoning_tokens > 0
        assert {c.model for c in chunks} == {model}

    def test_stream_without_include_usage_has_no_usage_chunk(self, client):
        *_, usage, chunks = _collect(client.chat.completions.create(model="gpt-oss-20b", messages=USER, stream=True))
        assert usage is None and all(c.choices for c in chunks)

    def test_reasoning_effort_reaches_the_model(self, client):
        low = client.chat.completions.create(model="gpt-oss-120b", messages=USER, reasoning_effort="low")
        high = client.chat.completions.create(model="gpt-oss-120b", messages=USER, reasoning_effort="high")
        assert low.choices[0].message.model_extra["reasoning_content"].endswith("effort=low.")
        assert high.choices[0].message.model_extra["reasoning_content"].endswith("effort=high.")
        assert len(high.choices[0].message.model_extra["reasoning_content"]) > len(low.choices[0].message.model_extra["reasoning_content"])

    def test_json_object_response_format(self, client):
        r = client.chat.completions.create(model="gpt-oss-20b", messages=USER, response_format={"type": "json_object"})
        assert json.loads(r.choices[0].message.content) == {"echo": "hello there"}

    @pytest.mark.parametrize("model", ["gpt-oss-20b", "gpt-oss-120b"])
    def test_tool_call_round_trip(self, client, model):
        tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
        messages = [{"role": "user", "content": "weather in Paris?"}]
        first = client.chat.completions.create(model=model, messages=messages, tools=tools)
        call = first.choices[0].message.tool_calls[0]
        assert first.choices[0].finish_reason == "tool_calls"
        assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
        messages += [first.choices[0].message.model_dump(exclude_none=True), {"role": "tool", "tool_call_id": call.id, "content": "18C and sunny"}]
        second = client.chat.completions.create(model=model, messages=messages, tools=tools)
        assert second.choices[0].message.content == "The tool said: 18C and sunny"

    def test_models_lists_routes_with_their_backend_but_no_endpoint_names(self, client):
        models = {m.id: m for m in client.models.list()}
        assert set(models) == {"gpt-oss-20b", "gpt-oss-120b"}
        assert models["gpt-oss-20b"].owned_by == "sagemaker" and models["gpt-oss-120b"].owned_by == "bedrock"
        assert "gptoss-20b-dev" not in str([m.model_dump() for m in models.values()])


class TestGuardrails:
    def test_blocked_input_is_a_400_with_the_guardrail_message_and_no_model_call(self, client, stats):
        with pytest.raises(openai.BadRequestError) as err:
            client.chat.completions.create(model="gpt-oss-20b", messages=[{"role": "user", "content": "[[block-input]] do bad"}])
        assert err.value.status_code == 400
        assert err.value.body["message"] == "Your request was blocked by this platform's content policy."
        assert err.value.body["code"] == "content_filter"
        assert not any(k.startswith(("sagemaker", "bedrock")) for k in stats()["calls"])

    def test_masked_input_reaches_the_model_masked(self, client):
        r = client.chat.completions.create(model="gpt-oss-20b", messages=[{"role": "user", "content": "mail me at bob@example.com"}])
        assert r.choices[0].message.content == "Echo: mail me at {EMAIL}"

    @pytest.mark.parametrize("stream", [False, True])
    def test_masked_output(self, client, stream):
        kwargs = dict(model="gpt-oss-120b", messages=[{"role": "user", "content": "[[email]]"}])
        if stream:
            content = _collect(client.chat.completions.create(stream=True, **kwargs))[0]
        else:
            content = client.chat.completions.create(**kwargs).choices[0].message.content
        assert content == "Write to {EMAIL} for details."

    @pytest.mark.parametrize("model", ["gpt-oss-20b", "gpt-oss-120b"])
    def test_blocked_output_while_streaming_ends_with_content_filter(self, client, model):
        content, reasoning, finish, *_ = _collect(client.chat.completions.create(model=model, messages=[{"role": "user", "content": "[[forbidden]]"}], stream=True))
        assert finish == "content_filter"
        assert "forbidden" not in content and content == "The model's answer was withheld by this platform's content policy."

    def test_blocked_output_non_stream(self, client):
        r = client.chat.completions.create(model="gpt-oss-20b", messages=[{"role": "user", "content": "[[forbidden]]"}])
        assert r.choices[0].finish_reason == "content_filter"
        assert "forbidden" not in r.choices[0].message.content
        assert "reasoning_content" not in (r.choices[0].message.model_extra or {})

    def test_guardrail_error_fails_closed(self, client):
        with pytest.raises(openai.APIStatusError) as err:
            client.chat.completions.create(model="gpt-oss-20b", messages=[{"role": "user", "content": "[[guardrail-error]]"}])
        assert err.value.status_code == 503 and err.value.body["code"] == "guardrail_unavailable"

    def test_streamed_output_is_checked_in_text_unit_batches(self, client, stats):
        content, reasoning, *_ = _collect(client.chat.completions.create(model="gpt-oss-20b", messages=[{"role": "user", "content": "[[long:3500]]"}], stream=True))
        assert len(content) == 3500
        calls = stats()["guardrail"]
        inputs = [c for c in calls if c["source"] == "INPUT"]
        outputs = [c for c in calls if c["source"] == "OUTPUT"]
        assert len(inputs) == 1
        bound = (math.ceil(3500 / 1000) + 1) + (math.ceil(len(reasoning) / 1000) + 1)  # progressive batches: +1 per field
        assert len(outputs) <= bound and sum(c["units"] for c in outputs) <= bound
        assert sum(c["chars"] for c in outputs) == 3500 + len(reasoning)  # no character checked twice


class TestFallbackAndErrors:
    def test_throttled_route_falls_back_and_says_which_model_answered(self, client, stats):
        raw = client.chat.completions.with_raw_response.create(model="gpt-oss-20b", messages=[{"role": "user", "content": "[[throttle@sagemaker]] hi"}])
        r = raw.parse()
        assert r.model == "gpt-oss-120b" and raw.headers["x-gptoss-model"] == "gpt-oss-120b" and raw.headers["x-gptoss-route"] == "gpt-oss-20b"
        calls = stats()["calls"]
        assert calls["sagemaker:gptoss-20b-dev:invoke"] == 2  # one retry (GPTOSS_MAX_RETRIES=1) before falling back
        assert calls["bedrock:openai.gpt-oss-120b-1:0:invoke"] == 1

    def test_no_capacity_falls_back_at_once_when_streaming(self, client, stats):
        content, _, _, _, chunks = _collect(client.chat.completions.create(model="gpt-oss-20b", messages=[{"role": "user", "content": "[[nocapacity@sagemaker]] hi"}], stream=True))
        assert chunks[0].model == "gpt-oss-120b" and content == "Echo: hi"
        assert stats()["calls"]["sagemaker:gptoss-20b-dev:stream"] == 1

    def test_escalate_goes_straight_to_the_larger_model(self, client, stats):
        r = client.chat.completions.create(model="gpt-oss-20b", messages=USER, extra_body={"escalate": True})
        assert r.model == "gpt-oss-120b"
        assert not any(k.startswith("sagemaker") for k in stats()["calls"])

    def test_throttle_without_fallback_is_429_with_retry_after(self, client):
        with pytest.raises(openai.RateLimitError) as err:
            client.chat.completions.create(model="gpt-oss-120b", messages=[{"role": "user", "content": "[[throttle]]"}])
        assert err.value.status_code == 429 and int(err.value.response.headers["retry-after"]) >= 1
        assert err.value.body["code"] == "rate_limit_exceeded"

    def test_timeout_is_504(self, proxy_env):
        from gptoss_proxy.wiring import build_service

        service = build_service({**proxy_env, "GPTOSS_BACKEND_TIMEOUT_SECONDS": "0.3"})  # the emulator answers after 1 s
        body = json.dumps({"model": "gpt-oss-120b", "messages": [{"role": "user", "content": "[[slow]] hi"}]}).encode()
        response = service.handle("POST", "/v1/chat/completions", {}, body)
        assert response.status == 504
        assert json.loads(response.body)["error"] == {"message": "the model backend did not answer in time", "type": "timeout", "param": None, "code": "backend_timeout"}

    def test_model_error_is_502(self, client):
        with pytest.raises(openai.APIStatusError) as err:
            client.chat.completions.create(model="gpt-oss-20b", messages=[{"role": "user", "content": "[[error]]"}])
        assert err.value.status_code == 502 and err.value.body["code"] == "backend_error"

    def test_unknown_model_is_404(self, client):
        with pytest.raises(openai.NotFoundError) as err:
            client.chat.completions.create(model="gpt-5", messages=USER)
        assert err.value.body["code"] == "model_not_found" and err.value.body["param"] == "model"

    def test_unknown_field_is_400(self, client):
        with pytest.raises(openai.BadRequestError) as err:
            client.chat.completions.create(model="gpt-oss-20b", messages=USER, extra_body={"colour": "red"})
        assert err.value.body == {"message": "Unrecognized request argument supplied: colour", "type": "invalid_request_error", "param": "colour", "code": "unknown_parameter"}

    def test_context_over_128k_tokens_is_400_before_any_call(self, client, stats):
        # a prompt under the 256 KiB body limit whose completion budget takes the request past 128K tokens
        with pytest.raises(openai.BadRequestError) as err:
            client.chat.completions.create(model="gpt-oss-20b", messages=[{"role": "user", "content": "word " * 40_000}], max_tokens=100_000)
        assert err.value.body["code"] == "context_length_exceeded"
        assert not any(k.startswith("sagemaker") for k in stats()["calls"])

    def test_malformed_json_is_400(self, proxy_url):
        status, _, body = post(f"{proxy_url}/v1/chat/completions", b"{not json")
        assert status == 400 and json.loads(body)["error"]["code"] == "invalid_json"

    def test_body_too_large_is_413(self, proxy_url):
        status, _, body = post(f"{proxy_url}/v1/chat/completions", b"x" * 1_100_000)
        assert status == 413 and json.loads(body)["error"]["code"] == "request_too_large"

    @pytest.mark.parametrize("fault", ["[[midstream-error]]", "[[malformed]]"])
    @pytest.mark.parametrize("model", ["gpt-oss-20b", "gpt-oss-120b"])
    def test_mid_stream_failure_ends_with_an_error_event_and_done(self, proxy_url, model, fault):
        # [[long:3000]]: a first ~1,000-character batch has passed the guardrail and was sent before the failure
        status, headers, body = post(f"{proxy_url}/v1/chat/completions", {"model": model, "stream": True, "messages": [{"role": "user", "content": fault + " [[long:3000]]"}]})
        events = [line[6:] for line in body.decode().split("\n") if line.startswith("data: ")]
        assert status == 200 and headers["Content-Type"] == "text/event-stream"
        assert events[-1] == "[DONE]"
        error = json.loads(events[-2])["error"]
        assert error["code"] == "backend_error" and error["type"] == "api_error"

    def test_sdk_raises_on_the_mid_stream_error_event(self, client):
        with pytest.raises(openai.APIError):
            _collect(client.chat.completions.create(model="gpt-oss-20b", messages=[{"role": "user", "content": "[[midstream-error]] [[long:3000]]"}], stream=True))


def test_first_streamed_chunk_arrives_before_the_backend_finished(client, stats):
    # the emulator sends its parts 10 ms apart and holds the last one 0.3 s: a proxy that buffered the answer would
    # release the first text only after the backend finished
    received = None
    stream = client.chat.completions.create(model="gpt-oss-20b", messages=[{"role": "user", "content": "[[slow:0.3]] [[long:3000]]"}], stream=True)
    for c in stream:
        if received is None and c.choices and c.choices[0].delta.content:
            received = time.time()
    (timeline,) = stats()["timelines"]
    assert received is not None and received < timeline["finished"]
