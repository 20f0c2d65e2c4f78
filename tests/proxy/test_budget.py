"""Reasoning budgets (seed 003, core/budget.py) over the chat interface, through the real OpenAI SDK and a Strands
agent, stream and non-stream, on the SageMaker route (gpt-oss-20b) and the Bedrock route (gpt-oss-120b).

Conventions accepted: ``reasoning: {"max_tokens", "min_tokens"}`` as OpenRouter documents it
(openrouter.ai/docs "Reasoning Tokens": ``reasoning.max_tokens`` / ``effort``, one or the other), and
``thinking: {"type": "enabled", "budget_tokens"}`` as Anthropic-style clients and LiteLLM send it. Budget forcing
follows s1 (arXiv 2501.19393; the s1 repository's vLLM example, mirrored in atanikan/llm-inference-service
``vllm/sophia/run_vllm_budget_forcing.py``: stop thinking at the budget; below it, append "Wait" and continue).

The emulated model reasons for ``[[think:N]]`` tokens of 4 characters; after the proxy's budget note it answers
after one short sentence ("Answering now.", 3 tokens by the emulator's count) or reasons the "K more tokens" it
is asked for (emulators/server.py).
"""

from __future__ import annotations

import json
import math

import openai
import pytest

from emulators.devserver import emulator_env
from emulators.server import BUDGET_NOTE, _usage, fake_answer, serve_in_thread
from gptoss_proxy.core import budget
from tests.proxy.conftest import post

MODELS = ["gpt-oss-20b", "gpt-oss-120b"]  # SageMaker, Bedrock (reasoning inline in <reasoning> tags)


def ask(prompt: str) -> list[dict]:
    return [{"role": "user", "content": prompt}]


def _collect(stream):
    reasoning, content, order, usage, finish = "", "", [], None, None
    for c in stream:
        usage = c.usage or usage
        for ch in c.choices:
            r = (ch.delta.model_extra or {}).get("reasoning_content") or ""
            reasoning += r
            content += ch.delta.content or ""
            order += ["reasoning"] * bool(r) + ["content"] * bool(ch.delta.content)
            finish = ch.finish_reason or finish
    return reasoning, content, order, usage, finish


def _backend_usage(body: dict) -> dict:
    return _usage(body, fake_answer(body))


class TestMaximum:
    @pytest.mark.parametrize("model", MODELS)
    def test_reasoning_stops_at_the_budget_and_the_model_answers(self, client, stats, model):
        r = client.chat.completions.create(model=model, messages=ask("[[think:500]] what is 2+2?"), extra_body={"reasoning": {"max_tokens": 100}})
        reasoning = r.choices[0].message.model_extra["reasoning_content"]
        assert reasoning.startswith("Step: check it.") and reasoning.endswith("Answering now.")
        assert len(reasoning) == 100 * 4 + len("Answering now.")  # the budget's 400 characters, then the re-ask's own
        assert r.choices[0].message.content == "Echo: what is 2+2?" and r.choices[0].finish_reason == "stop"
        first, second = stats()["bodies"]
        note = second["messages"][-1]
        assert note["role"] == "developer" and note["content"].startswith(BUDGET_NOTE) and reasoning[:400] in note["content"]
        assert second["reasoning_effort"] == "low" and second["messages"][:-1] == first["messages"]
        reask = _backend_usage(second)
        assert r.usage.completion_tokens_details.reasoning_tokens == 100 + reask["completion_tokens_details"]["reasoning_tokens"]
        assert r.usage.completion_tokens == 100 + reask["completion_tokens"]
        assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens

    @pytest.mark.parametrize("model", MODELS)
    def test_stream_shows_reasoning_up_to_the_budget_then_the_answer(self, client, stats, model):
        stream = client.chat.completions.create(model=model, messages=ask("[[think:500]] hi"), stream=True, stream_options={"include_usage": True},
                                                extra_body={"thinking": {"type": "enabled", "budget_tokens": 64}})
        reasoning, content, order, usage, finish = _collect(stream)
        assert len(reasoning) == 64 * 4 + len("Answering now.") and content == "Echo: hi" and finish == "stop"
        assert order == sorted(order, key=lambda k: k == "content")  # normal reasoning, then content
        reask = _backend_usage(stats()["bodies"][1])
        assert usage.completion_tokens_details.reasoning_tokens == 64 + reask["completion_tokens_details"]["reasoning_tokens"]

    def test_under_budget_is_one_call(self, client, stats):
        r = client.chat.completions.create(model="gpt-oss-20b", messages=ask("[[think:50]] hi"), extra_body={"reasoning": {"max_tokens": 100}})
        assert len(r.choices[0].message.model_extra["reasoning_content"]) == 200 and len(stats()["bodies"]) == 1
        assert r.usage.completion_tokens_details.reasoning_tokens == 50

    def test_without_a_budget_the_model_reasons_as_long_as_it_likes(self, client, stats):
        r = client.chat.completions.create(model="gpt-oss-20b", messages=ask("[[think:500]] hi"))
        assert len(r.choices[0].message.model_extra["reasoning_content"]) == 2000 and len(stats()["bodies"]) == 1


