"""Issue 17 item 2: every field of OpenAI's Chat Completions request is accepted — honoured where the route's
backend can, ignored where it means nothing here, a 400 naming the field where a route cannot honour it — with
the real OpenAI SDK, LangChain's ChatOpenAI, and raw bodies of the shape other clients (litellm) send.

Sources: the field list is openai-python 2.54 `CompletionCreateParamsBase`
(openai/types/chat/completion_create_params.py); what vLLM honours is its `ChatCompletionRequest`
(vllm-project/vllm vllm/entrypoints/openai/chat_completion/protocol.py: logprobs, top_logprobs, n, logit_bias,
seed, stop, penalties); Bedrock's gpt-oss InvokeModel takes an OpenAI chat body (Bedrock user guide, "OpenAI
models": "For information about the parameters in the request body ... see Create chat completion") and
documents no logprobs or n, so those are refused on Bedrock routes.
"""

from __future__ import annotations

import json
import typing

import openai
import pytest

from gptoss_proxy.core.request import IGNORED_FIELDS, KNOWN_FIELDS, OPENAI_FIELDS
from tests.proxy.conftest import post

USER = [{"role": "user", "content": "hello there"}]
WEATHER = {"name": "get_weather", "description": "Weather for a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


def _last_body(stats, prefix: str) -> dict:
    return [b["body"] for b in stats()["model_requests"] if b["target"].startswith(prefix)][-1]


def test_the_field_list_is_the_installed_sdks():
    from openai.types.chat.completion_create_params import CompletionCreateParamsBase

    assert OPENAI_FIELDS == set(typing.get_type_hints(CompletionCreateParamsBase)) | {"stream"}
    assert KNOWN_FIELDS - OPENAI_FIELDS == {"escalate", "handoff", "reasoning", "thinking", "client_metadata"}  # our extensions (README) + client bookkeeping


class TestAcceptedEverywhere:
    @pytest.mark.parametrize("model", ["gpt-oss-20b", "gpt-oss-120b"])
    def test_openai_service_fields_are_accepted_and_not_sent_to_the_model(self, client, stats, model):
        r = client.chat.completions.create(
            model=model, messages=USER, logprobs=False, service_tier="auto", prompt_cache_key="k1", safety_identifier="user-1",
            verbosity="low", modalities=["text"], store=False, metadata={"team": "a"}, user="u1", prompt_cache_retention="24h",
            prediction={"type": "content", "content": "Echo"},
        )
        assert r.choices[0].message.content == "Echo: hello there"
        sent = _last_body(stats, "sagemaker" if model == "gpt-oss-20b" else "bedrock")
        assert not set(sent) & (set(IGNORED_FIELDS) | {"logprobs", "modalities"})

    def test_values_that_ask_for_nothing_are_accepted_on_bedrock_too(self, client, stats):
        client.chat.completions.create(model="gpt-oss-120b", messages=USER, logprobs=False, top_logprobs=0, n=1, logit_bias={})
        assert not {"logprobs", "top_logprobs", "n", "logit_bias"} & set(_last_body(stats, "bedrock"))

    def test_explicit_nulls_are_absent(self, proxy_url):
        body = {"model": "gpt-oss-20b", "messages": USER, "n": None, "stream": None, "temperature": None, "top_p": None, "stop": None,
                "tools": None, "tool_choice": None, "logprobs": None, "top_logprobs": None, "max_tokens": None, "seed": None,
                "response_format": None, "stream_options": None, "functions": None, "function_call": None, "user": None}
        status, headers, raw = post(f"{proxy_url}/v1/chat/completions", body)
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert json.loads(raw)["choices"][0]["message"]["content"] == "Echo: hello there"

    def test_litellm_style_body(self, proxy_url, stats):
        """The body shape an OpenAI-compatible client library forwards (issue 17: litellm failed on these)."""
        body = {"model": "gpt-oss-120b", "messages": USER, "stream": False, "max_completion_tokens": 64, "temperature": 0.2,
                "top_p": 0.9, "stop": ["\n\n"], "seed": 7, "frequency_penalty": 0.1, "presence_penalty": 0.2, "user": "litellm-user",
                "metadata": {"trace": "1"}, "n": 1, "logprobs": False, "parallel_tool_calls": None, "service_tier": None}
        status, _, raw = post(f"{proxy_url}/v1/chat/completions", body)
        assert status == 200 and json.loads(raw)["model"] == "gpt-oss-120b"
        sent = _last_body(stats, "bedrock")
        assert {k: sent[k] for k in ("max_completion_tokens", "temperature", "top_p", "stop", "seed", "frequency_penalty", "presence_penalty")} == {
            "max_completion_tokens": 64, "temperature": 0.2, "top_p": 0.9, "stop": ["\n\n"], "seed": 7, "frequency_penalty": 0.1, "presence_penalty": 0.2}
        assert "n" not in sent and "user" not in sent and "metadata" not in sent

    def test_sampling_fields_reach_vllm(self, client, stats):
        client.chat.completions.create(model="gpt-oss-20b", messages=USER, stop="END", seed=3, frequency_penalty=0.5, presence_penalty=-0.5, logit_bias={"1734": -100})
        sent = _last_body(stats, "sagemaker")
        assert (sent["stop"], sent["seed"], sent["frequency_penalty"], sent["presence_penalty"], sent["logit_bias"]) == ("END", 3, 0.5, -0.5, {"1734": -100})

    @pytest.mark.parametrize(("asked", "sent"), [("minimal", "low"), ("none", "low"), ("xhigh", "high")])
    def test_openai_only_efforts_map_to_the_nearest_gpt_oss_effort(self, client, stats, asked, sent):
        client.chat.completions.create(model="gpt-oss-20b", messages=USER, reasoning_effort=asked)
        assert _last_body(stats, "sagemaker")["reasoning_effort"] == sent


class TestVllmOnly:
    def test_logprobs_and_top_logprobs_on_a_vllm_route(self, client):
        r = client.chat.completions.create(model="gpt-oss-20b", messages=USER, logprobs=True, top_logprobs=1)
        tokens = r.choices[0].logprobs.content
        assert "".join(t.token for t in tokens) == r.choices[0].message.content
        assert all(t.logprob <= 0 and len(t.top_logprobs) == 1 for t in tokens)

    def test_n_choices_on_a_vllm_route(self, client):
        r = client.chat.completions.create(model="gpt-oss-20b", messages=USER, n=3)
        assert [c.index for c in r.choices] == [0, 1, 2] and {c.message.content for c in r.choices} == {"Echo: hello there"}

    def test_logprobs_are_withheld_when_the_guardrail_masked_the_text(self, client):
        r = client.chat.completions.create(model="gpt-oss-20b", messages=[{"role": "user", "content": "[[email]]"}], logprobs=True)
        assert r.choices[0].message.content == "Write to {EMAIL} for details." and r.choices[0].logprobs is None

    @pytest.mark.parametrize(("kwargs", "param"), [({"logprobs": True}, "logprobs"), ({"n": 2}, "n"), ({"logit_bias": {"12": 5}}, "logit_bias")])
    def test_a_bedrock_route_refuses_them_naming_the_field(self, client, kwargs, param):
        with pytest.raises(openai.BadRequestError) as err:
            client.chat.completions.create(model="gpt-oss-120b", messages=USER, **kwargs)
        assert err.value.body["param"] == param and err.value.body["code"] == "unsupported_parameter"
        assert "Amazon Bedrock" in err.value.body["message"]

    def test_a_fallback_that_cannot_honour_them_is_not_used(self, client, stats):
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="gpt-oss-20b", messages=[{"role": "user", "content": "[[throttle@sagemaker]]"}], logprobs=True)
        assert not any(k.startswith("bedrock") for k in stats()["calls"])

    def test_escalating_to_bedrock_with_logprobs_is_a_400(self, client):
        with pytest.raises(openai.BadRequestError) as err:
            client.chat.completions.create(model="gpt-oss-20b", messages=USER, logprobs=True, extra_body={"escalate": True})
        assert err.value.body["param"] == "logprobs"


