"""Model-initiated handoff (seed 002, core/handoff.py): the small model calls the proxy's handoff tool and the
larger route answers — through the real OpenAI SDK and a Strands agent, stream and non-stream, with the small
model on SageMaker and on Bedrock.

The emulated small model calls ``handoff_to_larger_model`` when it is offered and the prompt holds ``[[beyond]]``
(emulators/server.py). Usage is checked against what the emulated backends counted for the bodies they received.
"""

from __future__ import annotations

import json
import time

import openai
import pytest

from emulators.devserver import emulator_env
from emulators.server import HANDOFF_TOOL as EMULATOR_TOOL
from emulators.server import _usage, fake_answer, serve_in_thread
from gptoss_proxy.core import handoff
from gptoss_proxy.core.errors import ProxyError
from gptoss_proxy.core.request import validate
from gptoss_proxy.core.settings import Route, Settings
from tests.proxy.conftest import post

#: small models on both backends, each handing off to a large model on the other backend
ROUTES = {
    "small-sm": {"backend": "sagemaker", "endpoint_name": "small-ep", "handoff": "big-br"},
    "small-br": {"backend": "bedrock", "model_id": "openai.gpt-oss-20b-1:0", "handoff": "big-sm"},
    "big-br": {"backend": "bedrock", "model_id": "openai.gpt-oss-120b-1:0"},
    "big-sm": {"backend": "sagemaker", "endpoint_name": "big-ep"},
}
PAIRS = [("small-sm", "big-br"), ("small-br", "big-sm")]
BEYOND = [{"role": "user", "content": "[[beyond]] prove the Riemann hypothesis"}]
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


@pytest.fixture(scope="module")
def serve(emulator, proxy_env):
    """Starts a proxy over the emulators with ROUTES and extra GPTOSS_* settings; returns (url, log records).
    (boto3 reads the endpoint URLs and credentials from os.environ, which ``proxy_env`` sets.)"""
    from gptoss_proxy.wiring import build_service
    from http_server import serve as http_serve

    servers = []

    def start(**settings: str):
        logs: list[dict] = []
        env = emulator_env(emulator.url, **{"GPTOSS_ROUTES": json.dumps(ROUTES), "GPTOSS_MAX_RETRIES": "0", **settings})
        server = http_serve(build_service(env, log=logs.append), "127.0.0.1", 0)
        serve_in_thread(server)
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", logs

    yield start
    for server in servers:
        server.shutdown()


@pytest.fixture(scope="module")
def proxy(serve):
    return serve()


@pytest.fixture
def sdk(proxy):
    return openai.OpenAI(base_url=f"{proxy[0]}/v1", api_key="unused", max_retries=0, timeout=30)


def _expected_usage(bodies: list[dict]) -> tuple[int, int, int]:
    """Prompt, completion and reasoning tokens the emulated backends counted for these bodies, summed."""
    usages = [_usage(b, fake_answer(b)) for b in bodies]
    return (sum(u["prompt_tokens"] for u in usages), sum(u["completion_tokens"] for u in usages),
            sum(u["completion_tokens_details"]["reasoning_tokens"] for u in usages))


def _last_log(logs: list[dict]) -> dict:
    """A stream's record is logged after its last byte left, so the client can finish first: wait for it."""
    for _ in range(200):
        if logs:
            break
        time.sleep(0.01)
    return logs[-1]


def _tool_names(body: dict) -> list[str]:
    return [t["function"]["name"] for t in body.get("tools") or []]


def _collect(stream):
    content, reasoning, finish, usage, chunks = "", "", None, None, []
    for c in stream:
        chunks.append(c)
        usage = c.usage or usage
        for ch in c.choices:
            content += ch.delta.content or ""
            reasoning += (ch.delta.model_extra or {}).get("reasoning_content") or ""
            assert not ch.delta.tool_calls or all(t.function.name != handoff.HANDOFF_TOOL for t in ch.delta.tool_calls if t.function)
            finish = ch.finish_reason or finish
    return content, reasoning, finish, usage, chunks


