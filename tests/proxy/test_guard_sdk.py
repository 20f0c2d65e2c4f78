"""Guardrails through the real OpenAI SDK and a Strands agent with tools, per field, per backend, stream and
non-stream, against the emulators (which speak the ApplyGuardrail wire format: POST
/guardrail/{id}/version/{version}/apply with ``source`` and ``content`` text blocks, answering ``action``,
``outputs``, ``usage`` — docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ApplyGuardrail.html).
"""

from __future__ import annotations

import json

import openai
import pytest

BACKENDS = ["gpt-oss-20b", "gpt-oss-120b"]  # SageMaker route, Bedrock route
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                            "parameters": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string", "description": "city name"}}}}}


def _collect(stream):
    content, reasoning, finish, calls, order = "", "", None, {}, []
    for c in stream:
        for ch in c.choices:
            d = ch.delta
            if (d.model_extra or {}).get("reasoning_content"):
                reasoning += d.model_extra["reasoning_content"]
                order.append("reasoning")
            if d.content:
                content += d.content
                order.append("content")
            for tc in d.tool_calls or []:
                entry = calls.setdefault(tc.index, {"name": "", "arguments": ""})
                entry["name"] += tc.function.name or ""
                entry["arguments"] += tc.function.arguments or ""
                order.append("tool_call")
            finish = ch.finish_reason or finish
    return content, reasoning, finish, [calls[i] for i in sorted(calls)], order


def _ask(client, model, stream, **kwargs):
    """One request; returns (content, finish_reason, tool calls as dicts)."""
    if stream:
        content, _, finish, calls, _ = _collect(client.chat.completions.create(model=model, stream=True, **kwargs))
        return content, finish, calls
    r = client.chat.completions.create(model=model, **kwargs)
    m = r.choices[0].message
    return m.content or "", r.choices[0].finish_reason, [{"name": c.function.name, "arguments": c.function.arguments} for c in m.tool_calls or []]


def _tool_history(args: str, result: str) -> list[dict]:
    return [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": args}}]},
        {"role": "tool", "tool_call_id": "c1", "content": result},
    ]