class TestMinimum:
    @pytest.mark.parametrize("model", MODELS)
    def test_wait_makes_the_model_reason_up_to_the_minimum(self, client, stats, model):
        r = client.chat.completions.create(model=model, messages=ask("[[think:20]] hi"), extra_body={"reasoning": {"min_tokens": 100}})
        reasoning = r.choices[0].message.model_extra["reasoning_content"]
        assert len(reasoning) == 100 * 4 and r.choices[0].message.content == "Echo: hi"
        first, second = stats()["bodies"]
        note = second["messages"][-1]["content"]
        assert "\nWait." in note and "at least 80 more tokens" in note and reasoning[:80] in note
        assert r.usage.completion_tokens_details.reasoning_tokens == 20 + 80

    @pytest.mark.parametrize("model", MODELS)
    def test_stream_releases_no_answer_before_the_minimum(self, client, stats, model):
        stream = client.chat.completions.create(model=model, messages=ask("[[think:10]] hi"), stream=True, stream_options={"include_usage": True},
                                                extra_body={"reasoning": {"min_tokens": 50, "max_tokens": 400}})
        reasoning, content, order, usage, _ = _collect(stream)
        assert len(reasoning) == 200 and content == "Echo: hi" and order == sorted(order, key=lambda k: k == "content")
        assert usage.completion_tokens_details.reasoning_tokens == 50 and len(stats()["bodies"]) == 2


class TestRequestFields:
    @pytest.mark.parametrize(
        ("extra", "param"),
        [
            ({"reasoning": {"max_tokens": 0}}, "reasoning.max_tokens"),
            ({"reasoning": {"max_tokens": "100"}}, "reasoning.max_tokens"),
            ({"reasoning": {"max_tokens": 10, "min_tokens": 20}}, "reasoning.min_tokens"),
            ({"reasoning": {"effort": "high", "max_tokens": 10}}, "reasoning.max_tokens"),
            ({"reasoning": {"effort": "max"}}, "reasoning.effort"),
            ({"reasoning": {"exclude": True}}, "reasoning"),
            ({"reasoning": {"max_tokens": 10}, "thinking": {"type": "enabled", "budget_tokens": 10}}, "thinking"),
            ({"thinking": {"type": "on", "budget_tokens": 10}}, "thinking"),
            ({"thinking": {"type": "enabled"}}, "thinking.budget_tokens"),
            ({"thinking": {"type": "enabled", "budget_tokens": True}}, "thinking.budget_tokens"),
        ],
    )
    def test_bad_values_are_400s_naming_the_field(self, proxy_url, extra, param):
        status, _, body = post(f"{proxy_url}/v1/chat/completions", {"model": "gpt-oss-20b", "messages": ask("hi"), **extra})
        error = json.loads(body)["error"]
        assert status == 400 and error["param"] == param and error["code"] == "invalid_value"

    @pytest.mark.parametrize(
        ("extra", "effort"),
        [
            ({"reasoning": {"max_tokens": 500}}, "low"),
            ({"reasoning": {"max_tokens": 4000}}, "medium"),
            ({"reasoning": {"max_tokens": 20000}}, "high"),
            ({"reasoning": {"effort": "high"}}, "high"),
            ({"reasoning": {"max_tokens": 500}, "reasoning_effort": "high"}, "high"),  # the client's own effort wins
            ({"thinking": {"type": "disabled"}}, "low"),
            ({"reasoning": {"enabled": False}}, "low"),
        ],
    )
    def test_effort_follows_the_budget_unless_the_client_sets_it(self, client, stats, extra, effort):
        client.chat.completions.create(model="gpt-oss-20b", messages=ask("hi"), extra_body=extra)
        assert stats()["bodies"][0]["reasoning_effort"] == effort