class TestNonStream:
    @pytest.mark.parametrize(("small", "big"), PAIRS)
    def test_the_small_model_hands_off_and_the_large_one_answers(self, sdk, stats, small, big):
        raw = sdk.chat.completions.with_raw_response.create(model=small, messages=BEYOND)
        r = raw.parse()
        assert r.model == big and r.choices[0].message.content == "Echo: prove the Riemann hypothesis"
        assert r.choices[0].message.tool_calls is None and r.choices[0].finish_reason == "stop"
        assert raw.headers["x-gptoss-handoff"] == f"{small} -> {big}" and raw.headers["x-gptoss-model"] == big
        assert raw.headers["x-gptoss-handoff-reason"] == "This needs deeper multi-step reasoning than I can give."
        first, second = stats()["bodies"]
        assert _tool_names(first) == [handoff.HANDOFF_TOOL] and "tools" not in second
        assert second["messages"][0] == {"role": "developer", "content": handoff.NOTE.format(reason="This needs deeper multi-step reasoning than I can give")}
        assert second["messages"][1:] == first["messages"]  # the original conversation
        prompt, completion, reasoning = _expected_usage([first, second])
        assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.completion_tokens_details.reasoning_tokens) == (prompt, completion, reasoning)
        assert r.usage.total_tokens == prompt + completion

    def test_no_handoff_when_the_model_answers_itself(self, sdk, stats):
        raw = sdk.chat.completions.with_raw_response.create(model="small-sm", messages=[{"role": "user", "content": "hello"}])
        assert raw.parse().model == "small-sm" and raw.parse().choices[0].message.content == "Echo: hello"
        assert "x-gptoss-handoff" not in raw.headers and len(stats()["bodies"]) == 1

    def test_the_note_goes_after_the_callers_instructions(self, sdk, stats):
        messages = [{"role": "system", "content": "be brief"}, *BEYOND]
        sdk.chat.completions.create(model="small-sm", messages=messages)
        roles = [m["role"] for m in stats()["bodies"][1]["messages"]]
        assert roles == ["system", "developer", "user"]

    def test_client_tools_pass_alongside_and_the_target_gets_only_them(self, sdk, stats):
        r = sdk.chat.completions.create(model="small-sm", messages=[{"role": "user", "content": "[[beyond]] weather in Paris?"}], tools=[WEATHER])
        assert r.model == "big-br" and [c.function.name for c in r.choices[0].message.tool_calls] == ["get_weather"]
        first, second = stats()["bodies"]
        assert _tool_names(first) == ["get_weather", handoff.HANDOFF_TOOL] and _tool_names(second) == ["get_weather"]

    @pytest.mark.parametrize("opt_out", [{"extra_body": {"handoff": False}}, {"extra_headers": {"x-gptoss-handoff": "off"}}])
    def test_a_request_can_opt_out(self, sdk, stats, opt_out):
        r = sdk.chat.completions.create(model="small-sm", messages=BEYOND, **opt_out)
        assert r.model == "small-sm" and r.choices[0].message.content == "Echo: prove the Riemann hypothesis"
        assert [_tool_names(b) for b in stats()["bodies"]] == [[]]

    def test_tool_choice_none_or_a_forced_function_offers_no_handoff(self, sdk, stats):
        sdk.chat.completions.create(model="small-sm", messages=BEYOND, tools=[WEATHER], tool_choice="none")
        sdk.chat.completions.create(model="small-sm", messages=BEYOND, tools=[WEATHER], tool_choice={"type": "function", "function": {"name": "get_weather"}})
        assert [_tool_names(b) for b in stats()["bodies"]] == [["get_weather"], ["get_weather"]]

    def test_a_route_without_handoff_offers_nothing(self, sdk, stats):
        r = sdk.chat.completions.create(model="big-br", messages=BEYOND)
        assert r.model == "big-br" and "tools" not in stats()["bodies"][0]

    def test_the_fallback_is_not_offered_the_tool(self, serve, stats):
        routes = {**ROUTES, "small-sm": {**ROUTES["small-sm"], "fallback": "big-br"}}
        url, _ = serve(GPTOSS_ROUTES=json.dumps(routes))
        r = openai.OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0).chat.completions.create(
            model="small-sm", messages=[{"role": "user", "content": "[[beyond]] [[nocapacity@sagemaker]] hi"}])
        # the small model had no capacity; its fallback answered as itself (no handoff tool, so no handoff)
        offered, answered = stats()["bodies"]
        assert r.model == "big-br" and _tool_names(offered) == [handoff.HANDOFF_TOOL] and "tools" not in answered

    def test_the_reason_passes_the_guardrail(self, sdk, stats):
        raw = sdk.chat.completions.with_raw_response.create(model="small-sm", messages=[{"role": "user", "content": "[[beyond]] [[handoff-email]] hi"}])
        assert raw.headers["x-gptoss-handoff-reason"].endswith("Ask {EMAIL}.")
        note = stats()["bodies"][1]["messages"][0]["content"]
        assert "{EMAIL}" in note and "@example.com" not in note

    def test_a_blocked_reason_is_withheld_but_the_handoff_happens(self, sdk, stats):
        raw = sdk.chat.completions.with_raw_response.create(model="small-sm", messages=[{"role": "user", "content": "[[beyond]] [[handoff-forbidden]] hi"}])
        assert raw.parse().model == "big-br" and raw.headers["x-gptoss-handoff-reason"] == handoff.WITHHELD_REASON
        note = stats()["bodies"][1]["messages"][0]["content"]
        assert handoff.WITHHELD_REASON.rstrip(".") in note and "forbidden topic" not in note

    def test_logs_and_metrics_count_handoffs_per_route_and_consumer_without_the_reason(self, proxy, sdk, stats, capsys):
        from gptoss_proxy.wiring import emit

        url, logs = proxy
        sdk.chat.completions.create(model="small-br", messages=BEYOND)
        record = logs[-1]
        assert (record["handoff"], record["handoff_from"], record["handoff_to"], record["route"], record["model"]) == (1, "small-br", "big-sm", "small-br", "big-sm")
        assert "reasoning than I can give" not in json.dumps(record)
        emit(record)
        line = json.loads(capsys.readouterr().out.splitlines()[-1])
        handoffs = [d for d in line["_aws"]["CloudWatchMetrics"] if d["Metrics"] == [{"Name": "Handoffs", "Unit": "Count"}]]
        assert handoffs and handoffs[0]["Dimensions"] == [["Route"], ["Route", "Consumer"]]
        assert (line["Handoffs"], line["Route"], line["Consumer"]) == (1, "small-br", "local")