@pytest.mark.parametrize(
    ("extra", "param", "code"),
    [
        ({"logprobs": True, "stream": True}, "logprobs", "unsupported_value"),
        ({"n": 2, "stream": True}, "n", "unsupported_value"),
        ({"top_logprobs": 2}, "top_logprobs", "invalid_value"),
        ({"top_logprobs": 21, "logprobs": True}, "top_logprobs", "invalid_value"),
        ({"modalities": ["text", "audio"]}, "modalities", "unsupported_value"),
        ({"audio": {"voice": "alloy", "format": "mp3"}}, "audio", "unsupported_parameter"),
        ({"web_search_options": {}}, "web_search_options", "unsupported_parameter"),
        ({"moderation": {"model": "omni-moderation-latest"}}, "moderation", "unsupported_parameter"),
        ({"functions": [WEATHER], "tools": [{"type": "function", "function": WEATHER}]}, "functions", "invalid_value"),
        ({"function_call": "auto"}, "function_call", "invalid_value"),
        ({"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}}, "response_format.json_schema.name", "missing_required_parameter"),
        ({"colour": "red"}, "colour", "unknown_parameter"),
    ],
)
def test_fails_with_a_400_naming_the_field(proxy_url, extra, param, code):
    status, _, raw = post(f"{proxy_url}/v1/chat/completions", {"model": "gpt-oss-20b", "messages": USER, **extra})
    error = json.loads(raw)["error"]
    assert (status, error["param"], error["code"]) == (400, param, code)


class TestLegacyFunctions:
    @pytest.mark.parametrize("model", ["gpt-oss-20b", "gpt-oss-120b"])
    def test_functions_map_to_tools_and_answer_with_function_call(self, client, stats, model):
        messages = [{"role": "user", "content": "weather in Paris?"}]
        first = client.chat.completions.create(model=model, messages=messages, functions=[WEATHER], function_call={"name": "get_weather"})
        message = first.choices[0].message
        assert first.choices[0].finish_reason == "function_call" and message.tool_calls is None
        assert message.function_call.name == "get_weather" and json.loads(message.function_call.arguments) == {"city": "Paris"}
        sent = _last_body(stats, "sagemaker" if model == "gpt-oss-20b" else "bedrock")
        assert sent["tools"] == [{"type": "function", "function": WEATHER}] and sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
        messages += [{"role": "assistant", "content": None, "function_call": {"name": "get_weather", "arguments": message.function_call.arguments}},
                     {"role": "function", "name": "get_weather", "content": "18C and sunny"}]
        second = client.chat.completions.create(model=model, messages=messages, functions=[WEATHER])
        assert second.choices[0].message.content == "The tool said: 18C and sunny"


    @pytest.mark.parametrize("model", ["gpt-oss-20b", "gpt-oss-120b"])
    def test_streamed_functions_answer_with_function_call_deltas(self, client, model):
        chunks = list(client.chat.completions.create(model=model, messages=[{"role": "user", "content": "weather?"}], functions=[WEATHER], stream=True))
        deltas = [c.choices[0].delta for c in chunks if c.choices]
        name = "".join(d.function_call.name or "" for d in deltas if d.function_call)
        arguments = "".join(d.function_call.arguments or "" for d in deltas if d.function_call)
        assert name == "get_weather" and json.loads(arguments) == {"city": "Paris"}
        assert not any(d.tool_calls for d in deltas)
        assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["function_call"]


class TestLangChain:
    def test_chat_openai_with_logprobs(self, proxy_url):
        from langchain_openai import ChatOpenAI

        llm = ChatOpenAI(model="gpt-oss-20b", base_url=f"{proxy_url}/v1", api_key="unused", logprobs=True, top_logprobs=2, max_retries=0)
        message = llm.invoke("hello there")
        assert message.content == "Echo: hello there"
        assert "".join(t["token"] for t in message.response_metadata["logprobs"]["content"]) == "Echo: hello there"

    @pytest.mark.parametrize("model", ["gpt-oss-20b", "gpt-oss-120b"])
    def test_chat_openai_streams_with_usage(self, proxy_url, model):
        from langchain_openai import ChatOpenAI

        llm = ChatOpenAI(model=model, base_url=f"{proxy_url}/v1", api_key="unused", stream_usage=True, max_retries=0)
        chunks = list(llm.stream("hello there"))
        assert "".join(c.content for c in chunks) == "Echo: hello there"
        assert sum((c.usage_metadata or {}).get("output_tokens", 0) for c in chunks) > 0