@pytest.fixture(scope="module")
def capped_url(emulator, proxy_env):
    from gptoss_proxy.wiring import build_service
    from http_server import serve

    routes = {"small": {"backend": "sagemaker", "endpoint_name": "ep", "max_reasoning_tokens": 50, "reasoning_tokens": 30},
              "big": {"backend": "bedrock", "model_id": "openai.gpt-oss-120b-1:0"}}
    server = serve(build_service(emulator_env(emulator.url, GPTOSS_ROUTES=json.dumps(routes)), log=lambda r: None), "127.0.0.1", 0)
    serve_in_thread(server)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class TestOperatorCapsAndDefaults:
    def test_a_larger_budget_is_lowered_to_the_routes_cap(self, capped_url, stats):
        c = openai.OpenAI(base_url=f"{capped_url}/v1", api_key="x", max_retries=0)
        r = c.chat.completions.create(model="small", messages=ask("[[think:500]] hi"), extra_body={"reasoning": {"max_tokens": 1000}})
        assert r.choices[0].message.model_extra["reasoning_content"].startswith("Step") and len(r.choices[0].message.model_extra["reasoning_content"]) == 200 + len("Answering now.")

    def test_the_routes_default_applies_when_the_request_sets_none(self, capped_url, stats):
        c = openai.OpenAI(base_url=f"{capped_url}/v1", api_key="x", max_retries=0)
        r = c.chat.completions.create(model="small", messages=ask("[[think:500]] hi"))
        assert len(r.choices[0].message.model_extra["reasoning_content"]) == 120 + len("Answering now.")
        r = c.chat.completions.create(model="big", messages=ask("[[think:500]] hi"))
        assert len(r.choices[0].message.model_extra["reasoning_content"]) == 2000  # no default on that route


def test_strands_agent_with_a_budget(proxy_url, stats):
    from strands import Agent
    from strands.models.openai import OpenAIModel

    model = OpenAIModel(client_args={"base_url": f"{proxy_url}/v1", "api_key": "unused"}, model_id="gpt-oss-120b",
                        params={"extra_body": {"reasoning": {"max_tokens": 32}}})
    result = Agent(model=model, callback_handler=None)("[[think:400]] hello")
    assert "Echo: hello" in str(result)
    first, second = stats()["bodies"]
    assert second["messages"][-1]["content"].startswith(BUDGET_NOTE) and second["reasoning_effort"] == "low"