class TestStream:
    @pytest.mark.parametrize(("small", "big"), PAIRS)
    def test_the_large_models_answer_is_streamed_with_both_calls_in_usage(self, sdk, stats, small, big):
        stream = sdk.chat.completions.create(model=small, messages=BEYOND, stream=True, stream_options={"include_usage": True})
        content, reasoning, finish, usage, chunks = _collect(stream)
        assert content == "Echo: prove the Riemann hypothesis" and finish == "stop"
        notices = [c.model_extra["x_gptoss_handoff"] for c in chunks if (c.model_extra or {}).get("x_gptoss_handoff")]
        assert notices == [{"from": small, "to": big, "reason": "This needs deeper multi-step reasoning than I can give."}]
        at = next(i for i, c in enumerate(chunks) if (c.model_extra or {}).get("x_gptoss_handoff"))
        assert {c.model for c in chunks[at:]} == {big} and {c.model for c in chunks[:at]} == {small}
        assert reasoning.count("The user asked something") == 4  # the small model's reasoning, then the large one's
        first, second = stats()["bodies"]
        assert _tool_names(first) == [handoff.HANDOFF_TOOL] and "tools" not in second
        prompt, completion, reasoning_tokens = _expected_usage([first, second])
        assert (usage.prompt_tokens, usage.completion_tokens, usage.completion_tokens_details.reasoning_tokens) == (prompt, completion, reasoning_tokens)

    def test_safe_mode_drops_unreleased_text_written_before_the_call(self, sdk, stats):
        stream = sdk.chat.completions.create(model="small-sm", messages=[{"role": "user", "content": "[[beyond-late]] hi"}], stream=True)
        content, _, finish, _, chunks = _collect(stream)
        assert content == "Echo: hi" and chunks[-1].model == "big-br" and len(stats()["bodies"]) == 2

    def test_fast_mode_ignores_a_call_after_released_text(self, serve, stats):
        url, logs = serve(GPTOSS_GUARDRAIL_STREAM_MODE="fast")
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0)
        content, _, finish, _, chunks = _collect(client.chat.completions.create(model="small-sm", messages=[{"role": "user", "content": "[[beyond-late]] hi"}], stream=True))
        assert content == "Echo: hi" and finish == "stop" and {c.model for c in chunks} == {"small-sm"}
        record = _last_log(logs)
        assert len(stats()["bodies"]) == 1 and record["handoff_ignored"] is True and "handoff" not in record

    def test_fast_mode_still_hands_off_before_any_text(self, serve, stats):
        url, _ = serve(GPTOSS_GUARDRAIL_STREAM_MODE="fast")
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0)
        content, *_ , chunks = _collect(client.chat.completions.create(model="small-sm", messages=BEYOND, stream=True))
        assert content == "Echo: prove the Riemann hypothesis" and chunks[-1].model == "big-br"

    def test_client_tool_calls_stream_from_the_target(self, sdk, stats):
        stream = sdk.chat.completions.create(model="small-br", messages=[{"role": "user", "content": "[[beyond]] weather?"}], tools=[WEATHER], stream=True)
        calls = [t.function.name for c in stream for ch in c.choices for t in ch.delta.tool_calls or [] if t.function and t.function.name]
        assert calls == ["get_weather"]