INPUT_FIELDS = {
    # field -> (request kwargs with the text in that field, how to read the field from the backend's body)
    "user content": (lambda t: {"messages": [{"role": "user", "content": f"hello {t}"}]}, lambda b: b["messages"][-1]["content"]),
    "system content": (lambda t: {"messages": [{"role": "system", "content": f"ops: {t}"}, {"role": "user", "content": "hi"}]}, lambda b: b["messages"][0]["content"]),
    "content parts": (lambda t: {"messages": [{"role": "user", "content": [{"type": "text", "text": f"hello {t}"}]}]}, lambda b: json.dumps(b["messages"][-1]["content"])),
    "tool description": (lambda t: {"messages": [{"role": "user", "content": "hi"}], "tools": [{**WEATHER, "function": {**WEATHER["function"], "description": f"ask {t}"}}]},
                         lambda b: b["tools"][0]["function"]["description"]),
    "parameter description": (lambda t: {"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", "function": {**WEATHER["function"], "parameters": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string", "description": f"or mail {t}"}}}}}]},
                              lambda b: b["tools"][0]["function"]["parameters"]["properties"]["city"]["description"]),
    "enum": (lambda t: {"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", "function": {**WEATHER["function"], "parameters": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string", "enum": ["Paris", t]}}}}}]},
             lambda b: json.dumps(b["tools"][0]["function"]["parameters"]["properties"]["city"]["enum"])),
    "earlier tool-call arguments": (lambda t: {"messages": _tool_history(json.dumps({"city": f"Paris {t}"}), "18C"), "tools": [WEATHER]},
                                    lambda b: b["messages"][1]["tool_calls"][0]["function"]["arguments"]),
    "tool result": (lambda t: {"messages": _tool_history('{"city": "Paris"}', f"18C, ask {t}"), "tools": [WEATHER]}, lambda b: b["messages"][2]["content"]),
    "response_format schema": (lambda t: {"messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": {"type": "object", "description": f"for {t}"}}}},
                               lambda b: b["response_format"]["json_schema"]["schema"]["description"]),
}


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", BACKENDS)
@pytest.mark.parametrize("field", sorted(INPUT_FIELDS))
class TestInputEveryField:
    def test_masked_text_reaches_the_model_masked_in_its_field(self, client, stats, field, model, stream):
        make, read = INPUT_FIELDS[field]
        _ask(client, model, stream, **make("bob@example.com"))
        snapshot = stats()
        received = read(snapshot["bodies"][-1])
        assert "bob@example.com" not in received and "{EMAIL}" in received
        inputs = [c for c in snapshot["guardrail"] if c["source"] == "INPUT"]
        assert len(inputs) == 1 and inputs[0]["action"] == "masked"  # every field in one call
        if field == "earlier tool-call arguments":
            assert json.loads(received) == {"city": "Paris {EMAIL}"}  # still valid JSON

    def test_blocked_text_is_a_400_content_filter_without_echo_or_model_call(self, client, stats, field, model, stream):
        make, _ = INPUT_FIELDS[field]
        with pytest.raises(openai.BadRequestError) as err:
            _ask(client, model, stream, **make("[[block-input]] secret-plan"))
        assert err.value.status_code == 400 and err.value.body["code"] == "content_filter"
        assert "secret-plan" not in json.dumps(err.value.body)
        assert not any(k.startswith(("sagemaker", "bedrock")) for k in stats()["calls"])


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", BACKENDS)
class TestOutputToolCalls:
    def test_masked_arguments_are_released_masked_and_valid_json(self, client, model, stream):
        _, finish, calls = _ask(client, model, stream, messages=[{"role": "user", "content": "[[tool-email]] weather?"}], tools=[WEATHER])
        assert finish == "tool_calls" and len(calls) == 1
        assert calls[0]["name"] == "get_weather" and json.loads(calls[0]["arguments"]) == {"city": "Paris, ask {EMAIL}"}

    def test_blocked_call_ends_with_content_filter_and_releases_nothing_of_it(self, client, model, stream, stats):
        content, finish, calls = _ask(client, model, stream, messages=[{"role": "user", "content": "[[tool-forbidden]] weather?"}], tools=[WEATHER])
        assert finish == "content_filter" and calls == [] and "forbidden" not in content
        outputs = [c for c in stats()["guardrail"] if c["source"] == "OUTPUT"]
        assert any(c["action"] == "blocked" for c in outputs)

    def test_masked_arguments_that_are_not_json_refuse_the_call(self, client, model, stream):
        content, finish, calls = _ask(client, model, stream, messages=[{"role": "user", "content": "[[tool-notjson]] weather?"}], tools=[WEATHER])
        assert finish == "content_filter" and calls == [] and "jane.doe" not in content

    def test_clean_call_is_released_whole(self, client, model, stream):
        _, finish, calls = _ask(client, model, stream, messages=[{"role": "user", "content": "weather?"}], tools=[WEATHER])
        assert finish == "tool_calls" and json.loads(calls[0]["arguments"]) == {"city": "Paris"}


@pytest.mark.parametrize("model", BACKENDS)
@pytest.mark.parametrize("at", [0, 20, 40, 990, 1000, 1010, 1970, 2000])
def test_an_entity_across_a_batch_boundary_is_masked(client, model, at):
    content, _, finish, _, _ = _collect(client.chat.completions.create(model=model, stream=True, messages=[{"role": "user", "content": f"[[long:3000]] [[entity-at:{at}]]"}]))
    assert finish == "stop" and "jane" not in content and "{EMAIL}" in content


@pytest.mark.parametrize("model", BACKENDS)
def test_reasoning_streams_before_the_answer_in_safe_mode(client, model):
    content, reasoning, _, _, order = _collect(client.chat.completions.create(model=model, stream=True, messages=[{"role": "user", "content": "[[long:3000]]"}]))
    assert len(content) == 3000 and reasoning
    first_content = order.index("content")
    assert "reasoning" in order[:first_content] and "reasoning" not in order[first_content:]


def test_stream_log_says_masked_per_field(client, logs):
    _collect(client.chat.completions.create(model="gpt-oss-120b", stream=True, messages=[{"role": "user", "content": "[[email]]"}]))
    record = logs[-1]
    assert record["guardrail_output"] == "masked" and record["guardrail_content"] == "masked" and record["guardrail_reasoning"] == "none"
    assert record["guardrail_units"] >= record["guardrail_calls"] - 1 >= 1


def test_strands_agent_with_tools_gets_masked_tool_definitions_and_results(proxy_url, stats):
    from strands import Agent, tool
    from strands.models.openai import OpenAIModel

    @tool
    def get_weather(city: str) -> str:
        """Get the weather for a city. Escalations go to ops@example.com."""
        return f"18C and sunny in {city}; questions to meteo@example.com"

    model = OpenAIModel(client_args={"base_url": f"{proxy_url}/v1", "api_key": "unused"}, model_id="gpt-oss-20b")
    agent = Agent(model=model, tools=[get_weather], callback_handler=None)
    result = str(agent("What is the weather in Paris?"))
    assert "The tool said: 18C and sunny in Paris; questions to {EMAIL}" in result
    bodies = stats()["bodies"]
    assert all("@example.com" not in json.dumps(b["tools"]) for b in bodies)
    tool_messages = [m for m in bodies[-1]["messages"] if m["role"] == "tool"]
    assert tool_messages and all("meteo@" not in json.dumps(m) for m in tool_messages)


def test_strands_agent_gets_a_blocked_tool_call_as_content_filter(proxy_url):
    from strands import Agent, tool
    from strands.models.openai import OpenAIModel

    calls = []

    @tool
    def get_weather(city: str) -> str:
        """Get the weather for a city."""
        calls.append(city)
        return "18C"

    model = OpenAIModel(client_args={"base_url": f"{proxy_url}/v1", "api_key": "unused"}, model_id="gpt-oss-120b")
    agent = Agent(model=model, tools=[get_weather], callback_handler=None)
    try:
        agent("[[tool-forbidden]] weather?")
    except Exception:  # Strands may raise on a content_filter stop; either way the tool never ran
        pass
    assert calls == []


@pytest.mark.parametrize("model", BACKENDS)
def test_strands_builds_reasoning_then_one_text_block_in_safe_mode(proxy_url, model):
    """The reordering bug of issue 14: Strands built [text, reasoningContent, text] (with a stray newline)
    when reasoning was held to the end; in the model's order it builds [reasoningContent, text]."""
    from strands import Agent
    from strands.models.openai import OpenAIModel

    agent = Agent(model=OpenAIModel(client_args={"base_url": f"{proxy_url}/v1", "api_key": "unused"}, model_id=model), callback_handler=None)
    blocks = agent("[[long:3000]]").message["content"]
    assert [next(iter(b)) for b in blocks] == ["reasoningContent", "text"]
    assert len(blocks[1]["text"]) == 3000


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", BACKENDS)
@pytest.mark.parametrize("field", ["content", "reasoning"])
def test_output_field_is_masked(client, model, stream, field):
    marker = "[[email]]" if field == "content" else "[[reasoning-email]]"
    kwargs = dict(model=model, messages=[{"role": "user", "content": marker}])
    if stream:
        content, reasoning, finish, _, _ = _collect(client.chat.completions.create(stream=True, **kwargs))
    else:
        r = client.chat.completions.create(**kwargs)
        content, reasoning, finish = r.choices[0].message.content, r.choices[0].message.model_extra["reasoning_content"], r.choices[0].finish_reason
    text = content if field == "content" else reasoning
    assert finish == "stop" and "jane.doe" not in content + reasoning and "{EMAIL}" in text


@pytest.mark.parametrize("model", BACKENDS)
def test_fast_mode_cuts_the_stream_when_an_entity_straddles_a_batch(proxy_env, model):
    """fast releases text before the guardrail saw it; an entity it later finds still ends the stream."""
    from gptoss_proxy.wiring import build_service

    service = build_service({**proxy_env, "GPTOSS_GUARDRAIL_STREAM_MODE": "fast"}, log=lambda r: None)
    body = json.dumps({"model": model, "stream": True, "messages": [{"role": "user", "content": "[[long:3000]] [[entity-at:1040]]"}]}).encode()
    events = [json.loads(line[6:]) for line in b"".join(service.handle("POST", "/v1/chat/completions", {}, body).body).decode().split("\n") if line.startswith("data: {")]
    finishes = [c["finish_reason"] for e in events for c in e.get("choices") or [] if c["finish_reason"]]
    assert finishes == ["content_filter"]