class TestUnits:
    def test_emulator_note_prefix_is_the_proxys(self):
        assert BUDGET_NOTE == budget.NOTE_PREFIX

    def test_route_fields_are_checked(self):
        from gptoss_proxy.core.settings import Route

        with pytest.raises(ValueError, match="route 'a' max_reasoning_tokens must be between 1 and 131072, got 0"):
            Route(model="a", backend="bedrock", target="m", max_reasoning_tokens=0)

    def test_collect_gathers_tool_calls_by_index(self):
        chunks = [budget._chunk({"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "f", "arguments": '{"a"'}}]}),
                  budget._chunk({"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}, "tool_calls")]
        message = budget.collect(iter(chunks))["choices"][0]["message"]
        assert message["tool_calls"] == [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}]


# ---- exact budget forcing in the harmony format (core/harmony.py) ------------------------------------------

#: openai/harmony test-data/test_no_tools.txt (SystemContent with identity, cutoff 2024-06, date 2025-06-28,
#: medium effort, default channels; rendered for completion as the assistant)
HARMONY_NO_TOOLS = (
    "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\nKnowledge cutoff: 2024-06\n"
    "Current date: 2025-06-28\n\nReasoning: medium\n\n# Valid channels: analysis, commentary, final. Channel must be "
    "included for every message.<|end|><|start|>assistant"
)
#: openai/harmony test-data/test_dropping_cot_by_default.txt (src/tests.rs test_dropping_cot_by_default: user,
#: assistant analysis, assistant final, user; the earlier analysis is dropped)
HARMONY_DROPPING_COT = (
    "<|start|>user<|message|>What is 2 + 2?<|end|><|start|>assistant<|channel|>final<|message|>2 + 2 equals 4.<|end|>"
    "<|start|>user<|message|>What about 9 / 2?<|end|><|start|>assistant"
)


class TestHarmonyRendering:
    def test_the_system_message_matches_harmonys_rendering(self):
        from gptoss_proxy.core import harmony

        assert harmony.system_message("medium", "2025-06-28") + "<|start|>assistant" == HARMONY_NO_TOOLS

    def test_earlier_reasoning_is_dropped_like_harmony_does(self):
        from gptoss_proxy.core import harmony

        messages = [{"role": "user", "content": "What is 2 + 2?"},
                    {"role": "assistant", "content": "2 + 2 equals 4.", "reasoning_content": "User asks: simple arithmetic."},
                    {"role": "user", "content": "What about 9 / 2?"}]
        assert harmony.render_messages(messages) + "<|start|>assistant" == HARMONY_DROPPING_COT

    def test_client_instructions_become_the_developer_message(self):
        from gptoss_proxy.core import harmony

        body = {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}], "reasoning_effort": "low"}
        prompt = harmony.render(body, "2025-06-28")
        assert "Reasoning: low" in prompt and "<|start|>developer<|message|># Instructions\n\nBe brief.<|end|>" in prompt
        assert prompt.endswith("<|start|>user<|message|>hi<|end|><|start|>assistant<|channel|>analysis<|message|>")

    def test_only_plain_conversations_are_rendered(self):
        from gptoss_proxy.core import harmony

        assert harmony.renderable({"messages": [{"role": "user", "content": "x"}]})
        assert not harmony.renderable({"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]})
        assert not harmony.renderable({"messages": [{"role": "tool", "content": "x", "tool_call_id": "1"}]})


@pytest.fixture(scope="module")
def exact_client(emulator, proxy_env):
    from gptoss_proxy.wiring import build_service
    from http_server import serve

    routes = {"exact": {"backend": "sagemaker", "endpoint_name": "exact-ep", "budget_mode": "harmony"}}
    server = serve(build_service(emulator_env(emulator.url, GPTOSS_ROUTES=json.dumps(routes)), log=lambda r: None), "127.0.0.1", 0)
    serve_in_thread(server)
    yield openai.OpenAI(base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", api_key="x", max_retries=0)
    server.shutdown()


class TestHarmonyForcing:
    """Over the completions interface: token counts are the backend's own, so the budget holds exactly.

    Sources for the request shape: djl-serving ``engines/python/setup/djl_python/lmi_vllm/vllm_async_service.py``
    (``preprocess_request``: a payload with ``prompt`` becomes vLLM's ``CompletionRequest`` on /invocations; async
    mode is LMI's default since v17, ``serving/docs/lmi/user_guides/vllm_user_guide.md``); vLLM
    ``vllm/entrypoints/openai/completion/protocol.py`` (``CompletionRequest`` takes ``max_tokens``,
    ``stop_token_ids``, ``skip_special_tokens``; ``finish_reason`` ``length`` at max_tokens); special-token ids from
    openai/harmony ``docs/format.md`` ("Special Tokens": <|end|> 200007, <|return|> 200002, <|call|> 200012).
    The emulator implements that shape; whether the JumpStart image does is what examples/smoke_budget.py checks.
    """

    def test_stop_token_ids_are_harmonys(self):
        from gptoss_proxy.core import harmony

        assert harmony.TOKEN_IDS == {"<|start|>": 200006, "<|end|>": 200007, "<|message|>": 200008, "<|channel|>": 200005,
                                     "<|return|>": 200002, "<|call|>": 200012}
        body = harmony.completion_body("p", 8, False, analysis=True)
        assert body["stop_token_ids"] == [200007, 200012, 200002] and body["skip_special_tokens"] is False and body["max_tokens"] == 8

    @pytest.mark.parametrize("stream", [False, True])
    def test_analysis_is_ended_at_the_budget_and_the_final_channel_opened(self, exact_client, stats, stream):
        kwargs = {"stream": True, "stream_options": {"include_usage": True}} if stream else {}
        r = exact_client.chat.completions.create(model="exact", messages=ask("[[think:500]] hi"), extra_body={"reasoning": {"max_tokens": 100}}, **kwargs)
        if stream:
            reasoning, content, order, usage, _ = _collect(r)
            assert order == sorted(order, key=lambda k: k == "content")
        else:
            reasoning, content, usage = r.choices[0].message.model_extra["reasoning_content"], r.choices[0].message.content, r.usage
        assert len(reasoning) == 400 and content == "Echo: hi"
        analysis, final = stats()["bodies"]
        assert analysis["prompt"].endswith("<|start|>assistant<|channel|>analysis<|message|>") and analysis["max_tokens"] == 100
        assert analysis["stop_token_ids"][0] == 200007 and analysis["skip_special_tokens"] is False
        assert final["prompt"] == analysis["prompt"] + reasoning + "<|end|><|start|>assistant<|channel|>final<|message|>"
        assert usage.completion_tokens_details.reasoning_tokens == 100  # exactly the budget
        assert usage.completion_tokens == 100 + math.ceil(len("Echo: hi") / 4)

    def test_below_the_minimum_the_end_of_reasoning_becomes_wait(self, exact_client, stats):
        r = exact_client.chat.completions.create(model="exact", messages=ask("[[think:10]] hi"), extra_body={"reasoning": {"min_tokens": 40}})
        reasoning = r.choices[0].message.model_extra["reasoning_content"]
        assert reasoning.count("Wait") == 2 and r.usage.completion_tokens_details.reasoning_tokens == 10 + 16 + 16
        prompts = [b["prompt"] for b in stats()["bodies"]]
        assert [p.endswith("Wait") for p in prompts] == [False, True, True, False] and r.choices[0].message.content == "Echo: hi"

    def test_requests_with_tools_use_the_chat_budget(self, exact_client, stats):
        tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}]
        exact_client.chat.completions.create(model="exact", messages=ask("hi"), tools=tools, extra_body={"reasoning": {"max_tokens": 100}})
        assert "messages" in stats()["bodies"][0] and "prompt" not in stats()["bodies"][0]

    def test_harmony_mode_is_for_sagemaker_routes(self):
        from gptoss_proxy.core.settings import Route

        with pytest.raises(ValueError, match="route 'b' budget_mode 'harmony' needs raw prompts: sagemaker routes only, got bedrock"):
            Route(model="b", backend="bedrock", target="m", budget_mode="harmony")


def test_the_smoke_test_passes_on_an_endpoint_that_supports_exact_forcing(emulator, proxy_env):
    """examples/smoke_budget.py is what confirms the UNCONFIRMED container facts on a real endpoint; here it runs
    against the emulator (which implements the completions interface as documented) so the script itself works."""
    import importlib.util

    import boto3

    from tests.proxy.conftest import ROOT

    spec = importlib.util.spec_from_file_location("smoke_budget", ROOT / "examples" / "smoke_budget.py")
    smoke = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(smoke)
    client = boto3.client("sagemaker-runtime", endpoint_url=emulator.url, region_name="us-east-1")
    assert smoke.check(client, "any-endpoint") == []