class TestControls:
    def test_the_daily_cap_per_consumer_lets_the_small_answer_stand(self, serve, stats):
        url, logs = serve(GPTOSS_HANDOFF_DAILY_CAP="1")
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0)
        first = client.chat.completions.create(model="small-sm", messages=BEYOND)
        second = client.chat.completions.create(model="small-sm", messages=BEYOND)
        other = client.chat.completions.create(model="small-sm", messages=BEYOND, extra_headers={"x-gptoss-consumer": "someone-else"})
        assert (first.model, second.model, other.model) == ("big-br", "small-sm", "big-br")
        assert second.choices[0].message.content == "Echo: prove the Riemann hypothesis"
        assert logs[1]["handoff_capped"] is True

    def test_high_effort_hands_off_directly_when_the_operator_says_so(self, serve, stats):
        url, _ = serve(GPTOSS_HANDOFF_ON_HIGH_EFFORT="true")
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0)
        raw = client.chat.completions.with_raw_response.create(model="small-sm", messages=[{"role": "user", "content": "hi"}], reasoning_effort="high")
        assert raw.parse().model == "big-br" and raw.headers["x-gptoss-handoff"] == "small-sm -> big-br"
        assert raw.headers["x-gptoss-handoff-reason"] == handoff.HIGH_EFFORT_REASON
        (only,) = stats()["bodies"]
        assert only["reasoning_effort"] == "high" and "tools" not in only
        medium = client.chat.completions.create(model="small-sm", messages=[{"role": "user", "content": "hi"}])
        assert medium.model == "small-sm"

    def test_escalate_offers_nothing(self, sdk, stats):
        r = sdk.chat.completions.create(model="small-sm", messages=BEYOND, extra_body={"escalate": True})
        assert r.model == "small-sm" and "tools" not in stats()["bodies"][-1]


def test_strands_agent_gets_the_large_models_tool_calls_and_answer(proxy, stats):
    from strands import Agent, tool
    from strands.models.openai import OpenAIModel

    calls = []

    @tool
    def get_weather(city: str) -> str:
        """Get the weather for a city."""
        calls.append(city)
        return f"18C and sunny in {city}"

    model = OpenAIModel(client_args={"base_url": f"{proxy[0]}/v1", "api_key": "unused"}, model_id="small-sm")
    result = Agent(model=model, tools=[get_weather], callback_handler=None)("[[beyond]] What is the weather in Paris?")
    assert calls == ["Paris"] and "The tool said: 18C and sunny in Paris" in str(result)
    bodies = stats()["bodies"]  # every round: the small model is offered the tool, then the large one answers
    assert [_tool_names(b) for b in bodies] == [["get_weather", handoff.HANDOFF_TOOL], ["get_weather"]] * 2


class TestUnits:
    def test_the_emulator_calls_the_proxys_tool(self):
        assert EMULATOR_TOOL == handoff.HANDOFF_TOOL

    def test_a_handoff_must_name_another_route(self):
        with pytest.raises(ValueError, match=r"route 'a' handoff must be another route's model, one of b; got 'c'"):
            Settings(routes={"a": Route(model="a", backend="bedrock", target="m", handoff="c"), "b": Route(model="b", backend="bedrock", target="n")})
        with pytest.raises(ValueError, match=r"route 'a' handoff must be another route's model, one of \(none\); got 'a'"):
            Settings(routes={"a": Route(model="a", backend="bedrock", target="m", handoff="a")})

    def test_handoff_must_be_a_boolean(self):
        settings = Settings(routes={"a": Route(model="a", backend="bedrock", target="m")})
        with pytest.raises(ProxyError) as err:
            validate({"model": "a", "messages": BEYOND, "handoff": "no"}, settings)
        assert (err.value.status, err.value.param, err.value.code) == (400, "handoff", "invalid_type")

    def test_the_daily_cap_is_checked(self):
        with pytest.raises(ValueError, match="handoff_daily_cap must be between 0 and 1000000000, got -1"):
            Settings(routes={"a": Route(model="a", backend="bedrock", target="m")}, handoff_daily_cap=-1)

    def test_the_reason_header_is_one_ascii_line(self):
        value = handoff.header_value("trop\r\ndifficile: théorème " + "x" * 300)
        assert value.startswith("trop difficile: th\\u00e9or\\u00e8me") and len(value) == handoff.REASON_HEADER_CHARS
        assert all(32 <= ord(c) < 127 for c in value)

    def test_reason_of_reads_json_or_text(self):
        assert handoff.reason_of('{"reason": " too\\nhard "}') == "too hard"
        assert handoff.reason_of("not json") == "not json" and handoff.reason_of("") == "(no reason given)"

    def test_counter_resets_each_utc_day(self):
        now = [86400 * 100 + 10]
        counter = handoff.HandoffCounter(clock=lambda: now[0])
        counter.add("a")
        assert not counter.allowed("a", 1) and counter.allowed("b", 1) and counter.allowed("a", None)
        now[0] += 86400
        assert counter.allowed("a", 1)

    def test_request_post_with_bad_handoff_is_400(self, proxy):
        status, _, body = post(f"{proxy[0]}/v1/chat/completions", {"model": "small-sm", "messages": BEYOND, "handoff": 1})
        assert status == 400 and json.loads(body)["error"]["param"] == "handoff"


def test_structured_output_requests_are_not_offered_the_tool(sdk, stats):
    r = sdk.chat.completions.create(model="small-sm", messages=BEYOND, response_format={"type": "json_object"})
    assert r.model == "small-sm" and "tools" not in stats()["bodies"][0]


def test_a_direct_handoff_streams_with_its_headers(serve, stats):
    url, _ = serve(GPTOSS_HANDOFF_ON_HIGH_EFFORT="true")
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(model="small-br", messages=[{"role": "user", "content": "hi"}], reasoning_effort="high", stream=True)
    assert raw.headers["x-gptoss-handoff"] == "small-br -> big-sm"
    content, *_ , chunks = _collect(raw.parse())
    assert content == "Echo: hi" and {c.model for c in chunks} == {"big-sm"}


@pytest.mark.parametrize("stream", [False, True])
def test_a_reasoning_budget_holds_for_both_models_of_a_handoff(sdk, stats, stream):
    """Seed 002 + 003: the small model's reasoning is cut at the budget, it still hands off, and the large model's
    reasoning is cut at the same budget."""
    extra = {"extra_body": {"reasoning": {"max_tokens": 50}}}
    messages = [{"role": "user", "content": "[[beyond]] [[think:500]] hard one"}]
    if stream:
        content, reasoning, finish, usage, chunks = _collect(sdk.chat.completions.create(model="small-sm", messages=messages, stream=True, stream_options={"include_usage": True}, **extra))
        model = chunks[-1].model
    else:
        r = sdk.chat.completions.create(model="small-sm", messages=messages, **extra)
        content, reasoning, usage, model = r.choices[0].message.content, r.choices[0].message.model_extra["reasoning_content"], r.usage, r.model
    assert model == "big-br" and content == "Echo: hard one"
    bodies = stats()["bodies"]
    assert len(bodies) == 4  # small (cut), small re-asked (hands off), large (cut), large re-asked (answers)
    legs = 2 if stream else 1  # a stream already released the small model's reasoning; a whole answer is the target's
    assert reasoning.count("Answering now.") == legs and len(reasoning) == legs * (50 * 4 + len("Answering now."))
    assert usage.completion_tokens_details.reasoning_tokens == 2 * (50 + 3)
